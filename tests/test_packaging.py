"""telehub installs as a wheel (issue 11): every shipped file is in it and is read as a
package resource; writable state goes to ``server.data_dir``, never into the package.

Building a wheel here would be slow; ``.ci/wheel-check`` (``make wheel-check``) does
that in CI. These tests check the cheaper things that make it pass: the package list
and package-data globs of ``pyproject.toml`` cover every file git knows under the
shipped directories, nothing reads a shipped file relative to ``__file__`` or the
current directory, and the installed (editable) telehub runs from elsewhere.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path
from typing import Any

from hub import settings
from hub.resources import CONFIG_PACKAGE, config_file, package_directory
from hub.store.migrate import migrations_directory
from web.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent  # the checkout, as the tests run from it
SHIPPED = ("hub", "signalling", "media", "rota", "web", "config")
CODE = ("hub", "signalling", "media", "rota", "web")


def _setuptools() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        section: dict[str, Any] = tomllib.load(f)["tool"]["setuptools"]
    return section


def _package_dir(package: str, mapping: dict[str, str]) -> Path:
    """The source directory of ``package`` under ``[tool.setuptools.package-dir]``."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in mapping:
            return ROOT / mapping[prefix] / Path(*parts[i:])
    return ROOT / mapping.get("", ".") / Path(*parts)


def _files_in_wheel() -> set[str]:
    """Repository paths the wheel would hold: each listed package's modules, and the
    files its package-data globs match (setuptools globs from the package directory)."""
    config = _setuptools()
    mapping: dict[str, str] = config.get("package-dir", {})
    data: dict[str, list[str]] = config.get("package-data", {})
    out: set[str] = set()
    for package in config["packages"]:
        where = _package_dir(package, mapping)
        patterns = ["*.py", *data.get(package, []), *data.get("*", [])]
        for pattern in patterns:
            out.update(str(p.relative_to(ROOT)) for p in where.glob(pattern) if p.is_file())
    # A C extension's sources ship compiled, as the module they build.
    for extension in config.get("ext-modules", []):
        out.update(extension["sources"])
    return out


def _known_to_git() -> list[str]:
    """Tracked files under the shipped directories, and new ones not ignored (not yet
    committed, but they will be)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *SHIPPED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return sorted(f for f in listed if (ROOT / f).is_file())


def test_every_shipped_file_is_covered_by_the_packaging_config() -> None:
    in_wheel = _files_in_wheel()
    files = _known_to_git()
    assert "config/default.toml" in files and "web/templates/base.html" in files
    missing = [f for f in files if f not in in_wheel]
    assert not missing, (
        "these files would be left out of the wheel: add their package to "
        "[tool.setuptools] packages or a glob to [tool.setuptools.package-data] in "
        f"pyproject.toml: {missing}"
    )


def test_config_ships_as_its_own_package_from_the_top_level_directory() -> None:
    config = _setuptools()
    assert config["package-dir"] == {CONFIG_PACKAGE: "config"}
    assert CONFIG_PACKAGE in config["packages"]


def test_shipped_files_load_as_package_resources() -> None:
    assert config_file("default.toml").is_file()
    assert config_file("tariffs.toml").is_file()
    assert "denied-peer-ip=127.0.0.0-127.255.255.255" in (
        config_file("coturn/turnserver.conf").read_text()
    )
    assert (migrations_directory() / "env.py").is_file()
    assert (migrations_directory() / "script.py.mako").is_file()
    assert (package_directory("web", "templates") / "base.html").is_file()
    assert (package_directory("web", "static") / "css" / "app.css").is_file()


def _reads_relative_to_source_or_cwd(path: Path) -> list[str]:
    """Lines that locate a file by ``__file__`` or the current directory (code only:
    names in comments and docstrings do not count)."""
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME:
            continue
        after_dot = i > 0 and tokens[i - 1].string == "."
        if tok.string in ("__file__", "getcwd") or (tok.string == "cwd" and after_dot):
            found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.line.strip()}")
    return found


def test_no_code_reads_a_shipped_file_relative_to_the_source_or_the_cwd() -> None:
    found = [
        line
        for package in CODE
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in _reads_relative_to_source_or_cwd(path)
    ]
    assert not found, (
        "read shipped files with importlib.resources (hub/resources.py), "
        f"not from __file__ or the current directory: {found}"
    )


def test_writable_state_defaults_to_var_under_the_current_directory() -> None:
    s = settings.load()
    assert s.server.data_dir == "var"
    assert s.database.url == "sqlite+aiosqlite:///var/telehub.db"
    assert s.security.keys_file == str(Path("var") / "keys.toml")


def test_the_data_directory_moves_the_database_and_the_keys(tmp_path: Path) -> None:
    s = settings.load(environ={"TELEHUB_SERVER_DATA_DIR": str(tmp_path / "state")})
    assert s.database.url == f"sqlite+aiosqlite:///{tmp_path / 'state' / 'telehub.db'}"
    assert s.security.keys_file == str(tmp_path / "state" / "keys.toml")


def test_a_configured_database_and_keys_file_stay_where_they_are_put(tmp_path: Path) -> None:
    user = tmp_path / "u.toml"
    user.write_text(
        f'[server]\ndata_dir = "{tmp_path / "state"}"\n'
        '[database]\nurl = "postgresql+asyncpg://h/db"\n'
        '[security]\nkeys_file = "/etc/telehub/keys.toml"\n'
    )
    s = settings.load(user)
    assert s.database.url == "postgresql+asyncpg://h/db"
    assert s.security.keys_file == "/etc/telehub/keys.toml"


def test_dev_certificates_go_to_the_data_directory(tmp_path: Path) -> None:
    cfg = tmp_path / "t.toml"
    cfg.write_text(f'[server]\ndata_dir = "{tmp_path / "state"}"\n')
    assert main(["--config", str(cfg), "dev-cert"]) == 0
    assert (tmp_path / "state" / "tls" / "cert.pem").is_file()
    assert (tmp_path / "state" / "tls" / "key.pem").is_file()


def test_the_installed_telehub_migrates_from_another_directory(tmp_path: Path) -> None:
    """The installed ``telehub`` (the editable install here; a wheel in .ci/wheel-check),
    run from a directory that is not the checkout and without the checkout on
    PYTHONPATH: it finds its config and migrations as package resources and writes its
    database and keys under ./var there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEHUB_", "PYTHON"))}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from web.cli.commands import main; sys.exit(main())",
            "migrate",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "database is at the latest schema" in done.stdout
    assert (tmp_path / "var" / "telehub.db").is_file()
    assert (tmp_path / "var" / "keys.toml").is_file()
