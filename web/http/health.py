"""Health for load balancers and orchestrators.

- ``GET /healthz``: the process is up and serving (no dependency checked: a restart
  would not help when the database is down).
- ``GET /readyz``: this process can do its work — the database answers and its schema
  is the one this code needs, and the bus answers. 200 with each check's result, or 503
  naming what is wrong, so a load balancer stops sending users to a process that would
  only fail them. Nothing secret is shown (no URL, no password).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.db import SchemaOutOfDate
from hub.store.migrate import check_current
from signalling.bus import Bus
from web.http.route_access import public

__all__ = ["READINESS", "Readiness", "routes"]

routes = web.RouteTableDef()
CHECK_TIMEOUT_S = 3.0


@dataclass
class Readiness:
    """What ``/readyz`` checks; attached once the database and bus are open, detached
    when the app starts shutting down (not ready from then on)."""

    engine: AsyncEngine | None = None
    bus: Bus | None = None

    def attach(self, engine: AsyncEngine, bus: Bus) -> None:
        self.engine, self.bus = engine, bus

    def detach(self) -> None:
        self.engine = self.bus = None

    @property
    def started(self) -> bool:
        return self.engine is not None and self.bus is not None

    async def check(self) -> dict[str, str]:
        database, bus = await asyncio.gather(self._database(), self._bus())
        return {"database": database, "bus": bus}

    async def _database(self) -> str:
        try:
            assert self.engine is not None
            await asyncio.wait_for(check_current(self.engine), CHECK_TIMEOUT_S)
        except SchemaOutOfDate:
            return "schema out of date: run telehub migrate"
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_S:g} s"
        except Exception as err:  # which exception depends on the driver
            return f"unreachable ({type(err).__name__})"
        return "ok"

    async def _bus(self) -> str:
        try:
            assert self.bus is not None
            await asyncio.wait_for(self.bus.ping(), CHECK_TIMEOUT_S)
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_S:g} s"
        except Exception as err:
            return f"unreachable ({type(err).__name__})"
        return "ok"


READINESS = web.AppKey("readiness", Readiness)


@routes.get("/healthz")
@public
async def healthz(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
@public
async def readyz(request: web.Request) -> web.StreamResponse:
    readiness = request.app[READINESS]
    if not readiness.started:  # still starting, or shutting down
        return web.json_response({"status": "starting"}, status=503)
    checks = await readiness.check()
    ready = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503
    )
