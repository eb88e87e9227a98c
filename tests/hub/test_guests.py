"""Guests of a live call: invitations by single-use link, the lobby, admission, removal,
and a guest actor that is a stranger to everything else (hub/calls/guest_services.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta

import pytest

from hub import settings as settings_mod
from hub.calls import closure, guest_services, history, live, notes
from hub.calls.guests import (
    GuestKind,
    GuestState,
    Invitation,
    InvitationGone,
    InvitationStatus,
    digest,
    parse_kind,
    parse_name,
)
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.people import resident_records
from hub.people.access import SYSTEM, Actor, Role, require_role
from hub.rostering.routing import console_routing
from tests.hub.test_calls import clinicians, edna, request, tablet

OUTCOME = {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"}


@dataclasses.dataclass
class LiveCall:
    call_id: int
    tablet: Actor
    nurse: Actor
    other_nurse: Actor
    resident_id: int


@pytest.fixture
async def live_call(ctx, clock, home) -> LiveCall:  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    resident = await edna(ctx, clock, home)
    nurse, other = await clinicians(ctx, 2)
    call = await live.request_call(ctx, tab, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    return LiveCall(call.id, tab, nurse, other, resident.id)


async def _join(ctx, lc: LiveCall, name: str = "Dr Patel", kind=GuestKind.GP):  # type: ignore[no-untyped-def]
    invitation, token = await guest_services.invite(ctx, lc.nurse, lc.call_id, kind)
    guest, session = await guest_services.claim(ctx, token, name)
    return invitation, token, guest, session


async def _actions(ctx, call_id: int) -> list[tuple[str, str, dict[str, object]]]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        events = await uow.audit.for_subject("consultation", str(call_id))
    return [(e.action, e.actor, dict(e.detail)) for e in events if e.action.startswith("guest.")]


def test_kinds_and_states_in_words() -> None:
    assert [k.label for k in GuestKind] == ["GP", "Family member", "Interpreter", "Other"]
    assert parse_kind("interpreter") is GuestKind.INTERPRETER
    with pytest.raises(ValidationError, match="kind 'nurse' is not one of gp, family"):
        parse_kind("nurse")
    with pytest.raises(ValidationError, match="kind must be text"):
        parse_kind(None)
    assert GuestState.WAITING.label == "Waiting to be let in"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "type your name"),
        ("   \t ", "type your name"),
        ("x" * 61, "your name must be at most 60 characters"),
        ("Ann\x07", "found U+0007, a control character"),
        ("Ann\u202eeeS", "found U+202E, right-to-left override"),
        ("Ann\u200b", "found U+200B, zero width space"),
        (None, "type your name"),
    ],
)
def test_bad_names_are_refused(raw: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as err:
        parse_name(raw)
    assert err.value.field == "name"


def test_names_are_folded_and_html_is_only_text() -> None:
    assert parse_name("  Dr   Amira\nPatel ") == "Dr Amira Patel"
    assert parse_name("x" * 60) == "x" * 60
    assert parse_name("<b>Dr</b> & <script>") == "<b>Dr</b> & <script>"


def test_invitation_status_at_a_time(clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    inv = Invitation(1, 2, GuestKind.GP, "staff:1", now, now + timedelta(minutes=30))
    assert inv.status(now) is InvitationStatus.OPEN
    assert inv.status(now + timedelta(minutes=30)) is InvitationStatus.EXPIRED
    used = dataclasses.replace(inv, used_at=now)
    assert used.status(now + timedelta(hours=1)) is InvitationStatus.USED
    assert dataclasses.replace(inv, revoked_at=now).status(now) is InvitationStatus.REVOKED


async def test_invite_claim_admit_remove_is_audited(ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    invitation, token = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.GP)
    assert len(token) == 43 and invitation.kind is GuestKind.GP
    assert invitation.expires_at == clock.now() + timedelta(minutes=30)
    async with ctx.uow() as uow:  # only the digest is stored
        assert (await uow.guests.invitation_by_token(digest(token))) == invitation
    assert await guest_services.look_up(ctx, token) == invitation

    clock.advance(timedelta(minutes=2))
    guest, session = await guest_services.claim(ctx, token, " Dr  Amira Patel ")
    assert (guest.name, guest.kind, guest.state) == (
        "Dr Amira Patel",
        GuestKind.GP,
        GuestState.WAITING,
    )
    assert guest.call_id == lc.call_id and session != token
    actor = await guest_services.guest_actor(ctx, session)
    assert actor == Actor("guest", guest.id, "Dr Amira Patel")
    assert (await guest_services.current(ctx, actor)).state is GuestState.WAITING

    admitted = await guest_services.admit(ctx, lc.nurse, guest.id)
    assert admitted.state is GuestState.IN_CALL and admitted.admitted_at == clock.now()
    with pytest.raises(Conflict, match="Dr Amira Patel is in the call: only a waiting guest"):
        await guest_services.admit(ctx, lc.nurse, guest.id)

    seen = await guest_services.participants(ctx, lc.tablet, lc.call_id)
    assert [(g.name, g.state) for g in seen.guests] == [("Dr Amira Patel", GuestState.IN_CALL)]
    assert seen.invitations == []  # links are for the clinician who has the call
    mine = await guest_services.participants(ctx, lc.nurse, lc.call_id)
    assert [i.status(clock.now()) for i in mine.invitations] == [InvitationStatus.USED]

    clock.advance(timedelta(minutes=5))
    removed = await guest_services.remove(ctx, lc.nurse, guest.id)
    assert removed.state is GuestState.REMOVED and removed.removed_by == lc.nurse.ref
    assert await guest_services.guest_actor(ctx, session) is None  # the cookie is dead
    with pytest.raises(Conflict, match="Dr Amira Patel is no longer in the call"):
        await guest_services.remove(ctx, lc.nurse, guest.id)
    (stored,) = (await guest_services.participants(ctx, lc.nurse, lc.call_id)).guests
    assert stored.state is GuestState.REMOVED and stored.left_at == clock.now()

    assert await _actions(ctx, lc.call_id) == [
        (
            "guest.invited",
            lc.nurse.ref,
            {
                "invitation_id": invitation.id,
                "kind": "gp",
                "expires_at": invitation.expires_at.isoformat(),
            },
        ),
        (
            "guest.joined",
            guest.ref,
            {
                "guest_id": guest.id,
                "invitation_id": invitation.id,
                "kind": "gp",
                "name": "Dr Amira Patel",
                "opened_by": "anonymous",
            },
        ),
        ("guest.admitted", lc.nurse.ref, {"guest_id": guest.id, "kind": "gp"}),
        ("guest.removed", lc.nurse.ref, {"guest_id": guest.id, "why": "removed"}),
    ]


async def test_a_link_works_once(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    invitation, token, guest, _ = await _join(ctx, live_call)
    for attempt in (
        guest_services.look_up(ctx, token),
        guest_services.claim(ctx, token, "Someone Else"),
    ):
        with pytest.raises(InvitationGone, match=r"^This link has already been used$") as err:
            await attempt
        assert err.value.status is InvitationStatus.USED and err.value.code == "gone"
    (refused,) = [a for a in await _actions(ctx, live_call.call_id) if a[0] == "guest.refused"]
    assert refused == (
        "guest.refused",
        "anonymous",
        {"invitation_id": invitation.id, "why": "used"},
    )
    assert [
        g.id for g in (await guest_services.participants(ctx, SYSTEM, guest.call_id)).guests
    ] == [guest.id]


async def test_an_expired_link(ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    _, token = await guest_services.invite(
        ctx, live_call.nurse, live_call.call_id, GuestKind.FAMILY
    )
    clock.advance(timedelta(minutes=29, seconds=59))
    await guest_services.look_up(ctx, token)  # still good
    clock.advance(timedelta(seconds=1))
    with pytest.raises(InvitationGone, match=r"^This link has expired$"):
        await guest_services.look_up(ctx, token)
    with pytest.raises(InvitationGone, match=r"^This link has expired$"):
        await guest_services.claim(ctx, token, "Ann Smith")


async def test_the_lifetime_is_a_setting(ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    short = dataclasses.replace(ctx, settings=ctx.settings.replace("guests", invitation_minutes=5))
    invitation, _ = await guest_services.invite(
        short, live_call.nurse, live_call.call_id, GuestKind.GP
    )
    assert invitation.expires_at == clock.now() + timedelta(minutes=5)


async def test_a_withdrawn_link(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    invitation, token = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)
    with pytest.raises(Forbidden, match="is not yours"):
        await guest_services.withdraw(ctx, lc.other_nurse, invitation.id)
    withdrawn = await guest_services.withdraw(ctx, lc.nurse, invitation.id)
    assert withdrawn.revoked_at is not None
    with pytest.raises(InvitationGone, match=r"^This link was withdrawn$"):
        await guest_services.claim(ctx, token, "Ann Smith")
    with pytest.raises(Conflict, match="this invitation was already withdrawn"):
        await guest_services.withdraw(ctx, lc.nurse, invitation.id)
    used, *_ = await _join(ctx, lc)
    with pytest.raises(Conflict, match="already been used: remove the guest instead"):
        await guest_services.withdraw(ctx, lc.nurse, used.id)
    with pytest.raises(NotFound, match="no invitation 999"):
        await guest_services.withdraw(ctx, lc.nurse, 999)
    assert (
        "guest.invitation_withdrawn",
        lc.nurse.ref,
        {"invitation_id": invitation.id, "why": "withdrawn"},
    ) in await _actions(ctx, lc.call_id)


@pytest.mark.parametrize("token", ["", "x", "../../etc", "A" * 43, "é" * 43, "A" * 500])
async def test_forged_and_unknown_links(ctx, live_call, token: str) -> None:  # type: ignore[no-untyped-def]
    await guest_services.invite(ctx, live_call.nurse, live_call.call_id, GuestKind.GP)
    with pytest.raises(NotFound, match=r"^This link is not valid$"):
        await guest_services.look_up(ctx, token)
    with pytest.raises(NotFound, match=r"^This link is not valid$"):
        await guest_services.claim(ctx, token, "Ann Smith")
    assert await guest_services.guest_actor(ctx, token) is None


async def test_a_link_is_for_its_own_call_only(
    ctx, clock, home, other_home, other_resident, live_call
) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    tab_b = await tablet(ctx, other_home)
    call_b = await live.request_call(ctx, tab_b, request(other_resident.id))
    await live.claim(ctx, lc.other_nurse, call_b.id)
    _, token_a = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.GP)
    guest, session = await guest_services.claim(ctx, token_a, "Dr Patel")
    assert guest.call_id == lc.call_id != call_b.id
    # Call B's clinician can do nothing with call A's guest or link...
    for act in (
        guest_services.admit(ctx, lc.other_nurse, guest.id),
        guest_services.remove(ctx, lc.other_nurse, guest.id),
    ):
        with pytest.raises(Forbidden, match=f"call {lc.call_id} is not yours"):
            await act
    # ...and the guest of call A is nobody to call B (nor to call A's record).
    actor = await guest_services.guest_actor(ctx, session)
    assert actor is not None
    for call_id in (call_b.id, lc.call_id):
        with pytest.raises(Forbidden, match="a guest cannot see the call's record"):
            await guest_services.participants(ctx, actor, call_id)
        with pytest.raises(NotFound):
            await live.view(ctx, actor, call_id)
    assert (await guest_services.participants(ctx, lc.other_nurse, call_b.id)).guests == []


async def test_two_claims_at_once_exactly_one_wins(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    _, token = await guest_services.invite(ctx, live_call.nurse, live_call.call_id, GuestKind.GP)
    results = await asyncio.gather(
        *(guest_services.claim(ctx, token, f"Guest {n}") for n in range(6)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 5
    assert all(isinstance(e, InvitationGone) and e.status is InvitationStatus.USED for e in losers)
    found = await guest_services.participants(ctx, live_call.nurse, live_call.call_id)
    assert [g.id for g in found.guests] == [winners[0][0].id]  # type: ignore[index]
    joined = [a for a in await _actions(ctx, live_call.call_id) if a[0] == "guest.joined"]
    assert len(joined) == 1


async def test_the_conditional_update_is_the_guard(ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    invitation, _ = await guest_services.invite(
        ctx, live_call.nurse, live_call.call_id, GuestKind.GP
    )
    async with ctx.uow() as uow:
        assert await uow.guests.use_invitation(invitation.id, clock.now())
        assert not await uow.guests.use_invitation(invitation.id, clock.now())
        await uow.commit()
    later, _ = await guest_services.invite(ctx, live_call.nurse, live_call.call_id, GuestKind.GP)
    async with ctx.uow() as uow:  # expired at the instant of use: no
        assert not await uow.guests.use_invitation(later.id, later.expires_at)


async def test_at_most_three_guests_at_once(ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    _, _, guest, _ = await _join(ctx, lc)
    await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.FAMILY)
    spare, _ = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.INTERPRETER)
    with pytest.raises(Conflict, match="at most 3 guests at once, counting open invitations"):
        await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)
    await guest_services.withdraw(ctx, lc.nurse, spare.id)
    await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)
    await guest_services.remove(ctx, lc.nurse, guest.id)  # a removed guest no longer counts
    await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)
    with pytest.raises(Conflict, match="at most 3"):
        await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)
    clock.advance(timedelta(minutes=30))  # expired links no longer count either
    await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)


async def test_the_limit_is_a_setting(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    one = dataclasses.replace(ctx, settings=ctx.settings.replace("guests", max_per_call=1))
    await guest_services.invite(one, live_call.nurse, live_call.call_id, GuestKind.GP)
    with pytest.raises(Conflict, match="at most 1 guests at once"):
        await guest_services.invite(one, live_call.nurse, live_call.call_id, GuestKind.GP)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_per_call", 0, "config key guests.max_per_call must be from 1 to 3, got 0"),
        ("max_per_call", 4, "config key guests.max_per_call must be from 1 to 3, got 4"),
        ("invitation_minutes", 0, "guests.invitation_minutes must be from 1 to 1440, got 0"),
        ("invitation_minutes", 1441, "must be from 1 to 1440, got 1441"),
    ],
)
def test_guest_settings_are_checked(key: str, value: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings_mod.load(overrides={"guests": {key: value}})
    defaults = settings_mod.load().guests
    assert (defaults.invitation_minutes, defaults.max_per_call) == (30, 3)


async def test_a_tablet_of_another_home_cannot_open_a_link(
    ctx, home, other_home, live_call
) -> None:  # type: ignore[no-untyped-def]
    invitation, token = await guest_services.invite(
        ctx, live_call.nurse, live_call.call_id, GuestKind.FAMILY
    )
    foreign = await tablet(ctx, other_home)
    message = "cannot be used while this device is signed in for another care home"
    with pytest.raises(Forbidden, match=message):
        await guest_services.look_up(ctx, token, opened_by=foreign)
    with pytest.raises(Forbidden, match=message):
        await guest_services.claim(ctx, token, "Ann Smith", foreign)
    refused = [a for a in await _actions(ctx, live_call.call_id) if a[0] == "guest.refused"]
    assert (
        refused
        == [
            (
                "guest.refused",
                foreign.ref,
                {"invitation_id": invitation.id, "why": "another care home"},
            )
        ]
        * 2
    )
    # The link is still good for someone else (here: a tablet of the call's own home).
    same_home = await tablet(ctx, home)
    guest, _ = await guest_services.claim(ctx, token, "Ann Smith", same_home)
    assert guest.name == "Ann Smith"


async def test_only_the_clinician_who_has_the_live_call_manages_guests(
    ctx, clock, home, live_call, admin_user
) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    with pytest.raises(Forbidden, match=f"call {lc.call_id} is not yours"):
        await guest_services.invite(ctx, lc.other_nurse, lc.call_id, GuestKind.GP)
    admin = Actor("staff", admin_user.id, "Ada", Role.ADMIN)
    for who in (admin, lc.tablet):
        with pytest.raises(Forbidden, match="only the clinician who has a call"):
            await guest_services.invite(ctx, who, lc.call_id, GuestKind.GP)
    with pytest.raises(NotFound, match="no call 999"):
        await guest_services.invite(ctx, lc.nurse, 999, GuestKind.GP)
    # A call waiting in the queue is not live.
    waiting = await live.request_call(
        ctx, await tablet(ctx, home), request((await _second_resident(ctx, clock, home)).id)
    )
    with pytest.raises(Conflict, match="is waiting in the queue and has not been answered: guests"):
        await guest_services.invite(ctx, lc.nurse, waiting.id, GuestKind.GP)
    await live.end(ctx, lc.nurse, lc.call_id)
    with pytest.raises(Conflict, match=f"call {lc.call_id} has ended: guests join live calls only"):
        await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.GP)


async def _second_resident(ctx, clock, home):  # type: ignore[no-untyped-def]
    from hub.people.admin import add_resident
    from hub.people.residents import ResidentDetails

    details = ResidentDetails.parse(
        given_name="Bert",
        family_name="Brown",
        date_of_birth="1935-05-05",
        nhs_number="4010232137",
        today=clock.now().date(),
    )
    return await add_resident(ctx, SYSTEM, home.id, details)


async def test_guests_leave_when_the_call_ends(ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    _, _, waiting, waiting_session = await _join(ctx, lc, "Ann Smith", GuestKind.FAMILY)
    _, _, admitted, admitted_session = await _join(ctx, lc, "Dr Patel")
    await guest_services.admit(ctx, lc.nurse, admitted.id)
    open_link, open_token = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.OTHER)
    clock.advance(timedelta(minutes=3))
    await live.end(ctx, lc.nurse, lc.call_id)

    found = await guest_services.participants(ctx, lc.nurse, lc.call_id)
    assert [(g.name, g.state, g.left_at) for g in found.guests] == [
        ("Ann Smith", GuestState.LEFT, clock.now()),
        ("Dr Patel", GuestState.LEFT, clock.now()),
    ]
    assert found.invitations == []  # the call is no longer live
    for session in (waiting_session, admitted_session):
        assert await guest_services.guest_actor(ctx, session) is None
    with pytest.raises(InvitationGone, match=r"^This link was withdrawn$"):
        await guest_services.claim(ctx, open_token, "Late Comer")
    ended = [a for a in await _actions(ctx, lc.call_id) if a[2].get("why") == "call ended"]
    assert ended == [
        ("guest.left", lc.nurse.ref, {"guest_id": waiting.id, "why": "call ended"}),
        ("guest.left", lc.nurse.ref, {"guest_id": admitted.id, "why": "call ended"}),
        (
            "guest.invitation_withdrawn",
            lc.nurse.ref,
            {"invitation_id": open_link.id, "why": "call ended"},
        ),
    ]
    await closure.record_outcome(ctx, lc.nurse, lc.call_id, OUTCOME)  # the call closes as ever


async def test_guests_leave_when_the_call_is_handed_back(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    *_, session = await _join(ctx, live_call)
    await live.release(ctx, live_call.nurse, live_call.call_id)
    assert await guest_services.guest_actor(ctx, session) is None
    (stored,) = (await guest_services.participants(ctx, SYSTEM, live_call.call_id)).guests
    assert stored.state is GuestState.LEFT


async def test_guests_stay_when_the_call_is_transferred(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    _, _, guest, session = await _join(ctx, lc)
    await live.transfer(ctx, lc.nurse, lc.call_id, lc.other_nurse.id)
    assert await guest_services.guest_actor(ctx, session) is not None
    with pytest.raises(Forbidden, match="is not yours"):  # the call is no longer theirs
        await guest_services.admit(ctx, lc.nurse, guest.id)
    assert (await guest_services.admit(ctx, lc.other_nurse, guest.id)).state is GuestState.IN_CALL


async def test_ending_the_guest_part_keeps_the_call(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    _, _, one, one_session = await _join(ctx, lc, "Ann Smith")
    _, _, two, _ = await _join(ctx, lc, "Dr Patel")
    await guest_services.admit(ctx, lc.nurse, two.id)
    link, _ = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.INTERPRETER)
    with pytest.raises(Forbidden, match="is not yours"):
        await guest_services.end_guests(ctx, lc.other_nurse, lc.call_id)
    ended = await guest_services.end_guests(ctx, lc.nurse, lc.call_id)
    assert [(g.id, g.state) for g in ended.removed] == [
        (one.id, GuestState.REMOVED),
        (two.id, GuestState.REMOVED),
    ]
    assert [i.id for i in ended.withdrawn] == [link.id]
    assert await guest_services.guest_actor(ctx, one_session) is None
    assert (await live.view(ctx, lc.nurse, lc.call_id)).call.state.value == "answered"
    again = await guest_services.end_guests(ctx, lc.nurse, lc.call_id)
    assert (again.removed, again.withdrawn) == ([], [])


async def test_a_guest_leaves(ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    _, _, guest, session = await _join(ctx, live_call)
    actor = await guest_services.guest_actor(ctx, session)
    assert actor is not None
    left = await guest_services.leave(ctx, actor)
    assert left.state is GuestState.LEFT and left.removed_by is None
    assert await guest_services.guest_actor(ctx, session) is None
    with pytest.raises(Conflict, match="you are no longer in this call"):
        await guest_services.leave(ctx, actor)
    with pytest.raises(Forbidden, match="this is for a guest of a call"):
        await guest_services.leave(ctx, live_call.nurse)
    assert ("guest.left", guest.ref, {"guest_id": guest.id, "why": "left"}) in await _actions(
        ctx, live_call.call_id
    )


async def test_a_guest_actor_is_a_stranger_everywhere(ctx, clock, home, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    _, _, guest, session = await _join(ctx, lc)
    await guest_services.admit(ctx, lc.nurse, guest.id)
    actor = await guest_services.guest_actor(ctx, session)
    assert actor is not None and actor.kind == "guest" and actor.home_id is None
    assert not actor.can_see_home(home.id) and not actor.is_device
    with pytest.raises(Forbidden):
        require_role(actor, Role.CLINICIAN, Role.MANAGER, Role.ADMIN)
    # Resident reads (refused and audited as such).
    with pytest.raises(NotFound, match=f"no resident {lc.resident_id}"):
        await resident_records.view_resident(ctx, actor, lc.resident_id)
    with pytest.raises(NotFound):
        await resident_records.view_resident_details(ctx, actor, lc.resident_id)
    with pytest.raises(NotFound, match=f"no care home {home.id}"):
        await resident_records.residents_of_home(ctx, actor, home.id)
    async with ctx.uow() as uow:
        denied = await uow.audit.for_subject("resident", str(lc.resident_id), ["resident.denied"])
    assert {e.actor for e in denied} == {actor.ref}
    # The call's record, the queue, notes and outcomes.
    with pytest.raises(NotFound):
        await history.view_call(ctx, actor, lc.call_id)
    with pytest.raises(NotFound):
        await live.view(ctx, actor, lc.call_id)
    with pytest.raises(Forbidden):
        await console_routing(ctx, actor)
    with pytest.raises(Forbidden):
        await notes.open_notes(ctx, actor, lc.call_id)
    with pytest.raises(Forbidden):
        await notes.add(ctx, actor, lc.call_id, "I am the GP")
    with pytest.raises(Forbidden):
        await live.claim(ctx, actor, lc.call_id)
    with pytest.raises(NotFound):
        await live.end(ctx, actor, lc.call_id)
    await live.end(ctx, lc.nurse, lc.call_id)
    with pytest.raises(Forbidden):
        await closure.record_outcome(ctx, actor, lc.call_id, OUTCOME)
    # ...and guests manage nothing.
    for act in (
        guest_services.invite(ctx, actor, lc.call_id, GuestKind.GP),
        guest_services.admit(ctx, actor, guest.id),
        guest_services.remove(ctx, actor, guest.id),
        guest_services.end_guests(ctx, actor, lc.call_id),
    ):
        with pytest.raises(Forbidden):
            await act


async def test_participants_follow_the_home(ctx, clock, other_home, live_call) -> None:  # type: ignore[no-untyped-def]
    await _join(ctx, live_call)
    foreign = await tablet(ctx, other_home)
    with pytest.raises(NotFound, match=f"no call {live_call.call_id}"):
        await guest_services.participants(ctx, foreign, live_call.call_id)
    with pytest.raises(NotFound, match="no call 999"):
        await guest_services.participants(ctx, live_call.nurse, 999)
    async with ctx.uow() as uow:
        denied = await uow.audit.for_subject(
            "consultation", str(live_call.call_id), ["call.denied"]
        )
    assert [(e.actor, dict(e.detail)) for e in denied] == [
        (foreign.ref, {"reason": "other home", "during": "guests"})
    ]
    # Any hub clinician may see who took part (the call page, exports).
    found = await guest_services.participants(ctx, live_call.other_nurse, live_call.call_id)
    assert [g.name for g in found.guests] == ["Dr Patel"] and found.invitations == []
