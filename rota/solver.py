"""Solving a rota: preconditions, greedy hint, CP-SAT, and an explanation when it fails.

Callers see a small interface (``RotaSolver.solve`` or the ``solve`` function) and get
back the best rota found with its score recomputed by ``rota.score`` and checked by
``rota.rules``: the solver's own arithmetic is never the last word.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ortools.sat.python import cp_model

from rota.cpmodel import FAMILIES, build_model
from rota.errors import (
    RotaCancelledError,
    RotaConflictError,
    RotaInputError,
    RotaNoSolutionError,
)
from rota.feasibility import check_preconditions
from rota.greedy import greedy_rota
from rota.grid import Grid
from rota.model import Assignment, Problem, Solution, Status
from rota.rules import check
from rota.score import score

DIAGNOSE_LIMIT_S = 5.0
STOP_POLL_S = 0.2


@dataclass(frozen=True)
class Progress:
    """A snapshot for progress bars: CP-SAT's objective may sit slightly above the
    recomputed score of the same rota until the search tightens it."""

    elapsed_s: float
    objective: float | None
    best_bound: float | None
    solutions: int


ProgressFn = Callable[[Progress], None]


class RotaSolver(Protocol):
    def solve(
        self,
        problem: Problem,
        *,
        frozen: Collection[Assignment] = (),
        free_dates: Collection[date] | None = None,
        on_progress: ProgressFn | None = None,
        stop: threading.Event | None = None,
    ) -> Solution: ...


@dataclass(frozen=True)
class CpSatSolver:
    """CP-SAT with a time limit, a worker count and a seed (same seed, same workers and
    a deterministic time limit would give the same rota; wall-clock limits may not)."""

    time_limit_s: float = 30.0
    workers: int = 2
    seed: int = 0

    def solve(
        self,
        problem: Problem,
        *,
        frozen: Collection[Assignment] = (),
        free_dates: Collection[date] | None = None,
        on_progress: ProgressFn | None = None,
        stop: threading.Event | None = None,
    ) -> Solution:
        """``stop``, when set from another thread, ends the search within a fraction of
        a second with ``RotaCancelledError`` (a server shutting down, a lead giving up)."""
        started = time.perf_counter()
        grid = Grid(problem)
        _check_frozen(grid, frozen)
        free_days = None if free_dates is None else _free_days(grid, free_dates)
        check_preconditions(problem, frozen, free_days)
        greedy = greedy_rota(problem, frozen, free_days)
        greedy_ok = not check(problem, greedy)
        watcher = _Watcher(started, on_progress)
        if greedy_ok:  # already a legal rota: the first one, as far as the caller cares
            watcher.first_s = time.perf_counter() - started
            watcher.objective = score(problem, greedy).total
            watcher.report(None)
        rm = build_model(problem, frozen=frozen, free_days=free_days)
        rm.hint(greedy)
        solver = self._solver(max(0.1, self.time_limit_s - (time.perf_counter() - started)))
        solver.best_bound_callback = watcher.on_bound
        with _stopper(solver, stop):
            status = solver.solve(rm.model, watcher)
        if stop is not None and stop.is_set():
            raise RotaCancelledError("the rota search was stopped before it finished")
        wall = time.perf_counter() - started
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = rm.assignments(solver.value)
            broken = check(problem, chosen)
            if broken:  # a disagreement between model and checker is a bug, never a rota
                raise RuntimeError(f"solver rota breaks {broken[0].rule}: {broken[0].message}")
            result = score(problem, chosen)
            bound = solver.best_objective_bound
            optimal = status == cp_model.OPTIMAL or result.total <= bound
            return Solution(
                chosen,
                result,
                Status.OPTIMAL if optimal else Status.FEASIBLE,
                result.total,
                min(bound, result.total),
                watcher.first_s,
                wall,
                watcher.count,
            )
        if status == cp_model.INFEASIBLE:
            each = min(DIAGNOSE_LIMIT_S, max(1.0, self.time_limit_s / 4))
            raise diagnose(problem, frozen, free_days, self.workers, self.seed, each)
        if status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"invalid CP-SAT model: {rm.model.validate()}")
        if greedy_ok:
            result = score(problem, greedy)
            return Solution(
                greedy, result, Status.HEURISTIC, result.total, None, watcher.first_s, wall, 0
            )
        raise RotaNoSolutionError(
            f"no legal rota found within {self.time_limit_s:g} s, and none proven impossible; "
            "try a longer time limit"
        )

    def _solver(self, limit_s: float) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = limit_s
        solver.parameters.num_workers = max(1, self.workers)
        solver.parameters.random_seed = self.seed
        return solver


def solve(
    problem: Problem,
    time_limit_s: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressFn | None = None,
    frozen: Collection[Assignment] = (),
    free_dates: Collection[date] | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Best rota found within ``time_limit_s``.

    ``frozen`` assignments are kept as they are; with ``free_dates`` only shifts starting
    on those dates may change (every other day keeps exactly its frozen shifts), which
    is how a published rota is repaired after sickness (``rota.repair``).
    """
    return CpSatSolver(time_limit_s, workers, seed).solve(
        problem, frozen=frozen, free_dates=free_dates, on_progress=on_progress, stop=stop
    )


@contextlib.contextmanager
def _stopper(solver: cp_model.CpSolver, stop: threading.Event | None) -> Iterator[None]:
    """While CP-SAT runs, a small thread turns ``stop`` into ``stop_search()`` (CP-SAT
    ignores exceptions raised in its callbacks, so this is the way to interrupt it)."""
    if stop is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(STOP_POLL_S):
            if stop.is_set():
                solver.stop_search()
                return

    thread = threading.Thread(target=watch, name="rota-stop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class _Watcher(cp_model.CpSolverSolutionCallback):
    def __init__(self, started: float, on_progress: ProgressFn | None) -> None:
        super().__init__()
        self.started = started
        self.on_progress = on_progress
        self.first_s: float | None = None
        self.count = 0
        self.objective: float | None = None
        self.lock = threading.Lock()

    def report(self, bound: float | None) -> None:
        if self.on_progress is not None:
            elapsed = time.perf_counter() - self.started
            self.on_progress(Progress(elapsed, self.objective, bound, self.count))

    def on_solution_callback(self) -> None:
        with self.lock:
            self.count += 1
            if self.first_s is None:
                self.first_s = time.perf_counter() - self.started
            self.objective = self.objective_value
            self.report(self.best_objective_bound)

    def on_bound(self, bound: float) -> None:
        with self.lock:
            self.report(bound)


def _check_frozen(grid: Grid, frozen: Collection[Assignment]) -> None:
    for a in frozen:
        if a.staff not in grid.staff_by_id:
            raise RotaInputError(f"frozen: unknown staff id {a.staff!r}")
        if a.shift not in grid.shift_by_name:
            raise RotaInputError(f"frozen: unknown shift {a.shift!r}")
        if not 0 <= grid.day_index(a.day) < grid.days:
            raise RotaInputError(f"frozen: {a.day} is outside the period")


def _free_days(grid: Grid, dates: Collection[date]) -> set[int]:
    days = {grid.day_index(d) for d in dates}
    outside = sorted(d for d in dates if not 0 <= grid.day_index(d) < grid.days)
    if outside:
        raise RotaInputError(f"free dates: {outside[0]} is outside the period")
    return days


def _feasible(
    problem: Problem,
    relax: set[str],
    frozen: Collection[Assignment],
    free_days: Collection[int] | None,
    workers: int,
    seed: int,
    limit_s: float,
) -> bool | None:
    """Is there a rota with ``relax`` switched off? None when undecided in time."""
    rm = build_model(problem, frozen=frozen, free_days=free_days, relax=relax, objective=False)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit_s
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    solver.parameters.stop_after_first_solution = True
    status = solver.solve(rm.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    return False if status == cp_model.INFEASIBLE else None


def diagnose(
    problem: Problem,
    frozen: Collection[Assignment],
    free_days: Collection[int] | None,
    workers: int = 2,
    seed: int = 0,
    limit_s: float = DIAGNOSE_LIMIT_S,
) -> RotaConflictError:
    """Name the hard rules behind an INFEASIBLE: first the skill-cover rules that fail
    even alone, then the other families whose removal (one at a time) lets them hold.
    Each trial solve gets ``limit_s``; an undecided trial counts as "does not help"."""
    covers = [c.rule for c in problem.rules.skill_cover]
    others = [f for f in FAMILIES if f != "skill_cover" and (f != "frozen" or frozen)]

    def feasible(relax: set[str]) -> bool | None:
        return _feasible(problem, relax, frozen, free_days, workers, seed, limit_s)

    failing = [r for r in covers if feasible(set(covers) - {r}) is False] or covers
    passing = set(covers) - set(failing)  # switched off: they are not the problem
    culprits = [f for f in others if feasible(passing | {f})]
    names = " and ".join(failing) or "the hard rules"
    if culprits:
        return RotaConflictError(
            f"{names} cannot hold together with {', '.join(culprits)} for these staff; "
            f"relaxing any one of {', '.join(culprits)} would allow a rota",
            (*failing, *culprits),
        )
    if feasible(passing | set(others)):
        return RotaConflictError(
            f"{names} cannot hold under the working-time rules combined "
            f"({', '.join(others)}); no single one of them is to blame",
            (*failing, *others),
        )
    return RotaConflictError(
        f"{names} cannot be met by the staff available (leave, skills, night capability)",
        tuple(failing),
    )
