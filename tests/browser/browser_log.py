"""What the browsers of a test said and did, printed with its failure.

A browser test that fails late in a full run usually fails as "the page never showed
X": the page's own view of why (a console warning, a script or request that failed, a
socket that closed, the last messages it heard) is gone with the browser context. Every
context the fixtures make is watched here; a failing test's report gets a "browser log"
section with the last lines (tests/browser/conftest.py).
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

# Message types too frequent to be worth a line each (a call's ICE, pings, stats).
_QUIET = frozenset({"pong", "ping", "rtc.ice", "relay.ice", "queue.snapshot"})
KEEP_LINES = 400


class BrowserLog:
    """Lines from every watched context, newest last, the oldest dropped past a limit."""

    @classmethod
    def attach(cls, browser: Any) -> Any:
        """Watch every context ``browser`` makes from now on (numbered, with their
        viewport width: the order the test made them); returns ``browser``."""
        log = cls()
        make = browser.new_context

        def new_context(**options: Any) -> Any:
            width = (options.get("viewport") or {}).get("width", "-")
            return log.watch(make(**options), f"ctx{log._contexts + 1}/{width}")

        browser.new_context = new_context
        browser.telehub_log = log
        return browser

    @staticmethod
    def of(browser: Any) -> BrowserLog | None:
        log: BrowserLog | None = getattr(browser, "telehub_log", None)
        return log

    def __init__(self) -> None:
        self._contexts = 0
        self._lines: deque[str] = deque(maxlen=KEEP_LINES)
        self._added = 0

    def watch(self, context: Any, label: str) -> Any:
        """Log ``context``'s console, page errors, failed requests and WebSockets (each
        frame's message type) under ``label``; returns the context."""
        self._contexts += 1
        context.on("console", lambda m: self.add(label, f"console.{m.type}: {m.text}"))
        context.on("weberror", lambda e: self.add(label, f"page error: {e.error}"))
        context.on(
            "requestfailed",
            lambda r: self.add(label, f"request failed: {r.method} {r.url} {r.failure}"),
        )
        context.on("page", lambda page: self._watch_page(page, label))
        for page in context.pages:
            self._watch_page(page, label)
        return context

    def _watch_page(self, page: Any, label: str) -> None:
        page.on("framenavigated", lambda f: f == page.main_frame and self.add(label, f"at {f.url}"))
        page.on("crash", lambda _: self.add(label, "page crashed"))
        page.on("websocket", lambda ws: self._watch_socket(ws, label))

    def _watch_socket(self, ws: Any, label: str) -> None:
        self.add(label, f"socket open {ws.url}")
        ws.on("framereceived", lambda f: self._frame(label, "<", f))
        ws.on("framesent", lambda f: self._frame(label, ">", f))
        ws.on("socketerror", lambda err: self.add(label, f"socket error {err}"))
        ws.on("close", lambda _: self.add(label, f"socket closed {ws.url}"))

    def _frame(self, label: str, way: str, frame: Any) -> None:
        try:
            message = json.loads(frame)
            kind = message.get("type", "?") if isinstance(message, dict) else "?"
        except (TypeError, ValueError):
            kind = "(not JSON)"
        if kind in _QUIET:
            return
        detail = {k: message[k] for k in ("call_id", "state", "seq", "code") if k in message}
        self.add(label, f"socket {way} {kind} {detail if detail else ''}".rstrip())

    def add(self, label: str, text: str) -> None:
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
        self._lines.append(f"{stamp} {label}: {text[:300]}")
        self._added += 1

    def mark(self) -> int:
        """Where the log stands now (a test's start)."""
        return self._added

    def since(self, mark: int) -> str:
        """The lines added since ``mark`` that are still kept."""
        first_kept = self._added - len(self._lines)
        return "\n".join(list(self._lines)[max(0, mark - first_kept) :])
