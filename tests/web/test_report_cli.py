"""``telehub report rebuild-rollup``, next to ``telehub report --from … --to …``."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle

from tests.telehub_cli import config, telehub

CSV = (
    "home_code,nhs_number,requested_at,answered_at,ended_at,reason,intention,outcome\n"
    "AB123,9434765919,2026-02-01T10:00:00Z,2026-02-01T10:03:00Z,2026-02-01T10:20:00Z,"
    "fall,call_999,managed_advice\n"
)


def _seed(tmp_path: Path, cfg: str, calls: str = CSV) -> None:
    assert telehub("--config", cfg, "migrate", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "t.db") as db:
        db.execute(
            "INSERT INTO care_homes (id, code, name, address, beds, created_at) "
            "VALUES (1, 'AB123', 'Rose Court', '', 40, '2026-01-01 00:00:00.000000')"
        )
        db.execute(
            "INSERT INTO residents (id, home_id, given_name, family_name, date_of_birth, "
            "nhs_number, dnacpr, end_of_life, created_at) VALUES (1, 1, 'Edna', 'Smith', "
            "'1931-04-02', '9434765919', 0, 0, '2026-01-01 00:00:00.000000')"
        )
    (tmp_path / "calls.csv").write_text(calls)
    imported = telehub("--config", cfg, "import-calls", "calls.csv", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr


def _calls(tmp_path: Path, cfg: str, first: str = "2026-02-01", last: str = "2026-02-28") -> str:
    out = telehub("--config", cfg, "report", "--from", first, "--to", last, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return list(csv.DictReader(io.StringIO(out.stdout)))[-1]["calls"]


def test_rebuild_rollup_recomputes_the_dashboard_figures(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    _seed(tmp_path, cfg)
    assert _calls(tmp_path, cfg) == "1"  # the import kept the rollup in step
    with sqlite3.connect(tmp_path / "t.db") as db:  # a rollup gone wrong
        db.execute("UPDATE report_daily_totals SET calls = 7")
    assert _calls(tmp_path, cfg) == "7"
    rebuilt = telehub("--config", cfg, "report", "rebuild-rollup", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "report rollup rebuilt from 1 counted calls" in rebuilt.stdout
    assert "rebuilding the report rollup" in rebuilt.stderr  # the progress bar
    assert _calls(tmp_path, cfg) == "1"


def test_report_still_needs_both_dates(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    telehub("--config", cfg, "migrate", cwd=tmp_path)
    out = telehub("--config", cfg, "report", "--from", "2026-02-01", cwd=tmp_path)
    assert out.returncode == 2 and "give both a start and an end date" in out.stderr


def test_report_days_are_uk_days(tmp_path: Path) -> None:
    """23:30 UTC on 30 June is 00:30 BST on 1 July: `telehub report` counts it in July."""
    cfg = str(config(tmp_path))
    _seed(
        tmp_path,
        cfg,
        CSV.splitlines()[0] + "\n"
        "AB123,9434765919,2026-06-30T23:30:00Z,2026-06-30T23:33:00Z,2026-06-30T23:50:00Z,"
        "fall,call_999,managed_advice\n",
    )
    assert _calls(tmp_path, cfg, "2026-07-01", "2026-07-01") == "1"
    assert _calls(tmp_path, cfg, "2026-06-30", "2026-06-30") == "0"
    assert _calls(tmp_path, cfg, "2026-06-01", "2026-06-30") == "0"
    rebuilt = telehub("--config", cfg, "report", "rebuild-rollup", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _calls(tmp_path, cfg, "2026-07-01", "2026-07-31") == "1"
    with sqlite3.connect(tmp_path / "t.db") as db:
        assert db.execute("SELECT day, calls FROM report_daily_totals").fetchall() == [
            ("2026-07-01", 1)
        ]


def test_report_exports_fhir_and_audits_it(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    _seed(tmp_path, cfg)
    args = ("report", "--from", "2026-02-01", "--to", "2026-02-28", "--home", "ab123")
    out = telehub("--config", cfg, *args, "--format", "fhir", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    bundle = Bundle.model_validate_json(out.stdout)
    assert bundle.total == 1
    assert bundle.entry[0].resource.subject.identifier.value == "9434765919"
    with sqlite3.connect(tmp_path / "t.db") as db:
        (actor, detail) = db.execute(
            "SELECT actor, detail FROM audit_events WHERE action = 'consultations.exported'"
        ).fetchone()
    assert actor == "system:0" and json.loads(detail)["consultations"] == 1
