"""Pages people read show words, not codes, and UK times, not UTC (issue 10, item 8).

Every page is rendered from the demo's data (months of calls with every outcome,
follow-up and state) and its visible text is searched for coded values and for "UTC".
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from hub.calls.consultation import Reason, State
from hub.clock import FixedClock
from hub.context import HubContext
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, OutcomeCode
from hub.rostering.problem import LeaveKind
from tests.web.helpers import login
from web.cli import demo_data
from web.http.labels import local_date, local_datetime

# Codes that are not also plain words ("fall", "pain", "ended" are both).
CODES = {
    str(m.value)
    for e in (Reason, State, OutcomeCode, FollowUp, Intention, AdmissionJudgement)
    for m in e
    if "_" in m.value
}


# Spaced-out codes that are also ordinary clinical English, as notes write them.
PLAIN_ENGLISH = {"end of life"}


def spaced_in_labels() -> set[str]:
    labels = " | ".join(
        str(m.label).lower()
        for e in (Reason, State, OutcomeCode, FollowUp, Intention, AdmissionJudgement)
        for m in e
    )
    return {c.replace("_", " ") for c in CODES if c.replace("_", " ") in labels}


def visible_text(page: str) -> str:
    """What a person reads: no scripts, styles, tags or attribute values."""
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S)
    # <code> shows machine formats on purpose: CSV column names, the audit trail's record.
    page = re.sub(r"<code>.*?</code>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def raw_codes(page: str) -> set[str]:
    text = visible_text(page)
    found = {c for c in CODES if re.search(rf"\b{re.escape(c)}\b", text)}
    # A code with its underscores swapped for spaces ("gp out of hours"), unless a label
    # says the same words ("Hub to call back at a set time").
    spaced = {c.replace("_", " ") for c in CODES} - spaced_in_labels() - PLAIN_ENGLISH
    found |= {c for c in spaced if re.search(rf"\b{c}\b", text)}
    found |= set(re.findall(r"\b(?:UTC|true|false)\b", text))
    found |= {m for m in re.findall(r"\b(?:oxygen|scale) (?:true|false|0|1)\b", text)}
    return found


def _context(page: str, code: str) -> str:
    text = " ".join(visible_text(page).split())
    at = text.find(code)
    return text[max(0, at - 60) : at + 60]


async def _get(client: TestClient, path: str) -> str:
    resp = await client.get(path)
    body = await resp.text()
    assert resp.status == 200, (path, resp.status, body[:500])
    return body


async def test_pages_show_labels_and_uk_times_not_codes(
    client: TestClient, ctx: HubContext, clock: FixedClock
) -> None:
    summary = await demo_data.seed(ctx, months=1, rota_time_limit_s=0)
    users = {x.username: x for x in summary.logins}
    async with ctx.uow() as uow:
        staff = {u.username: u.id for u in await uow.staff.list()}
        homes = await uow.homes.list()
        residents = [r for h in homes for r in await uow.residents.for_home(h.id)]
        calls = [c for r in residents for c in await uow.consultations.for_resident(r.id, 1000)]
    assert {c.outcome for c in calls} >= {"gp_out_of_hours", "called_999_conveyed"}
    busiest = max(residents, key=lambda r: sum(c.resident_id == r.id for c in calls))
    one_of_each = {c.outcome: c.id for c in calls if c.outcome}

    await login(client, ctx, clock, "admin", users["admin"].password, staff["admin"])
    pages = {
        "/hub": await _get(client, "/hub"),
        f"/hub/homes/{homes[0].id}": await _get(client, f"/hub/homes/{homes[0].id}"),
        f"/residents/{busiest.id}": await _get(client, f"/residents/{busiest.id}"),
        f"/admin/homes/{homes[0].id}": await _get(client, f"/admin/homes/{homes[0].id}"),
        "/admin/audit": await _get(client, "/admin/audit"),
        "/admin/staff": await _get(client, "/admin/staff"),
        "/reports": await _get(client, "/reports"),
        "/rota/people": await _get(client, "/rota/people"),
        "/console": await _get(client, "/console"),
    }
    for call_id in one_of_each.values():
        pages[f"/calls/{call_id}"] = await _get(client, f"/calls/{call_id}")
    found = {path: raw_codes(page) for path, page in pages.items()}
    shown = {path: sorted(codes) for path, codes in found.items() if codes}
    assert not shown, "codes or UTC shown to people: " + repr(
        {path: [_context(pages[path], c) for c in codes] for path, codes in shown.items()}
    )
    assert "When (UK time)" in pages[f"/residents/{busiest.id}"]
    assert OutcomeCode.GP_OUT_OF_HOURS.label in pages[f"/calls/{one_of_each['gp_out_of_hours']}"]
    # Sample data has outcomes without an audit history: the page never says "none yet".
    for call_id in one_of_each.values():
        assert "No outcome recorded yet" not in pages[f"/calls/{call_id}"]
        assert "recorded without a history here" in pages[f"/calls/{call_id}"]


def test_times_are_shown_in_uk_time_and_dates_on_uk_days() -> None:
    summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 the next day in BST
    assert local_datetime(summer) == "02 Jul 2026 00:30"
    assert local_date(summer) == "02 Jul 2026"
    assert local_datetime(None) == "—"
    assert LeaveKind.ANNUAL.label == "Annual leave"
    assert State.IN_CALL.label == "In call"
