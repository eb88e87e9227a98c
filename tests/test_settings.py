from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub import settings
from hub.errors import ValidationError
from rota.model import ShiftType
from rota.patterns import EIGHT_HOUR, PATTERNS

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
        ("[database]\nsqlite_cache_mb = 0\n", "database.sqlite_cache_mb must be at least 1"),
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


NINE_HOUR_TOML = """
[rota]
pattern = "nine_hour"

[rota.shift_patterns]
nine_hour = [
  { name = "early", start = 7, hours = 9 },
  { name = "late", start = "14:00", hours = 9 },
  { name = "night", start = 22, hours = 10 },
]
"""


def test_a_configured_shift_pattern_loads_beside_the_built_in_ones(tmp_path: Path) -> None:
    user = tmp_path / "u.toml"
    user.write_text(NINE_HOUR_TOML)
    rota = settings.load(user).rota
    assert rota.pattern == "nine_hour"
    assert list(rota.patterns) == ["8h", "12h", "nine_hour"]
    assert rota.patterns["8h"] == EIGHT_HOUR
    assert rota.patterns["nine_hour"] == (
        ShiftType("early", 7, 9),
        ShiftType("late", 14, 9),
        ShiftType("night", 22, 10),  # crosses midnight
    )
    assert settings.load().rota.patterns == PATTERNS  # none configured by default


def test_shift_patterns_from_the_environment_are_json_like_any_table() -> None:
    raw = '{"twelve": [{"name": "day", "start": 8, "hours": 12}]}'
    rota = settings.load(None, {"TELEHUB_ROTA_SHIFT_PATTERNS": raw}).rota
    assert rota.patterns["twelve"] == (ShiftType("day", 8, 12),)
    with pytest.raises(ValidationError) as err:
        settings.load(None, {"TELEHUB_ROTA_SHIFT_PATTERNS": "twelve"})
    assert (
        err.value.message == "environment value for rota.shift_patterns must be JSON, got 'twelve'"
    )


def _shift(name: str, start: object = 7, hours: object = 8) -> dict[str, object]:
    return {"name": name, "start": start, "hours": hours}


@pytest.mark.parametrize(
    ("rota", "message"),
    [
        (
            {"pattern": "9h"},
            "config key rota.pattern: unknown shift pattern '9h' (known: 8h, 12h)",
        ),
        (
            {"pattern": "9h", "shift_patterns": {"mine": [_shift("day")]}},
            "config key rota.pattern: unknown shift pattern '9h' (known: 8h, 12h, mine)",
        ),
        (
            {"shift_patterns": {"8h": [_shift("day")]}},
            "config key rota.shift_patterns.8h: '8h' is a built-in pattern; "
            "give the hub's own pattern another name",
        ),
        (
            {"shift_patterns": {"mine": [_shift("day"), _shift("day", 9)]}},
            "config key rota.shift_patterns.mine[1].name: duplicate shift name 'day'",
        ),
        (
            {"shift_patterns": {"mine": [_shift("day"), _shift("late", 15, 0)]}},
            "config key rota.shift_patterns.mine[1].hours: a shift lasts 1 to 24 hours (got 0)",
        ),
        (
            {"shift_patterns": {"mine": [_shift("day", 7, 25)]}},
            "config key rota.shift_patterns.mine[0].hours: a shift lasts 1 to 24 hours (got 25)",
        ),
        (
            {"shift_patterns": {"mine": [_shift("day", 24)]}},
            "config key rota.shift_patterns.mine[0].start: hour must be between 0 and 23 (got 24)",
        ),
        (
            {"shift_patterns": {"mine": []}},
            "config key rota.shift_patterns.mine: at least one shift type is needed",
        ),
        (
            {"shift_patterns": {"mine": "early"}},
            "config key rota.shift_patterns.mine: expected a list of shifts",
        ),
        (
            {"shift_patterns": {"mine": [{"name": "day", "start": 7}]}},
            "config key rota.shift_patterns.mine[0].hours: missing",
        ),
        (
            {"shift_patterns": ["mine"]},
            "config key rota.shift_patterns must be a table of shift lists, got ['mine']",
        ),
    ],
)
def test_bad_shift_patterns_are_refused_at_load(rota: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        settings.load(overrides={"rota": rota})
    assert err.value.message == message


def test_a_bad_pattern_in_a_config_file_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(NINE_HOUR_TOML.replace("hours = 10", "hours = 25"))
    with pytest.raises(ValidationError) as err:
        settings.load(user)
    assert err.value.message == (
        "config key rota.shift_patterns.nine_hour[2].hours: a shift lasts 1 to 24 hours (got 25)"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"media": {"relay": "elsewhere"}},
            "config key media.relay must be one of embedded, processes, got 'elsewhere'",
        ),
        (
            {"media": {"relay": "processes"}},
            'media.relay = "processes" needs a shared bus: set signalling.bus_url to redis://…',
        ),
        (
            {"media": {"announce_s": 0.0}},
            "config key media.announce_s must be above 0 and at most 120",
        ),
    ],
)
def test_a_media_relay_that_cannot_work_is_refused_at_load(
    overrides: dict[str, dict[str, object]], message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        settings.load(overrides=overrides)
    assert err.value.message == message


def test_media_processes_with_the_redis_bus_load() -> None:
    loaded = settings.load(
        overrides={
            "media": {"relay": "processes"},
            "signalling": {"bus_url": "redis://127.0.0.1:6379/0"},
        }
    )
    assert loaded.media.relay == "processes"
