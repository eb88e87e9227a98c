"""Progress bars for the command lines (``telehub``, ``rota``).

On a terminal this is tqdm. When the output is not a terminal (a CI log, a file, a
pipe) a redrawn bar would pile up as one very long line of carriage returns, so a
``LineProgress`` prints a short line per step instead: one per ``step_percent`` of a
known total, or one every ``every_s`` seconds when the total is unknown, and a last
line on closing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol, TypeVar

from tqdm import tqdm

T = TypeVar("T")
STEP_PERCENT = 10
EVERY_S = 2.0


class Bar(Protocol):
    """What the command lines use of a progress bar (tqdm's names)."""

    n: Any
    total: Any

    def refresh(self) -> Any: ...

    def update(self, n: float = 1) -> Any: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class LineProgress:
    """tqdm's interface, printing a short line per step (for output that is not a TTY)."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: float | None = None,
        desc: str = "",
        unit: str = "it",
        disable: bool = False,
        file: IO[str] | None = None,
        step_percent: int = STEP_PERCENT,
        every_s: float = EVERY_S,
        **_ignored: Any,  # tqdm's display options (bar_format, leave, ...)
    ) -> None:
        self.iterable = iterable
        self.total = total
        self.n: float = 0
        self.desc = desc
        self.unit = unit
        self.disable = disable
        self.file = file if file is not None else sys.stderr
        self.step_percent = step_percent
        self.every_s = every_s
        self.postfix = ""
        self._printed_step: int | None = None
        self._printed_at = time.monotonic()
        self._closed = False
        self._last_line = ""

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            return
        if self.total is None and hasattr(self.iterable, "__len__"):
            self.total = len(self.iterable)  # type: ignore[arg-type]
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def update(self, n: float = 1) -> None:
        self.n += n
        self.refresh()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = s
        if refresh:
            self.refresh()

    def refresh(self) -> None:
        if self.disable or self._closed:
            return
        if self.total:
            step = min(100, int(100 * self.n / self.total)) // self.step_percent
            if step == self._printed_step:
                return
            self._printed_step = step
        else:
            now = time.monotonic()
            if now - self._printed_at < self.every_s:
                return
            self._printed_at = now
        self._write(self._line())

    def close(self) -> None:
        if self._closed:
            return
        last = self._line(done=True)
        if not self.disable and last != self._last_line:
            self._write(last)
        self._closed = True

    def _line(self, done: bool = False) -> str:
        count = _number(self.n)
        if self.total:
            percent = min(100, int(100 * self.n / self.total))
            text = f"{percent}% ({count} of {_number(self.total)}{self._units(self.total)})"
        else:
            text = f"{count}{self._units(self.n)}" + (" (done)" if done else "")
        line = f"{self.desc}: {text}" if self.desc else text
        return f"{line}, {self.postfix}" if self.postfix else line

    def _units(self, amount: float) -> str:
        """tqdm's singular unit as a reader says it: " calls", " s", or nothing for "it"."""
        if self.unit == "it":
            return ""
        if self.unit == "s" or amount == 1:
            return f" {self.unit}"
        return f" {self.unit}s"

    def _write(self, line: str) -> None:
        self._last_line = line
        self.file.write(line + "\n")
        self.file.flush()


def progress_bar(
    iterable: Iterable[T] | None = None, *, file: IO[str] | None = None, **options: Any
) -> Bar:
    """tqdm on a terminal, a ``LineProgress`` otherwise (same arguments as tqdm)."""
    out = file if file is not None else sys.stderr
    if _is_terminal(out):
        bar: Bar = tqdm(iterable, file=out, **options)
        return bar
    return LineProgress(iterable, file=out, **options)


def _is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
