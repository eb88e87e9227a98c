"""Inviting, admitting and removing guests of a live call (the values and rules are in
``hub.calls.guests``).

Only the clinician who has a live call (answered or in call) invites, admits and
removes its guests, withdraws its links, or ends the guest part of it; the call goes
on. Whoever opens a link gets a guest session (``claim``), which ``guest_actor`` turns
back into an ``Actor(kind="guest")`` for the edges; that actor can do nothing here
but see itself and leave, and nothing anywhere else. When the call stops being live
(``live`` calls ``end_with_call`` in the same transaction) every guest still there has
left and every open link is withdrawn.

Every write takes the audit chain's lock first (every one of them is audited anyway):
writes to one call's guests then happen one at a time on PostgreSQL too (SQLite's
BEGIN IMMEDIATE already does this), so "at most N guests" cannot be overrun by two
invitations at once, and the lock order is the same in every one of them. Using a link
is still one conditional UPDATE (``uow.guests.use_invitation``): of two claims, exactly
one wins whatever happened before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation
from hub.calls.guests import (
    CALL_OVER,
    GUEST,
    UNKNOWN_LINK,
    Guest,
    GuestKind,
    GuestState,
    Invitation,
    InvitationGone,
    InvitationStatus,
    digest,
    new_token,
    parse_name,
    plausible,
)
from hub.calls.lifecycle import LIVE, refusal
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound
from hub.events import GuestsChanged
from hub.people.access import Actor, Role
from hub.ports import UnitOfWork

OTHER_HOME = "This link cannot be used while this device is signed in for another care home"


@dataclass(frozen=True)
class Participants:
    """Who came to a call as a guest (gone or not, in the order they came), and, for the
    clinician who has the live call, its invitations (empty for everyone else)."""

    call_id: int
    guests: list[Guest]
    invitations: list[Invitation]


@dataclass(frozen=True)
class GuestsEnded:
    removed: list[Guest]
    withdrawn: list[Invitation]


async def invite(
    ctx: HubContext, actor: Actor, call_id: int, kind: GuestKind
) -> tuple[Invitation, str]:
    """A single-use link for one guest of this kind: the invitation, and its token (given
    once, to the clinician; only its digest is kept)."""
    _require_clinician(actor)
    now = ctx.clock.now()
    settings = ctx.settings.guests
    async with ctx.uow() as uow:
        await uow.audit.lock()
        await _held_call(uow, actor, call_id)
        if await uow.guests.active_count(call_id, now) >= settings.max_per_call:
            raise Conflict(
                f"a call can have at most {settings.max_per_call} guests at once, counting "
                "open invitations: remove a guest or withdraw an invitation first"
            )
        token = new_token()
        expires = now + timedelta(minutes=settings.invitation_minutes)
        invitation = await uow.guests.add_invitation(
            call_id, kind, digest(token), actor.ref, now, expires
        )
        await _audit(
            uow,
            actor.ref,
            "guest.invited",
            call_id,
            now,
            {"invitation_id": invitation.id, "kind": kind.value, "expires_at": expires.isoformat()},
        )
        await uow.commit()
    return invitation, token


async def look_up(ctx: HubContext, token: str, *, opened_by: Actor | None = None) -> Invitation:
    """The invitation behind a link, if it can still be used: otherwise ``NotFound``
    (unknown or forged), ``InvitationGone`` (used, expired, withdrawn, the call over) or
    ``Forbidden`` (opened on a tablet or account of another care home, audited).
    The refusals say nothing about the call or the resident."""
    now = ctx.clock.now()
    if not plausible(token):
        raise NotFound(UNKNOWN_LINK)
    async with ctx.uow() as uow:
        invitation = await uow.guests.invitation_by_token(digest(token))
        if invitation is None:
            raise NotFound(UNKNOWN_LINK)
        call = await uow.consultations.get(invitation.call_id)
        if opened_by is not None and _of_another_home(opened_by, call):
            await _refused(uow, opened_by.ref, invitation, now, "another care home")
            await uow.commit()
            raise Forbidden(OTHER_HOME)
        gone = _gone(invitation, call, now)
        if gone is not None:
            raise gone
    return invitation


async def claim(
    ctx: HubContext, token: str, name: str, opened_by: Actor | None = None
) -> tuple[Guest, str]:
    """Use a link: the guest (waiting in the lobby) and their session token (given once,
    for their cookie; only its digest is kept). A link works once."""
    now = ctx.clock.now()
    if not plausible(token):
        raise NotFound(UNKNOWN_LINK)
    async with ctx.uow() as uow:
        await uow.audit.lock()
        invitation = await uow.guests.invitation_by_token(digest(token))
        if invitation is None:
            raise NotFound(UNKNOWN_LINK)
        call = await uow.consultations.get(invitation.call_id)
        who = opened_by.ref if opened_by is not None else "anonymous"
        if opened_by is not None and _of_another_home(opened_by, call):
            await _refused(uow, who, invitation, now, "another care home")
            await uow.commit()
            raise Forbidden(OTHER_HOME)
        gone = _gone(invitation, call, now)
        if gone is not None:
            await _refused(uow, who, invitation, now, gone.status.value)
            await uow.commit()
            raise gone
        clean = parse_name(name)
        # The guard: of two claims of one link, only one UPDATE matches.
        if not await uow.guests.use_invitation(invitation.id, now):
            fresh = await uow.guests.invitation(invitation.id)
            status = fresh.status(now) if fresh is not None else InvitationStatus.USED
            raise InvitationGone(
                status if status is not InvitationStatus.OPEN else InvitationStatus.USED,
                invitation.id,
            )
        session = new_token()
        guest = await uow.guests.add_guest(invitation, clean, digest(session), now)
        await _audit(
            uow,
            guest.ref,
            "guest.joined",
            invitation.call_id,
            now,
            {
                "guest_id": guest.id,
                "invitation_id": invitation.id,
                "kind": guest.kind.value,
                "name": guest.name,
                "opened_by": who,
            },
        )
        await uow.commit()
    await ctx.events.publish(GuestsChanged(guest.call_id))
    return guest, session


async def guest_actor(ctx: HubContext, session_token: str) -> Actor | None:
    """The guest behind a guest cookie, while they are still in the live call (or its
    lobby); None once they left, were removed, or the call is over."""
    if not plausible(session_token):
        return None
    async with ctx.uow(brief=True) as uow:
        guest = await uow.guests.guest_by_session(digest(session_token))
        if guest is None or not guest.present:
            return None
        call = await uow.consultations.get(guest.call_id)
    if call is None or call.state not in LIVE:
        return None
    return guest.actor()


async def current(ctx: HubContext, actor: Actor) -> Guest:
    """A guest's own record (their lobby): nothing about the call or the resident."""
    _require_guest(actor)
    async with ctx.uow() as uow:
        guest = await uow.guests.guest(actor.id)
    if guest is None:
        raise NotFound("you are not a guest of a call")
    return guest


async def admit(ctx: HubContext, actor: Actor, guest_id: int) -> Guest:
    """Let a waiting guest into the call."""
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.audit.lock()
        guest = await _guest(uow, guest_id)
        await _held_call(uow, actor, guest.call_id)
        if not await uow.guests.admit(guest_id, now):
            raise Conflict(
                f"{guest.name} is {guest.state.label.lower()}: only a waiting guest is let in"
            )
        await _audit(
            uow,
            actor.ref,
            "guest.admitted",
            guest.call_id,
            now,
            {"guest_id": guest.id, "kind": guest.kind.value},
        )
        await uow.commit()
    await ctx.events.publish(GuestsChanged(guest.call_id))
    return replace(guest, state=GuestState.IN_CALL, admitted_at=now)


async def remove(ctx: HubContext, actor: Actor, guest_id: int) -> Guest:
    """Remove a guest, waiting or in the call: their session stops working at once."""
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.audit.lock()
        guest = await _guest(uow, guest_id)
        await _held_call(uow, actor, guest.call_id)
        removed = await _end_guest(uow, guest, GuestState.REMOVED, actor.ref, now, "removed")
        if removed is None:
            raise Conflict(f"{guest.name} is no longer in the call ({guest.state.label.lower()})")
        await uow.commit()
    await ctx.events.publish(GuestsChanged(guest.call_id))
    return removed


async def end_guests(ctx: HubContext, actor: Actor, call_id: int) -> GuestsEnded:
    """End the guest part of a call: every guest removed, every open link withdrawn. The
    call itself goes on."""
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.audit.lock()
        await _held_call(uow, actor, call_id)
        ended = await _end_all(uow, call_id, GuestState.REMOVED, actor.ref, now, "guests ended")
        await uow.commit()
    await ctx.events.publish(GuestsChanged(call_id))
    return ended


async def withdraw(ctx: HubContext, actor: Actor, invitation_id: int) -> Invitation:
    """Withdraw a link that has not been used: it then says so to whoever opens it."""
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.audit.lock()
        invitation = await uow.guests.invitation(invitation_id)
        if invitation is None:
            raise NotFound(f"no invitation {invitation_id}")
        await _held_call(uow, actor, invitation.call_id)
        if not await uow.guests.revoke_invitation(invitation_id, now):
            if invitation.status(now) is InvitationStatus.USED:
                raise Conflict("this invitation has already been used: remove the guest instead")
            raise Conflict("this invitation was already withdrawn")
        await _audit(
            uow,
            actor.ref,
            "guest.invitation_withdrawn",
            invitation.call_id,
            now,
            {"invitation_id": invitation_id, "why": "withdrawn"},
        )
        await uow.commit()
    return replace(invitation, revoked_at=now)


async def leave(ctx: HubContext, actor: Actor) -> Guest:
    """A guest leaves the call (or its lobby); their session ends."""
    _require_guest(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.audit.lock()
        guest = await _guest(uow, actor.id)
        left = await _end_guest(uow, guest, GuestState.LEFT, guest.ref, now, "left")
        if left is None:
            raise Conflict("you are no longer in this call")
        await uow.commit()
    await ctx.events.publish(GuestsChanged(guest.call_id))
    return left


async def admitted_to(ctx: HubContext, actor: Actor, call_id: int) -> Guest:
    """The guest ``actor``, let into live call ``call_id``: may take part in its media.
    Anyone else — a guest of another call, one still in the lobby or gone — is refused."""
    _require_guest(actor)
    async with ctx.uow() as uow:
        guest = await uow.guests.guest(actor.id)
        call = await uow.consultations.get(call_id)
    if guest is None or guest.call_id != call_id:
        raise NotFound(f"no call {call_id}")
    if guest.state is not GuestState.IN_CALL or call is None or call.state not in LIVE:
        raise Forbidden("wait until the clinician lets you in")
    return guest


async def participants(ctx: HubContext, actor: Actor, call_id: int) -> Participants:
    """Who took part as a guest, for the call page, the tablet and exports: hub staff, and
    the call's care home (its tablets and manager). Never for a guest."""
    if actor.kind == GUEST:
        raise Forbidden("a guest cannot see the call's record")
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await uow.consultations.get(call_id)
        if call is None or (actor.kind != "system" and not actor.can_see_home(call.home_id)):
            await uow.audit.append(
                AuditRecord(
                    "call.denied",
                    actor.ref,
                    "consultation",
                    str(call_id),
                    {"reason": "missing" if call is None else "other home", "during": "guests"},
                ),
                now,
            )
            await uow.commit()
            raise NotFound(f"no call {call_id}")
        guests = await uow.guests.guests(call_id)
        holder = actor.kind == "staff" and call.answered_by == actor.id and call.state in LIVE
        invitations = await uow.guests.invitations(call_id) if holder else []
    return Participants(call_id, guests, invitations)


async def end_with_call(uow: UnitOfWork, call_id: int, actor_ref: str, at: datetime) -> None:
    """The call stops being live (ended, or handed back to the queue): in the same
    transaction, every guest still there has left and every open link is withdrawn."""
    await _end_all(uow, call_id, GuestState.LEFT, actor_ref, at, "call ended")


async def _end_all(
    uow: UnitOfWork, call_id: int, state: GuestState, by: str, at: datetime, why: str
) -> GuestsEnded:
    ended = []
    for guest in await uow.guests.guests(call_id):
        if guest.present:
            done = await _end_guest(uow, guest, state, by, at, why)
            if done is not None:
                ended.append(done)
    withdrawn = []
    for invitation in await uow.guests.invitations(call_id):
        if invitation.status(at) is InvitationStatus.OPEN and await uow.guests.revoke_invitation(
            invitation.id, at
        ):
            await _audit(
                uow,
                by,
                "guest.invitation_withdrawn",
                call_id,
                at,
                {"invitation_id": invitation.id, "why": why},
            )
            withdrawn.append(replace(invitation, revoked_at=at))
    return GuestsEnded(ended, withdrawn)


async def _end_guest(
    uow: UnitOfWork, guest: Guest, state: GuestState, by: str, at: datetime, why: str
) -> Guest | None:
    removed_by = by if state is GuestState.REMOVED else None
    if not await uow.guests.end_guest(guest.id, state, at, removed_by):
        return None
    action = "guest.removed" if state is GuestState.REMOVED else "guest.left"
    await _audit(uow, by, action, guest.call_id, at, {"guest_id": guest.id, "why": why})
    return replace(guest, state=state, left_at=at, removed_by=removed_by)


async def _held_call(uow: UnitOfWork, actor: Actor, call_id: int) -> Consultation:
    """The live call this clinician has. A call that is not live is a conflict before
    it is someone else's: it says what the call is doing."""
    call = await uow.consultations.get(call_id)
    if call is None or not actor.can_see_home(call.home_id):
        raise NotFound(f"no call {call_id}")
    if call.state not in LIVE:
        raise Conflict(f"{refusal(call_id, call.state)}: guests join live calls only")
    if call.answered_by != actor.id:
        raise Forbidden(
            f"call {call_id} is not yours: only the clinician who has it invites, "
            "lets in and removes its guests"
        )
    return call


async def _guest(uow: UnitOfWork, guest_id: int) -> Guest:
    guest = await uow.guests.guest(guest_id)
    if guest is None:
        raise NotFound(f"no guest {guest_id}")
    return guest


def _gone(
    invitation: Invitation, call: Consultation | None, now: datetime
) -> InvitationGone | None:
    status = invitation.status(now)
    if status is not InvitationStatus.OPEN:
        return InvitationGone(status, invitation.id)
    if call is None or call.state not in LIVE:  # never left open by a call's end; be safe
        return InvitationGone(InvitationStatus.REVOKED, invitation.id, CALL_OVER)
    return None


def _of_another_home(actor: Actor, call: Consultation | None) -> bool:
    """A tablet (or home-scoped account) of another care home than the call's."""
    return actor.home_id is not None and (call is None or call.home_id != actor.home_id)


def _require_clinician(actor: Actor) -> None:
    if actor.kind != "staff" or actor.role is not Role.CLINICIAN:
        raise Forbidden("only the clinician who has a call invites and manages its guests")


def _require_guest(actor: Actor) -> None:
    if actor.kind != GUEST:
        raise Forbidden("this is for a guest of a call")


async def _refused(
    uow: UnitOfWork, who: str, invitation: Invitation, at: datetime, why: str
) -> None:
    await _audit(
        uow,
        who,
        "guest.refused",
        invitation.call_id,
        at,
        {"invitation_id": invitation.id, "why": why},
    )


async def _audit(
    uow: UnitOfWork, actor_ref: str, action: str, call_id: int, at: datetime, detail: dict[str, Any]
) -> None:
    await uow.audit.append(AuditRecord(action, actor_ref, "consultation", str(call_id), detail), at)
