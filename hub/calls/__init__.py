"""A call from a care home to the hub, start to finish: the request and its NEWS2, the
queue order, claiming, transfer and hand-back, the lifecycle, clinical notes, the
outcome that closes it, the call's security level, and reading or importing its record.
"""
