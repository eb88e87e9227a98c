"""Fixtures and helpers for the browser call tests (and the call set-up benchmark).

A logged-in clinician console and an enrolled tablet, each in its own browser context
(module-scoped: logging in with TOTP set-up costs seconds), a loopback coturn, and a
second telehub configured to relay all media through it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.server import PASSWORD, LiveServer, free_port, start_server, stop_server
from tests.browser.turn_probe import allocates

SHOTS = Path("/tmp/telehub-shots")
TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1366, "height": 900}
TURN_SECRET = "browser-test-secret"


# -- helpers ---------------------------------------------------------------------------


def first_login(page: Any, server: LiveServer, username: str) -> None:
    """First login of a staff member: password, then two-factor set-up with the key
    shown on the page; returns on the page they land on."""
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/login/setup"))
    page.click("details > summary")
    secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
    server.data.setdefault("totp_secrets", {})[username] = secret  # for the log check
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Confirm and log in')")
    page.wait_for_url(lambda url: "/login" not in url)


def login(page: Any, server: LiveServer, username: str) -> None:
    """First login of a staff member, then the console, live."""
    changed: list[str] = []
    page.on("requestfailed", lambda r: changed.append(r.url) if _network_changed(r) else None)
    first_login(page, server, username)
    page.wait_for_url(re.compile(r"/(console|admin|reports)$"))
    if not page.url.endswith("/console"):  # admins and managers land elsewhere
        page.goto(f"{server.url}/console")
    try:
        page.wait_for_selector("#link[data-state=open]")
    except PlaywrightTimeout:
        if not changed:
            raise
        # Another test's network namespace came or went while the console loaded
        # (tests/browser/netns.py adds addresses on this host): Chromium fails every
        # request in flight with ERR_NETWORK_CHANGED, so some of the console's modules
        # never loaded. A person would reload; so does the test, once.
        page.reload()
        page.wait_for_selector("#link[data-state=open]")


def _network_changed(request: Any) -> bool:
    return "ERR_NETWORK_CHANGED" in (request.failure or "")


def enrol(page: Any, server: LiveServer, home: str = "Rose Court") -> None:
    page.goto(f"{server.url}/enrol")
    page.fill("input[name=code]", server.enrolment_code(home))
    page.click("button:has-text('Enrol tablet')")
    page.wait_for_url(re.compile(r"/tablet$"))


def open_call_form(page: Any, server: LiveServer, resident: str) -> None:
    """From the tablet's home page to the "call the hub" form about ``resident``."""
    page.goto(f"{server.url}/tablet")
    page.click("[data-testid=call-hub]")
    page.fill("#filter", resident.split()[0][:3].lower())
    page.click(f".pick:has-text('{resident}')")


def place_call(page: Any, server: LiveServer, resident: str, shot: str | None = None) -> int:
    """From the tablet's home page: pick the resident, fill the form, call. Returns the
    call id once the waiting screen shows the tablet's place in the queue."""
    open_call_form(page, server, resident)
    page.click(".tile:has-text('Breathing')")
    page.click(".tile:has-text('Not their usual self')")
    page.fill("input[name=respiration_rate]", "24")
    page.fill("input[name=spo2]", "93")
    news2 = page.locator("[data-testid=news2]")
    news2.filter(has_text="NEWS2 at least 4").wait_for()
    assert "incomplete" in news2.inner_text() and "blood pressure" in news2.inner_text()
    page.click(".tile:has-text('Call 999')")
    if shot:
        screenshot(page, shot, full_page=True)
    page.click("[data-testid=call-now]")
    page.wait_for_url(re.compile(r"/tablet/calls/\d+"))
    # The server's answer, not the page's "Finding your place in the queue…".
    page.locator("[data-testid=position]").filter(
        has_text=re.compile(r"You are next|Number \d+ in the queue|Waiting for a nurse")
    ).wait_for()
    assert page.locator("[data-testid=not-loaded]").is_hidden()  # its script runs
    return int(page.url.rsplit("/", 1)[1])


# The page's signalling socket is open (or the page has none): a click is not refused
# with "Not connected" while it reconnects.
SOCKET_OPEN = "() => !window.telehubSignalling || window.telehubSignalling.state === 'open'"


def answer(console: Any, call_id: int) -> None:
    row = console.locator(f"tr[data-call-id='{call_id}']")
    row.wait_for()
    # Under load the console's socket may be between connections (a missed pong): the
    # page then refuses the click with "Not connected" (as it should), which is not what
    # these tests are about. Press Answer on an open socket.
    poll(console, SOCKET_OPEN)
    row.locator("[data-testid=answer]").click()


def end_call(console: Any, tablet: Any) -> None:
    # As in answer(): under load the console's socket may be between connections, and
    # the page then (rightly) refuses the click with "Not connected".
    poll(console, SOCKET_OPEN)
    console.click("#end")
    try:
        tablet.wait_for_selector("text=The call has ended")
    except Exception as err:  # say what the clinician's page showed, for the next reader
        shown = console.evaluate(
            "() => ({ error: document.getElementById('console-error')?.textContent,"
            " socket: window.telehubSignalling?.state,"
            " inCall: !document.getElementById('in-call')?.hidden })"
        )
        raise AssertionError(f"the tablet never heard the call end; the console: {shown}") from err
    console.locator("#in-call").wait_for(state="hidden")


def record_outcome(console: Any, call_id: int) -> None:
    """Record an ended call's outcome from the console's "Outcomes outstanding" list (a
    clinician answers no other call while one of theirs has none)."""
    form = console.locator(f".outcome-form[data-call-id='{call_id}']")
    form.locator("select[name=outcome]").select_option("managed_advice")
    form.locator("select[name=follow_up]").select_option("home_to_call_if_worse")
    form.locator("input[name=admission_judgement][value=no]").check()
    form.locator("button:has-text('Record outcome')").click()
    console.wait_for_selector(f"text=Outcome recorded for call {call_id}")
    form.wait_for(state="detached")


def stats(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("async () => await window.telehubCall.stats()"))


FRAMES_JS = "(window.telehubCall ? (await window.telehubCall.stats()).framesDecoded : 0)"


def frames(page: Any) -> int:
    return int(page.evaluate(f"async () => {FRAMES_JS}"))


# Waits inside the page: the condition is checked on each turn of the page's own event
# loop (every 20 ms at most) until it holds or the deadline passes, and the answer comes
# back at once; Python sleeps nowhere. (wait_for_function would need 'unsafe-eval',
# which telehub's CSP rightly refuses; a function Playwright evaluates is not eval.)
_WAIT_IN_PAGE = """async () => {{
    const check = {script};
    const end = performance.now() + {timeout_ms};
    for (;;) {{
        const value = await check();
        if (value || performance.now() > end) return value;
        await new Promise((resolve) => setTimeout(resolve, 20));
    }}
}}"""


def poll(page: Any, script: str, timeout_s: float = 15) -> Any:
    """Wait until ``script`` (a JS function, sync or async) is truthy in the page; its
    value. A navigation during the wait (a reload) is waited through."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            value = page.evaluate(_WAIT_IN_PAGE.format(script=script, timeout_ms=int(left * 1000)))
        except Exception as err:  # the page navigated: its context (and the wait) went
            if "context was destroyed" not in str(err) and "navigat" not in str(err):
                raise
            page.wait_for_load_state()
            continue
        if value:
            return value
    pytest.fail(f"timed out waiting for {script} on {page.url}")


def video_call(console: Any, tablet: Any, server: LiveServer, resident: str) -> int:
    """The tablet calls about ``resident``, the console answers, and both decode video."""
    call_id = place_call(tablet, server, resident)
    answer(console, call_id)
    wait_for_frames(console)
    wait_for_frames(tablet)
    return call_id


def wait_for_frames(page: Any, above: int = 0, timeout_s: float = 20) -> int:
    """Wait until getStats() says inbound video has decoded more than ``above`` frames."""
    poll(page, "() => window.telehubCall !== undefined && !window.telehubCall.closed", timeout_s)
    decoded = f"async () => {{ const n = {FRAMES_JS}; return n > {above} ? n : 0; }}"
    try:
        return int(poll(page, decoded, timeout_s))
    except pytest.fail.Exception:
        pytest.fail(f"no decoded video frames beyond {above} on {page.url}: {stats(page)}")


def screenshot(page: Any, name: str, full_page: bool = False) -> Path | None:
    """A picture for people to look at (never what a test asserts): on a machine too
    busy to take it in time, the test goes on without it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    try:
        page.screenshot(path=str(path), full_page=full_page, timeout=20_000)
    except Exception as err:  # Playwright's TimeoutError: a busy machine
        if "Timeout" not in type(err).__name__:
            raise
        print(f"screenshot {name} skipped: {err}")
        return None
    return path


def record_timing(name: str, value: Any) -> None:
    """Keep measurements where a person (and the report) can read them."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / "timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = value
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"{name}: {value}")


def set_up_ms(console: Any) -> float | None:
    """Answer pressed → first remote video frame on the console, from page timings."""
    return console.evaluate(
        """() => {
            const t = window.telehubCall?.timings, a = window.telehubTimings?.answerPressed;
            return t && a !== undefined && t.firstFrame !== undefined
                ? Math.round(t.created + t.firstFrame - a) : null;
        }"""
    )


class PageErrors:
    """Uncaught exceptions in the pages under test: each one fails the test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any, label: str) -> Any:
        page.on("pageerror", lambda err: self.errors.append(f"{label}: {err}"))
        return page

    def check(self) -> None:
        errors, self.errors = self.errors, []
        assert not errors, "uncaught errors in the page:\n" + "\n".join(errors)


# -- guests ---------------------------------------------------------------------------

CLINICIAN_FETCH = """async ([method, path, body]) => {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const resp = await fetch(path, {
        method, headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: body ? JSON.stringify(body) : undefined,
    });
    return await resp.json();
}"""


def until_text(page: Any, el_id: str, check: str, timeout_s: float = 20) -> str:
    """Wait until the text ``t`` of element ``el_id`` passes ``check`` (JS); the text."""
    text = f"document.getElementById({el_id!r}).textContent"
    script = f"() => {{ const t = {text}; return ({check}) && t; }}"
    found: str = poll(page, script, timeout_s)
    return found


def invite(console: Any, call_id: int, kind: str) -> dict[str, Any]:
    """The clinician invites a guest of ``kind`` (the API the console's Invite uses)."""
    invited: dict[str, Any] = console.evaluate(
        CLINICIAN_FETCH, ["POST", f"/api/calls/{call_id}/invitations", {"kind": kind}]
    )
    return invited


def relay_state(page: Any, relay: str) -> Any:
    """What a browser on the relay holds, for a failure message: its signalling socket,
    its connection to the relay and what each receiver has (a transform or not), the
    roster (ids, key prefixes), the key ids it sent, and its frame counts (decrypted,
    dropped and why). ``relay``: where the page keeps its RelayCall."""
    return page.evaluate(
        f"""async () => {{
            const r = {relay};
            if (!r) return null;
            const pc = r.pc;
            return {{ closed: r.closed, clear: r.clear,
                socket: window.telehubSignalling?.state,
                pc: pc && {{ connection: pc.connectionState, signaling: pc.signalingState,
                    receivers: pc.getTransceivers().map((t) => `${{t.mid}}:${{t.direction}}:`
                        + `${{t.receiver.track?.kind}}:${{t.receiver.transform ? "T" : "-"}}`) }},
                roster: r.roster.map(
                    (p) => `${{p.participant}}:${{(p.publicKey ?? "-").slice(0, 6)}}`),
                mine: r.identity?.publicKeyB64.slice(0, 6), sent: [...(r._sentKid ?? [])],
                counts: await Promise.race([r.counts().catch(String),
                    new Promise((done) => setTimeout(() => done("no answer"), 2000))]) }};
        }}"""
    )


def guest_joins(
    browser: Any,
    errors: Any,
    link: str,
    name: str,
    init_script: str | None = None,
    timeout_ms: int = 10_000,
) -> tuple[Any, Any]:
    """A guest opens ``link`` in a browser of their own, types ``name`` and joins: the
    lobby page. (Its context, its page.)"""
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(timeout_ms)
    if init_script:
        ctx.add_init_script(init_script)
    page = errors.watch(ctx.new_page(), "guest")
    page.goto(link)
    page.fill("input[name=name]", name)
    page.click("button:has-text('Join')")
    page.wait_for_url("**/guest")
    return ctx, page


def guest_id(console: Any, call_id: int, name: str) -> int:
    """The id of the call's guest called ``name`` (the console's guest list)."""
    listed = console.evaluate(CLINICIAN_FETCH, ["GET", f"/api/calls/{call_id}/guests", None])
    (found,) = [g["id"] for g in listed["guests"] if g["name"] == name]
    return int(found)


def admit(console: Any, call_id: int, name: str) -> None:
    """The clinician lets the guest called ``name`` in."""
    gid = guest_id(console, call_id, name)
    console.evaluate(CLINICIAN_FETCH, ["POST", f"/api/guests/{gid}/admit", None])


def remove_guest(console: Any, call_id: int, name: str) -> None:
    """The clinician removes the guest called ``name``."""
    gid = guest_id(console, call_id, name)
    console.evaluate(CLINICIAN_FETCH, ["POST", f"/api/guests/{gid}/remove", None])


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture(scope="module")
def hub(
    browser: Any, live_server: LiveServer, page_errors: PageErrors
) -> Iterator[tuple[Any, Any]]:
    """A logged-in clinician console and an enrolled tablet, each its own browser."""
    console_ctx = browser.new_context(viewport=DESKTOP)
    tablet_ctx = browser.new_context(viewport=TABLET)
    for ctx in (console_ctx, tablet_ctx):
        ctx.set_default_timeout(10_000)
    console = page_errors.watch(console_ctx.new_page(), "console")
    tablet = page_errors.watch(tablet_ctx.new_page(), "tablet")
    login(console, live_server, "cleo")
    enrol(tablet, live_server)
    yield console, tablet
    console_ctx.close()
    tablet_ctx.close()


@pytest.fixture
def no_page_errors(page_errors: PageErrors) -> Iterator[None]:
    yield
    page_errors.check()


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A loopback coturn with a REST secret (never the production config: its deny-list
    rightly refuses loopback peers)."""
    if shutil.which("turnserver") is None:
        pytest.skip("coturn is not installed (make system-deps installs it)")
    port = free_port()
    tmp = tmp_path_factory.mktemp("coturn")
    log = tmp / "turn.log"
    proc = subprocess.Popen(
        [
            "turnserver",
            "-n",  # no /etc/turnserver.conf
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
            f"--db={tmp / 'turndb.sqlite'}",
            f"--pidfile={tmp / 'turn.pid'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Ready when it grants a real allocation with REST credentials (its auth threads
    # come up just after it listens); until then, wait for it to die or try again.
    deadline = time.monotonic() + 10
    while not allocates(port, TURN_SECRET, timeout_s=0.2):
        assert time.monotonic() < deadline, "coturn did not start: " + _read(log)
        try:
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(_read(log) or "coturn exited")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def relay_server(coturn: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second telehub that hands out TURN credentials and forces relay-only ICE."""
    server = start_server(
        tmp_path_factory.mktemp("relay"),
        (
            f'[media]\nturn_urls = ["turn:127.0.0.1:{coturn}?transport=udp"]\n'
            f'turn_secret = "{TURN_SECRET}"\nice_transport_policy = "relay"\n'
        ),
    )
    yield server
    stop_server(server)
