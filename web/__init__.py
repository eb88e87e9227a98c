"""The aiohttp edge: the composition root (``app``), the HTTP frame every page shares
(``http/``), pages and JSON API by area (``calls/``, ``people/``, ``reports/``,
``rota/``) and the ``telehub`` command line (``cli/``). See docs/architecture.md.
"""
