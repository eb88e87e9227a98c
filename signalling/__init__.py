"""Signalling over the WebSocket at ``/ws``: the typed protocol (``protocol`` and its
message modules), one session per socket (``session``), the switchboard that routes
to whoever is connected (``switchboard``), and the bus between telehub processes
(``bus``: in memory, or Redis). docs/signalling.md is the prose."""
