"""How telehub opens its database: SQLite's page cache is the configured size."""

from __future__ import annotations

from pathlib import Path

from hub.store.db import create_engine


async def test_the_sqlite_page_cache_is_the_configured_size(tmp_path: Path) -> None:
    """``database.sqlite_cache_mb`` bounds what SQLite's page cache holds per connection
    (memory grows with the database up to it, then stays flat: docs/benchmarks.md)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", sqlite_cache_mb=3)
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() == -3 * 1024
    finally:
        await engine.dispose()
