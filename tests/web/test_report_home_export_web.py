"""The per-home exports carry each home's cost avoided and answer times (issue 10,
item 12): the summary CSV's home rows, the ``homes`` CSV table and the JSON summary."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.web.closed_calls import closed_call
from tests.web.helpers import login
from tests.web.test_tablet_web import resident

RANGE = "from=2026-03-01&to=2026-03-31"


async def _csv(client, query: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    resp = await client.get(f"/reports.csv?{query}")
    assert resp.status == 200, await resp.text()
    return list(csv.DictReader(io.StringIO(await resp.text())))


async def test_each_home_row_has_its_cost_avoided_and_answer_times(
    client,
    ctx,
    clock,
    home,
    other_home,
    clinician_user,
) -> None:
    # Rose Court: two calls answered after 3 and 7 minutes (A&E intended, managed at
    # home, admission likely): each avoids an A&E attendance and an admission.
    edna = await resident(ctx, clock, home, "9434765919", "Edna")
    albert = await resident(ctx, clock, other_home, "4010232137", "Albert")
    await closed_call(ctx, clock, home, clinician_user, wait=timedelta(minutes=3), resident=edna)
    await closed_call(ctx, clock, home, clinician_user, wait=timedelta(minutes=7), resident=edna)
    # Oak House: one call answered after 1 minute, 999 intended: A&E, 999, conveyance,
    # admission avoided.
    await closed_call(
        ctx,
        clock,
        other_home,
        clinician_user,
        wait=timedelta(minutes=1),
        intention="call_999",
        resident=albert,
    )
    # Log in after the calls (they move the clock past the session's idle limit).
    maria = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, maria.id)
    t = load_tariffs()
    rose_cost = 2 * (t.ae_attendance + t.admission)
    oak_cost = t.ae_attendance + t.call_999 + t.conveyance + t.admission

    summary = {r["home"]: r for r in await _csv(client, f"table=summary&{RANGE}")}
    homes = {r["home"]: r for r in await _csv(client, f"table=homes&{RANGE}")}
    resp = await client.get(f"/reports.json?{RANGE}")
    as_json = {r["home"]: r for r in await resp.json()}
    for rows in (summary, homes):
        rose, oak = rows["Rose Court"], rows["Oak House"]
        assert Decimal(rose["cost_avoided"]) == rose_cost
        assert Decimal(oak["cost_avoided"]) == oak_cost
        # Nearest-rank p50 of (180 s, 420 s) is 180 s; p90/p95 420 s (bucket edges).
        assert (rose["answer_p50_s"], rose["answer_p90_s"], rose["answer_p95_s"]) == (
            "180.0",
            "420.0",
            "420.0",
        )
        assert rose["answered_within_5_min_pct"] == "50.0"
        assert (oak["answer_p50_s"], oak["answered_within_5_min_pct"]) == ("60.0", "100.0")
    assert Decimal(summary["All"]["cost_avoided"]) == rose_cost + oak_cost
    assert as_json["Rose Court"]["answer_p50_s"] == 180.0
    assert Decimal(as_json["Oak House"]["cost_avoided"]) == oak_cost
