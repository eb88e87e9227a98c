from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub import settings
from hub.errors import ValidationError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_defaults_load() -> None:
    s = settings.load()
    assert s.database.url.startswith("sqlite+aiosqlite:///")
    assert s.security.lockout_threshold == 5
    assert s.security.enrolment_code_hours == 24


def test_environment_overrides_file(tmp_path: Path) -> None:
    user = tmp_path / "u.toml"
    user.write_text('[server]\nport = 9000\n[database]\nurl = "sqlite+aiosqlite:///x.db"\n')
    s = settings.load(
        user,
        {
            "TELEHUB_DATABASE_URL": "postgresql+asyncpg://h/db",
            "TELEHUB_SECURITY_SESSION_IDLE_MINUTES": "15",
        },
    )
    assert s.server.port == 9000
    assert s.database.url == "postgresql+asyncpg://h/db"
    assert s.security.session_idle_minutes == 15


def test_settings_are_frozen() -> None:
    s = settings.load()
    with pytest.raises(AttributeError):
        s.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 1\n", "unknown config key server.prot"),
        ("[servre]\nport = 1\n", "unknown config section [servre]"),
        ('[server]\nport = "80"\n', "config key server.port must be an integer, got '80'"),
        ("[database]\necho = 1\n", "config key database.echo must be true or false, got 1"),
        ("[server]\nport = -1\n", "config key server.port must not be negative, got -1"),
        ("[server\n", "is not valid TOML"),
    ],
)
def test_bad_config_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(ValidationError, match=re.escape(message)):
        settings.load(user)


def test_bad_environment_values_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        settings.load(None, {"TELEHUB_SERVER_PORT": "eighty"})
    assert err.value.message == (
        "environment value for server.port must be an integer, got 'eighty'"
    )


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        settings.load(tmp_path / "nope.toml")


def test_every_config_key_is_documented() -> None:
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", DOCS.read_text()))
    missing = [k for k in settings.keys() if k not in documented]
    assert missing == [], f"document these in docs/configuration.md: {missing}"


def test_docs_name_no_key_that_does_not_exist() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)`", DOCS.read_text(), re.M))
    assert documented - set(settings.keys()) == set()
