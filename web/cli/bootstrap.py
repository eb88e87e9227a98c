"""What every ``telehub`` subcommand starts from: its settings (``--config``, the
environment, the demo's config for ``totp``), its data directory, and a hub context on
the configured database. One bootstrap, shared by ``web.cli.commands`` and the subcommand
modules (``report_cli``, ``rota_cli``, ``audit_cli``), so none imports another's
privates."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from hub import settings as settings_mod
from hub.clock import SystemClock
from hub.context import HubContext
from hub.settings import Settings
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import upgrade

DEMO_CONFIG_NAME = "demo.toml"  # written by `telehub demo` into server.data_dir


def settings_from(args: argparse.Namespace) -> Settings:
    config = args.config
    if config is None and args.command == "totp":
        demo_config = data_dir(args) / DEMO_CONFIG_NAME
        config = demo_config if demo_config.exists() else None
    return resolve_secrets(settings_mod.load(config, os.environ))


def data_dir(args: argparse.Namespace) -> Path:
    """``server.data_dir`` (from --config and the environment): where demo files and
    dev certificates go, and by default the database and keys."""
    return Path(settings_mod.load(args.config, os.environ).server.data_dir)


@contextlib.asynccontextmanager
async def hub_context(settings: Settings, *, migrate: bool = False) -> AsyncIterator[HubContext]:
    engine = create_engine(settings.database.url, sqlite_cache_mb=settings.database.sqlite_cache_mb)
    try:
        if migrate:
            await upgrade(engine)
        keyring = keyring_from(settings)
        yield HubContext(make_uow_factory(engine, keyring), SystemClock(), keyring, settings)
    finally:
        await engine.dispose()
