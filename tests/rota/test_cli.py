"""``telehub rota solve|check|forecast|on-shift|sick`` end to end on files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rota.cli import main
from rota.model import RuleParams
from rota.problem_io import dump_problem, parse_problem
from tests.rota.factory import make_problem, problem_json


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(dump_problem(make_problem(days=7, demand=2, rules=RuleParams()))))
    return path


def solve_to(problem: Path, out: Path) -> int:
    return main(
        [
            "solve",
            "--problem",
            str(problem),
            "--out",
            str(out),
            "--time-limit",
            "3",
            "--workers",
            "2",
            "--seed",
            "1",
            "--quiet",
        ]
    )


def test_solve_then_check_round_trip(
    problem_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "solution.json"
    assert solve_to(problem_file, out) == 0
    solution = json.loads(out.read_text())
    assert solution["assignments"] and solution["uncovered"] == []
    assert solution["score"]["total"] == solution["objective"]
    assert "every hour covered" in capsys.readouterr().out
    assert main(["check", "--problem", str(problem_file), "--solution", str(out)]) == 0
    assert "no hard rule broken" in capsys.readouterr().out


def test_a_broken_hand_edit_makes_check_fail_and_lists_every_violation(
    problem_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "solution.json"
    solve_to(problem_file, out)
    doc = json.loads(out.read_text())
    first = doc["assignments"][0]
    # a second shift the same day for the same person, and a night for day-only nur2
    doc["assignments"] += [
        {**first, "shift": "night" if first["shift"] != "night" else "early"},
        {"staff": "nur2", "date": "2026-03-04", "shift": "night"},
    ]
    out.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["check", "--problem", str(problem_file), "--solution", str(out)]) == 1
    text = capsys.readouterr().out
    assert "[one_shift_per_day]" in text and "[night_capable] nur2: day-only" in text
    assert main(["check", "--problem", str(problem_file), "--solution", str(out), "--json"]) == 1
    rules = {v["rule"] for v in json.loads(capsys.readouterr().out)}
    assert {"one_shift_per_day", "night_capable"} <= rules


def test_bad_input_exits_2_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(problem_json(period={"start": "2026-03-02", "days": 0})))
    assert solve_to(bad, tmp_path / "out.json") == 2
    assert capsys.readouterr().err.strip() == (
        "telehub rota: period.days: must be at least 1 (got 0)"
    )
    bad.write_text("{not json")
    assert solve_to(bad, tmp_path / "out.json") == 2
    assert "not valid JSON: line 1 column 2" in capsys.readouterr().err


def test_contradictory_rules_exit_2_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = problem_json(rules={"skill_cover": [{"skill": "paediatrics", "from": 8, "to": 20}]})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    assert solve_to(path, tmp_path / "out.json") == 2
    assert "skill_cover:paediatrics" in capsys.readouterr().err


def test_forecast_writes_a_demand_block_a_problem_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = tmp_path / "calls.csv"
    rows = [
        f"2026-03-{d:02d}T{h:02d}:{m:02d}:00Z,{300 + m}"
        for d in range(2, 16)
        for h in range(8, 20)
        for m in (5, 25, 45)
    ]
    calls.write_text("requested_at,handling_seconds\n" + "\n".join(rows) + "\n")
    out = tmp_path / "demand.json"
    assert (
        main(["forecast", "--calls", str(calls), "--out", str(out), "--min-clinicians", "1"]) == 0
    )
    demand = json.loads(out.read_text())
    assert len(demand["hour_of_week"]) == 168
    assert demand["hour_of_week"][0] == 1 and max(demand["hour_of_week"]) >= 2
    problem = parse_problem(problem_json(demand=demand))
    assert problem.demand.hourly[9] == demand["hour_of_week"][9]
    assert "calls over 2.0 weeks" in capsys.readouterr().out


def test_on_shift_and_sick(
    problem_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "solution.json"
    solve_to(problem_file, out)
    capsys.readouterr()
    assert (
        main(
            [
                "on-shift",
                "--problem",
                str(problem_file),
                "--solution",
                str(out),
                "--at",
                "2026-03-04T03:00",
                "--skill",
                "senior_clinician",
            ]
        )
        == 0
    )
    line = capsys.readouterr().out.splitlines()[0]
    staff = line.split("\t")[0]
    assert "night\t2026-03-03 23:00–07:00" in line
    repaired = tmp_path / "repaired.json"
    assert (
        main(
            [
                "sick",
                "--problem",
                str(problem_file),
                "--solution",
                str(out),
                "--staff",
                staff,
                "--from",
                "2026-03-04",
                "--to",
                "2026-03-04",
                "--out",
                str(repaired),
                "--time-limit",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    after = json.loads(repaired.read_text())["assignments"]
    assert not [x for x in after if x["staff"] == staff and x["date"] == "2026-03-04"]


def test_python_dash_m_rota_and_the_telehub_mount(problem_file: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rota",
            "check",
            "--problem",
            str(problem_file),
            "--solution",
            str(problem_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2  # a problem file is no solution
    assert "assignments: expected a list" in done.stderr
    from web.cli.commands import main as telehub

    empty = tmp_path / "empty.json"
    empty.write_text('{"assignments": []}')
    assert (
        telehub(["rota", "check", "--problem", str(problem_file), "--solution", str(empty)]) == 1
    )  # nobody on duty: senior cover broken
