"""``telehub audit head`` and ``telehub audit verify --head``: an exported head shows a
truncation that the database alone would hide."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tests.telehub_cli import config, telehub


def adduser(cfg: str, tmp_path: Path, name: str) -> None:
    added = telehub(
        "--config",
        cfg,
        "adduser",
        name,
        "--name",
        name.title(),
        "--role",
        "admin",
        "--password-stdin",
        cwd=tmp_path,
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr


def test_an_exported_head_shows_a_truncation(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    assert telehub("--config", cfg, "migrate", cwd=tmp_path).returncode == 0
    adduser(cfg, tmp_path, "alice")
    adduser(cfg, tmp_path, "bob")
    head = telehub("--config", cfg, "audit", "head", cwd=tmp_path)
    assert head.returncode == 0 and re.fullmatch(r"2:[0-9a-f]{64}\n", head.stdout)
    exported = head.stdout.strip()
    ok = telehub("--config", cfg, "audit", "verify", "--head", exported, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "audit chain intact: 2 events verified" in ok.stdout
    assert "the exported head 2 is in the chain unchanged" in ok.stdout
    assert f"head {exported}" in ok.stdout

    with sqlite3.connect(tmp_path / "t.db") as db:  # drop the newest event
        db.execute("DELETE FROM audit_events WHERE seq = 2")
    bad = telehub("--config", cfg, "audit", "verify", cwd=tmp_path)
    assert bad.returncode == 1
    assert (
        "BROKEN at event 2: the chain ends at event 1 but its head row names event 2: "
        "the newest events were removed" in bad.stderr
    )
    with sqlite3.connect(tmp_path / "t.db") as db:  # ... and cover it up
        db.execute("UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_events)")
    assert telehub("--config", cfg, "audit", "verify", cwd=tmp_path).returncode == 0
    shown = telehub("--config", cfg, "audit", "verify", "--head", exported, cwd=tmp_path)
    assert shown.returncode == 1
    assert (
        "BROKEN at event 2: the chain ends at event 1, before the exported head 2: "
        "events were removed" in shown.stderr
    )


def test_a_malformed_head_is_refused(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    telehub("--config", cfg, "migrate", cwd=tmp_path)
    bad = telehub("--config", cfg, "audit", "verify", "--head", "2:abc", cwd=tmp_path)
    assert bad.returncode == 2
    assert "a chain head is SEQ:HASH as `telehub audit head` prints it, got '2:abc'" in bad.stderr
