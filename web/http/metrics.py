"""``GET /metrics``: what an operator's Prometheus scrapes (docs/operations.md).

Each app has its own ``CollectorRegistry`` (no process-wide globals, so two apps in one
test process never mix figures). Two kinds of figures:

- counted as things happen: messages refused by the signalling rate limiter, the wait
  of every call answered (a histogram), TURN credentials issued — signalling reports the
  first two through its ``Meter`` port (signalling/metering.py);
- read at scrape time: open calls by state, calls waiting and the oldest wait, live
  WebSockets by kind, how long the database and the bus took to answer, and the media
  relay's load and counters.

No figure names a resident, a home or a person: labels are states and kinds only.
Access: the configured networks or a bearer token (settings ``operations``); anyone
else gets 403 without a figure.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from hub.calls.census import census
from hub.settings import OperationsSettings
from media.relay.unit import ForwardingUnit
from signalling.switchboard import Switchboard
from web.http.keys import CTX, SETTINGS, SWITCHBOARD
from web.http.proxies import parsed
from web.http.route_access import public

__all__ = ["METRICS", "Metrics", "routes"]

routes = web.RouteTableDef()

#: Answer waits, in seconds: the hub's target is minutes (rota.answer_target_s).
WAIT_BUCKETS = (15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600)
#: A scrape waits at most this long for the database or the bus.
PROBE_TIMEOUT_S = 5.0


class Metrics:
    """One app's metrics; also signalling's ``Meter``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._refused = Counter(
            "telehub_signalling_refused_messages",
            "WebSocket messages refused by the rate limiter (rate_limited), and sockets "
            "closed for a flood (flood)",
            ["why"],
            registry=r,
        )
        self._answer_wait = Histogram(
            "telehub_answer_wait_seconds",
            "How long each answered call waited, from request to answer",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.turn_issued = Counter(
            "telehub_turn_credentials_issued", "TURN credentials issued to callers", registry=r
        )
        g = "at the last scrape"
        self.calls = Gauge("telehub_calls_open", f"Open calls by state, {g}", ["state"], registry=r)
        self.waiting = Gauge(
            "telehub_queue_waiting", f"Calls waiting for a clinician, {g}", registry=r
        )
        self.oldest_wait = Gauge(
            "telehub_queue_oldest_wait_seconds",
            f"How long the longest-waiting call has waited (0: none waits), {g}",
            registry=r,
        )
        self.sockets = Gauge(
            "telehub_websockets",
            f"Live WebSockets on this process by kind (staff, device, guest), {g}",
            ["kind"],
            registry=r,
        )
        self.database_s = Gauge(
            "telehub_database_latency_seconds",
            "How long the scrape's database read took (the database is down if absent: "
            "see telehub_database_up)",
            registry=r,
        )
        self.database_up = Gauge(
            "telehub_database_up", "1 if the database answered the scrape", registry=r
        )
        self.bus_s = Gauge(
            "telehub_bus_latency_seconds", "How long the bus took to answer a ping", registry=r
        )
        self.bus_up = Gauge("telehub_bus_up", "1 if the bus answered the scrape", registry=r)
        self._relay = _RelayCollector()
        r.register(self._relay)

    # -- signalling's Meter --------------------------------------------------------

    def refused(self, why: str) -> None:
        self._refused.labels(why=why).inc()

    def answered(self, waited_s: float) -> None:
        self._answer_wait.observe(max(0.0, waited_s))

    # -- a scrape ------------------------------------------------------------------

    async def render(self, app: web.Application) -> bytes:
        board: Switchboard = app[SWITCHBOARD]
        await asyncio.gather(self._read_calls(app), self._read_bus(board))
        kinds = board.connections()
        for kind in ("staff", "device", "guest"):
            self.sockets.labels(kind=kind).set(kinds.get(kind, 0))
        self._relay.board = board
        return generate_latest(self.registry)

    async def _read_calls(self, app: web.Application) -> None:
        started = time.perf_counter()
        try:
            now = await asyncio.wait_for(census(app[CTX]), PROBE_TIMEOUT_S)
        except Exception:  # down, or too slow: say so as a figure, not an error page
            self.database_up.set(0)
            for gauge in (self.calls, self.waiting, self.oldest_wait, self.database_s):
                gauge.clear()  # no stale figures while the database is away
            return
        self.database_s.set(time.perf_counter() - started)
        self.database_up.set(1)
        for state, count in now.by_state.items():
            self.calls.labels(state=state.value).set(count)
        self.waiting.set(now.waiting)
        self.oldest_wait.set(now.oldest_wait_s)

    async def _read_bus(self, board: Switchboard) -> None:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(board.bus.ping(), PROBE_TIMEOUT_S)
        except Exception:
            self.bus_up.set(0)
            self.bus_s.clear()
            return
        self.bus_s.set(time.perf_counter() - started)
        self.bus_up.set(1)


class _RelayCollector(Collector):
    """The media relay's load (embedded or separate processes) and, when it runs in this
    process, its counters — read from the relay itself at each scrape."""

    def __init__(self) -> None:
        self.board: Switchboard | None = None

    def collect(self) -> Iterable[Metric]:
        return list(self._metrics())

    def _metrics(self) -> Iterator[Metric]:
        if self.board is None:
            return
        unit = self.board.relay.unit
        load = unit.load()
        yield GaugeMetricFamily(
            "telehub_relay_calls", "Calls on the media relay placed from this process", load.calls
        )
        yield GaugeMetricFamily(
            "telehub_relay_participants",
            "Participants on the media relay placed from this process",
            load.participants,
        )
        if isinstance(unit, ForwardingUnit):
            for name, value in asdict(unit.counters).items():
                yield CounterMetricFamily(
                    f"telehub_relay_{name}", f"Media relay: {name.replace('_', ' ')}", value
                )


def allowed(request: web.Request, settings: OperationsSettings) -> bool:
    token = settings.metrics_token
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        client = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    return any(client in n for n in parsed(settings.metrics_networks))


@routes.get("/metrics")
@public  # not a page for people: its own check, by network or token
async def metrics(request: web.Request) -> web.StreamResponse:
    if not allowed(request, request.app[SETTINGS].operations):
        raise web.HTTPForbidden(text="metrics are for the operators' monitoring only\n")
    body = await request.app[METRICS].render(request.app)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


METRICS = web.AppKey("metrics", Metrics)
