"""The access log names paths, never what people typed into a search box."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web

from hub.people import enrolment
from hub.people.access import SYSTEM
from web.http.access_log import ACCESS_LOG, AccessLogger


@pytest.fixture
async def served(settings, engine, clock, home):  # type: ignore[no-untyped-def]
    """The app behind a real server with telehub's access logger (as ``telehub serve``)."""
    from web.app import create_app

    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app, access_log=ACCESS_LOG, access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield app, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_carers_resident_search_is_not_in_the_access_log(served, home, caplog) -> None:  # type: ignore[no-untyped-def]
    from web.http.keys import CTX

    app, base = served
    ctx = app[CTX]
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley")
    token = (await enrolment.enrol(ctx, issued.code)).token
    caplog.set_level(logging.INFO, logger=ACCESS_LOG.name)
    async with aiohttp.ClientSession(cookies={"th_device": token}) as s:
        for path in ("/tablet?q=Edna+Smith", f"/api/homes/{home.id}/residents?q=Smith"):
            resp = await s.get(base + path)
            assert resp.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOG.name]
    assert len(lines) == 2
    assert '"GET /tablet?" 200' in lines[0]
    assert f'"GET /api/homes/{home.id}/residents?" 200' in lines[1]
    assert not any("Edna" in line or "Smith" in line for line in lines)


def test_telehub_serve_uses_this_logger() -> None:
    import inspect

    from web.cli import commands

    source = inspect.getsource(commands._serve)
    assert "access_log_class=AccessLogger" in source and "access_log=ACCESS_LOG" in source
