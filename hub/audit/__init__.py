"""The audit trail: every access to a resident record and every state change, as a
keyed hash chain that can be checked.
"""
