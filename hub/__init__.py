"""The hub's domain core: what a call, an outcome, a report, a person and a rota are,
and the rules between them. No IO frameworks here (tests/test_architecture.py).

The modules at this level are the kernel every package shares: ``context`` (what a
service receives), ``ports`` (what the core needs from outside), ``settings``,
``clock``, ``cipher``, ``events``, ``errors``, ``resources``. ``store/`` is the SQL
edge that implements the ports. See docs/architecture.md.
"""
