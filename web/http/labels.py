"""What people read instead of codes, registered on the page templates in one place.

Every set of labels is its enum's ``label`` property (reasons, call states, outcomes,
follow-ups, judgements, re-presentations, ACVPU, leave); times are UK wall-clock time
(``web/http/local_time.py``). Exports (CSV, JSON, FHIR) keep codes and ISO 8601 with an
offset: they are for machines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Protocol

import jinja2

from hub.calls.consultation import SOFT_SIGNS, Reason, State
from hub.calls.news2 import Consciousness
from hub.outcomes.codes import (
    AdmissionJudgement,
    FollowUp,
    Intention,
    OutcomeCode,
    RepresentationKind,
)
from web.http.local_time import hub_zone, local


class Coded(Protocol):
    """An enum member with words for people."""

    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


# The label sets a page script may need, by the name it asks for (console.html).
LABEL_SETS: dict[str, Iterable[Coded]] = {
    "reason": Reason,
    "state": State,
    "outcome": OutcomeCode,
    "follow_up": FollowUp,
    "intention": Intention,
    "consciousness": Consciousness,
}


def label_of(enum: Callable[[str], Coded], value: str | None) -> str:
    """The label of a coded value ("—" when there is none, the code if it is unknown)."""
    if not value:
        return "—"
    try:
        return enum(value).label
    except ValueError:
        return value


def local_date(value: date | datetime | None) -> str:
    """A day for people (``02 Mar 2026``); an instant is first put in UK time."""
    if value is None:
        return "—"
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(hub_zone())
    return value.strftime("%d %b %Y")


def local_datetime(value: datetime | None) -> str:
    """An instant as UK wall-clock time (a naive one is taken as already local)."""
    if value is not None and value.tzinfo is None:
        return value.strftime("%d %b %Y %H:%M")
    return local(value)


def page_labels() -> dict[str, dict[str, str]]:
    """Every label set a page script reads, as ``{set: {code: label}}``."""
    sets = {name: {m.value: m.label for m in e} for name, e in LABEL_SETS.items()}
    sets["soft_sign"] = dict(SOFT_SIGNS)
    return sets


def install(env: jinja2.Environment) -> None:
    env.filters["dt"] = local_datetime
    env.filters["d"] = local_date
    globals_: dict[str, Any] = {
        "local": local,
        "reason_label": lambda r: label_of(Reason, r),
        "state_label": lambda s: label_of(State, s),
        "outcome_label_of": lambda o: label_of(OutcomeCode, o),
        "judgement_label_of": lambda j: label_of(AdmissionJudgement, j),
        "representation_label": lambda k: label_of(RepresentationKind, k),
        "page_labels": page_labels,
    }
    env.globals.update(globals_)
