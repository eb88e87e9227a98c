"""Admin operations: homes, residents (one by one or CSV), staff. Every change is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.audit.trail import AuditRecord
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, RowErrors
from hub.events import AccessEnded
from hub.people.access import Actor, Role, Skill, require_role
from hub.people.auth import hasher, totp_context
from hub.people.devices import Device, EnrolmentCode
from hub.people.homes import CareHome, NewHome
from hub.people.residents import Resident, ResidentDetails, parse_csv
from hub.people.staff import NewStaff, StaffUser, check_password_strength


async def create_home(ctx: HubContext, actor: Actor, new: NewHome) -> CareHome:
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if await uow.homes.by_code(new.code) is not None:
            raise Conflict(f"a care home with code {new.code} already exists")
        home = await uow.homes.add(new, now)
        await uow.audit.append(
            AuditRecord(
                "home.created",
                actor.ref,
                "home",
                str(home.id),
                {"code": home.code, "name": home.name},
            ),
            now,
        )
        await uow.commit()
    return home


async def list_homes(ctx: HubContext, actor: Actor) -> list[CareHome]:
    async with ctx.uow() as uow:
        homes = await uow.homes.list()
    return [h for h in homes if actor.can_see_home(h.id)]


async def get_home(ctx: HubContext, actor: Actor, home_id: int) -> CareHome:
    async with ctx.uow() as uow:
        home = await uow.homes.get(home_id)
    if home is None or not actor.can_see_home(home_id):
        raise NotFound(f"no care home {home_id}")
    return home


async def add_resident(
    ctx: HubContext, actor: Actor, home_id: int, details: ResidentDetails
) -> Resident:
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if await uow.homes.get(home_id) is None:
            raise NotFound(f"no care home {home_id}")
        if await uow.residents.existing_nhs_numbers([details.nhs_number]):
            raise Conflict(f"a resident with NHS number {details.nhs_number} already exists")
        resident = await uow.residents.add(home_id, details, now)
        await uow.audit.append(
            AuditRecord(
                "resident.created", actor.ref, "resident", str(resident.id), {"home_id": home_id}
            ),
            now,
        )
        await uow.commit()
    return resident


async def update_resident(
    ctx: HubContext, actor: Actor, resident_id: int, details: ResidentDetails
) -> None:
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        current = await uow.residents.get(resident_id)
        if current is None:
            raise NotFound(f"no resident {resident_id}")
        if details.nhs_number != current.details.nhs_number and (
            await uow.residents.existing_nhs_numbers([details.nhs_number])
        ):
            raise Conflict(f"a resident with NHS number {details.nhs_number} already exists")
        await uow.residents.update(resident_id, details)
        await uow.audit.append(
            AuditRecord(
                "resident.updated",
                actor.ref,
                "resident",
                str(resident_id),
                {"home_id": current.home_id},
            ),
            now,
        )
        await uow.commit()


async def import_residents(ctx: HubContext, actor: Actor, home_id: int, csv_text: str) -> int:
    """Add every resident of a CSV file, or none: bad rows come back line-numbered."""
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    rows = parse_csv(csv_text, today=now.date())
    async with ctx.uow() as uow:
        if await uow.homes.get(home_id) is None:
            raise NotFound(f"no care home {home_id}")
        existing = await uow.residents.existing_nhs_numbers([d.nhs_number for _, d in rows])
        if existing:
            raise RowErrors(
                [
                    (line, f"a resident with NHS number {d.nhs_number} already exists")
                    for line, d in rows
                    if d.nhs_number in existing
                ]
            )
        for _, details in rows:
            await uow.residents.add(home_id, details, now)
        await uow.audit.append(
            AuditRecord("resident.imported", actor.ref, "home", str(home_id), {"count": len(rows)}),
            now,
        )
        await uow.commit()
    return len(rows)


async def create_staff(ctx: HubContext, actor: Actor, new: NewStaff, password: str) -> StaffUser:
    require_role(actor, Role.ADMIN)
    check_password_strength(password, new.username, new.display_name)
    now = ctx.clock.now()
    password_hash = hasher(ctx.settings.security).hash(password)
    async with ctx.uow() as uow:
        if new.home_id is not None and await uow.homes.get(new.home_id) is None:
            raise NotFound(f"no care home {new.home_id}")
        if await uow.staff.by_username(new.username) is not None:
            raise Conflict(f"username {new.username} is taken")
        user = await uow.staff.add(new, password_hash, now)
        await uow.audit.append(
            AuditRecord(
                "staff.created",
                actor.ref,
                "staff",
                str(user.id),
                {
                    "username": user.username,
                    "role": user.role.value,
                    "skills": sorted(s.value for s in user.skills),
                },
            ),
            now,
        )
        await uow.commit()
    return user


async def update_staff(
    ctx: HubContext,
    actor: Actor,
    user_id: int,
    display_name: str,
    role: Role,
    skills: frozenset[Skill],
    active: bool,
) -> None:
    require_role(actor, Role.ADMIN)
    if user_id == actor.id and (role is not Role.ADMIN or not active):
        raise Conflict("you cannot remove your own admin role or deactivate yourself")
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if await uow.staff.get(user_id) is None:
            raise NotFound(f"no staff member {user_id}")
        await uow.staff.update_profile(user_id, display_name, role, skills, active)
        if not active:
            await uow.sessions.delete_for_user(user_id)
        await uow.audit.append(
            AuditRecord(
                "staff.updated",
                actor.ref,
                "staff",
                str(user_id),
                {"role": role.value, "active": active, "skills": sorted(s.value for s in skills)},
            ),
            now,
        )
        await uow.commit()
    if not active:  # their live sockets close at once, on every process
        await ctx.events.publish(AccessEnded("user", str(user_id)))


async def reset_totp(ctx: HubContext, actor: Actor, user_id: int) -> None:
    """Lost phone: the user sets up a new authenticator at next login."""
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if await uow.staff.get(user_id) is None:
            raise NotFound(f"no staff member {user_id}")
        await uow.staff.set_totp(user_id, None, False)
        await uow.sessions.delete_for_user(user_id)
        await uow.audit.append(
            AuditRecord("staff.totp_reset", actor.ref, "staff", str(user_id), {}), now
        )
        await uow.commit()
    await ctx.events.publish(AccessEnded("user", str(user_id)))


async def list_staff(ctx: HubContext, actor: Actor) -> list[StaffUser]:
    require_role(actor, Role.ADMIN, Role.MANAGER)
    async with ctx.uow() as uow:
        return await uow.staff.list()


async def get_staff(ctx: HubContext, actor: Actor, user_id: int) -> StaffUser:
    require_role(actor, Role.ADMIN)
    async with ctx.uow() as uow:
        user = await uow.staff.get(user_id)
    if user is None:
        raise NotFound("no such staff member")
    return user


async def other_active_clinicians(ctx: HubContext, actor: Actor) -> list[StaffUser]:
    """The active clinicians other than the actor: who a call can be handed to."""
    require_role(actor, Role.CLINICIAN, Role.MANAGER, Role.ADMIN)
    async with ctx.uow() as uow:
        staff = await uow.staff.list()
    return [u for u in staff if u.role is Role.CLINICIAN and u.active and u.id != actor.id]


async def home_by_code(ctx: HubContext, actor: Actor, code: str) -> CareHome:
    """A care home by its ODS-style code (any case), if the actor may see it."""
    async with ctx.uow() as uow:
        home = await uow.homes.by_code(code.strip().upper())
    if home is None or not actor.can_see_home(home.id):
        raise NotFound(f"no care home with code {code}")
    return home


async def set_demo_totp(ctx: HubContext, actor: Actor, secrets: Mapping[int, str]) -> None:
    """Give staff a known, already confirmed TOTP secret (user id → base32 secret), so
    the demo can print every login. Only telehub itself (the demo seed) may: a person
    who could set someone's second factor to a value they know could log in as them."""
    if actor.kind != "system":
        raise Forbidden("only the demo seed sets a known two-factor secret")
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        for user_id, secret in secrets.items():
            if await uow.staff.get(user_id) is None:
                raise NotFound(f"no staff member {user_id}")
            await uow.staff.set_totp(user_id, ctx.keyring.seal(secret, totp_context(user_id)), True)
            await uow.audit.append(
                AuditRecord("staff.totp_set", actor.ref, "staff", str(user_id), {}), now
            )
        await uow.commit()


@dataclass(frozen=True)
class TabletOverview:
    devices: list[Device]
    codes: list[EnrolmentCode]


async def tablets(ctx: HubContext, actor: Actor, home_id: int) -> TabletOverview:
    require_role(actor, Role.ADMIN)
    async with ctx.uow() as uow:
        return TabletOverview(await uow.devices.list(home_id), await uow.devices.codes(home_id))
