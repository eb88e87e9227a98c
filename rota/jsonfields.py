"""Typed reads from decoded JSON that fail with the exact path of the bad field.

The rota lead edits problem files by hand; ``staff[3].fte: expected a number, got "x"``
saves them the hunt that ``KeyError: 'fte'`` would cause.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from rota.errors import RotaInputError


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RotaInputError(f"{path}: cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise RotaInputError(f"{path}: not UTF-8 text (save it as UTF-8)") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise RotaInputError(
            f"{path}: not valid JSON: line {err.lineno} column {err.colno}: {err.msg}"
        ) from err
    except ValueError as err:  # an integer of more than 4300 digits
        raise RotaInputError(f"{path}: not valid JSON: a number is too long") from err
    except RecursionError as err:
        raise RotaInputError(f"{path}: not valid JSON: nested too deeply") from err


def _show(value: Any) -> str:
    return json.dumps(value)[:40]


class Obj:
    """A JSON object at ``path``; unknown keys are refused (they are usually typos)."""

    def __init__(self, value: Any, path: str, known: set[str]) -> None:
        if not isinstance(value, dict):
            raise RotaInputError(f"{path or 'document'}: expected an object, got {_show(value)}")
        unknown = sorted(set(value) - known)
        if unknown:
            raise RotaInputError(f"{self._at(path, unknown[0])}: unknown field")
        self.value: dict[str, Any] = value
        self.path = path

    @staticmethod
    def _at(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def at(self, key: str) -> str:
        return self._at(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.value and self.value[key] is not None

    def raw(self, key: str) -> Any:
        if key not in self.value:
            raise RotaInputError(f"{self.at(key)}: missing")
        return self.value[key]

    def string(self, key: str, default: str | None = None) -> str:
        if default is not None and not self.has(key):
            return default
        v = self.raw(key)
        if not isinstance(v, str) or not v.strip():
            raise RotaInputError(f"{self.at(key)}: expected a non-empty string, got {_show(v)}")
        return v

    def integer(self, key: str, default: int | None = None, lo: int = 0, hi: int = 10**9) -> int:
        if default is not None and not self.has(key):
            return default
        v = self.raw(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise RotaInputError(f"{self.at(key)}: expected a whole number, got {_show(v)}")
        if not lo <= v <= hi:
            raise RotaInputError(f"{self.at(key)}: must be between {lo} and {hi} (got {v})")
        return v

    def number(
        self, key: str, default: float | None = None, lo: float = 0.0, hi: float = 1e9
    ) -> float:
        if default is not None and not self.has(key):
            return default
        v = self.raw(key)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise RotaInputError(f"{self.at(key)}: expected a number, got {_show(v)}")
        if not lo <= v <= hi:
            raise RotaInputError(f"{self.at(key)}: must be between {lo:g} and {hi:g} (got {v})")
        return float(v)

    def text(self, key: str) -> str:
        """Optional free text (a person's name): any string, "" when absent or null."""
        if not self.has(key):
            return ""
        v = self.value[key]
        if not isinstance(v, str):
            raise RotaInputError(f"{self.at(key)}: expected a string, got {_show(v)}")
        return v

    def boolean(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        v = self.raw(key)
        if not isinstance(v, bool):
            raise RotaInputError(f"{self.at(key)}: expected true or false, got {_show(v)}")
        return v

    def day(self, key: str) -> date:
        v = self.string(key)
        try:
            return date.fromisoformat(v)
        except ValueError as err:
            raise RotaInputError(f"{self.at(key)}: expected a date YYYY-MM-DD, got {v!r}") from err

    def hour(self, key: str, hi: int = 23) -> int:
        """An hour of the day, as ``"07:00"`` or ``7``; the model is hourly, so minutes
        other than ``:00`` are refused rather than rounded."""
        v = self.raw(key)
        if isinstance(v, int) and not isinstance(v, bool):
            hour = v
        elif (
            isinstance(v, str)
            and len(v) == 5
            and v[2] == ":"
            and v.isascii()  # "²³".isdigit() is true too, but int() refuses it
            and v.replace(":", "").isdigit()
        ):
            if v[3:] != "00":
                raise RotaInputError(f"{self.at(key)}: must start on the hour, got {v!r}")
            hour = int(v[:2])
        else:
            raise RotaInputError(f"{self.at(key)}: expected a time HH:00, got {_show(v)}")
        if not 0 <= hour <= hi:
            raise RotaInputError(f"{self.at(key)}: hour must be between 0 and {hi} (got {hour})")
        return hour

    def array(self, key: str, required: bool = True) -> list[Any]:
        if not required and not self.has(key):
            return []
        v = self.raw(key)
        if not isinstance(v, list):
            raise RotaInputError(f"{self.at(key)}: expected a list, got {_show(v)}")
        return v

    def ints(self, key: str, length: int) -> tuple[int, ...]:
        values = self.array(key)
        if len(values) != length:
            raise RotaInputError(f"{self.at(key)}: expected {length} values, got {len(values)}")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise RotaInputError(
                    f"{self.at(key)}[{i}]: expected a whole number >= 0, got {_show(v)}"
                )
        return tuple(values)
