"""``telehub rota`` commands that read the hub's own database (the others, in
``rota/cli.py``, work on problem and solution files and need no hub at all).

    telehub rota export --start DATE [--days N] [--pattern NAME] --out P.json
    telehub rota forecast-hub --before DATE [--save] [--out demand.json]

``export`` writes what the hub knows (contracts, leave, requests, weekly demand, rule
parameters from ``[rota]``) as a docs/rota.md problem, so ``telehub rota solve`` and
``check`` run on real data; ``forecast-hub`` turns the hub's call history into
clinicians needed per hour of the week (Erlang C) and, with ``--save``, makes it the
demand the rota pages use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from hub.people.access import SYSTEM
from hub.rostering.inputs import forecast_demand, set_demand
from hub.rostering.plans import prepare
from rota.forecast import dump_forecast
from rota.problem_io import dump_problem
from web.cli.bootstrap import hub_context, settings_from


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("export", help="the hub's staff, leave and demand as a problem JSON")
    s.add_argument("--start", type=date.fromisoformat, required=True, help="first day")
    s.add_argument("--days", type=int, help="period length (default: [rota] days)")
    s.add_argument(
        "--pattern", help="8h, 12h or a pattern of [rota.shift_patterns] (default: [rota] pattern)"
    )
    s.add_argument("--out", type=Path, required=True, help="where to write the problem JSON")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("forecast-hub", help="demand per hour of week from the hub's calls")
    s.add_argument(
        "--before", type=date.fromisoformat, required=True, help="use calls before this day"
    )
    s.add_argument("--save", action="store_true", help="store it as the rota's demand")
    s.add_argument("--out", type=Path, help="also write the forecast JSON here")
    s.set_defaults(func=cmd_forecast_hub)


def cmd_export(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> dict[str, object]:
        async with hub_context(settings) as ctx:
            problem = await prepare(
                ctx,
                SYSTEM,
                args.start,
                settings.rota.days if args.days is None else args.days,
                args.pattern or settings.rota.pattern,
            )
            return dump_problem(problem)

    data = asyncio.run(run())
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    staff = data["staff"]
    assert isinstance(staff, list)
    print(f"wrote {args.out}: {len(staff)} clinicians from {args.start}")
    return 0


def cmd_forecast_hub(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> dict[str, object]:
        async with hub_context(settings) as ctx:
            result = await forecast_demand(ctx, SYSTEM, args.before)
            if args.save:
                await set_demand(ctx, SYSTEM, list(result.clinicians))
            return dump_forecast(result)

    data = asyncio.run(run())
    text = json.dumps(data, indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    if args.save:
        print("saved as the rota's weekly demand", file=sys.stderr)
    return 0
