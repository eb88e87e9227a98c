"""A TCP forwarder a test can shut and open: a database or Redis "going away" for the
process under test, without touching the real service other tests share.

``TcpGate(port)`` listens on a free loopback port and forwards every connection to
127.0.0.1:``port``. ``shut()`` drops every forwarded connection and refuses new ones
(they are accepted and closed at once: the client sees its connection reset, as when a
server restarts); ``open()`` forwards again. Bounded: it stops with the test.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpGate:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.is_open = True
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> TcpGate:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def shut(self) -> None:
        self.is_open = False
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def open(self) -> None:
        self.is_open = True

    async def stop(self) -> None:
        self.shut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.is_open:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._links.discard(dst)
            with contextlib.suppress(Exception):
                dst.transport.abort()
