"""Enrolling a care-home tablet with a single-use code, and recognising it afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hub.audit.trail import AuditRecord
from hub.context import HubContext
from hub.errors import AuthenticationFailed, NotFound
from hub.events import AccessEnded
from hub.people.access import Actor, Role, require_role
from hub.people.devices import Device, EnrolmentCode, digest, new_code, new_token, normalise_code
from hub.people.devices import parse_label as parse_device_label


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once, to the admin who issued it
    record: EnrolmentCode


@dataclass(frozen=True)
class Enrolled:
    token: str  # becomes the tablet's device cookie
    device: Device


async def issue_code(ctx: HubContext, actor: Actor, home_id: int, label: str) -> IssuedCode:
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    label = parse_device_label(label)
    code = new_code()
    expires = now + timedelta(hours=ctx.settings.security.enrolment_code_hours)
    async with ctx.uow() as uow:
        if await uow.homes.get(home_id) is None:
            raise NotFound(f"no care home {home_id}")
        record = await uow.devices.add_code(
            home_id, label, digest(normalise_code(code)), actor.ref, now, expires
        )
        await uow.audit.append(
            AuditRecord(
                "enrolment.issued",
                actor.ref,
                "home",
                str(home_id),
                {"code_id": record.id, "label": label, "expires_at": expires.isoformat()},
            ),
            now,
        )
        await uow.commit()
    return IssuedCode(code, record)


async def enrol(ctx: HubContext, code_text: str) -> Enrolled:
    """Trade a code for a device token. Used, expired and unknown codes are refused."""
    now = ctx.clock.now()
    code_hash = digest(normalise_code(code_text))
    async with ctx.uow() as uow:
        code = await uow.devices.code_by_hash(code_hash)
        if code is None:
            raise AuthenticationFailed("that enrolment code is not known: check it and retry")
        state = code.state(now)
        if state == "used":
            raise AuthenticationFailed("that enrolment code has already been used")
        if state == "expired":
            raise AuthenticationFailed("that enrolment code has expired: ask for a new one")
        token = new_token()
        device = await uow.devices.add_device(code.home_id, code.label, digest(token), now)
        # The conditional update is the real guard: two tablets racing with one code
        # both got this far, but only one update matches.
        if not await uow.devices.use_code(code.id, device.id, now):
            raise AuthenticationFailed("that enrolment code has already been used")
        await uow.audit.append(
            AuditRecord(
                "device.enrolled",
                f"device:{device.id}",
                "home",
                str(code.home_id),
                {"code_id": code.id, "label": code.label},
            ),
            now,
        )
        await uow.commit()
    return Enrolled(token, device)


async def device_actor(ctx: HubContext, token: str) -> Actor | None:
    """The tablet behind a device cookie, or None when unknown or revoked."""
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        device = await uow.devices.by_token(digest(token))
        if device is None or not device.active:
            return None
        if device.last_seen_at is None or now - device.last_seen_at > timedelta(minutes=5):
            await uow.devices.touch(device.id, now)
            await uow.commit()
    return Actor("device", device.id, device.label, None, device.home_id)


async def revoke(ctx: HubContext, actor: Actor, device_id: int) -> Device:
    """Revoke a tablet (again is harmless); returns it as it was before."""
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        device = await uow.devices.get(device_id)
        if device is None:
            raise NotFound(f"no tablet {device_id}")
        if await uow.devices.revoke(device_id, now):
            await uow.audit.append(
                AuditRecord(
                    "device.revoked",
                    actor.ref,
                    "device",
                    str(device_id),
                    {"home_id": device.home_id},
                ),
                now,
            )
        await uow.commit()
    # A revoked tablet's live sockets close at once, on every process.
    await ctx.events.publish(AccessEnded("device", str(device_id)))
    return device
