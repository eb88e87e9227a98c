"""The two-node deployment of docs/deploy.md, for real: two ``telehub serve`` processes
sharing PostgreSQL and Redis behind nginx (WebSocket upgrade configured as in
config/nginx/telehub.conf), a Chromium tablet coming in through one node and a Chromium
clinician through the other, to a working video call. Then the tablet's node is killed
and restarted: the tablet's browser reconnects by itself (nginx sends it to the other
node meanwhile), the call carries on and the queue is right on the clinician's screen.

nginx listens on two entry points here, each preferring one node with the other as its
backup, so the test knows which node each browser reaches (production lists both nodes
in one upstream; the directives that matter — upgrade, Host, timeouts, next upstream —
are the same).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    DESKTOP,
    TABLET,
    LiveServer,
    PageErrors,
    end_call,
    enrol,
    login,
    page_errors,
    poll,
    record_outcome,
    video_call,
    wait_for_frames,
)
from tests.browser.server import (
    free_port,
    kill_and_restart,
    run_async,
    serve_another,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.browser]

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPEN = "() => window.telehubSignalling && window.telehubSignalling.state === 'open'"


def nginx_conf(prefix: Path, entries: dict[int, tuple[int, int]]) -> str:
    """Entry port → (preferred node port, backup node port)."""
    upstreams, servers = [], []
    for entry, (main, backup) in entries.items():
        upstreams.append(
            f"upstream via_{entry} {{\n"
            f"    server 127.0.0.1:{main} max_fails=1 fail_timeout=5s;\n"
            f"    server 127.0.0.1:{backup} backup;\n}}\n"
        )
        servers.append(
            f"server {{\n    listen 127.0.0.1:{entry};\n"
            "    client_max_body_size 2m;\n"
            "    location = /metrics { return 404; }\n"
            "    location / {\n"
            f"        proxy_pass http://via_{entry};\n"
            "        proxy_http_version 1.1;\n"
            "        proxy_set_header Upgrade $http_upgrade;\n"
            "        proxy_set_header Connection $connection_upgrade;\n"
            "        proxy_set_header Host $http_host;\n"
            "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
            "        proxy_set_header X-Request-ID $request_id;\n"
            "        proxy_read_timeout 75s;\n"
            "        proxy_next_upstream error timeout http_502 http_503;\n"
            "    }\n}\n"
        )
    return (
        f"daemon off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/nginx-error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {prefix}/nginx-access.log;\n"
        f"    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n"
        f"    fastcgi_temp_path {prefix}/fcgi; uwsgi_temp_path {prefix}/uwsgi;\n"
        f"    scgi_temp_path {prefix}/scgi;\n"
        "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
        + "".join(upstreams)
        + "".join(servers)
        + "}\n"
    )


def _up(url: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def _pg(*statements: str) -> None:
    engine = create_async_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def sockets(node: LiveServer) -> dict[str, float]:
    """This node's live WebSockets by kind, from its own /metrics (loopback may read)."""
    with urllib.request.urlopen(f"{node.url}/metrics", timeout=5) as response:
        families = text_string_to_metric_families(response.read().decode())
        return {
            s.labels["kind"]: s.value
            for f in families
            if f.name == "telehub_websockets"
            for s in f.samples
        }


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveServer]]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (make system-deps installs it)")
    name = f"telehub_deploy_{uuid.uuid4().hex[:10]}"
    try:
        run_async(_pg(f'CREATE DATABASE "{name}"'))
    except OSError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    tmp = tmp_path_factory.mktemp("deploy")
    nodes: list[LiveServer] = []
    nginx = None
    try:
        a = start_server(
            tmp,
            f'[signalling]\nbus_url = "{REDIS}"\n',
            database_url=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
        )
        nodes.append(a)
        b = serve_another(a, "node-b")
        nodes.append(b)
        port_a, port_b = (int(n.url.rsplit(":", 1)[1]) for n in (a, b))
        entry_a, entry_b = free_port(), free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(nginx_conf(tmp, {entry_a: (port_a, port_b), entry_b: (port_b, port_a)}))
        nginx = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(tmp)],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "nginx-stderr.log").open("w"),
        )
        via_a = LiveServer(f"http://127.0.0.1:{entry_a}", a.config, a.proc, a.data)
        via_b = LiveServer(f"http://127.0.0.1:{entry_b}", a.config, a.proc, a.data)
        for url in (via_a.url, via_b.url):
            _up(url)
        yield {"node_a": a, "node_b": b, "via_a": via_a, "via_b": via_b}
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        for node in nodes:
            stop_server(node)
        run_async(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_call_across_two_nodes_behind_nginx_survives_a_node_restart(
    browser: Any,
    deployment: dict[str, LiveServer],
    page_errors: PageErrors,  # noqa: F811
) -> None:
    node_a, node_b = deployment["node_a"], deployment["node_b"]
    via_a, via_b = deployment["via_a"], deployment["via_b"]
    console_ctx = browser.new_context(viewport=DESKTOP)
    tablet_ctx = browser.new_context(viewport=TABLET)
    try:
        for c in (console_ctx, tablet_ctx):
            c.set_default_timeout(15_000)
        console = page_errors.watch(console_ctx.new_page(), "console via node B")
        tablet = page_errors.watch(tablet_ctx.new_page(), "tablet via node A")
        login(console, via_b, "cleo")
        enrol(tablet, via_a)

        # The tablet calls through node A; the clinician, on node B, hears of it over
        # Redis, answers, and the offer and answer cross between the nodes.
        call_id = video_call(console, tablet, via_a, "Edna Smith")
        before = {"console": wait_for_frames(console), "tablet": wait_for_frames(tablet)}
        assert sockets(node_a).get("device") == 1 and sockets(node_a).get("staff") == 0
        assert sockets(node_b).get("staff") == 1 and sockets(node_b).get("device") == 0

        # Node A dies and is restarted; meanwhile nginx sends the tablet to node B.
        kill_and_restart(node_a)
        for page, name in ((tablet, "tablet"), (console, "console")):
            poll(page, OPEN, timeout_s=30)
            wait_for_frames(page, above=before[name] + 30, timeout_s=30)
        console.locator("#in-call").wait_for()
        # One tablet socket in all (on node B while A was down, or A again): none leaked.
        devices = [sockets(n).get("device", 0) for n in (node_a, node_b)]
        assert sum(devices) == 1, devices
        # The queue on the clinician's screen still shows the call as theirs, in call.
        row = console.locator(f"tr[data-call-id='{call_id}']")
        row.wait_for()
        assert "waiting" not in row.inner_text()
        end_call(console, tablet)
        record_outcome(console, call_id)
        page_errors.check()
    finally:
        console_ctx.close()
        tablet_ctx.close()
