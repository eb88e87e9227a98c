"""Which media processes are alive, how loaded each is, and which one takes a new call.

A hub process hears every media process's announcements (media/relay/wire.py) and keeps
the last one of each until it is ``expire_after`` old: a process that died (killed, its
machine gone) stops being picked within that time, and one that said it is stopping
stops being picked at once. A new relayed call goes to the live process carrying the
fewest participants (then the fewest calls): a call's media stays on the process it
started on until the call ends, so the load evens out as calls come and go.

Between announcements the directory counts what it sent each process itself, so a
burst of new calls is spread instead of all landing on the process that looked idlest
a second ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.clock import Clock
from media.relay.wire import Announce

__all__ = ["MediaDirectory"]


@dataclass
class _Known:
    calls: int
    participants: int
    heard: datetime


class MediaDirectory:
    def __init__(self, clock: Clock, expire_after: timedelta) -> None:
        self._clock = clock
        self._expire_after = expire_after
        self._known: dict[str, _Known] = {}

    def heard(self, announce: Announce) -> None:
        if announce.stopping:
            self._known.pop(announce.media, None)
        else:
            self._known[announce.media] = _Known(
                announce.calls, announce.participants, self._clock.now()
            )

    def alive(self) -> dict[str, tuple[int, int]]:
        """Live media processes: id → (calls, participants) as last known."""
        now = self._clock.now()
        for media in [m for m, k in self._known.items() if now - k.heard > self._expire_after]:
            del self._known[media]
        return {m: (k.calls, k.participants) for m, k in self._known.items()}

    def is_alive(self, media: str) -> bool:
        return media in self.alive()

    def pick(self) -> str | None:
        """The process for a new call (None: no media process is alive)."""
        alive = self.alive()
        if not alive:
            return None
        media = min(alive, key=lambda m: (alive[m][1], alive[m][0], m))
        self.placed(media, participants=1, calls=1)
        return media

    def placed(self, media: str, *, participants: int, calls: int = 0) -> None:
        """Count load we sent ``media`` ourselves until its next announcement."""
        known = self._known.get(media)
        if known is not None:
            known.participants += participants
            known.calls += calls
