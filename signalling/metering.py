"""What signalling counts for operators, as a port: the web layer plugs in Prometheus
(web/http/metrics.py); tests and tools that need no metrics get ``NoMeter``."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Meter", "NoMeter"]


class Meter(Protocol):
    def refused(self, why: str) -> None:
        """A client's message was refused (``rate_limited``) or its socket closed for a
        flood (``flood``)."""
        ...

    def answered(self, waited_s: float) -> None:
        """A clinician answered a call that had waited this long since it was asked for."""
        ...


class NoMeter:
    def refused(self, why: str) -> None:
        pass

    def answered(self, waited_s: float) -> None:
        pass
