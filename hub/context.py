"""The dependencies every application service receives, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.cipher import Keyring
from hub.clock import Clock
from hub.events import EventPublisher, NullPublisher
from hub.ports import UnitOfWorkFactory
from hub.settings import Settings


@dataclass(frozen=True)
class HubContext:
    uow: UnitOfWorkFactory
    clock: Clock
    keyring: Keyring
    settings: Settings
    events: EventPublisher = field(default_factory=NullPublisher)
