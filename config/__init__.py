"""telehub's shipped configuration files, installed as the package ``telehub_config``.

This directory stays at the top of the repository; ``pyproject.toml`` maps it to the
package name ``telehub_config`` (``[tool.setuptools.package-dir]``), so the editable
install and a built wheel both find ``default.toml``, ``tariffs.toml`` and
``coturn/turnserver.conf`` through ``importlib.resources`` (``hub/resources.py``).
"""
