"""Fuzzing the rota problem loader (``rota.problem_io.parse_problem`` and
``load_problem``'s reading of the file) with Hypothesis.

Whatever a rota lead writes by hand, the loader returns a ``Problem`` or raises
``RotaInputError`` whose message starts with the path of the bad field
(``staff[3].fte: ...``, docs/rota.md); nothing else escapes. A problem it returns is
well typed and round-trips through ``dump_problem`` (the hub stores problems that way
and reads them back). The documents that find bugs are *almost valid*: the valid
example of tests/rota/factory.py, varied (days, shift patterns, hour-of-week demand,
skill demand, rules, weights, time zones), then with a field dropped, swapped for a
hostile value chosen for that key (hours like ``"²³:00"``, dates like ``"2026-02-30"``,
zones like ``"Europe"``, NaN, huge numbers), an unknown field, or a list item removed
or repeated. The file reader gets bytes: not UTF-8, numbers too long for ``int()``,
nesting too deep for the JSON decoder.
"""

from __future__ import annotations

import copy
import json
import math
import re
import tempfile
import types
import typing
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rota import model
from rota.errors import RotaInputError
from rota.model import PRESCRIBER, SENIOR
from rota.problem_io import dump_problem, load_problem, parse_problem
from tests.fuzz.profiles import examples
from tests.rota.factory import problem_json

TOP = ("period", "timezone", "staff", "shifts", "demand", "leave", "requests", "rules", "weights")
# "staff[3].fte: ...", "demand.by_skill.x: ...", "document: ...", or an unknown key.
FIELD_PATH = re.compile(rf"^(document|({'|'.join(TOP)})([.\[].*?)?): \S")


def changed(doc: dict[str, Any], where: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """``doc`` with the value at ``where`` (keys and list indexes) set to ``value``."""
    target: Any = doc
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    return doc


# Documents and files that found bugs, kept as explicit examples with the refusal each
# now gets. Before the fixes each escaped as another exception (or, for the name and
# the fte, was accepted into a Problem that is wrongly typed or cannot be read back).
FOUND: list[tuple[str, dict[str, Any], str]] = [
    (
        "superscript-hour",  # "²³".isdigit() is true, int("²³") is a ValueError
        changed(problem_json(), ("shifts", 0, "start"), "²³:00"),
        'shifts[0].start: expected a time HH:00, got "\\u00b2\\u00b3:00"',
    ),
    (
        "zone-folder",  # ZoneInfo("Europe") raised IsADirectoryError
        problem_json(timezone="Europe"),
        "timezone: unknown time zone 'Europe'",
    ),
    (
        "zone-too-long",  # ... and a long name OSError (file name too long)
        problem_json(timezone="x" * 300),
        f"timezone: unknown time zone '{'x' * 300}'",
    ),
    (
        "name-not-text",  # was kept as the int 1
        changed(problem_json(), ("staff", 0, "name"), 1),
        "staff[0].name: expected a string, got 1",
    ),
    (
        "fte-over-168-hours",  # read, but its contracted_hours (200) could not be read back
        changed(problem_json(rules={"full_time_hours": 100}), ("staff", 0, "fte"), 2.0),
        "staff[0].fte: 2 × rules.full_time_hours (100) is 200 hours a week, "
        "more than the 168 in a week",
    ),
]
# Files the reader let through as UnicodeDecodeError, ValueError and RecursionError.
FOUND_FILES: list[tuple[str, bytes, str]] = [
    ("not-utf8", b"\x80", "not UTF-8 text (save it as UTF-8)"),
    ("long-number", b"1" * 5000, "not valid JSON: a number is too long"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, "not valid JSON: nested too deeply"),
]

# -- near-valid problems ----------------------------------------------------------------


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    """The factory's valid problem, varied in every part the format allows."""
    days = draw(st.integers(1, 14) | st.sampled_from([28, 366]))
    start = draw(st.dates(date(2000, 1, 1), date(2099, 12, 31)))
    doc = problem_json(period={"start": start.isoformat(), "days": days})
    if days > 14 or draw(st.booleans()):  # cheaper than 24 × days values, and the other form
        doc["demand"] = {"hour_of_week": [draw(st.integers(0, 3))] * 168}
    else:
        doc["demand"] = {"hourly": [draw(st.integers(0, 3))] * 24 * days}
    if draw(st.booleans()):
        doc["demand"]["by_skill"] = {SENIOR: {"hour_of_week": [1] * 168}}
    if draw(st.booleans()):
        doc["shifts"] = draw(st.sampled_from(["8h", "12h"]))
    if draw(st.booleans()):
        doc["requests"].append(
            {"staff": "ann", "kind": "shift", "from": start.isoformat(), "to": start.isoformat()}
            | {"shift": "night"}
        )
    if draw(st.booleans()):
        doc["timezone"] = draw(st.sampled_from(["Europe/London", "UTC", "Pacific/Kiritimati"]))
    full_time = 37.5
    if draw(st.booleans()):
        full_time = draw(st.floats(1, 168))
        doc["rules"] = {
            "min_rest_hours": draw(st.integers(0, 24)),
            "full_time_hours": full_time,
            "max_avg_weekly_hours": draw(st.floats(0, 168)),
            "skill_cover": [
                {"skill": SENIOR, "from": 0, "to": 24, "min": 1},
                {"skill": PRESCRIBER, "from": "08:00", "to": "22:00"},
            ],
        }
    if draw(st.booleans()):
        doc["weights"] = {"uncovered": draw(st.integers(0, 10**6)), "request": 5}
    if draw(st.booleans()):
        doc["staff"][0]["name"] = draw(st.text(max_size=20))
    if draw(st.booleans()):  # an fte of up to 2, and at most 168 hours a week (docs/rota.md)
        fte = draw(st.floats(0, min(2.0, 167 / full_time)))  # 168: float rounding
        doc["staff"][1] = {"id": "bob", "fte": fte, "skills": [SENIOR]}
    return doc


HOURS = ["07:00", "7", "07:30", "24:00", "²³:00", "٠٧:00", " 7:00", "-1:00", "99:00", 24, -1]
DATES = ["2026-02-30", "2026-03-02T00:00", "20260302", "2026-W10-1", "0001-01-01", "9999-12-31"]
DATES += ["2026-3-2", "２０２６-03-02", "+2026-03-02"]
NUMBERS = [0, -0.0, -1, 1e308, math.nan, math.inf, -math.inf, 2.0000001, 168.0001, 10**30, True]
BY_KEY: dict[str, list[Any]] = {
    "start": HOURS + DATES,
    "from": HOURS + DATES,
    "to": HOURS + DATES,
    "date": DATES,
    "timezone": ["Europe", "America", "Europe/London/", "../etc/passwd", "x" * 300, "\x00", ""],
    "shifts": ["8h", "12h", "24h", "", []],
    "kind": ["day_off", "no_nights", "shift", "annual", "DAY_OFF"],
    "days": [0, 1, 366, 367, -1, 10**6 + 1, 7.0],
    "staff": ["ann", "zed", "", " "],
    "skill": [SENIOR, "", "nobody's skill"],
    "id": ["ann", "bob", "", " "],
    "hourly": [[1] * 167, [1] * 168, [-1] * 168, [1.5] * 168, [None]],
    "hour_of_week": [[1] * 167, [True] * 168, [-1] * 168, [10**100] * 168],
    "by_skill": [[], {"x": {}}, {SENIOR: {"hourly": [1]}}, {PRESCRIBER: {"hour_of_week": []}}],
    "skills": [[""], [1], ["a", "a"], "senior_clinician", [[]]],
    "name": [[], {}, 1, "", "Ann", ["x"]],
}
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
generic_hostile = st.one_of(json_scalars, st.sampled_from(NUMBERS), json_values)


def hostile_for(key: str | int) -> st.SearchStrategy[Any]:
    """A bad value for ``key``, most often one chosen for what that key holds."""
    if isinstance(key, str) and key in BY_KEY:
        return chosen_for(key) | generic_hostile
    return generic_hostile


def chosen_for(key: str) -> st.SearchStrategy[Any]:
    # A copy: a later mutation of the document must not change BY_KEY's lists.
    return st.sampled_from(BY_KEY[key]).map(copy.deepcopy)


def containers(value: Any) -> list[dict[str, Any] | list[Any]]:
    """Every object and list in ``value``, to pick one to mutate."""
    found: list[dict[str, Any] | list[Any]] = []
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            found += containers(item)
    return found


def homes_of(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of ``doc`` that hold ``key``, or where an optional ``key`` may go."""
    places = [c for c in containers(doc) if isinstance(c, dict) and key in c]
    if key in TOP:
        places.append(doc)
    if key == "name":  # optional on staff
        places += [s for s in doc.get("staff", []) if isinstance(s, dict)]
    if key == "by_skill" and isinstance(doc.get("demand"), dict):
        places.append(doc["demand"])
    return places


targeted_keys = st.sampled_from(sorted(BY_KEY))
actions = st.sampled_from(["targeted", "targeted", "drop", "replace", "extra", "copy"])


@st.composite
def near_valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with one to three mutations: most often a value chosen for its
    key (an hour for ``start``, a zone for ``timezone``), else any value anywhere."""
    doc = draw(valid_documents())
    for _ in range(draw(st.integers(1, 3))):
        action = draw(actions)
        if action == "targeted":
            key = draw(targeted_keys)
            if places := homes_of(doc, key):
                draw(st.sampled_from(places))[key] = draw(chosen_for(key))
            continue
        target = draw(st.sampled_from(containers(doc)))
        if isinstance(target, dict):
            keys = sorted(target)
            if not keys or action == "extra":
                target[draw(st.text(max_size=8) | st.sampled_from(TOP))] = draw(generic_hostile)
            elif action in ("drop", "copy"):
                del target[draw(st.sampled_from(keys))]
            else:
                key = draw(st.sampled_from(keys))
                target[key] = draw(hostile_for(key))
        elif target:
            i = draw(st.integers(0, len(target) - 1))
            if action == "drop":
                del target[i]
            elif action == "copy":  # a repeated entry: duplicate ids, overlapping leave
                target.append(copy.deepcopy(target[i]))
            else:
                target[i] = draw(hostile_for(i))
        else:
            target.append(draw(generic_hostile))
    return doc


# -- the properties -------------------------------------------------------------------


def assert_well_typed(value: Any, hint: Any, where: str) -> None:
    """``value`` is what ``hint`` (a field type of rota.model) says it is."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        assert any(_fits(value, a) for a in args), (where, value)
        return
    if origin in (tuple, frozenset):
        assert isinstance(value, origin), (where, value)
        for i, item in enumerate(value):
            assert_well_typed(item, args[0], f"{where}[{i}]")
        return
    if origin in (Mapping, dict):
        assert isinstance(value, Mapping), (where, value)
        for k, v in value.items():
            assert_well_typed(k, args[0], f"{where} key")
            assert_well_typed(v, args[1], f"{where}.{k}")
        return
    if isinstance(hint, type) and is_dataclass(hint):
        assert isinstance(value, hint), (where, value)
        hints = typing.get_type_hints(hint)
        for f in fields(hint):
            assert_well_typed(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")
        return
    assert _fits(value, hint), (where, value)


def _fits(value: Any, hint: Any) -> bool:
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, float) and math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type) and issubclass(hint, Enum | str | bool | date):
        return isinstance(value, hint)
    return True  # a composite inside a union: checked by the caller's own case


def parse_or_refuse(data: Any) -> model.Problem | None:
    try:
        problem = parse_problem(data)
    except RotaInputError as err:
        assert err.message == str(err) and err.message.strip()
        assert FIELD_PATH.match(err.message) or err.message.endswith(": unknown field"), err.message
        return None
    assert_well_typed(problem, model.Problem, "problem")
    assert parse_problem(dump_problem(problem)) == problem  # stored, then read back
    return problem


@settings(max_examples=examples(60))
@given(json_values)
def test_any_json_value_is_a_problem_or_refused(data: Any) -> None:
    parse_or_refuse(data)


@settings(max_examples=examples(200))
@given(near_valid_documents())
@example(FOUND[0][1])
@example(FOUND[1][1])
@example(FOUND[2][1])
@example(FOUND[3][1])
@example(FOUND[4][1])
def test_almost_valid_problems_are_parsed_or_refused_naming_the_field(doc: dict[str, Any]) -> None:
    parse_or_refuse(doc)


@settings(max_examples=examples(20))
@given(valid_documents())
def test_valid_problems_parse_and_round_trip(doc: dict[str, Any]) -> None:
    """The strategy's base really is valid: the mutations start from a problem."""
    assert parse_or_refuse(doc) is not None


# -- the file reader ------------------------------------------------------------------


@st.composite
def problem_files(draw: st.DrawFn) -> bytes:
    """A problem file as bytes: the JSON of a near-valid problem, sometimes damaged."""
    text = json.dumps(draw(near_valid_documents()), ensure_ascii=draw(st.booleans()))
    damage = draw(st.integers(0, 5))
    if damage == 1:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", "}", "[", '"', "NaN", "\\"])) + text[at:]
    if damage == 2:
        return text.encode("utf-16")
    if damage == 3:
        return b"\xef\xbb\xbf" + text.encode()  # a BOM from Notepad
    return text.encode()


def load(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "problem.json"
        path.write_bytes(data)
        try:
            problem = load_problem(path)
        except RotaInputError as err:
            named = err.message.startswith(f"{path}: ") or FIELD_PATH.match(err.message)
            assert named or err.message.endswith(": unknown field"), err.message
            return
    assert_well_typed(problem, model.Problem, "problem")


@settings(max_examples=examples(40))
@given(st.binary(max_size=200) | problem_files())
@example(FOUND_FILES[0][1])
@example(FOUND_FILES[1][1])
@example(FOUND_FILES[2][1])
def test_any_problem_file_is_loaded_or_refused(data: bytes) -> None:
    load(data)


@pytest.mark.parametrize(("doc", "message"), [f[1:] for f in FOUND], ids=[f[0] for f in FOUND])
def test_the_documents_that_broke_the_loader_are_refused_naming_the_field(
    doc: dict[str, Any], message: str
) -> None:
    with pytest.raises(RotaInputError) as err:
        parse_problem(doc)
    assert err.value.message == message


@pytest.mark.parametrize(
    ("data", "problem"), [f[1:] for f in FOUND_FILES], ids=[f[0] for f in FOUND_FILES]
)
def test_the_files_that_broke_the_reader_are_refused_naming_the_file(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    path = tmp_path / "problem.json"
    path.write_bytes(data)
    with pytest.raises(RotaInputError) as err:
        load_problem(path)
    assert err.value.message == f"{path}: {problem}"
