"""Log lines: JSON with a request id when not on a terminal, the id echoed to the client,
NHS-number-shaped digits masked as a last net (web/http/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiohttp import web

from web.http import logs
from web.http.route_access import public

log = logging.getLogger("telehub.test_logs")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()  # not a terminal: JSON lines
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure(stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
async def app_client(aiohttp_client, settings, clock):  # type: ignore[no-untyped-def]
    from web.app import create_app

    app = create_app(settings, clock=clock)

    @public
    async def probe(request: web.Request) -> web.StreamResponse:
        log.info("serving the probe")
        return web.json_response({})

    app.router.add_get("/probe", probe)
    return await aiohttp_client(app)


async def test_every_line_of_a_request_carries_its_id(app_client, captured) -> None:
    first = await app_client.get("/probe")
    second = await app_client.get("/probe")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert ids[0] != ids[1] and all(len(i) == 16 for i in ids)
    served = [line for line in lines(captured) if line["message"] == "serving the probe"]
    assert [line["request_id"] for line in served] == ids
    assert served[0]["level"] == "INFO" and served[0]["logger"] == "telehub.test_logs"


async def test_a_proxys_request_id_is_kept_when_it_is_a_plain_token(app_client, captured) -> None:
    kept = await app_client.get("/probe", headers={"X-Request-ID": "lb-7f3a9c21e0"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a9c21e0"
    for forged in ("short", "x" * 65, "bad id INFO forged line", "<script>alert(1)</script>"):
        replaced = await app_client.get("/probe", headers={"X-Request-ID": forged})
        assert replaced.headers["X-Request-ID"] != forged
    assert all("forged" not in line["request_id"] for line in lines(captured))


async def test_errors_carry_the_id_too(app_client) -> None:
    missing = await app_client.get("/no-such-page")
    assert missing.status == 404 and len(missing.headers["X-Request-ID"]) == 16


def test_outside_a_request_the_id_is_a_dash_and_errors_keep_their_trace(captured) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed")
    (line,) = lines(captured)
    assert line["request_id"] == "-" and line["message"] == "it failed"
    assert "ValueError: boom" in line["error"]


@pytest.mark.parametrize("shape", ["9434765919", "943 476 5919", "943-476-5919"])
def test_an_nhs_number_shaped_value_is_masked(captured, shape: str) -> None:
    log.warning("looked up %s for the call", shape)
    (line,) = lines(captured)
    assert line["message"] == "looked up <number> for the call"


def test_longer_numbers_ids_and_times_are_left_alone(captured) -> None:
    said = "call 12345678901 at 2026-12-06 22:09:30, 10 frames, media ab9434765919cd"
    log.info(said)
    (line,) = lines(captured)
    assert line["message"] == said


def test_a_terminal_gets_readable_lines() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure(stream)
        log.info("hello")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert stream.getvalue().rstrip().endswith("INFO [-] telehub.test_logs: hello")
