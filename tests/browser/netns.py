"""A network namespace joined to the host by a veth pair, and network faults on demand.

A browser started inside the namespace (``chromium_wrapper``) reaches the host only
through the pair: 10.99.N.2 in the namespace, 10.99.N.1 on the host. The faults act on
that link alone, so nothing else on the machine notices them:

- ``drop_all()``: nftables drops every packet arriving at either end of the pair (a
  Wi-Fi dead spot): a netdev table in the namespace for its end, one on the host for the
  host's end (bound to that interface alone);
- ``loss(percent)``: the same tables drop that share of the UDP packets (the media; the
  signalling's TCP is left alone) each way, at random (``numgen random``);
- ``cap(kbit)``: a token bucket (``tbf``) on both ends of the pair, so each direction gets
  at most ``kbit``;
- ``restore()``: all of it gone, the link as it was.

``tc netem`` is missing from the kernels these tests run on, hence nftables and tbf.
``N`` is claimed atomically: ``ip netns add`` refuses a name that exists, and each N has
its own namespace name, so parallel test workers (and benchmark runs) never share a
subnet; a subnet already on a host interface is skipped too. Everything made is removed
on exit, whatever happened inside the ``with``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.browser.calls_fixtures import DESKTOP, TABLET, enrol, login, poll
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, LiveServer, start_server, stop_server

TOOLS = ("ip", "nft", "tc")
TABLE = "telehub_chaos"  # the faults' nftables table (inside; on the host: TABLE_N)
FIRST, LAST = 1, 254  # 10.99.N.0/24 (10.99.0.0/24 is left to people trying things by hand)


class NetnsError(RuntimeError):
    """A namespace command failed; the message has the command and what it said."""


def missing_requirements() -> str | None:
    """Why namespaces cannot be used here (None: they can)."""
    if os.geteuid() != 0:
        return "network namespaces and veth pairs need root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return (
            f"{', '.join(missing)} not installed "
            "(.ci/system-deps installs the iproute2 and nftables packages)"
        )
    return None


def _run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _at_once(
    commands: list[list[str]], stdins: list[str] | None = None, *, check: bool = True
) -> None:
    """Run the commands side by side and wait for them all; with ``check``, a failure
    raises (after all have ended)."""
    procs = [
        subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    failed = []
    for command, proc, stdin in zip(commands, procs, stdins or [""] * len(procs), strict=True):
        _, err = proc.communicate(stdin, timeout=30)
        if proc.returncode != 0:
            failed.append(f"{' '.join(command)}: {err.strip() or proc.returncode}")
    if check and failed:
        raise NetnsError("; ".join(failed))


@dataclass(frozen=True)
class Netns:
    """One namespace and its veth pair (see the module's docstring)."""

    index: int  # N in 10.99.N.0/24

    @property
    def name(self) -> str:
        return f"telehub-net{self.index}"

    @property
    def host_if(self) -> str:  # interface names: 15 characters at most
        return f"thub{self.index}h"

    @property
    def ns_if(self) -> str:
        return f"thub{self.index}n"

    @property
    def host_ip(self) -> str:
        return f"10.99.{self.index}.1"

    @property
    def ns_ip(self) -> str:
        return f"10.99.{self.index}.2"

    def run(self, *args: str, stdin: str | None = None) -> str:
        """Run a command inside the namespace."""
        return _run("ip", "netns", "exec", self.name, *args, stdin=stdin)

    # -- faults --------------------------------------------------------------------

    @property
    def host_table(self) -> str:
        """The host's nftables table for this pair (one per namespace: tables on the
        host are shared by every run on the machine)."""
        return f"{TABLE}_{self.index}"

    def drop_all(self) -> None:
        """Drop every packet each way, until ``restore()``: a dead link."""
        self._rules("drop")

    def loss(self, percent: int) -> None:
        """Drop ``percent`` % of the UDP packets each way, at random."""
        if not 0 <= percent <= 100:
            raise ValueError(f"loss is a percentage, not {percent}")
        self._rules(f"ip protocol udp numgen random mod 100 < {percent} drop")

    def cap(self, kbit: int) -> None:
        """At most ``kbit`` kbit/s each way: a token bucket on both ends of the pair
        (a qdisc shapes what leaves an interface, so each end shapes one direction).
        200 ms of queue, then drops: a slow link, not an endless buffer."""
        tbf = ["root", "tbf", "rate", f"{kbit}kbit", "burst", "16kbit", "latency", "200ms"]
        self.run("tc", "qdisc", "replace", "dev", self.ns_if, *tbf)
        _run("tc", "qdisc", "replace", "dev", self.host_if, *tbf)

    def restore(self) -> None:
        """No fault any more: both nftables tables and both token buckets removed, all
        four at once (a command takes a few hundred ms on a loaded machine: one after
        the other would leave the link half open for that long). Each is only there
        while its fault is, so "not there" is no error."""
        _at_once(
            [
                [*self._inside, "nft", "delete", "table", "netdev", TABLE],
                ["nft", "delete", "table", "netdev", self.host_table],
                [*self._inside, "tc", "qdisc", "del", "dev", self.ns_if, "root"],
                ["tc", "qdisc", "del", "dev", self.host_if, "root"],
            ],
            check=False,
        )

    def _rules(self, rule: str) -> None:
        """``rule`` on what *arrives* at each end of the pair (ingress hooks): the sender
        never hears of the drop, as on a radio link. (Dropping in an output hook instead
        makes the sender's send() fail with EPERM, which Chromium notices: it then
        reported ~1 % remote loss for a 10 % target.) Each table is replaced in one nft
        transaction (made sure of, deleted, defined afresh: no gap, no overlap), both
        ends at once."""

        def table(name: str, device: str) -> str:
            return (
                f"table netdev {name}\n"
                f"delete table netdev {name}\n"
                f"table netdev {name} {{\n"
                f'  chain ingress {{ type filter hook ingress device "{device}" '
                f"priority 0; policy accept;\n    {rule}\n  }}\n}}\n"
            )

        _at_once(
            [
                [*self._inside, "nft", "-f", "-"],
                ["nft", "-f", "-"],
            ],
            stdins=[table(TABLE, self.ns_if), table(self.host_table, self.host_if)],
        )

    @property
    def _inside(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    # -- browsers ------------------------------------------------------------------

    def chromium_wrapper(self, directory: Path, chromium: str = "/usr/bin/chromium") -> Path:
        """An executable that starts Chromium inside the namespace, for Playwright's
        ``executable_path`` (Playwright talks to it over pipes, not the network)."""
        path = directory / f"chromium-in-{self.name}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {chromium} "$@"\n')
        path.chmod(0o755)
        return path

    # -- life ----------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether any of it is still there: the namespace, the host's end of the pair,
        or the host's nftables table."""
        names = _run("ip", "netns", "list").split()
        links = subprocess.run(
            ["ip", "link", "show", self.host_if], capture_output=True, check=False
        )
        tables = _run("nft", "list", "tables", "netdev").split()
        return self.name in names or links.returncode == 0 or self.host_table in tables

    def _set_up(self) -> None:
        # N is ours now (its namespace name was free): whatever a run killed with -9
        # left of its pair or host table is stale.
        with suppress(NetnsError):
            _run("ip", "link", "del", self.host_if)
        with suppress(NetnsError):
            _run("nft", "delete", "table", "netdev", self.host_table)
        _run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        _run("ip", "link", "set", self.ns_if, "netns", self.name)
        _run("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.host_if)
        _run("ip", "link", "set", self.host_if, "up")
        self.run("ip", "addr", "add", f"{self.ns_ip}/24", "dev", self.ns_if)
        self.run("ip", "link", "set", self.ns_if, "up")
        self.run("ip", "link", "set", "lo", "up")

    def tear_down(self) -> None:
        """Remove everything, each step on its own (one failing must not leave the
        rest): processes still inside (ours: nothing else runs in our namespace), the
        faults, the pair (deleting one end deletes both), the namespace."""
        with suppress(NetnsError):
            for pid in _run("ip", "netns", "pids", self.name).split():
                with suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        self.restore()
        with suppress(NetnsError):
            _run("ip", "link", "del", self.host_if)
        with suppress(NetnsError):
            _run("ip", "netns", "del", self.name)


def _subnets_in_use() -> set[int]:
    used = set()
    for word in _run("ip", "-4", "-o", "addr", "show").split():
        if word.startswith("10.99."):
            used.add(int(word.split(".")[2]))
    return used


def _claim(start: int) -> Netns:
    """The first free N from ``start`` on (wrapping), its namespace made."""
    used = _subnets_in_use()
    span = LAST - FIRST + 1
    for step in range(span):
        index = FIRST + (start - FIRST + step) % span
        if index in used:
            continue
        net = Netns(index)
        try:
            _run("ip", "netns", "add", net.name)  # atomic: fails if another run has it
        except NetnsError as err:
            if "exists" in str(err):
                continue
            raise
        return net
    raise NetnsError("no free 10.99.N.0/24 subnet for a test namespace")


def _start_index() -> int:
    """Where to look first: the pytest-xdist worker's number, else the process id, so
    that parallel runs start apart (the claim itself is what makes them safe)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        return FIRST + 16 * int(worker[2:]) % (LAST - FIRST + 1)
    return FIRST + os.getpid() % (LAST - FIRST + 1)


@contextmanager
def network_namespace() -> Iterator[Netns]:
    """A fresh namespace joined to the host (see the module's docstring); removed on
    exit, even when the body or the set-up fails."""
    reason = missing_requirements()
    if reason:
        raise NetnsError(reason)
    net = _claim(_start_index())
    try:
        net._set_up()
        yield net
    finally:
        net.tear_down()


# -- a call across the namespace ---------------------------------------------------------

# Installed in a page before the network comes back: the wall-clock time (epoch ms, the
# same clock as Python's time.time()) of each change of the count of decoded video frames
# or of packets received from then on, with both counts, checked every 10 ms in the page
# itself, so Playwright's round trips add nothing. A new peer connection (none is expected
# after a drop) counts from zero.
WATCH_FRAMES = """async () => {
    const c = window.telehubCall;
    const pc = c.pc;
    const first = await c.stats();
    let last = [first.framesDecoded, first.packetsReceived];
    const changes = (window.telehubFrameChanges = [[Date.now(), ...last]]);
    const end = Date.now() + 120000;
    const tick = async () => {
        if (c.closed || Date.now() > end || changes.length >= 200) return;
        const s = await c.stats();
        const now = [s.framesDecoded, s.packetsReceived];
        if (now[0] !== last[0] || now[1] !== last[1] || c.pc !== pc) {
            changes.push([Date.now(), ...now]);
        }
        last = now;
        setTimeout(tick, 10);
    };
    tick();
}"""
# The first change of the frame count at or after a moment (epoch ms): video again.
FIRST_FRAME = """(after) => {
    const changes = window.telehubFrameChanges;
    const i = changes.findIndex(([t, n], k) => t >= after && k > 0 && n > changes[k - 1][1]);
    return i < 0 ? null : changes[i][0];
}"""
# The packets received before a moment (epoch ms), first and last seen.
PACKETS_BEFORE = """(before) => {
    const seen = window.telehubFrameChanges.filter(([t]) => t < before);
    return [seen[0][2], seen[seen.length - 1][2]];
}"""


@dataclass(frozen=True)
class Drop:
    """One total drop: how long the link was wholly dead (from the end of the command
    that cut it to the end of the one that mended it), how long mending took (the link
    came back at some moment within it), and per page ("console", "tablet") the seconds
    from the end of the mending to the first video frame decoded after it."""

    seconds: float
    restore_s: float
    resumed_s: dict[str, float]


def drop_and_resume(net: Netns, pages: dict[str, Any], seconds: float = 3.0) -> Drop:
    """Kill the link for ``seconds``, bring it back, and time video on each page: the
    first frame decoded after the mending began. (A receiver may still be decoding what
    it had buffered 1 s into a drop, after a drop before it; never 3 s in.) Fails
    (AssertionError) if a packet arrived through the drop (the fault did not act) or
    video had not resumed within a minute."""
    net.drop_all()
    began = time.monotonic()
    time.sleep(1.0)  # what was already in flight lands
    for page in pages.values():
        page.evaluate(WATCH_FRAMES)
    time.sleep(max(0.0, seconds - (time.monotonic() - began)))
    mending = time.monotonic()
    mending_at = time.time() * 1000
    net.restore()
    restored = time.time()
    ended = time.monotonic()
    resumed = {}
    for name, page in pages.items():
        at = poll(page, f"() => ({FIRST_FRAME})({mending_at})", timeout_s=60)
        resumed[name] = round(at / 1000 - restored, 3)
        first, last = page.evaluate(f"() => ({PACKETS_BEFORE})({mending_at})")
        assert first == last, f"packets reached the {name} through the drop: {first} -> {last}"
    return Drop(round(ended - began, 3), round(ended - mending, 3), resumed)


@contextmanager
def hub_across(
    net: Netns, tmp: Path, watch: Callable[[Any, str], Any] = lambda page, _label: page
) -> Iterator[tuple[LiveServer, Any, Any]]:
    """(server, console, tablet): a telehub listening on the host's end of the pair
    only, a clinician's Chromium on the host (Cleo logged in) and the tablet's Chromium
    inside the namespace (a Rose Court tablet enrolled), both at http://10.99.N.1:PORT.
    That origin is not a secure context by Chromium's rules, so both are told to treat it
    as one (camera, microphone and WebCrypto need it). ``watch(page, label)`` is given
    each page first (e.g. PageErrors.watch)."""
    from playwright.sync_api import sync_playwright

    server = start_server(tmp, host=net.host_ip)
    try:
        args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={server.url}"]
        with sync_playwright() as pw:
            host_browser: Any = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=args
            )
            inside = net.chromium_wrapper(tmp, CHROMIUM)
            tablet_browser: Any = pw.chromium.launch(
                executable_path=str(inside), headless=True, args=args
            )
            try:
                console_ctx = host_browser.new_context(viewport=DESKTOP)
                tablet_ctx = tablet_browser.new_context(viewport=TABLET)
                for ctx in (console_ctx, tablet_ctx):
                    ctx.set_default_timeout(30_000)  # a shared, loaded machine
                console = watch(console_ctx.new_page(), "console")
                tablet = watch(tablet_ctx.new_page(), "tablet")
                login(console, server, "cleo")
                enrol(tablet, server)
                yield server, console, tablet
            finally:
                tablet_browser.close()
                host_browser.close()
    finally:
        stop_server(server)
