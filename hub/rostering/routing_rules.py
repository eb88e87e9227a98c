"""Routing live calls to whoever is on shift (pure decisions, no IO).

The rules, given the moment's cover (``hub.rostering.cover.OnShift``) and ``[rota]`` settings:

- **Enforced** (``rota.enforce_on_shift`` is true, a published rota is in force, and at
  least one clinician is on shift): only clinicians on shift may answer; everyone else
  sees the queue read-only. A call whose reason needs a skill (``rota.skill_for_reason``,
  e.g. medication → prescriber) may be answered only by on-shift clinicians with that
  skill — unless nobody on shift has it, in which case any on-shift clinician may answer
  and the call raises an "unanswerable" alert.
- **Not enforced** (the setting is off, no published rota covers the moment, or a rota is
  in force but nobody is on shift): every clinician may answer. A skill-needing call is
  still kept for clinicians with the skill, but only while at least one clinician *on
  shift* has it — so with no rota at all nothing is gated.

Routing never leaves a call with nobody allowed to answer it: each restriction applies
only while someone on shift meets it, and the alerts say when cover has fallen short.
Transfers use the same rule for the colleague a call is handed to.

Alerts, for waiting calls only: ``unanswerable`` when a rota is in force and nobody on
shift meets the call's need (nobody on shift at all, or nobody with the skill), and
``over_target`` when the call has waited longer than ``rota.answer_target_s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from hub.calls.consultation import State
from hub.calls.queue import QueueEntry, order
from hub.rostering.cover import OnShift
from hub.rostering.problem import ShiftRecord
from hub.settings import RotaSettings

NOT_ON_SHIFT = "you are not on shift (the queue is read-only until your shift starts)"
UNANSWERABLE = "unanswerable"
OVER_TARGET = "over_target"


def skill_label(skill: str) -> str:
    return skill.replace("_", " ")


def needed_skill(reason: str, settings: RotaSettings) -> str | None:
    """The skill a call for this reason needs, if any (``rota.skill_for_reason``)."""
    return settings.skill_for_reason.get(str(reason)) or None


def enforced(cover: OnShift, settings: RotaSettings) -> bool:
    """Whether "only clinicians on shift may answer" applies at the cover's moment."""
    return settings.enforce_on_shift and cover.in_force and bool(cover.staff)


def read_only(clinician_id: int, cover: OnShift, settings: RotaSettings) -> bool:
    """A clinician who may answer nothing right now, because they are off shift."""
    return enforced(cover, settings) and not cover.has(clinician_id)


def refusal(
    clinician_id: int,
    skills: Iterable[str],
    reason: str,
    cover: OnShift,
    settings: RotaSettings,
    *,
    who: str | None = None,
) -> str | None:
    """Why this clinician may not answer a call for ``reason`` now, or None if they may.

    ``skills`` are the clinician's own (used when on-shift routing is not enforced).
    ``who`` names the clinician in the third person (a transfer target); without it
    the message speaks to the clinician who pressed Answer.
    """
    skill = needed_skill(reason, settings)
    holders = cover.with_skill(skill) if skill else []
    if enforced(cover, settings):
        if not cover.has(clinician_id):
            if who is None:
                return NOT_ON_SHIFT
            return f"{who} is not on shift, so cannot take this call"
        has_skill = skill is not None and skill in cover.staff[clinician_id]
    else:
        has_skill = skill is not None and skill in frozenset(skills)
    if skill and holders and not has_skill:
        if who is None:
            return f"this call needs a {skill_label(skill)}"
        return f"this call needs a {skill_label(skill)}, and {who} is not one"
    return None


def shortfall(reason: str, cover: OnShift, settings: RotaSettings) -> str | None:
    """Why nobody on shift meets this call's need (a rota is in force), or None."""
    if not cover.in_force:
        return None
    if not cover.staff:
        return "nobody is on shift"
    skill = needed_skill(reason, settings)
    if skill and not cover.with_skill(skill):
        return f"no {skill_label(skill)} is on shift"
    return None


@dataclass(frozen=True)
class Alert:
    """Something about a waiting call the console shows and telehub logs."""

    call_id: int
    kind: str  # UNANSWERABLE | OVER_TARGET
    home_name: str
    resident_name: str
    reason: str
    waited_s: int
    why: str

    @property
    def key(self) -> tuple[int, str]:
        return (self.call_id, self.kind)


def waited_s(entry: QueueEntry, now: datetime) -> int:
    return max(0, int((now - entry.requested_at).total_seconds()))


def _minutes(seconds: int) -> str:
    m, s = divmod(seconds, 60)
    if m == 0:
        return f"{s} s"
    return f"{m} min" if s == 0 or m >= 10 else f"{m} min {s} s"


def over_target(entry: QueueEntry, now: datetime, settings: RotaSettings) -> bool:
    return entry.state is State.WAITING and waited_s(entry, now) > settings.answer_target_s


def alerts(
    entries: Sequence[QueueEntry], cover: OnShift, settings: RotaSettings, now: datetime
) -> list[Alert]:
    """The alerts of the waiting calls, in queue order (unanswerable before over target)."""
    out: list[Alert] = []
    for e in order(entries):
        if e.state is not State.WAITING:
            continue
        waited = waited_s(e, now)
        short = shortfall(e.reason, cover, settings)
        if short is not None:
            out.append(
                Alert(
                    e.call_id, UNANSWERABLE, e.home_name, e.resident_name, e.reason, waited, short
                )
            )
        if over_target(e, now, settings):
            why = (
                f"waiting {_minutes(waited)}, over the "
                f"{_minutes(settings.answer_target_s)} answer target"
            )
            out.append(
                Alert(e.call_id, OVER_TARGET, e.home_name, e.resident_name, e.reason, waited, why)
            )
    return out


def shift_note(shifts: Iterable[ShiftRecord], now: datetime, zone: tzinfo) -> str | None:
    """ "On shift until 15:00" or "Next shift: Tue 07:00" (a date if a week or more away)."""
    ordered = sorted(shifts, key=lambda s: s.starts_at)
    current = [s for s in ordered if s.starts_at <= now < s.ends_at]
    if current:
        until = max(s.ends_at for s in current)
        # A shift that starts as this one ends (no gap) extends it.
        for s in ordered:
            if s.starts_at == until:
                until = s.ends_at
        local = until.astimezone(zone)
        day = "" if local.date() == now.astimezone(zone).date() else local.strftime("%a ")
        return f"On shift until {day}{local:%H:%M}"
    upcoming = [s for s in ordered if s.starts_at > now]
    if not upcoming:
        return None
    start = upcoming[0].starts_at
    local = start.astimezone(zone)
    fmt = "%a %H:%M" if start - now < timedelta(days=6) else "%a %d %b %H:%M"
    return f"Next shift: {local.strftime(fmt)}"
