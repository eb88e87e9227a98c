"""Churn: the soak's load at many calls a second, to see what a hub keeps per call.

200 clients (170 tablets, 30 clinicians) whose tablets call again 5–30 s after each
call and whose clinicians talk 1–3 s place about eight calls a second: in 8 minutes
about as many calls as the 30-minute soak's thousand clients place. If the hub kept
something for every call it ever had, its RSS would grow by the same amount per 1,000
calls in the second half of the run as in the first; a cache that fills up to a bound
shows as growth that stops.

The same load runs twice, back to back: with the default SQLite page cache (64 MB per
connection, ``database.sqlite_cache_mb``), whose growth follows the database file's
(pages written are kept), and with a 1 MB cache, which fills within the first minute
and leaves what the hub itself holds. Figures: ``per 1,000 calls placed: RSS …;
database file …`` for each. ``--quick``: 3 minutes each.
"""

from __future__ import annotations

import asyncio
import random
import time

from tests.bench.bench_soak import Plan, run

FULL = Plan(170, 30, 8 * 60, 30, 2 * 60, (5, 30), (1, 3))
QUICK = Plan(170, 30, 3 * 60, 15, 60, (5, 30), (1, 3))
CACHES_MB = (64, 1)


def main(quick: bool = False) -> None:
    for cache_mb in CACHES_MB:
        print(f"\n-- SQLite page cache {cache_mb} MB per connection", flush=True)
        random.seed(7)
        began = time.perf_counter()
        asyncio.run(run(QUICK if quick else FULL, f"sqlite_cache_mb = {cache_mb}\n"))
        print(f"(churn wall time {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
