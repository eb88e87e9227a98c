"""``telehub import-calls`` on an overlapping log (issue 10, item 12): duplicates are
skipped and counted, the rest imported, and counts are worded for one and many."""

from __future__ import annotations

from pathlib import Path

from tests.telehub_cli import config, telehub
from tests.web.test_report_cli import CSV, _seed

SECOND = (
    "AB123,9434765919,2026-02-02T10:00:00Z,2026-02-02T10:03:00Z,2026-02-02T10:20:00Z,"
    "fall,call_999,managed_advice\n"
)


def test_an_overlapping_log_imports_the_new_call_and_skips_the_old(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    _seed(tmp_path, cfg)  # imports CSV's one call
    (tmp_path / "more.csv").write_text(CSV + SECOND)  # that call again, and a new one
    result = telehub("--config", cfg, "import-calls", "more.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Imported 1 call; skipped 1 duplicate."
    assert "more.csv:2: duplicate skipped: this call is already stored" in result.stderr
    again = telehub("--config", cfg, "import-calls", "more.csv", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == (
        "Imported 0 calls; skipped 2 duplicates."
    )


def test_a_bad_row_reports_every_problem(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    _seed(tmp_path, cfg)
    (tmp_path / "bad.csv").write_text(CSV.splitlines()[0] + "\nZZZ99,9434765919,soon,,,sneeze,,\n")
    result = telehub("--config", cfg, "import-calls", "bad.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "bad.csv:2: unknown care home ZZZ99; requested_at 'soon' is not a date and time like "
        "2026-03-01T14:05:00+00:00; reason 'sneeze' is not in the reasons list"
    ) in result.stderr
    assert "telehub: 1 bad row; nothing imported" in result.stderr
