"""Rota figures (the rota issue): the seeded reference instance (tests/bench/rota_instance.py),
8-hour and 12-hour patterns, CP-SAT on 2 workers.

For each pattern: time to the first legal rota; objective and proven bound at 10 s and
at 60 s (one 60 s run, the 10 s figures read from its progress reports); uncovered
hours; and ``telehub rota check`` on the solution file. ``--quick``: 2 s and 10 s.
Aim: first rota within 2 s; no uncovered hours, no hard violations, and within 1% of
the bound at 60 s on the 8-hour pattern.

    .venv/bin/python tests/bench/bench_rota.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
SEED = 0


def run(pattern: str, early: float, limit: float, tmp: Path) -> dict[str, object]:
    from rota.cli import main as rota_cli
    from rota.problem_io import dump_problem, dump_solution
    from rota.rules import check
    from rota.solver import Progress, solve
    from tests.bench.rota_instance import reference_problem

    problem = reference_problem(pattern)
    seen: list[Progress] = []
    solution = solve(problem, limit, WORKERS, SEED, seen.append)
    before = [p for p in seen if p.elapsed_s <= early]
    objective_early = min((p.objective for p in before if p.objective is not None), default=None)
    bound_early = max((p.best_bound for p in before if p.best_bound is not None), default=None)
    problem_file, solution_file = tmp / f"{pattern}-problem.json", tmp / f"{pattern}-solution.json"
    problem_file.write_text(json.dumps(dump_problem(problem)))
    solution_file.write_text(json.dumps(dump_solution(solution)))
    with contextlib.redirect_stdout(io.StringIO()):
        exit_code = rota_cli(
            ["check", "--problem", str(problem_file), "--solution", str(solution_file)]
        )
    return {
        "pattern": pattern,
        "first": solution.time_to_first_s,
        "obj_early": objective_early,
        "bound_early": bound_early,
        "obj": solution.objective,
        "bound": solution.best_bound,
        "gap": solution.gap,
        "status": solution.status.value,
        "wall": solution.wall_time_s,
        "uncovered": sum(u.short for u in solution.score.uncovered),
        "violations": len(check(problem, solution.assignments)),
        "check_exit": exit_code,
        "by_rule": solution.score.by_rule(),
    }


def _num(value: object, fmt: str = "{:.0f}") -> str:
    return "-" if value is None else fmt.format(value)


def main(quick: bool = False) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    early, limit = (2.0, 10.0) if quick else (10.0, 60.0)
    print(f"reference instance: 25 clinicians, 28 days; CP-SAT, {WORKERS} workers, seed {SEED}")
    header = (
        f"{'pattern':<8}{'first rota':>11}{f'obj@{early:g}s':>10}{f'bound@{early:g}s':>11}"
        f"{f'obj@{limit:g}s':>10}{f'bound@{limit:g}s':>11}{'gap':>7}  {'status (when)':<13}"
        f"{'uncovered':>10}{'check':>7}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for pattern in ("8h", "12h"):
            r = run(pattern, early, limit, Path(tmp))
            check_text = "pass" if r["check_exit"] == 0 and r["violations"] == 0 else "FAIL"
            print(
                f"{r['pattern']:<8}{_num(r['first'], '{:.2f} s'):>11}{_num(r['obj_early']):>10}"
                f"{_num(r['bound_early']):>11}{_num(r['obj']):>10}{_num(r['bound']):>11}"
                f"{_num(r['gap'], '{:.1%}'):>7}  {r['status'] + _num(r['wall'], ' {:.0f}s'):<13}"
                f"{r['uncovered']:>10}"
                f"{check_text:>7}",
                flush=True,
            )
            costs = ", ".join(f"{k} {v}" for k, v in sorted(r["by_rule"].items()))  # type: ignore[attr-defined]
            print(f"{'':8}score by rule: {costs}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="rota benchmark")
    parser.add_argument("--quick", action="store_true", help="2 s and 10 s instead of 10 and 60")
    main(parser.parse_args().quick)
