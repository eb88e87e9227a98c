"""Starting rota jobs through the pages and waiting for them, as the page does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiohttp.test_utils import TestClient

from tests.hub.rota_fixtures import MONDAY
from tests.web.helpers import post_form
from web.rota.jobs import ROTA_JOBS

NEXT_MONDAY = MONDAY + timedelta(days=7)  # the form's default first day
JSON = {"Accept": "application/json"}


async def start_job(client: TestClient, path: str, data: dict[str, str], page: str) -> str:
    resp = await post_form(client, path, data, token_from=page)
    assert resp.status == 303, await resp.text()
    (job_id,) = parse_qs(urlparse(resp.headers["Location"]).query)["job"]
    return job_id


async def generate_rota(client: TestClient, limit: str = "2", start: str = "") -> str:
    data = {"start": start or NEXT_MONDAY.isoformat(), "days": "7", "pattern": "8h"}
    return await start_job(client, "/rota/generate", {**data, "limit": limit}, "/rota")


async def finish_job(
    client: TestClient, job_id: str, *, owner: TestClient | None = None, timeout: float = 120
) -> dict[str, Any]:
    """Wait for the job's task to end on the node that runs it (``owner``, by default
    ``client``; the task records the end before it ends), then read the job from
    ``client`` as the page does."""
    local = (owner or client).server.app[ROTA_JOBS].local(job_id)
    if local is not None and local.task is not None:
        await asyncio.wait_for(asyncio.shield(local.task), timeout)
    resp = await client.get(f"/rota/jobs/{job_id}", headers=JSON)
    assert resp.status == 200, await resp.text()
    job: dict[str, Any] = await resp.json()
    assert job["state"] != "running", job
    return job
