"""``telehub rota ...`` (also ``python -m rota ...``): solve, check, forecast, on-shift,
sick.

Exit codes: 0 done; 1 ``check`` found broken hard rules; 2 bad input or hard rules that
cannot all hold (the message says which); 3 no rota found within the time limit.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rota.errors import RotaError, RotaNoSolutionError
from rota.forecast import dump_forecast, forecast, parse_calls_csv
from rota.model import Problem, Solution
from rota.oncall import on_shift
from rota.problem_io import (
    dump_problem,
    dump_solution,
    dump_violations,
    load_assignments,
    load_problem,
)
from rota.progress_bar import progress_bar
from rota.rules import check
from rota.score import score

if TYPE_CHECKING:
    from rota.solver import Progress

MAX_LISTED = 20


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("solve", help="generate a rota (docs/rota.md)")
    s.add_argument("--problem", type=Path, required=True, help="problem JSON")
    s.add_argument("--out", type=Path, required=True, help="where to write the solution JSON")
    _solver_options(s)
    s.set_defaults(func=_guarded(cmd_solve))

    s = sub.add_parser("check", help="list every hard rule a rota breaks")
    s.add_argument("--problem", type=Path, required=True)
    s.add_argument("--solution", type=Path, required=True, help="solution or hand-edited JSON")
    s.add_argument("--json", action="store_true", help="print the violations as JSON")
    s.set_defaults(func=_guarded(cmd_check))

    s = sub.add_parser("forecast", help="clinicians needed per hour of week from call history")
    s.add_argument("--calls", type=Path, required=True, help="CSV: requested_at,handling_seconds")
    s.add_argument("--out", type=Path, help="demand JSON (default: standard output)")
    s.add_argument("--service-level", type=float, default=0.9, help="share answered in time")
    s.add_argument("--answer-within", type=float, default=300, help="seconds (default 300)")
    s.add_argument("--min-clinicians", type=int, default=0, help="floor for every hour")
    s.add_argument("--timezone", default="Europe/London", help="the hub's local time zone")
    s.set_defaults(func=_guarded(cmd_forecast))

    s = sub.add_parser("on-shift", help="who is on shift at a time")
    s.add_argument("--problem", type=Path, required=True)
    s.add_argument("--solution", type=Path, required=True)
    s.add_argument("--at", required=True, help="ISO time; without offset: the hub's local time")
    s.add_argument("--skill", help="only staff with this skill")
    s.set_defaults(func=_guarded(cmd_on_shift))

    s = sub.add_parser("sick", help="re-solve only the days someone is off sick")
    s.add_argument("--problem", type=Path, required=True)
    s.add_argument("--solution", type=Path, required=True, help="the published rota")
    s.add_argument("--staff", required=True)
    s.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    s.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    s.add_argument("--out", type=Path, required=True, help="the repaired solution JSON")
    s.add_argument("--problem-out", type=Path, help="the problem with the sickness recorded")
    _solver_options(s, default_limit=10.0)
    s.set_defaults(func=_guarded(cmd_sick))


def _solver_options(s: argparse.ArgumentParser, default_limit: float = 30.0) -> None:
    s.add_argument("--time-limit", type=float, default=default_limit, help="seconds")
    s.add_argument("--workers", type=int, default=2, help="CP-SAT worker threads")
    s.add_argument("--seed", type=int, default=0, help="CP-SAT random seed")
    s.add_argument("--quiet", action="store_true", help="no progress bar")


class _Bar:
    """A tqdm bar over the time limit. CP-SAT reports from its own threads only when it
    finds something, so a ticker keeps the clock moving in between."""

    def __init__(self, limit: float, quiet: bool) -> None:
        self.bar = progress_bar(
            total=round(limit, 1),
            unit="s",
            disable=quiet,
            leave=False,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}",
        )
        self.lock = threading.Lock()
        self.started = time.perf_counter()
        self.done = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        if not quiet:
            self.ticker.start()

    def _tick(self) -> None:
        while not self.done.wait(0.5):
            with self.lock:
                self.bar.n = min(self.bar.total, round(time.perf_counter() - self.started, 1))
                self.bar.refresh()

    def __call__(self, p: Progress) -> None:
        with self.lock:
            best = "-" if p.objective is None else f"{p.objective:.0f}"
            bound = "-" if p.best_bound is None else f"{p.best_bound:.0f}"
            self.bar.set_postfix_str(f"best {best}, bound {bound}")

    def close(self) -> None:
        self.done.set()
        with self.lock:
            self.bar.close()


Command = Callable[[argparse.Namespace], int]


def _guarded(command: Command) -> Command:
    """Map rota errors to a message and an exit code here, so the same commands behave
    alike under ``telehub rota`` and ``python -m rota``."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except RotaNoSolutionError as err:
            print(f"telehub rota: {err.message}", file=sys.stderr)
            return 3
        except RotaError as err:
            print(f"telehub rota: {err.message}", file=sys.stderr)
            return 2

    return run


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _summary(solution: Solution) -> None:
    gap = "" if solution.gap is None else f", {100 * solution.gap:.1f}% from the bound"
    bound = "" if solution.best_bound is None else f" (bound {solution.best_bound:.0f}{gap})"
    first = solution.time_to_first_s
    print(f"status: {solution.status.value}; objective {solution.objective}{bound}")
    if first is not None:
        print(f"first legal rota after {first:.2f} s; {solution.wall_time_s:.1f} s in all")
    for rule, total in sorted(solution.score.by_rule().items(), key=lambda kv: -kv[1]):
        print(f"  {rule:<22} {total:>8}")
    uncovered = solution.score.uncovered
    if not uncovered:
        print("every hour covered")
        return
    print(f"{len(uncovered)} hours short of demand:")
    for u in uncovered[:MAX_LISTED]:
        what = f" {u.skill}" if u.skill else ""
        print(f"  {u.start:%Y-%m-%d %H:%M}{what}: {u.on_duty} on duty, {u.needed} needed")
    if len(uncovered) > MAX_LISTED:
        print(f"  ... and {len(uncovered) - MAX_LISTED} more (see the solution file)")


def _solve_with_bar(problem: Problem, args: argparse.Namespace, **kw: Any) -> Solution:
    from rota.solver import solve  # CP-SAT (OR-Tools) loads only for commands that solve

    bar = _Bar(args.time_limit, args.quiet)
    try:
        return solve(problem, args.time_limit, args.workers, args.seed, bar, **kw)
    finally:
        bar.close()


def cmd_solve(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    solution = _solve_with_bar(problem, args)
    _write(args.out, dump_solution(solution))
    _summary(solution)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    assignments = load_assignments(problem, args.solution)
    broken = check(problem, assignments)
    if args.json:
        print(json.dumps(dump_violations(broken), indent=1, ensure_ascii=False))
    elif broken:
        print(f"{len(broken)} hard rule violations:")
        for v in broken:
            print(f"  [{v.rule}] {v.message}")
    else:
        result = score(problem, assignments)
        print(f"no hard rule broken; score {result.total}, {len(result.uncovered)} hours short")
    return 1 if broken else 0


def cmd_forecast(args: argparse.Namespace) -> int:
    try:
        text = args.calls.read_text(encoding="utf-8")
    except OSError as err:
        raise RotaError(f"{args.calls}: cannot read: {err.strerror}") from err
    calls = parse_calls_csv(text, str(args.calls))
    if not 0 < args.service_level < 1:
        raise RotaError("--service-level must be between 0 and 1 (e.g. 0.9)")
    result = forecast(
        calls,
        level=args.service_level,
        target_s=args.answer_within,
        minimum=args.min_clinicians,
        timezone=args.timezone,
    )
    data = dump_forecast(result)
    if args.out is None:
        print(json.dumps(data))
    else:
        _write(args.out, data)
        peak = max(result.clinicians)
        print(f"{len(calls)} calls over {result.weeks:.1f} weeks; peak {peak} clinicians an hour")
    return 0


def cmd_on_shift(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    assignments = load_assignments(problem, args.solution)
    try:
        at = datetime.fromisoformat(args.at)
    except ValueError as err:
        raise RotaError(f"--at: {args.at!r} is not an ISO 8601 time") from err
    for o in on_shift(problem, assignments, at, args.skill):
        skills = ",".join(sorted(o.skills))
        print(f"{o.staff}\t{o.shift}\t{o.start:%Y-%m-%d %H:%M}–{o.end:%H:%M}\t{skills}")
    return 0


def cmd_sick(args: argparse.Namespace) -> int:
    from rota.repair import repair_sickness  # CP-SAT (OR-Tools): loaded when it is used

    problem = load_problem(args.problem)
    published = load_assignments(problem, args.solution)
    bar = _Bar(args.time_limit, args.quiet)
    try:
        sick, solution, days = repair_sickness(
            problem,
            published,
            args.staff,
            args.first,
            args.last,
            time_limit_s=args.time_limit,
            workers=args.workers,
            seed=args.seed,
            on_progress=bar,
        )
    finally:
        bar.close()
    _write(args.out, dump_solution(solution))
    if args.problem_out is not None:
        _write(args.problem_out, dump_problem(sick))
    changed = set(solution.assignments) ^ set(published)
    print(f"{len(changed)} assignments changed; re-solved {days[0]}..{days[-1]}")
    _summary(solution)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="telehub rota", description=__doc__)
    sub = parser.add_subparsers(dest="rota_command", required=True)
    add_commands(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
