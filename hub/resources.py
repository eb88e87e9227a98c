"""Files shipped inside the telehub packages, found as package resources.

Configuration, tariffs, migrations, templates and static files are read through
``importlib.resources``, never by building a path from ``__file__`` or the current
directory, so a wheel installed anywhere finds them (tests/test_packaging.py checks
both that they are packaged and that nothing reads them another way). Writable state
goes to ``server.data_dir`` instead, never into the installed packages.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

CONFIG_PACKAGE = "telehub_config"
"""The repository's top-level ``config/`` directory, as installed (pyproject.toml)."""


def config_file(name: str) -> Traversable:
    """A shipped file of ``config/``, e.g. ``default.toml`` or ``coturn/turnserver.conf``."""
    return files(CONFIG_PACKAGE).joinpath(*name.split("/"))


def package_directory(package: str, name: str) -> Path:
    """A directory of data shipped inside ``package``, as a real directory on disk (for
    Alembic, Jinja2 and the static file route, which list and open files by path).
    Wheels install unzipped, so the resource is always a plain directory."""
    resource = files(package).joinpath(*name.split("/"))
    if not isinstance(resource, Path) or not resource.is_dir():
        raise RuntimeError(
            f"telehub's {name} directory is not on disk in package {package} ({resource}); "
            "install telehub from a wheel or a source checkout, not from a zip file"
        )
    return resource
