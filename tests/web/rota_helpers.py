"""Starting rota jobs through the pages and waiting for them, as the page does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiohttp.test_utils import TestClient

from tests.hub.rota_fixtures import MONDAY
from tests.web.helpers import post_form

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


async def finish_job(client: TestClient, job_id: str) -> dict[str, Any]:
    """Poll the job like the page does until it is no longer running."""
    seen: list[dict[str, Any]] = []
    for _ in range(1200):  # a safety net only: the jobs here stop after 2 s
        resp = await client.get(f"/rota/jobs/{job_id}", headers=JSON)
        assert resp.status == 200, await resp.text()
        seen.append(await resp.json())
        if seen[-1]["state"] != "running":
            return seen[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"job still running: {seen[-1]}")
