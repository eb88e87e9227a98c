"""The one typed, frozen configuration object.

Loaded once by the composition root from ``config/default.toml``, an optional user
file, and ``TELEHUB_<SECTION>_<KEY>`` environment variables (later wins). Unknown
keys and wrongly typed values are errors, so a typo never silently falls back to a
default. Every key is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from hub.errors import ValidationError
from hub.resources import config_file
from rota.errors import RotaInputError
from rota.model import ShiftType
from rota.patterns import PATTERNS, all_patterns
from rota.problem_io import parse_shifts

DEFAULT_FILE = config_file("default.toml")  # shipped as a package resource
ENV_PREFIX = "TELEHUB_"


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    data_dir: str  # writable state; see place_state()
    tls_cert: str
    tls_key: str
    max_body_bytes: int
    allowed_origins: tuple[str, ...]
    # Reverse proxies (networks) whose X-Forwarded-For names the client (web/http/proxies.py).
    trusted_proxies: tuple[str, ...]
    test_hooks: bool


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    echo: bool
    pool_size: int
    pool_overflow: int
    pool_timeout_s: float
    sqlite_cache_mb: int


@dataclass(frozen=True)
class SecuritySettings:
    secret_key: str
    keys_file: str
    session_idle_minutes: int
    session_absolute_hours: int
    lockout_threshold: int
    lockout_base_seconds: int
    lockout_max_seconds: int
    totp_issuer: str
    enrolment_code_hours: int
    login_address_threshold: int
    enrolment_threshold: int
    password_time_cost: int
    password_memory_kib: int
    password_parallelism: int


@dataclass(frozen=True)
class CryptoSettings:
    notes_key_id: str
    audit_key: str
    notes_keys: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SignallingSettings:
    bus_url: str
    max_message_bytes: int
    rate_per_s: int
    burst: int
    abuse_close_after: int
    flood_cool_down_s: int
    heartbeat_s: int
    abandon_after_s: int
    max_sockets_per_device: int
    max_sockets_per_user: int
    max_sockets_per_address: int
    max_db_work: int


@dataclass(frozen=True)
class MediaSettings:
    stun_urls: tuple[str, ...]
    turn_urls: tuple[str, ...]
    turn_secret: str
    turn_ttl_s: int
    ice_transport_policy: str
    # Where calls of three or more are relayed: "embedded" (this process) or "processes"
    # (separate ``telehub media`` processes found over the Redis bus).
    relay: str
    announce_s: float  # a media process says it is alive this often
    request_timeout_s: float  # a hub waits this long for a media process's reply


@dataclass(frozen=True)
class OutcomeSettings:
    follow_up_hours: int
    representation_undo_minutes: int
    tariffs_file: str  # "" = the packaged config/tariffs.toml


ShiftPatterns = Mapping[str, tuple[ShiftType, ...]]
"""A hub's own shift patterns by name, from ``[rota.shift_patterns]``."""


@dataclass(frozen=True)
class RotaSettings:
    """The rota generator, its hard-rule parameters, and routing of calls by shift."""

    pattern: str
    days: int
    time_limit_s: int
    workers: int
    seed: int
    full_time_hours: float
    min_rest_hours: int
    weekly_rest_hours: int
    max_avg_weekly_hours: float
    max_consecutive_days: int
    max_consecutive_nights: int
    max_consecutive_long_nights: int
    senior_cover_from_hour: int
    senior_cover_to_hour: int
    prescriber_cover_from_hour: int
    prescriber_cover_to_hour: int
    service_level_pct: int
    answer_target_s: int
    forecast_weeks: int
    enforce_on_shift: bool
    skill_for_reason: Mapping[str, str]
    gap_banner_hours: int
    shift_patterns: ShiftPatterns = field(default_factory=dict)

    @property
    def patterns(self) -> dict[str, tuple[ShiftType, ...]]:
        """Every pattern a rota may use: the built-in ``8h`` and ``12h``, then the
        hub's own from ``[rota.shift_patterns]``."""
        return all_patterns(self.shift_patterns)


@dataclass(frozen=True)
class GuestSettings:
    """Guests a clinician invites into a live call by link (hub/calls/guest_services.py)."""

    invitation_minutes: int  # how long an unused link stays valid
    max_per_call: int  # open invitations and guests not gone, at once


# The media relay and the end-to-end key exchange are built for calls of up to five.
MAX_GUESTS_PER_CALL = 3
MAX_INVITATION_MINUTES = 24 * 60


@dataclass(frozen=True)
class OperationsSettings:
    # Who may read GET /metrics: clients in these networks, or anyone sending
    # "Authorization: Bearer <metrics_token>" (empty: no token opens it).
    metrics_networks: tuple[str, ...]
    metrics_token: str


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool


@dataclass(frozen=True)
class Settings:
    server: ServerSettings
    database: DatabaseSettings
    security: SecuritySettings
    crypto: CryptoSettings
    signalling: SignallingSettings
    media: MediaSettings
    outcomes: OutcomeSettings
    rota: RotaSettings
    guests: GuestSettings
    operations: OperationsSettings
    demo: DemoSettings

    def replace(self, section: str, **values: Any) -> Settings:
        """A copy with some keys of one section changed (tests, CLI flags)."""
        current = getattr(self, section)
        return dataclasses.replace(self, **{section: dataclasses.replace(current, **values)})


def sections() -> dict[str, type[Any]]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def keys() -> list[str]:
    """Every ``section.key`` the settings accept (used by the docs test)."""
    out: list[str] = []
    for name, cls in sections().items():
        out.extend(f"{name}.{f.name}" for f in dataclasses.fields(cls))
    return out


def load(
    user_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    merged = _read_toml(DEFAULT_FILE)
    if user_file is not None:
        _merge(merged, _read_toml(user_file), str(user_file))
    if environ is not None:
        _merge(merged, _from_environ(environ), "environment")
    if overrides:
        _merge(merged, {k: dict(v) for k, v in overrides.items()}, "overrides")
    return _build(merged)


def _read_toml(path: Path | Traversable) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ValidationError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ValidationError(f"config file {path} is not valid TOML: {e}") from None


def _merge(base: dict[str, Any], extra: Mapping[str, Any], origin: str) -> None:
    known = sections()
    for section, values in extra.items():
        if section not in known:
            raise ValidationError(f"{origin}: unknown config section [{section}]")
        if not isinstance(values, Mapping):
            raise ValidationError(f"{origin}: [{section}] must be a table")
        base.setdefault(section, {}).update(values)


def _from_environ(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    fields_by_env = {
        f"{ENV_PREFIX}{section}_{f.name}".upper(): (section, f.name)
        for section, cls in sections().items()
        for f in dataclasses.fields(cls)
    }
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        if name not in fields_by_env:
            continue  # TELEHUB_* variables meant for other tools are not ours to reject
        section, key = fields_by_env[name]
        out.setdefault(section, {})[key] = _EnvValue(raw)
    return out


@dataclass(frozen=True)
class _EnvValue:
    """A raw string from the environment, converted once its target type is known."""

    raw: str


def _build(merged: Mapping[str, Any]) -> Settings:
    built: dict[str, Any] = {}
    for section, cls in sections().items():
        values = dict(merged.get(section, {}))
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in names:
                raise ValidationError(f"unknown config key {section}.{key}")
        kwargs = {}
        for name in names:
            if name not in values:
                raise ValidationError(f"missing config key {section}.{name}")
            kwargs[name] = _coerce(f"{section}.{name}", values[name], hints[name])
        built[section] = cls(**kwargs)
    _check_pattern(built["rota"])
    _check_guests(built["guests"])
    _check_media(built["media"], built["signalling"])
    _check_operations(built["operations"])
    _check_database(built["database"])
    _check_networks("server.trusted_proxies", built["server"].trusted_proxies)
    _place_state(built)
    return Settings(**built)


def _place_state(built: dict[str, Any]) -> None:
    """Writable state that the config leaves to telehub goes under ``server.data_dir``
    (relative to the current directory), never beside the installed code: an empty
    ``database.url`` is a SQLite file there, an empty ``security.keys_file`` too."""
    data_dir = Path(built["server"].data_dir)
    if not built["database"].url:
        url = f"sqlite+aiosqlite:///{data_dir / 'telehub.db'}"
        built["database"] = dataclasses.replace(built["database"], url=url)
    if not built["security"].keys_file:
        keys_file = str(data_dir / "keys.toml")
        built["security"] = dataclasses.replace(built["security"], keys_file=keys_file)


def _check_pattern(rota: RotaSettings) -> None:
    known = rota.patterns
    if rota.pattern not in known:
        raise ValidationError(
            f"config key rota.pattern: unknown shift pattern {rota.pattern!r} "
            f"(known: {', '.join(known)})"
        )


def _check_networks(key: str, networks: tuple[str, ...]) -> None:
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError:
            raise ValidationError(
                f'config key {key}: {network!r} is not a network (e.g. "10.0.0.0/8" or "::1/128")'
            ) from None


def _check_database(database: DatabaseSettings) -> None:
    if database.sqlite_cache_mb < 1:
        raise ValidationError("database.sqlite_cache_mb must be at least 1")


def _check_operations(operations: OperationsSettings) -> None:
    _check_networks("operations.metrics_networks", operations.metrics_networks)


RELAY_PLACES = ("embedded", "processes")


def _check_media(media: MediaSettings, signalling: SignallingSettings) -> None:
    if media.relay not in RELAY_PLACES:
        raise ValidationError(
            f"config key media.relay must be one of {', '.join(RELAY_PLACES)}, got {media.relay!r}"
        )
    if media.relay == "processes" and signalling.bus_url.startswith("memory:"):
        raise ValidationError(
            'media.relay = "processes" needs a shared bus: set signalling.bus_url to redis://…'
        )
    for key, value in (
        ("announce_s", media.announce_s),
        ("request_timeout_s", media.request_timeout_s),
    ):
        if not 0 < value <= 120:
            raise ValidationError(f"config key media.{key} must be above 0 and at most 120")


def _check_guests(guests: GuestSettings) -> None:
    for key, value, most in (
        ("invitation_minutes", guests.invitation_minutes, MAX_INVITATION_MINUTES),
        ("max_per_call", guests.max_per_call, MAX_GUESTS_PER_CALL),
    ):
        if not 1 <= value <= most:
            raise ValidationError(f"config key guests.{key} must be from 1 to {most}, got {value}")


def _shift_patterns(key: str, value: Any) -> ShiftPatterns:
    """``[rota.shift_patterns]``: pattern name → list of ``{name, start, hours}``,
    validated like a problem's shifts (``rota.problem_io.parse_shifts``)."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"config key {key} must be a table of shift lists, got {value!r}")
    out: dict[str, tuple[ShiftType, ...]] = {}
    for name, shifts in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"config key {key}: a pattern needs a name, got {name!r}")
        if name in PATTERNS:
            raise ValidationError(
                f"config key {key}.{name}: {name!r} is a built-in pattern; "
                "give the hub's own pattern another name"
            )
        try:
            out[name] = parse_shifts(shifts, f"{key}.{name}")
        except RotaInputError as e:
            raise ValidationError(f"config key {e.message}") from None
    return types.MappingProxyType(out)


def _coerce(key: str, value: Any, hint: Any) -> Any:
    if isinstance(value, _EnvValue):
        value = _parse_env(key, value.raw, hint)
    origin = typing.get_origin(hint)
    if hint == ShiftPatterns:
        return _shift_patterns(key, value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValidationError(f"config key {key} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"config key {key} must be an integer, got {value!r}")
        if value < 0:
            raise ValidationError(f"config key {key} must not be negative, got {value}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"config key {key} must be a number, got {value!r}")
        if value < 0:
            raise ValidationError(f"config key {key} must not be negative, got {value}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValidationError(f"config key {key} must be a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValidationError(f"config key {key} must be a list of strings, got {value!r}")
        return tuple(value)
    if origin in (Mapping, dict) or origin is getattr(types, "MappingProxyType", None):
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValidationError(f"config key {key} must be a table of strings, got {value!r}")
        return types.MappingProxyType(dict(value))
    raise TypeError(f"unsupported config type {hint!r} for {key}")  # pragma: no cover


def _parse_env(key: str, raw: str, hint: Any) -> Any:
    if hint is str:
        return raw
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValidationError(f"environment value for {key} must be true or false, got {raw!r}")
    if hint is int:
        try:
            return int(raw)
        except ValueError:
            raise ValidationError(
                f"environment value for {key} must be an integer, got {raw!r}"
            ) from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ValidationError(
                f"environment value for {key} must be a number, got {raw!r}"
            ) from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ValidationError(f"environment value for {key} must be JSON, got {raw!r}") from None
