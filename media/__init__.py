"""Media: the TURN credentials a browser needs to reach coturn (``turn``), and the
media relay that carries calls of three or more (``relay``, docs/media.md)."""
