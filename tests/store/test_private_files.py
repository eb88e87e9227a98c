"""Files that hold residents' data or keys are private to the account running telehub."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import settings as settings_mod
from hub.store.bootstrap import keyring_from, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import upgrade


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common default umask (022), under which files are created world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_sqlite_database_and_its_directory_are_private(
    tmp_path: Path, usual_umask: None
) -> None:
    var = tmp_path / "var"
    engine = create_engine(f"sqlite+aiosqlite:///{var / 'telehub.db'}")
    try:
        await upgrade(engine)
        assert mode(var) == 0o700
        for name in ("telehub.db", "telehub.db-wal", "telehub.db-shm"):
            assert mode(var / name) == 0o600, name
    finally:
        await engine.dispose()


async def test_an_existing_world_readable_database_is_tightened(
    tmp_path: Path, usual_umask: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    db = shared / "old.db"
    db.touch(mode=0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    await engine.dispose()
    assert mode(db) == 0o600
    assert mode(shared) == 0o755  # a directory telehub did not create keeps its mode


def test_the_keys_file_gets_an_audit_key_and_an_older_one_gains_it(
    tmp_path: Path, usual_umask: None
) -> None:
    keys = tmp_path / "var" / "keys.toml"
    settings = settings_mod.load(overrides={"security": {"keys_file": str(keys)}})
    resolved = resolve_secrets(settings)
    assert mode(keys.parent) == 0o700 and mode(keys) == 0o600
    assert len(keyring_from(resolved).audit_key) == 32

    # A keys file written before the audit chain was keyed: secret and notes keys only.
    text = keys.read_text()
    older = "\n".join(line for line in text.splitlines() if not line.startswith("audit_key"))
    keys.write_text(older + "\n")
    again = resolve_secrets(settings)
    stored = tomllib.loads(keys.read_text())
    assert again.crypto.audit_key == stored["audit_key"]
    assert set(stored["notes_keys"]) == {"k1"} and "audit_key" not in stored["notes_keys"]
    assert again.crypto.notes_keys == resolved.crypto.notes_keys
    assert mode(keys) == 0o600
    assert resolve_secrets(settings).crypto.audit_key == again.crypto.audit_key  # kept
