"""A deployment's own unit costs (``outcomes.tariffs_file``, issue 10 item 13): checked
at start-up with a clear error, and used by the dashboard, its footer and exports."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from hub.outcomes.tariffs import TariffError
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.telehub_cli import config, telehub, telehub_process
from tests.web.closed_calls import closed_call
from tests.web.helpers import login

OWN = """\
currency = "GBP"

[ae_attendance]
cost = 300
source = "Our ICB local price list"
year = "2024/25"

[call_999]
cost = 10
source = "Our ICB local price list"
year = "2024/25"

[conveyance]
cost = 500
source = "Our ICB local price list"
year = "2024/25"

[admission]
cost = 5000
source = "Our ICB local price list"
year = "2024/25"

[urgent_gp]
cost = 100
source = "Our ICB local price list"
year = "2024/25"
"""


def _with_tariffs(settings, path: Path):  # type: ignore[no-untyped-def]
    return replace(settings, outcomes=replace(settings.outcomes, tariffs_file=str(path)))


def test_the_app_does_not_start_on_a_bad_tariffs_file(settings, tmp_path: Path) -> None:
    from web.app import create_app

    with pytest.raises(TariffError) as err:
        create_app(_with_tariffs(settings, tmp_path / "missing.toml"))
    assert err.value.message == (
        f"config key outcomes.tariffs_file: tariffs file {tmp_path / 'missing.toml'} does not exist"
    )


@pytest.mark.parametrize(
    "command", [["serve"], ["report", "--from", "2026-01-01", "--to", "2026-01-31"]]
)
def test_serve_and_report_stop_with_a_clear_message(tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "ours.toml"
    bad.write_text(OWN.replace("cost = 500\n", 'cost = "a lot"\n'))
    cfg = config(tmp_path)
    cfg.write_text(cfg.read_text() + f'[outcomes]\ntariffs_file = "{bad}"\n')
    run = telehub_process if command[0] == "serve" else telehub
    result = run("--config", str(cfg), *command, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"telehub: config key outcomes.tariffs_file: {bad}: [conveyance] cost must be a "
        "number, not 'a lot'"
    )


async def test_the_dashboard_prices_with_the_deployments_own_file(
    aiohttp_client, settings, engine, ctx, clock, home, clinician_user, tmp_path: Path
) -> None:
    from web.app import create_app

    own = tmp_path / "ours.toml"
    own.write_text(OWN)
    await closed_call(ctx, clock, home, clinician_user)  # A&E and admission avoided
    client = await aiohttp_client(create_app(_with_tariffs(settings, own), clock=clock))
    maria = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, maria.id)
    page = await (await client.get("/reports?from=2026-03-01&to=2026-03-31")).text()
    footer = page[page.index('data-testid="tariff-sources"') :]
    assert "A&amp;E attendance: GBP 300.00 — Our ICB local price list (2024/25 prices)" in footer
    assert "Urgent GP visit: GBP 100.00" in footer
    assert "Check them against their sources before quoting cost avoided" in footer
    resp = await client.get("/reports.csv?table=summary&from=2026-03-01&to=2026-03-31")
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert rows[0]["home"] == "Rose Court" and rows[0]["cost_avoided"] == "5300"
    assert rows[-1]["cost_avoided"] == "5300"


async def test_the_packaged_figures_and_their_sources_are_in_the_footer(client, ctx, clock) -> None:
    maria = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, maria.id)
    page = await (await client.get("/reports")).text()
    footer = page[page.index('data-testid="tariff-sources"') :]
    assert (
        "A&amp;E attendance: GBP 265.00 — NHS England, 2022/23 National Cost Collection Data "
        "Publication: Emergency Medicine (A&amp;E), VB01Z-VB11Z, national average per "
        "attendance (2022/23 prices)" in footer
    )
    assert "Unit Costs of Health and Social Care 2023 Manual" in footer
