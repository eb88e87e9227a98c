"""The dependencies every application service receives, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from hub.cipher import Keyring
from hub.clock import Clock
from hub.ports import UnitOfWorkFactory
from hub.settings import Settings


@dataclass(frozen=True)
class HubContext:
    uow: UnitOfWorkFactory
    clock: Clock
    keyring: Keyring
    settings: Settings
