"""Fuzzing the call-log CSV import (``web.calls.call_log`` and the admin import page)
with Hypothesis.

Whatever file an admin uploads, the import either reads rows or refuses with a clear,
line-numbered error (``RowErrors``; a bad row is a ``BadRow`` with its problems);
nothing else escapes, and the page never answers 500 or "something went wrong". The
files that find bugs are *almost valid*: the real header in any order (with a BOM,
spaces, an unknown or repeated column), rows of real-looking values with dates in odd
formats and at the ends of the calendar, formula-like cells, quotes, cells too large
for the CSV reader, too many or too few cells, mixed line endings, and encodings other
than UTF-8. A row that is read is one the hub can store: its times are in order, none
after the import.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.calls.imports import BadRow, CallRow
from hub.clock import FixedClock
from hub.context import HubContext
from hub.errors import RowErrors
from hub.outcomes.codes import FollowUp
from hub.people.access import SYSTEM
from hub.people.admin import add_resident
from hub.people.residents import ResidentDetails
from tests.conftest import PASSWORD
from tests.fuzz.profiles import examples
from tests.web.helpers import csrf, login
from web.calls import import_page
from web.calls.call_log import COLUMNS, NOT_UTF8, CsvCallLog

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the ``clock`` fixture's time
URL = "/admin/import-calls"
NDJSON = "application/x-ndjson"
EDNA_NHS = "9434765919"  # Edna Smith of AB123 (the ``admin_client`` fixture)
Client = TestClient[Request, Application]


# Files that found bugs (each was a crash: a 500 from the page, or a traceback from the
# CLI), kept as explicit examples.
HEADER = ",".join(COLUMNS) + "\n"
GOOD = f"AB123,{EDNA_NHS},,2026-02-01T10:00:00Z,2026-02-01T10:03:00Z,2026-02-01T10:20:00Z,"
GOOD += "fall,call_999,managed_advice,none,yes\n"
# A quote left open runs on past the CSV reader's 128 KiB cell limit: csv.Error.
OPEN_QUOTE = (HEADER + GOOD + f'AB123,{EDNA_NHS},"' + "x" * 131_073 + "\n").encode()
# Before the first datetime once moved to UTC: OverflowError.
YEAR_ONE = (HEADER + GOOD.replace("2026-02-01T10:00:00Z", "0001-01-01T00:00:00+01:00")).encode()
# Ended at the end of time: the follow-up window after it overflowed (OverflowError).
YEAR_9999 = (HEADER + GOOD.replace("2026-02-01T10:20:00Z", "9999-12-31T23:59:59Z")).encode()
# Excel's "Unicode text": UTF-16, which the CLI read into a UnicodeDecodeError.
UTF16 = (HEADER + GOOD).encode("utf-16")


# -- near-valid call logs ---------------------------------------------------------------


def nhs_check_digit(nine: str) -> int | None:
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = 11 - total % 11
    return {11: 0, 10: None}.get(check, check)


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    nine = draw(st.text("0123456789", min_size=9, max_size=9))
    check = nhs_check_digit(nine)
    number = nine + str(check if check is not None else 0)
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    return draw(st.sampled_from([number, spaced, EDNA_NHS, EDNA_NHS[:-1] + "8"]))


odd_date_times = st.one_of(
    st.datetimes().map(datetime.isoformat),  # any year, no offset
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.sampled_from(
        [
            "2026-02-01 10:00",
            "2026-02-01",
            "20260201T100000Z",
            "2026-02-01T10:00:00.123456789Z",
            "2026-W05-7T10:00",
            "01/02/2026 10:00",
            "2025-02-29T10:00Z",
            "2026-02-01T24:00Z",
            "2026-02-01T10:00:00+14:00",
            "2026-02-01T10:00:00-23:59",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T00:00:00+00:00",
            "２０２６-02-01T10:00Z",
            "2026-02-01T10:00:00Zx",
            "",
        ]
    ),
)
hostile_cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            '=HYPERLINK("http://x")',
            "+1",
            "-1",
            "@SUM(A1)",
            '"',
            '""',
            'a"b',
            "a\nb",
            "a\r\nb",
            "\x00",
            "\ufeff",
            " ",
            "\u2028",
        ]
    ),
)
# Around the CSV reader's 128 KiB cell limit (an unclosed quote makes such a cell): one
# cell of the file now and then, as each costs a few milliseconds to build and read.
giant_cells = st.sampled_from([131_072, 131_073, 200_000]).map(lambda n: "x" * n)


def written(at: datetime, tz: Any, style: int) -> str:
    """``at`` as a spreadsheet might write it: Z, an offset, no offset (UTC), a space."""
    local = at.astimezone(tz)
    return [
        at.isoformat().replace("+00:00", "Z"),
        local.isoformat(),
        at.replace(tzinfo=None).isoformat(),
        local.isoformat(sep=" ", timespec="minutes"),
    ][style]


# Built once: a strategy made inside a composite is validated again at every draw.
requested_times = st.datetimes(
    datetime(2025, 1, 1), NOW.replace(tzinfo=None), timezones=st.just(UTC)
)
call_steps = st.timedeltas(timedelta(0), timedelta(hours=2))
zones = st.timezones()
styles = st.integers(0, 3)
GOOD_CELLS = {
    "home_code": st.sampled_from(["AB123", "ab123", " AB123 "]),
    "nhs_number": st.sampled_from([EDNA_NHS, "943 476 5919", ""]),
    "reason": st.sampled_from(["fall", "breathing", "other"]),
    "intention": st.sampled_from(["call_999", "ae", "urgent_gp", "manage", ""]),
    "outcome": st.sampled_from(["managed_advice", "sent_to_ae", ""]),
    "follow_up": st.sampled_from(["none", "home_to_call_if_worse", ""]),
    "admission_judgement": st.sampled_from(["yes", "no", "unsure", ""]),
}
states = st.sampled_from(["ended", "abandoned", "cancelled"])


@st.composite
def valid_cells(draw: st.DrawFn) -> dict[str, str]:
    """One good row for Edna at AB123: times in order (the last may run past the time
    of the import, an edge of its own), values from the coded lists."""
    cells = {column: draw(strategy) for column, strategy in GOOD_CELLS.items()}
    requested = draw(requested_times)
    answered = requested + draw(call_steps)
    ended = answered + draw(call_steps)
    state = draw(states)
    tz, style = draw(zones), draw(styles)
    return {
        **cells,
        "resident_name": "Edna Smith",
        "requested_at": written(requested, tz, style),
        "answered_at": written(answered, tz, style) if state == "ended" else "",
        "ended_at": written(ended, tz, style) if state != "abandoned" else "",
        "outcome": cells["outcome"] if state == "ended" else "",
    }


ODD_CELLS: dict[str, st.SearchStrategy[str]] = {
    "home_code": st.sampled_from(["ZZZ99", "", "AB 123"]),
    "nhs_number": nhs_numbers(),
    "resident_name": st.sampled_from(["edna smith", "Nobody Here", "", "<b>x"]),
    "requested_at": odd_date_times,
    "answered_at": odd_date_times,
    "ended_at": odd_date_times,
    "reason": st.sampled_from(["FALL", "sneeze", ""]),
    "intention": st.sampled_from(["999", "CALL_999"]),
    "outcome": st.sampled_from(["managed_advice", "admitted_direct", "x"]),
    "follow_up": st.sampled_from(["call_back", "later"]),
    "admission_judgement": st.sampled_from(["maybe", "YES"]),
}


good_headers = st.permutations(COLUMNS)
odd_headers = st.lists(st.sampled_from([*COLUMNS, "when", " reason ", ""]), max_size=14)
rolls = st.integers(0, 39)
extras = st.integers(-3, 2)
row_counts = st.integers(0, 6)
good_rows = valid_cells()
quotings = st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
line_ends = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])
encodings = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1", "cp1252"])


def draw_row(draw: st.DrawFn, header: list[str]) -> list[str]:
    """A good row, then each cell swapped for an odd one (1 in 8) or a hostile one
    (1 in 20); then, now and then, cut short or lengthened."""
    good = draw(good_rows)
    cells = []
    for column in header:
        roll = draw(rolls)
        if column.strip() not in good or roll < 2:
            cells.append(draw(hostile_cells))
        elif roll < 7:
            cells.append(draw(ODD_CELLS[column.strip()]))
        else:
            cells.append(good[column.strip()])
    extra = draw(extras) if draw(rolls) < 8 else 0
    return cells[: len(cells) + extra] if extra < 0 else cells + ["x"] * extra


@st.composite
def call_logs(draw: st.DrawFn) -> bytes:
    """A CSV call log as bytes, as an admin might upload it."""
    # A missing, unknown, spaced or repeated column now and then.
    header = list(draw(odd_headers if draw(rolls) < 6 else good_headers))
    table = [header, *(draw_row(draw, header) for _ in range(draw(row_counts)))]
    if (filled := [row for row in table[1:] if row]) and draw(rolls) < 4:
        row = draw(st.sampled_from(filled))
        row[draw(st.integers(0, len(row) - 1))] = draw(giant_cells)
    out = io.StringIO()
    if draw(st.booleans()):
        quoting: Any = draw(quotings)  # one of csv's QUOTE_* constants
        csv.writer(out, quoting=quoting, lineterminator="\n").writerows(table)
        lines = out.getvalue().split("\n")
    else:  # joined by hand: stray quotes and commas stay unbalanced
        lines = [",".join(cells) for cells in table]
    text = ""
    for line in lines:
        text += line + draw(line_ends)
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text.encode(draw(encodings), "replace")


# -- the properties -------------------------------------------------------------------


def assert_clear(errors: list[tuple[int, str]]) -> None:
    assert errors
    for line, message in errors:
        assert isinstance(line, int) and line >= 1
        assert isinstance(message, str) and message.strip()


def assert_storable(row: CallRow) -> None:
    """A row read is one the hub can store and report on."""
    assert re.fullmatch(r"\d{10}", row.nhs_number or "0000000000")
    assert row.home_code == row.home_code.upper()
    for at in (row.requested_at, row.answered_at, row.ended_at):
        assert at is None or (at.utcoffset() is not None and at <= NOW), at
    assert row.answered_at is None or row.answered_at >= row.requested_at
    assert row.ended_at is None or row.ended_at >= (row.answered_at or row.requested_at)
    if row.outcome is not None:
        assert row.answered_at is not None and row.ended_at is not None
    assert row.follow_up is not FollowUp.CALL_BACK


def read_log(data: bytes) -> None:
    """Read ``data`` as the CLI and the web page do (a UTF-8 file, BOM allowed)."""
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="") as f:
        try:
            read = list(CsvCallLog(f).rows(NOW))
        except RowErrors as err:
            assert_clear(err.errors)
            return
    lines = [r.line for r in read]
    assert lines == sorted(set(lines)) and all(n >= 2 for n in lines)
    for row in read:
        if isinstance(row, BadRow):
            assert_clear([(row.line, row.problems)])
        else:
            assert_storable(row)


@settings(max_examples=examples(40))
@given(st.binary(max_size=300))
@example(b"\x80")
def test_any_bytes_are_read_or_refused(data: bytes) -> None:
    read_log(data)


@settings(max_examples=examples(200))
@given(call_logs())
@example(OPEN_QUOTE)
@example(YEAR_ONE)
@example(YEAR_9999)
@example(UTF16)
def test_almost_valid_call_logs_are_read_or_refused(data: bytes) -> None:
    read_log(data)


@pytest.mark.parametrize(
    ("data", "refused", "bad_row"),
    [
        (
            OPEN_QUOTE,
            (
                3,
                "cannot read this row as CSV: a cell is longer than 131,072 characters: "
                "is a quote mark left open?",
            ),
            None,
        ),
        (UTF16, (1, NOT_UTF8), None),
        (YEAR_ONE, None, "requested_at '0001-01-01T00:00:00+01:00' is outside the range of dates"),
        (YEAR_9999, None, "ended_at is in the future"),
    ],
    ids=["open-quote", "utf-16", "year-one", "year-9999"],
)
def test_the_files_that_crashed_are_refused_with_a_clear_error(
    data: bytes, refused: tuple[int, str] | None, bad_row: str | None
) -> None:
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="") as f:
        if refused:
            with pytest.raises(RowErrors) as err:
                list(CsvCallLog(f).rows(NOW))
            assert err.value.errors == [refused]
        else:
            assert list(CsvCallLog(f).rows(NOW)) == [BadRow(2, "AB123", str(bad_row))]


# -- through the real page ------------------------------------------------------------


@pytest.fixture
async def admin_client(
    client: Client,
    ctx: HubContext,
    clock: FixedClock,
    admin_user: Any,
    home: Any,
) -> Client:
    """Ada the admin, logged in; Edna Smith (``EDNA_NHS``) lives at AB123."""
    edna = ResidentDetails.parse(
        given_name="Edna",
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=EDNA_NHS,
        today=clock.now().date(),
    )
    await add_resident(ctx, SYSTEM, home.id, edna)
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    return client


async def upload(client: Client, data: bytes, *, script: bool, skip: bool) -> Any:
    token = await csrf(client, URL)
    form = aiohttp.FormData()
    if not script:
        form.add_field("csrf_token", token)
    form.add_field("file", data, filename="calls.csv", content_type="text/csv")
    if skip:
        form.add_field("skip_invalid", "on")
    headers = {"Accept": NDJSON, "X-CSRF-Token": token} if script else {}
    return await client.post(URL, data=form, headers=headers)


@settings(
    max_examples=examples(12),
    # One logged-in client serves every example: the property holds whatever earlier
    # examples imported (their calls make later rows duplicates, not errors).
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=call_logs(), script=st.booleans(), skip=st.booleans())
@example(data=OPEN_QUOTE, script=False, skip=False)
@example(data=OPEN_QUOTE, script=True, skip=True)
@example(data=YEAR_ONE, script=False, skip=False)
@example(data=YEAR_9999, script=False, skip=True)
@example(data=YEAR_9999, script=True, skip=False)
async def test_the_import_page_never_fails_and_says_what_is_wrong(
    admin_client: Client, data: bytes, script: bool, skip: bool
) -> None:
    resp = await upload(admin_client, data, script=script, skip=skip)
    assert resp.status in (200, 413, 422), resp.status
    body = await resp.text()
    if script:
        assert resp.content_type == NDJSON, body[:200]
        last = json.loads(body.splitlines()[-1])
        assert last["type"] in ("done", "refused", "error"), last
        if last["type"] == "error":
            assert last["message"] != import_page.INTERNAL and last["message"].strip()
        if last["type"] == "refused":
            assert_clear([tuple(e) for e in last["errors"]])
    else:
        assert resp.content_type == "text/html"
        assert import_page.INTERNAL not in body
        if resp.status == 422:  # the page names the problem: a line, or the file
            assert re.search(r"Line \d+: |not UTF-8|empty|choose a CSV file", body), body[-800:]
