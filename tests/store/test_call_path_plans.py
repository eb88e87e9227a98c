"""Every read on the path of a call event or an answer uses an index (SQLite's query
plans). A full scan there grows with the hub's history: on 500,000 past calls, the mean
handling time (read on every call event) and a clinician's calls still without an
outcome (read on every answer) took 165 ms and 121 ms before migration 0014, and these
reads run on the event loop's thread (brief units of work, hub/store/db.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.calls.consultation import State
from hub.store import audit_repository as audit
from hub.store import consultation_repository as calls
from hub.store import repositories as people

AT = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)

#: Each read or write of a call event, an answer or an identity check, with parameters.
CALL_PATH: dict[str, tuple[Any, dict[str, Any]]] = {
    "call by id": (calls._BY_ID, {"call_id": 1}),
    "open call of a resident": (calls._OPEN_FOR_RESIDENT, {"key": 1}),
    "open call of a tablet": (calls._OPEN_FOR_DEVICE, {"key": 1}),
    "open calls of a clinician": (calls._OPEN_FOR_CLINICIAN, {"key": 1}),
    "the queue": (calls._QUEUE, {}),
    "mean handling time": (calls._RECENT_HANDLING, {"since": AT}),
    "calls awaiting an outcome": (calls._AWAITING_OUTCOME, {"key": 1}),
    "a tablet's heartbeat": (calls._TOUCH_DEVICE, {"call_id": 1, "at": AT}),
    "a call's transition": (
        calls._transition(
            frozenset({State.WAITING}), State.ANSWERED, frozenset({"answered_by", "answered_at"})
        ),
        {"call_id": 1, "new_answered_by": 1, "new_answered_at": AT},
    ),
    "the audit head": (audit._LOCK_HEAD, {}),
    "the audit head moved": (audit._MOVE_HEAD, {"new_seq": 1, "new_hash": "0"}),
    "resident by id": (people._RESIDENT_BY_ID, {"id": 1}),
    "staff by id": (people._STAFF_BY_ID, {"id": 1}),
    "session by token": (people._SESSION_BY_TOKEN, {"token_hash": "0"}),
    "session seen": (people._TOUCH_SESSION, {"key": "0", "at": AT}),
    "tablet by token": (people._DEVICE_BY_TOKEN, {"token_hash": "0"}),
    "tablet seen": (people._TOUCH_DEVICE, {"key": 1, "at": AT}),
}


@pytest.fixture
def sqlite_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans (PostgreSQL plans by its statistics)")


async def plan(engine: AsyncEngine, name: str) -> list[str]:
    """SQLite's plan for the statement as telehub runs it (parameters bound, IN lists
    expanded): the statement is sent with EXPLAIN QUERY PLAN in front, so nothing runs.
    Compiled afresh, not from the statement cache: a cached compilation carries the
    statement's own result columns, which the plan's rows do not match."""
    stmt, params = CALL_PATH[name]

    def explain(_conn: Any, _cursor: Any, sql: str, args: Any, _ctx: Any, _many: bool) -> Any:
        return f"EXPLAIN QUERY PLAN {sql}", args

    event.listen(engine.sync_engine, "before_cursor_execute", explain, retval=True)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(compiled_cache=None)
            result = await conn.execute(stmt, params)
            return [str(row[-1]) for row in result.fetchall()]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", explain)


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize("name", list(CALL_PATH))
async def test_a_read_on_the_call_path_never_scans_a_table(engine: AsyncEngine, name: str) -> None:
    steps = await plan(engine, name)
    assert steps, name
    assert not [s for s in steps if s.startswith("SCAN")], (name, steps)


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("mean handling time", "ix_consultations_state_ended"),
        ("calls awaiting an outcome", "ix_consultations_awaiting_outcome"),
    ],
)
async def test_the_two_reads_that_scanned_use_their_indexes(
    engine: AsyncEngine, name: str, index: str
) -> None:
    steps = await plan(engine, name)
    assert any(index in s for s in steps), steps
    assert not any("TEMP B-TREE" in s for s in steps), steps  # read in order, not sorted
