"""Migration 0012 (re-presentations can be undone; GP visits): its downgrade leaves a
database the code before it reads correctly — no undone rows, no ``gp_visit`` rows,
``avoided_gp`` and the report rollup as that code would have them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import Connection, text

from hub.outcomes import representations
from hub.store.db import SchemaOutOfDate
from hub.store.migrate import alembic_config, check_current, upgrade
from tests.web.closed_calls import closed_call, nurse_of
from tests.web.test_tablet_web import resident


async def test_downgrade_drops_undone_and_gp_visit_rows_and_restores_the_figures(
    engine, ctx, clock, home, clinician_user
) -> None:
    edna = await resident(ctx, clock, home, "9434765919", "Edna")
    albert = await resident(ctx, clock, home, "4010232137", "Albert")
    gp = await closed_call(ctx, clock, home, clinician_user, intention="urgent_gp", resident=edna)
    ae = await closed_call(ctx, clock, home, clinician_user, intention="ae", resident=albert)
    nurse = nurse_of(clinician_user)
    at = {"at": clock.now().isoformat()}
    await representations.record(ctx, nurse, gp.id, {"kind": "gp_visit", **at}, confirmed=True)
    done = await representations.record(
        ctx, nurse, ae.id, {"kind": "ae_attendance", **at}, confirmed=True
    )
    await representations.undo(ctx, nurse, ae.id, done.representation.id)
    kept = await representations.record(
        ctx, nurse, ae.id, {"kind": "admission", **at}, confirmed=True
    )
    clock.advance(timedelta(minutes=1))

    def down(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), "0011")

    async with engine.begin() as conn:
        await conn.run_sync(down)
        reps = (await conn.execute(text("SELECT id, kind FROM representations"))).all()
        flags = dict((await conn.execute(text("SELECT id, avoided_gp FROM consultations"))).all())
        rollup_gp = (
            await conn.execute(text("SELECT SUM(avoided_gp) FROM report_daily_totals"))
        ).scalar()
        columns = (await conn.execute(text("SELECT * FROM representations LIMIT 0"))).keys()
    assert [tuple(r) for r in reps] == [(kept.representation.id, "admission")]
    assert "undone_at" not in columns and "undone_by" not in columns
    assert bool(flags[gp.id]) is True  # no GP visit any more: avoided, as before 0012
    assert bool(flags[ae.id]) is False
    assert rollup_gp == 1  # the rollup agrees with the flags
    with pytest.raises(SchemaOutOfDate):
        await check_current(engine)
    await upgrade(engine)
    await check_current(engine)
