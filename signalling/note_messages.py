"""The notes messages of the signalling protocol (docs/signalling.md, "Notes").

Part of ``signalling.protocol``: its unions include these classes (``parse`` and
``dump`` handle them), and its field rules (lengths, ranges, date-times by field name)
apply to them. Kept apart only to keep that module a readable size. Stdlib only.

A console opens a call's notes (``notes.open``) and gets every entry and its own draft
(``notes.snapshot``). It saves the draft as the clinician types (``notes.draft``, from
the revision it last saw: ``notes.draft_saved``, or ``notes.draft_conflict`` with the
text now stored when another tab saved first). ``notes.add`` and ``notes.correct`` add
an entry; every console with the call open gets it as ``notes.entry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

# -- client → server ------------------------------------------------------------------


@dataclass(frozen=True)
class NotesOpen:
    TYPE: ClassVar[str] = "notes.open"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class NotesClose:
    TYPE: ClassVar[str] = "notes.close"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class NotesDraft:
    TYPE: ClassVar[str] = "notes.draft"
    call_id: int
    text: str
    base: int  # the draft revision this text was typed on (0: no draft yet)
    ref: str | None = None


@dataclass(frozen=True)
class NotesAdd:
    TYPE: ClassVar[str] = "notes.add"
    call_id: int
    text: str
    base: int | None = None  # set when the text is the draft at this revision
    ref: str | None = None


@dataclass(frozen=True)
class NotesCorrect:
    TYPE: ClassVar[str] = "notes.correct"
    call_id: int
    corrects: int  # the entry this one corrects (of the same call)
    text: str
    ref: str | None = None


# -- server → client ------------------------------------------------------------------


@dataclass(frozen=True)
class NoteItem:
    """One entry in a ``notes.snapshot`` (not a message by itself)."""

    entry_id: int
    author_name: str
    written_at: str  # ISO 8601
    text: str
    corrects: int | None


@dataclass(frozen=True)
class NotesSnapshot:
    TYPE: ClassVar[str] = "notes.snapshot"
    call_id: int
    entries: tuple[NoteItem, ...]  # oldest first
    draft_text: str  # this clinician's own draft ("" if none)
    draft_revision: int  # 0: no draft saved yet
    draft_saved_at: str | None  # ISO 8601
    ref: str | None = None


@dataclass(frozen=True)
class NotesEntry:
    """A new entry, to every console that has the call's notes open."""

    TYPE: ClassVar[str] = "notes.entry"
    call_id: int
    entry_id: int
    author_name: str
    written_at: str
    text: str
    corrects: int | None


@dataclass(frozen=True)
class NotesAdded:
    TYPE: ClassVar[str] = "notes.added"
    call_id: int
    entry_id: int
    # The draft's revision now that the add emptied it; null when the draft was left
    # as it was, because another tab changed it since ``base``.
    draft_revision: int | None
    ref: str | None = None


@dataclass(frozen=True)
class NotesDraftSaved:
    TYPE: ClassVar[str] = "notes.draft_saved"
    call_id: int
    revision: int
    saved_at: str  # ISO 8601
    ref: str | None = None


@dataclass(frozen=True)
class NotesDraftConflict:
    """Nothing was saved: the draft moved on since ``base`` (another tab saved)."""

    TYPE: ClassVar[str] = "notes.draft_conflict"
    call_id: int
    revision: int
    draft_text: str  # the draft as stored now
    saved_at: str | None
    ref: str | None = None


NotesClientMessage: TypeAlias = NotesOpen | NotesClose | NotesDraft | NotesAdd | NotesCorrect
NotesServerMessage: TypeAlias = (
    NotesSnapshot | NotesEntry | NotesAdded | NotesDraftSaved | NotesDraftConflict
)
