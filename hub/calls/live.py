"""Live calls: a tablet asks, the hub queues, a clinician claims, they talk, it ends.

Every transition is one conditional UPDATE (``uow.consultations.transition``): the row
changes only if it is still in a state the event allows, so two clinicians pressing
"Answer" together cannot both win, on SQLite or PostgreSQL. Every transition is
audited, and announced (after commit) through ``ctx.events``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from hub.audit.trail import AuditRecord
from hub.calls import closure, guest_services, news2, notes
from hub.calls.consultation import SOFT_SIGNS, Consultation, Reason, State
from hub.calls.lifecycle import LIVE, Event, next_state, refusal, sources
from hub.calls.queue import QueueEntry, order
from hub.calls.queue import position as queue_position
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.events import CallChanged
from hub.outcomes.codes import Intention
from hub.people.access import Actor, Role
from hub.ports import UnitOfWork
from hub.rostering import routing_rules
from hub.rostering.cover import on_shift_at

OBSERVATION_FIELDS = tuple(f.name for f in fields(news2.Observations))
HANDLE_WINDOW = timedelta(days=7)  # the calls a wait estimate's mean handling time is over


@dataclass(frozen=True)
class CallRequest:
    """What the carer says when asking for the hub (validated)."""

    resident_id: int
    reason: Reason
    soft_signs: tuple[str, ...]
    observations: Mapping[str, Any]
    intention: Intention | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CallRequest:
        resident_id = data.get("resident_id")
        if isinstance(resident_id, bool) or not isinstance(resident_id, int) or resident_id < 1:
            raise ValidationError(
                "resident_id must be a positive whole number", field="resident_id"
            )
        try:
            reason = Reason(str(data.get("reason")))
        except ValueError:
            raise ValidationError(
                f"reason must be one of {', '.join(Reason)}", field="reason"
            ) from None
        signs = data.get("soft_signs") or []
        if not isinstance(signs, list) or any(s not in SOFT_SIGNS for s in signs):
            raise ValidationError(
                f"soft_signs must be a list of {', '.join(SOFT_SIGNS)}", field="soft_signs"
            )
        raw_obs = data.get("observations") or {}
        if not isinstance(raw_obs, Mapping):
            raise ValidationError("observations must be an object", field="observations")
        unknown = sorted(set(raw_obs) - set(OBSERVATION_FIELDS))
        if unknown:
            raise ValidationError(
                f"unknown observation(s): {', '.join(unknown)}", field="observations"
            )
        observations = {k: v for k, v in raw_obs.items() if v is not None and v != ""}
        news2.Observations(**observations)  # validates; raises ObservationError
        intention_raw = data.get("intention")
        try:
            intention = Intention(intention_raw) if intention_raw else None
        except ValueError:
            raise ValidationError(
                f"intention must be one of {', '.join(Intention)}", field="intention"
            ) from None
        return cls(resident_id, reason, tuple(dict.fromkeys(signs)), observations, intention)

    def news2(self) -> news2.Result | None:
        if not self.observations:
            return None
        return news2.score(news2.Observations(**self.observations))


@dataclass(frozen=True)
class CallView:
    """A call as one of its participants sees it, including queue position."""

    call: Consultation
    position: int | None
    clinician_name: str | None


async def request_call(ctx: HubContext, actor: Actor, request: CallRequest) -> Consultation:
    if not actor.is_device or actor.home_id is None:
        raise Forbidden("calls are started from an enrolled care-home tablet")
    now = ctx.clock.now()
    result = request.news2()
    async with ctx.uow(brief=True) as uow:
        resident = await uow.residents.get(request.resident_id)
        if resident is None or resident.home_id != actor.home_id:
            await _audit(
                uow,
                actor,
                "resident.denied",
                request.resident_id,
                now,
                {"during": "call request"},
                subject="resident",
            )
            await uow.commit()
            raise NotFound(f"no resident {request.resident_id}")
        if await uow.consultations.open_for_resident(resident.id) is not None:
            raise Conflict(f"the hub already has a call for {resident.display_name}")
        call = Consultation(
            id=0,
            home_id=actor.home_id,
            resident_id=resident.id,
            device_id=actor.id,
            state=State.REQUESTED,
            reason=request.reason,
            soft_signs=request.soft_signs,
            observations=dict(request.observations),
            news2_score=result.aggregate if result else None,
            news2_band=result.band if result else None,
            intention=request.intention,
            requested_at=now,
        )
        call_id = await uow.consultations.add(call)
        await _audit(
            uow,
            actor,
            "call.requested",
            call_id,
            now,
            {
                "reason": request.reason.value,
                "news2": call.news2_score,
                "missing": list(result.missing) if result else list(news2.PARAMETERS),
            },
        )
        # Queued in the same transaction: once the tablet hears back, the hub has it.
        await _move(uow, actor, call_id, State.REQUESTED, Event.QUEUE, now)
        stored = await uow.consultations.get(call_id)
        await uow.commit()
    assert stored is not None
    await _announce(ctx, stored)
    return stored


async def claim(ctx: HubContext, actor: Actor, call_id: int) -> Consultation:
    """Answer a waiting call. Exactly one of several simultaneous claims wins.

    Routing (``hub.rostering.routing_rules``) decides first whether this clinician may
    answer it now:
    off shift, or without a skill the call needs, is Forbidden (and audited). Then a
    call this clinician ended without an outcome (or a deferral) refuses it with
    ``closure.OutcomeOutstanding`` (audited) naming that call (docs/outcomes.md)."""
    _require_clinician(actor)
    now = ctx.clock.now()
    await _check_routing(ctx, actor, call_id, now)
    await closure.check_outcomes_closed(ctx, actor, call_id)
    async with ctx.uow(brief=True) as uow:
        won = await uow.consultations.transition(
            call_id,
            sources(Event.CLAIM),
            State.ANSWERED,
            answered_by=actor.id,
            answered_at=now,
        )
        if not won:
            fresh = await _get(uow, call_id)
            raise Conflict(refusal(call_id, fresh.state, await _name(uow, fresh.answered_by)))
        await _audit(
            uow,
            actor,
            "call.claim",
            call_id,
            now,
            {"from": State.WAITING.value, "to": State.ANSWERED.value},
        )
        stored = await _get(uow, call_id)
        await uow.commit()
    await _announce(ctx, stored)
    return stored


async def connected(ctx: HubContext, actor: Actor, call_id: int) -> Consultation:
    """Media flows between the two sides: answered → in_call (idempotent)."""
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await _participant_call(uow, actor, call_id)
        if call.state is State.IN_CALL:
            return call
        await _move(uow, actor, call_id, call.state, Event.CONNECT, now)
        stored = await _get(uow, call_id)
        await uow.commit()
    await _announce(ctx, stored)
    return stored


async def release(ctx: HubContext, actor: Actor, call_id: int) -> Consultation:
    """Hand a call back to the queue (it keeps its original place by request time)."""
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await _participant_call(uow, actor, call_id)
        await notes.commit_draft(uow, call, now, during="release")  # nothing left in a draft
        await _move(
            uow, actor, call_id, call.state, Event.RELEASE, now, answered_by=None, answered_at=None
        )
        stored = await _get(uow, call_id)
        await uow.commit()
    await _announce(ctx, stored, previous_clinician=actor.id)
    return stored


async def transfer(ctx: HubContext, actor: Actor, call_id: int, to_user_id: int) -> Consultation:
    _require_clinician(actor)
    now = ctx.clock.now()
    cover = await on_shift_at(ctx, now)
    async with ctx.uow(brief=True) as uow:
        call = await _get(uow, call_id)
        if call.state is not State.WAITING:
            call = await _participant_call(uow, actor, call_id)
        colleague = await uow.staff.get(to_user_id)
        if colleague is None or not colleague.active or colleague.role is not Role.CLINICIAN:
            raise NotFound(f"no active clinician {to_user_id} to transfer to")
        if colleague.id == actor.id:
            raise Conflict("you cannot transfer a call to yourself")
        why = routing_rules.refusal(
            colleague.id,
            {s.value for s in colleague.skills},
            call.reason,
            cover,
            ctx.settings.rota,
            who=colleague.display_name,
        )
        if why is not None:
            await _audit(
                uow, actor, "call.transfer_refused", call_id, now, {"to": colleague.id, "why": why}
            )
            await uow.commit()
            raise Forbidden(why)
        await notes.commit_draft(uow, call, now, during="transfer")  # nothing left in a draft
        await _move(
            uow,
            actor,
            call_id,
            call.state,
            Event.TRANSFER,
            now,
            answered_by=colleague.id,
            answered_at=now,
            detail={"to": colleague.id},
        )
        stored = await _get(uow, call_id)
        await uow.commit()
    await _announce(ctx, stored, previous_clinician=call.answered_by or actor.id)
    return stored


async def cancel(ctx: HubContext, actor: Actor, call_id: int) -> Consultation:
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await _participant_call(uow, actor, call_id)
        await _move(uow, actor, call_id, call.state, Event.CANCEL, now, ended_at=now)
        stored = await _get(uow, call_id)
        await uow.commit()
    await _announce(ctx, stored, previous_clinician=call.answered_by)
    return stored


async def end(ctx: HubContext, actor: Actor, call_id: int) -> Consultation:
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await _participant_call(uow, actor, call_id)
        if call.state in (State.REQUESTED, State.WAITING) and actor.is_device:
            await _move(uow, actor, call_id, call.state, Event.CANCEL, now, ended_at=now)
        else:
            await notes.commit_draft(uow, call, now, during="end")  # nothing left in a draft
            await _move(uow, actor, call_id, call.state, Event.END, now, ended_at=now)
        stored = await _get(uow, call_id)
        await uow.commit()
    await _announce(ctx, stored, previous_clinician=call.answered_by)
    return stored


async def abandon_stale(ctx: HubContext, grace: timedelta) -> list[int]:
    """Waiting calls whose tablet has not been heard from for ``grace`` are abandoned."""
    now = ctx.clock.now()
    abandoned = []
    async with ctx.uow() as uow:
        for call in await uow.consultations.stale_waiting(now - grace):
            if await uow.consultations.transition(
                call.id, {State.WAITING}, State.ABANDONED, ended_at=now
            ):
                await uow.audit.append(
                    AuditRecord(
                        "call.abandon",
                        "system:0",
                        "consultation",
                        str(call.id),
                        {
                            "from": State.WAITING.value,
                            "to": State.ABANDONED.value,
                            "grace_s": int(grace.total_seconds()),
                        },
                    ),
                    now,
                )
                abandoned.append(call)
        await uow.commit()
    for call in abandoned:
        await _announce(ctx, call)
    return [c.id for c in abandoned]


async def device_seen(ctx: HubContext, actor: Actor) -> Consultation | None:
    """A tablet is still there: keeps its waiting call from being abandoned."""
    async with ctx.uow(brief=True) as uow:
        call = await uow.consultations.open_for_device(actor.id)
        if call is not None:
            await uow.consultations.touch_device(call.id, ctx.clock.now())
            await uow.commit()
    return call


async def view(ctx: HubContext, actor: Actor, call_id: int) -> CallView:
    async with ctx.uow() as uow:
        call = await _participant_call(uow, actor, call_id, allow_any_clinician=True)
        entries = await uow.consultations.queue()
        name = await _name(uow, call.answered_by)
    return CallView(call, queue_position(entries, call_id), name)


async def queue(ctx: HubContext) -> list[QueueEntry]:
    async with ctx.uow(brief=True) as uow:
        return order(await uow.consultations.queue())


async def open_calls_of(ctx: HubContext, actor: Actor) -> list[Consultation]:
    async with ctx.uow(brief=True) as uow:
        if actor.is_device:
            call = await uow.consultations.open_for_device(actor.id)
            return [call] if call else []
        return await uow.consultations.open_for_clinician(actor.id)


async def participants(ctx: HubContext, call_id: int) -> Consultation:
    async with ctx.uow(brief=True) as uow:
        return await _get(uow, call_id)


@dataclass(frozen=True)
class CallNews:
    """One changed call as its parties are told it: state, parties and who answers it."""

    call_id: int
    state: State
    state_seq: int
    device_id: int | None
    answered_by: int | None
    clinician_name: str | None


@dataclass(frozen=True)
class QueueNews:
    """What every listener of a burst of call events needs, read once (one unit of
    work): the queue in order (NEWS2 score, band and missing as stored, never re-scored),
    the mean time a call took over the last week (None: no data) and each changed call
    (``calls``; a call id that no longer exists is left out)."""

    queue: list[QueueEntry]
    mean_handle_s: float | None
    calls: dict[int, CallNews]


async def news(ctx: HubContext, call_ids: Collection[int]) -> QueueNews:
    """One read for a burst of call events, built once and fanned out to every
    listener. An open call is read from the queue itself; a closed one (and its
    clinician's name) by id."""
    calls: dict[int, CallNews] = {}
    async with ctx.uow(brief=True) as uow:
        entries = order(await uow.consultations.queue())
        mean = await uow.consultations.mean_handle_s(ctx.clock.now() - HANDLE_WINDOW)
        queued = {e.call_id: e for e in entries}
        for call_id in call_ids:
            if (e := queued.get(call_id)) is not None:
                calls[call_id] = CallNews(
                    call_id, e.state, e.state_seq, e.device_id, e.answered_by, e.claimed_by
                )
            elif (call := await uow.consultations.get(call_id)) is not None:
                name = await _name(uow, call.answered_by)
                calls[call_id] = CallNews(
                    call_id, call.state, call.state_seq, call.device_id, call.answered_by, name
                )
    return QueueNews(entries, mean, calls)


async def _check_routing(ctx: HubContext, actor: Actor, call_id: int, now: datetime) -> None:
    """Refuse (Forbidden, audited) a claim routing does not allow. A call that cannot be
    claimed anyway (gone, taken) is left for the claim itself to report."""
    cover = await on_shift_at(ctx, now)
    async with ctx.uow(brief=True) as uow:
        call = await uow.consultations.get(call_id)
        if call is None or call.state not in sources(Event.CLAIM):
            return
        user = await uow.staff.get(actor.id)
        skills = {s.value for s in user.skills} if user is not None else set()
        why = routing_rules.refusal(actor.id, skills, call.reason, cover, ctx.settings.rota)
        if why is None:
            return
        await _audit(uow, actor, "call.claim_refused", call_id, now, {"why": why})
        await uow.commit()
    raise Forbidden(why)


def _require_clinician(actor: Actor) -> None:
    if actor.kind != "staff" or actor.role is not Role.CLINICIAN:
        raise Forbidden("only clinicians answer and handle calls")


async def _get(uow: UnitOfWork, call_id: int) -> Consultation:
    call = await uow.consultations.get(call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


async def _participant_call(
    uow: UnitOfWork, actor: Actor, call_id: int, *, allow_any_clinician: bool = False
) -> Consultation:
    """The call, if ``actor`` takes part in it; otherwise not found (or not yours)."""
    call = await uow.consultations.get(call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    if actor.is_device:
        if call.device_id != actor.id:
            raise NotFound(f"no call {call_id}")
        return call
    if actor.kind == "system":
        return call
    if not actor.can_see_home(call.home_id):  # a care-home manager: only their own home
        raise NotFound(f"no call {call_id}")
    if call.answered_by == actor.id or allow_any_clinician:
        return call
    holder = await _name(uow, call.answered_by)
    if call.answered_by is None:
        raise Conflict(refusal(call_id, call.state))
    raise Forbidden(f"call {call_id} is being handled by {holder}")


async def _move(
    uow: UnitOfWork,
    actor: Actor,
    call_id: int,
    current: State,
    event: Event,
    at: Any,
    *,
    detail: Mapping[str, Any] | None = None,
    **values: Any,
) -> State:
    try:
        target = next_state(call_id, current, event)
    except Conflict:
        call = await _get(uow, call_id)
        raise Conflict(refusal(call_id, current, await _name(uow, call.answered_by))) from None
    if not await uow.consultations.transition(call_id, {current}, target, **values):
        fresh = await _get(uow, call_id)
        raise Conflict(refusal(call_id, fresh.state, await _name(uow, fresh.answered_by)))
    await _audit(
        uow,
        actor,
        f"call.{event.value}",
        call_id,
        at,
        {"from": current.value, "to": target.value, **(detail or {})},
    )
    if current in LIVE and target not in LIVE:  # ended or handed back: guests go too
        await guest_services.end_with_call(uow, call_id, actor.ref, at)
    return target


async def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    subject_id: int,
    at: Any,
    detail: Mapping[str, Any],
    *,
    subject: str = "consultation",
) -> None:
    await uow.audit.append(AuditRecord(action, actor.ref, subject, str(subject_id), detail), at)


async def _name(uow: UnitOfWork, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = await uow.staff.get(user_id)
    return user.display_name if user else None


async def _announce(
    ctx: HubContext, call: Consultation, previous_clinician: int | None = None
) -> None:
    await ctx.events.publish(
        CallChanged(
            call.id,
            call.state.value,
            call.home_id,
            call.device_id,
            call.answered_by,
            previous_clinician,
        )
    )
