"""The HTTP frame shared by every area: identity and security middlewares, the access
rule per route, errors to responses, rendering, forms, JSON bodies, labels, local time.
"""
