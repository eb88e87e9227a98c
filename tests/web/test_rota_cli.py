"""``telehub rota export`` and ``forecast-hub``: the rota CLI on the hub's own data."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub import settings as settings_mod
from hub.clock import FixedClock
from hub.context import HubContext
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import upgrade
from rota.cli import main as rota_main
from tests.conftest import CHEAP_PASSWORD_TOML
from tests.hub.rota_fixtures import rota_team
from web.cli.commands import main


def _hub(tmp_path: Path) -> Path:
    """A migrated hub database with the rota team, and a config file pointing at it."""
    cfg = tmp_path / "t.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "t.db"}"\n'
        f'[security]\nkeys_file = "{tmp_path / "keys.toml"}"\n{CHEAP_PASSWORD_TOML}'
    )
    settings = resolve_secrets(settings_mod.load(cfg))

    async def seed() -> None:
        engine = create_engine(settings.database.url)
        await upgrade(engine)
        keyring = keyring_from(settings)
        clock = FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
        await rota_team(HubContext(make_uow_factory(engine, keyring), clock, keyring, settings))
        await engine.dispose()

    asyncio.run(seed())
    return cfg


def test_export_writes_a_problem_the_rota_cli_solves_and_checks(tmp_path: Path) -> None:
    cfg = _hub(tmp_path)
    problem = tmp_path / "p.json"
    args = ["--config", str(cfg), "rota", "export", "--start", "2026-03-02", "--days", "7"]
    assert main([*args, "--out", str(problem)]) == 0
    data = json.loads(problem.read_text())
    assert len(data["staff"]) == 10 and data["period"] == {"start": "2026-03-02", "days": 7}
    solution = tmp_path / "s.json"
    assert (
        rota_main(
            [
                "solve",
                "--problem",
                str(problem),
                "--out",
                str(solution),
                "--time-limit",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    assert rota_main(["check", "--problem", str(problem), "--solution", str(solution)]) == 0


def test_export_of_zero_days_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _hub(tmp_path)
    out = tmp_path / "p.json"
    code = main(
        [
            "--config",
            str(cfg),
            "rota",
            "export",
            "--start",
            "2026-03-02",
            "--days",
            "0",
            "--out",
            str(out),
        ]
    )
    assert code == 2 and "1–84 days" in capsys.readouterr().err
    assert not out.exists()


def test_forecast_hub_with_no_history_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _hub(tmp_path)
    day = (datetime(2026, 3, 2) + timedelta(days=1)).date().isoformat()
    assert main(["--config", str(cfg), "rota", "forecast-hub", "--before", day]) == 2
    assert "no answered calls" in capsys.readouterr().err
