"""Calls over HTTP: the tablet, the clinician console and its JSON API, the WebSocket
endpoint, the consultation page, re-presentation forms and the call-log import page.
"""
