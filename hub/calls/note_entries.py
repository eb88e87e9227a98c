"""Clinical note entries and drafts: the records themselves (the rules are hub/calls/notes.py).

An entry is written once and never changed; a correction is a new entry naming the
entry it corrects. A draft is a clinician's unfinished text for a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.errors import ValidationError

MAX_NOTES = 20_000
#: The author shown for notes written before notes were entries (migration 0009).
EARLIER_NOTES = "Earlier notes"


@dataclass(frozen=True)
class NewNote:
    call_id: int
    author_ref: str  # "staff:3" (the audit trail's reference)
    author_name: str  # as shown, kept even if the account is renamed later
    written_at: datetime
    text: str
    corrects: int | None = None


@dataclass(frozen=True)
class NoteEntry:
    id: int
    call_id: int
    author_ref: str
    author_name: str
    written_at: datetime
    text: str
    corrects: int | None = None


@dataclass(frozen=True)
class Draft:
    """A clinician's unfinished text for a call. Revision 0: never saved."""

    text: str = ""
    revision: int = 0
    saved_at: datetime | None = None


def corrected_ids(entries: Sequence[NoteEntry]) -> set[int]:
    """Ids of entries that a later entry corrects."""
    return {e.corrects for e in entries if e.corrects is not None}


def check_text(text: str) -> str:
    if len(text) > MAX_NOTES:
        raise ValidationError(f"notes must be at most {MAX_NOTES} characters", field="notes")
    if not text.strip():
        raise ValidationError("a note cannot be empty", field="notes")
    return text
