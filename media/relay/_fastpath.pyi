"""Types of the relay's per-packet path in C (media/relay/_fastpath.c)."""

from collections.abc import Callable
from typing import Any, Literal

class Outlet:
    """One subscriber's RTP stream of one forwarded track."""

    need_key: int
    forwarded: int
    dropped: int
    fd: int
    @property
    def ready(self) -> bool: ...
    @property
    def configured(self) -> bool: ...
    def __init__(self, video: bool, seq_base: int, ts_offset: int) -> None: ...
    def configure(
        self,
        *,
        sender: Any,
        dtls: Any,
        session: Any,
        ctx: int,
        protect: int,
        ssrc: int,
        payload_type: int,
        mid: bytes | None,
        mid_id: int,
        abs_id: int,
        fd: int,
        host: str | None,
        port: int,
        fallback: Callable[[bytes], bool],
    ) -> None: ...
    def unconfigure(self) -> None: ...
    def send(
        self, payload: bytes, sequence_number: int, timestamp: int, marker: int, /
    ) -> bool: ...
    def history(self, sequence_number: int, /) -> bytes | None: ...

class Route:
    """One publication's packets, fanned out to its subscribers' outlets."""

    video: bool
    ended: int
    outlets: list[Outlet]
    packets: int
    def __init__(self, video: bool, counters: Any, want_keyframe: Callable[[], None]) -> None: ...
    def bind(
        self,
        *,
        ssrc: int,
        payload_type: int,
        clockrate: int,
        abs_id: int,
        receiver: Any,
        stats: Any,
        nacks: Any,
        on_frame: Callable[[int, int, int], None] | None,
        tick: Callable[[int, int], None],
    ) -> None: ...

class Inlet:
    """The receive side of one publisher's DTLS transport."""

    taken: int
    def __init__(
        self, *, transport: Any, connected: Any, session: Any, ctx: int, unprotect: int
    ) -> None: ...
    def add(self, ssrc: int, route: Route, /) -> None: ...
    def take(self, datagram: bytes, /) -> Literal[True] | bytes | None: ...

def build_header(
    ssrc: int,
    payload_type: int,
    timestamp: int,
    mid: bytes | None,
    mid_id: int,
    abs_id: int,
    abs_send_time: int,
    /,
) -> bytes: ...

class Reader:
    """Reads the nominated pair's socket: media through an Inlet, the rest to Python."""

    fd: int
    datagrams: int
    def __init__(
        self,
        *,
        inlet: Inlet,
        fd: int,
        host: str,
        port: int,
        on_datagram: Callable[[bytes, tuple[Any, ...]], None],
        on_plain: Callable[[bytes], None],
        on_error: Callable[[int], None],
    ) -> None: ...
    def read_ready(self) -> None: ...
