"""``telehub report`` maintenance commands (the report itself is ``cmd_report`` in
``web/cli/commands.py``).

    telehub report rebuild-rollup

recomputes the daily report rollup (one row per UK day, like every report day) from
every stored consultation (docs/outcomes.md, "The report rollup"), in one transaction,
with a progress bar. Writes wait meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio

from hub.people.access import SYSTEM
from rota.progress_bar import progress_bar
from web.cli.bootstrap import hub_context, settings_from


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "rebuild-rollup", help="recompute the dashboard's daily rollup from every consultation"
    )
    s.set_defaults(func=cmd_rebuild_rollup)


def cmd_rebuild_rollup(args: argparse.Namespace) -> int:
    from hub.reports.summary import rebuild_rollup

    settings = settings_from(args)

    async def run() -> int:
        with progress_bar(desc="rebuilding the report rollup", unit="block") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            async with hub_context(settings) as ctx:
                return await rebuild_rollup(ctx, SYSTEM, progress)

    calls = asyncio.run(run())
    print(f"report rollup rebuilt from {calls} counted calls")
    return 0
