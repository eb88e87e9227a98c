"""What ``telehub demo`` prints, and progress off a terminal (issue 10, item 15)."""

from __future__ import annotations

import re
from pathlib import Path

from hub.clock import FixedClock
from hub.context import HubContext
from hub.people.access import Role
from tests.telehub_cli import config, telehub
from web.cli import demo_data
from web.cli.commands import demo_login_lines


async def test_demo_prints_one_login_per_role_including_a_home_manager(
    ctx: HubContext, clock: FixedClock
) -> None:
    summary = await demo_data.seed(ctx, months=1, rota_time_limit_s=0)

    async with ctx.uow() as uow:
        staff = {u.username: u for u in await uow.staff.list()}
        homes = {h.id: h.name for h in await uow.homes.list()}
    home_manager = staff[demo_data.HOME_MANAGER[0]]
    assert home_manager.role is Role.MANAGER and home_manager.home_id in homes

    lines = demo_login_lines(summary.logins)
    per_role = lines[1 : lines.index("  More staff (same password):")]
    roles = [line.split()[0] + (" manager" if "manager " in line[:20] else "") for line in per_role]
    assert roles == ["admin", "hub manager", "clinician", "home manager"]
    [home_line] = [line for line in per_role if line.strip().startswith("home manager")]
    assert "homemanager" in home_line and f"({homes[home_manager.home_id]} only)" in home_line
    assert re.search(r"TOTP secret: [A-Z2-7]{32}", home_line)
    # Every login is still printed once, with its password.
    printed = [line for line in lines if line.startswith("    ")]
    assert len(printed) == len(summary.logins)
    assert all(demo_data.DEMO_PASSWORD in line for line in printed)


def test_progress_off_a_terminal_is_a_short_line_per_step(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    assert telehub("--config", cfg, "migrate", cwd=tmp_path).returncode == 0
    (tmp_path / "calls.csv").write_text(
        "home_code,nhs_number,requested_at,answered_at,ended_at,reason,intention,outcome\n"
    )
    # stderr is a pipe here, as in CI logs: no carriage-return redraws, short lines.
    out = telehub("--config", cfg, "report", "rebuild-rollup", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stderr
    lines = out.stderr.splitlines()
    assert lines and all(len(line) < 100 for line in lines)
    assert lines[-1].startswith("rebuilding the report rollup: ")
