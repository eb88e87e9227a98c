"""Real calls in real Chromium (fake camera and microphone), against a real server:
peer to peer, then forced through a real coturn; a reload mid-wait; a dropped socket."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.server import PASSWORD, LiveServer, free_port, start_server, stop_server

pytestmark = pytest.mark.browser
TURN_SECRET = "browser-test-secret"


def login(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/login/setup"))
    page.click("summary")
    secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Confirm and log in')")
    page.wait_for_url(re.compile(r"/console$"))
    page.wait_for_selector("#link[data-state=open]")


def enrol(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/enrol")
    page.fill("input[name=code]", server.enrolment_code())
    page.click("button:has-text('Enrol tablet')")
    page.wait_for_url(re.compile(r"/tablet$"))


def place_call(page: Any, server: LiveServer, resident: str) -> int:
    page.goto(f"{server.url}/tablet")
    page.click("[data-testid=call-hub]")
    page.fill("#filter", resident[:3])
    page.click(f".pick:has-text('{resident}')")
    page.click(".tile:has-text('Breathing')")
    page.click(".tile:has-text('Not their usual self')")
    page.fill("input[name=respiration_rate]", "24")
    page.fill("input[name=spo2]", "93")
    page.wait_for_selector("[data-testid=news2]:has-text('NEWS2 4')")
    assert "missing" in page.inner_text("[data-testid=news2]")
    page.click(".tile:has-text('Call 999')")
    page.click("[data-testid=call-now]")
    page.wait_for_url(re.compile(r"/tablet/calls/\d+"))
    page.wait_for_selector("text=You are next")
    return int(page.url.rsplit("/", 1)[1])


def frames(page: Any) -> int:
    return int(page.evaluate("async () => (await window.telehubCall.stats()).framesDecoded"))


def poll(page: Any, script: str, timeout_s: float = 15) -> Any:
    """Evaluate ``script`` until it is truthy. (wait_for_function would need
    'unsafe-eval', which telehub's CSP rightly refuses.)"""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        page.wait_for_timeout(200)
    pytest.fail(f"timed out waiting for {script} on {page.url}")


def wait_for_frames(page: Any, above: int = 0, timeout_s: float = 30) -> int:
    deadline = time.monotonic() + timeout_s
    poll(page, "() => window.telehubCall !== undefined", timeout_s)
    while time.monotonic() < deadline:
        n = frames(page)
        if n > above:
            return n
        page.wait_for_timeout(250)
    pytest.fail(f"no decoded video frames beyond {above} on {page.url}")


def answer(console: Any, call_id: int) -> None:
    row = console.locator(f"tr[data-call-id='{call_id}']")
    row.wait_for()
    row.locator("[data-testid=answer]").click()


@pytest.fixture(scope="module")
def hub(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, Any]]:
    """A logged-in clinician console and an enrolled tablet, each its own browser."""
    console_ctx, tablet_ctx = browser.new_context(), browser.new_context()
    console, tablet = console_ctx.new_page(), tablet_ctx.new_page()
    login(console, live_server, "cleo")
    enrol(tablet, live_server)
    yield console, tablet
    console_ctx.close()
    tablet_ctx.close()


def test_tablet_calls_console_answers_both_decode_video(
    hub: tuple[Any, Any], live_server: LiveServer
) -> None:
    console, tablet = hub
    call_id = place_call(tablet, live_server, "Edna Smith")
    row = console.locator(f"tr[data-call-id='{call_id}']")
    row.wait_for()
    assert "Edna Smith" in row.inner_text() and "Rose Court" in row.inner_text()
    answer(console, call_id)
    assert wait_for_frames(console) > 0
    assert wait_for_frames(tablet) > 0
    tablet.wait_for_selector("text=Talking to Cleo")
    console.fill("[data-testid=notes]", "Resp 24, sats 93% on air. Chest sounds clear.")
    console.wait_for_selector("#notes-state:has-text('saved')")
    console.click("#end")
    tablet.wait_for_selector("text=The call has ended")
    form = console.locator(f".outcome-form[data-call-id='{call_id}']")
    form.wait_for()
    form.locator("select[name=outcome]").select_option("managed_monitoring")
    form.locator("select[name=follow_up]").select_option("home_to_call_if_worse")
    form.locator("input[name=admission_judgement][value=yes]").check()
    form.locator("button:has-text('Record outcome')").click()
    console.wait_for_selector(f"text=Outcome recorded for call {call_id}")
    form.wait_for(state="detached")


def test_reload_mid_wait_keeps_the_call_and_its_place(
    hub: tuple[Any, Any], live_server: LiveServer
) -> None:
    console, tablet = hub
    call_id = place_call(tablet, live_server, "Arthur Smith")
    tablet.reload()
    tablet.wait_for_selector("text=You are next")
    assert tablet.url.endswith(f"/tablet/calls/{call_id}")
    tablet.goto(f"{live_server.url}/tablet/call")  # a second call? It goes back to this one
    tablet.wait_for_url(re.compile(rf"/tablet/calls/{call_id}$"))
    tablet.click("#cancel")
    tablet.wait_for_selector("text=The call was cancelled")
    console.locator(f"tr[data-call-id='{call_id}']").wait_for(state="detached")


def test_call_survives_the_tablet_socket_dropping(
    hub: tuple[Any, Any], live_server: LiveServer
) -> None:
    console, tablet = hub
    call_id = place_call(tablet, live_server, "Mabel Smith")
    answer(console, call_id)
    before = wait_for_frames(tablet)
    wait_for_frames(console)
    tablet.evaluate("() => window.telehubSignalling._ws.close()")  # the Wi-Fi blinked
    poll(tablet, "() => window.telehubSignalling.state === 'open'")
    wait_for_frames(tablet, above=before + 30)  # media kept flowing and decoding
    console.click("#end")
    tablet.wait_for_selector("text=The call has ended")


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if shutil.which("turnserver") is None:
        pytest.skip("coturn is not installed (make system-deps installs it)")
    port = free_port()
    log = tmp_path_factory.mktemp("coturn") / "turn.log"
    proc = subprocess.Popen(
        [
            "turnserver",
            "--use-auth-secret",
            f"--static-auth-secret={TURN_SECRET}",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--realm=telehub.test",
            "-p",
            str(port),
            "--no-cli",
            "--min-port=49152",
            "--max-port=65535",
            f"--log-file={log}",
            "--simple-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    assert proc.poll() is None, Path(log).read_text() if Path(log).exists() else "no log"
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_call_through_turn_relay(
    browser: Any, coturn: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = start_server(
        tmp_path_factory.mktemp("relay"),
        (
            f'[media]\nturn_urls = ["turn:127.0.0.1:{coturn}?transport=udp"]\n'
            f'turn_secret = "{TURN_SECRET}"\nice_transport_policy = "relay"\n'
        ),
    )
    try:
        console_ctx, tablet_ctx = browser.new_context(), browser.new_context()
        console, tablet = console_ctx.new_page(), tablet_ctx.new_page()
        login(console, server, "cleo")
        enrol(tablet, server)
        call_id = place_call(tablet, server, "Edna Smith")
        answer(console, call_id)
        assert wait_for_frames(console) > 0 and wait_for_frames(tablet) > 0
        for page in (console, tablet):
            stats = page.evaluate("async () => await window.telehubCall.stats()")
            assert stats["candidateType"] == "relay", stats
        console_ctx.close()
        tablet_ctx.close()
    finally:
        stop_server(server)
