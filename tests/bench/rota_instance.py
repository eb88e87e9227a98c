"""The reference rota instance of the benchmark, generated from a seed.

25 clinicians (8 senior clinicians, 12 nurses, 5 prescribers; 6 at 0.6 FTE; 4 day-only),
28 days from a Monday, hourly demand 2 overnight, 3 from 07:00, 5 from 10:00 to 18:00
(4 at weekends), 4 from 18:00 to 22:00, 3 until midnight; about 25 days of leave and 40
requests. Either shift pattern (``8h`` or ``12h``).

    .venv/bin/python tests/bench/rota_instance.py --pattern 8h --out problem.json
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, timedelta
from pathlib import Path

from rota.model import (
    PRESCRIBER,
    SENIOR,
    Demand,
    Leave,
    Problem,
    Request,
    RequestKind,
    Staff,
)
from rota.patterns import PATTERNS
from rota.problem_io import dump_problem

START = date(2026, 3, 2)  # a Monday
DAYS = 28
SEED = 2026
FULL_TIME = 37.5
LEAVE_DAYS = 25
REQUESTS = 40


def demand_for(day: date) -> list[int]:
    weekend = day.weekday() >= 5
    hours = []
    for h in range(24):
        if h < 7:
            hours.append(2)
        elif h < 10:
            hours.append(3)
        elif h < 18:
            hours.append(4 if weekend else 5)
        elif h < 22:
            hours.append(4)
        else:
            hours.append(3)
    return hours


def make_staff(rng: random.Random) -> tuple[Staff, ...]:
    roles = (
        [("sen", {SENIOR, "clinician"})] * 8
        + [("nur", {"clinician"})] * 12
        + [("pre", {PRESCRIBER, "clinician"})] * 5
    )
    ids = []
    counters: dict[str, int] = {}
    for prefix, _ in roles:
        counters[prefix] = counters.get(prefix, 0) + 1
        ids.append(f"{prefix}{counters[prefix]:02d}")
    part_time = set(rng.sample(range(25), 6))
    # Day-only staff are drawn from nurses and prescribers, so nights keep 8 seniors.
    day_only = set(rng.sample(range(8, 25), 4))
    return tuple(
        Staff(
            id=ids[i],
            contracted_hours=FULL_TIME * (0.6 if i in part_time else 1.0),
            skills=frozenset(skills),
            night_capable=i not in day_only,
        )
        for i, (_, skills) in enumerate(roles)
    )


def make_leave(rng: random.Random, staff: tuple[Staff, ...]) -> tuple[Leave, ...]:
    leave: list[Leave] = []
    taken: dict[str, set[int]] = {}
    total = 0
    while total < LEAVE_DAYS:
        who = rng.choice(staff).id
        length = min(rng.randint(1, 5), LEAVE_DAYS - total)
        first = rng.randrange(0, DAYS - length + 1)
        days = set(range(first - 1, first + length + 1))  # keep blocks apart
        if days & taken.get(who, set()):
            continue
        taken.setdefault(who, set()).update(days)
        start = START + timedelta(days=first)
        leave.append(Leave(who, start, start + timedelta(days=length - 1)))
        total += length
    return tuple(leave)


def make_requests(
    rng: random.Random, staff: tuple[Staff, ...], pattern: str, leave: tuple[Leave, ...]
) -> tuple[Request, ...]:
    shifts = [s.name for s in PATTERNS[pattern] if s.name != "night"]
    on_leave = {
        (x.staff, x.first + timedelta(days=i))
        for x in leave
        for i in range((x.last - x.first).days + 1)
    }
    out: list[Request] = []
    while len(out) < REQUESTS:
        who = rng.choice(staff)
        day = START + timedelta(days=rng.randrange(DAYS))
        if (who.id, day) in on_leave:
            continue
        roll = rng.random()
        weight = rng.choice((1, 1, 2, 3))
        if roll < 0.5:
            out.append(Request(who.id, RequestKind.DAY_OFF, day, day, weight))
        elif roll < 0.75 and who.night_capable:
            last = day + timedelta(days=rng.randint(0, 3))
            out.append(
                Request(
                    who.id,
                    RequestKind.NO_NIGHTS,
                    day,
                    min(last, START + timedelta(days=DAYS - 1)),
                    weight,
                )
            )
        else:
            out.append(Request(who.id, RequestKind.SHIFT, day, day, weight, rng.choice(shifts)))
    return tuple(out)


def reference_problem(pattern: str = "8h", seed: int = SEED) -> Problem:
    """The same seed gives the same staff, leave and requests for both patterns."""
    rng = random.Random(seed)
    staff = make_staff(rng)
    leave = make_leave(rng, staff)
    requests = make_requests(random.Random(seed + 1), staff, pattern, leave)
    hourly = [v for d in range(DAYS) for v in demand_for(START + timedelta(days=d))]
    return Problem(
        start=START,
        days=DAYS,
        staff=staff,
        shifts=PATTERNS[pattern],
        demand=Demand(tuple(hourly)),
        leave=leave,
        requests=requests,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", choices=sorted(PATTERNS), default="8h")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    problem = reference_problem(args.pattern, args.seed)
    args.out.write_text(json.dumps(dump_problem(problem), indent=1) + "\n")


if __name__ == "__main__":
    main()
