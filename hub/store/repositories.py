"""SQL implementations of the repository ports in ``hub/ports.py`` (SQLAlchemy Core).

Sealed columns are encrypted here, on the way in, and opened on the way out, with an
associated-data context naming the table, row and column.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.cipher import Keyring
from hub.people.access import Role, Skill
from hub.people.devices import Device, EnrolmentCode
from hub.people.homes import CareHome, NewHome
from hub.people.residents import Resident, ResidentDetails
from hub.people.sessions import StaffSession, Stage
from hub.people.staff import Credentials, NewStaff, StaffUser
from hub.store import tables as t


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT just created."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the database did not report the new row's id")
    return int(key[0])


# Statements run for every request or call event (who is asking, the resident it is
# about), built once: building one costs more than running it on SQLite
# (hub/store/consultation_repository.py).
_RESIDENT_BY_ID = select(t.residents).where(t.residents.c.id == bindparam("id"))
_STAFF_BY_ID = select(t.staff_users).where(t.staff_users.c.id == bindparam("id"))
_SESSION_BY_TOKEN = select(t.staff_sessions).where(
    t.staff_sessions.c.token_hash == bindparam("token_hash")
)
# (An UPDATE's parameters must not be named as its table's columns: SQLAlchemy would take
# them for values to set.)
_TOUCH_SESSION = (
    update(t.staff_sessions)
    .where(t.staff_sessions.c.token_hash == bindparam("key"))
    .values(last_seen_at=bindparam("at"))
)
_DEVICE_BY_TOKEN = select(t.devices).where(t.devices.c.token_hash == bindparam("token_hash"))
_TOUCH_DEVICE = (
    update(t.devices).where(t.devices.c.id == bindparam("key")).values(last_seen_at=bindparam("at"))
)


class Repo:
    def __init__(self, conn: AsyncConnection, keyring: Keyring) -> None:
        self.conn = conn
        self.keyring = keyring

    async def _one(self, stmt: Any, params: dict[str, Any] | None = None) -> RowMapping | None:
        return (await self.conn.execute(stmt, params)).mappings().first()

    async def _all(self, stmt: Any, params: dict[str, Any] | None = None) -> list[RowMapping]:
        return list((await self.conn.execute(stmt, params)).mappings().all())


class SqlHomes(Repo):
    async def add(self, home: NewHome, at: datetime) -> CareHome:
        result = await self.conn.execute(
            insert(t.care_homes).values(
                code=home.code,
                name=home.name,
                address=home.address,
                beds=home.beds,
                created_at=at,
            )
        )
        home_id = new_id(result)
        return CareHome(home_id, home.code, home.name, home.address, home.beds, at)

    async def get(self, home_id: int) -> CareHome | None:
        row = await self._one(select(t.care_homes).where(t.care_homes.c.id == home_id))
        return _home(row) if row else None

    async def by_code(self, code: str) -> CareHome | None:
        row = await self._one(select(t.care_homes).where(t.care_homes.c.code == code))
        return _home(row) if row else None

    async def list(self) -> list[CareHome]:
        return [_home(r) for r in await self._all(select(t.care_homes).order_by("name"))]


def _home(r: RowMapping) -> CareHome:
    return CareHome(r["id"], r["code"], r["name"], r["address"], r["beds"], r["created_at"])


class SqlResidents(Repo):
    def _ctx(self, resident_id: int, column: str) -> str:
        return f"residents:{resident_id}:{column}"

    async def add(self, home_id: int, details: ResidentDetails, at: datetime) -> Resident:
        result = await self.conn.execute(
            insert(t.residents).values(home_id=home_id, **self._plain(details), created_at=at)
        )
        resident_id = new_id(result)
        await self._seal(resident_id, details)
        return Resident(resident_id, home_id, details, at)

    async def update(self, resident_id: int, details: ResidentDetails) -> None:
        await self.conn.execute(
            update(t.residents)
            .where(t.residents.c.id == resident_id)
            .values(**self._plain(details))
        )
        await self._seal(resident_id, details)

    @staticmethod
    def _plain(d: ResidentDetails) -> dict[str, Any]:
        return {
            "given_name": d.given_name,
            "family_name": d.family_name,
            "date_of_birth": d.date_of_birth,
            "nhs_number": d.nhs_number,
            "dnacpr": d.dnacpr,
            "end_of_life": d.end_of_life,
        }

    async def _seal(self, resident_id: int, d: ResidentDetails) -> None:
        # Sealing needs the row id (it is bound into the ciphertext), hence a second write.
        await self.conn.execute(
            update(t.residents)
            .where(t.residents.c.id == resident_id)
            .values(
                allergies_sealed=self.keyring.seal_optional(
                    d.allergies, self._ctx(resident_id, "allergies")
                ),
                alerts_sealed=self.keyring.seal_optional(
                    d.alerts, self._ctx(resident_id, "alerts")
                ),
            )
        )

    def _resident(self, r: RowMapping) -> Resident:
        details = ResidentDetails(
            given_name=r["given_name"],
            family_name=r["family_name"],
            date_of_birth=r["date_of_birth"],
            nhs_number=r["nhs_number"],
            dnacpr=r["dnacpr"],
            end_of_life=r["end_of_life"],
            allergies=self.keyring.open_optional(
                r["allergies_sealed"], self._ctx(r["id"], "allergies")
            ),
            alerts=self.keyring.open_optional(r["alerts_sealed"], self._ctx(r["id"], "alerts")),
        )
        return Resident(r["id"], r["home_id"], details, r["created_at"])

    async def get(self, resident_id: int) -> Resident | None:
        row = await self._one(_RESIDENT_BY_ID, {"id": resident_id})
        return self._resident(row) if row else None

    async def for_home(self, home_id: int, search: str = "") -> list[Resident]:
        stmt = select(t.residents).where(t.residents.c.home_id == home_id)
        if search:
            like = f"%{search.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(t.residents.c.given_name).like(like),
                    func.lower(t.residents.c.family_name).like(like),
                    t.residents.c.nhs_number.like(f"%{search.replace(' ', '')}%"),
                )
            )
        stmt = stmt.order_by(t.residents.c.family_name, t.residents.c.given_name)
        return [self._resident(r) for r in await self._all(stmt)]

    async def existing_nhs_numbers(self, numbers: Collection[str]) -> set[str]:
        found: set[str] = set()
        items = list(numbers)
        for start in range(0, len(items), 500):  # stay under bind-parameter limits
            chunk = items[start : start + 500]
            rows = await self.conn.execute(
                select(t.residents.c.nhs_number).where(t.residents.c.nhs_number.in_(chunk))
            )
            found.update(r[0] for r in rows)
        return found

    async def count_by_home(self) -> dict[int, int]:
        rows = await self.conn.execute(
            select(t.residents.c.home_id, func.count()).group_by(t.residents.c.home_id)
        )
        return {int(h): int(n) for h, n in rows}


class SqlStaff(Repo):
    async def add(self, new: NewStaff, password_hash: str, at: datetime) -> StaffUser:
        result = await self.conn.execute(
            insert(t.staff_users).values(
                username=new.username,
                display_name=new.display_name,
                role=new.role.value,
                skills=sorted(s.value for s in new.skills),
                home_id=new.home_id,
                active=True,
                password_hash=password_hash,
                totp_confirmed=False,
                totp_last_counter=0,
                failed_attempts=0,
                created_at=at,
            )
        )
        user_id = new_id(result)
        return StaffUser(
            user_id,
            new.username,
            new.display_name,
            new.role,
            new.skills,
            True,
            False,
            new.home_id,
            at,
        )

    async def get(self, user_id: int) -> StaffUser | None:
        row = await self._one(_STAFF_BY_ID, {"id": user_id})
        return _staff(row) if row else None

    async def by_username(self, username: str) -> tuple[StaffUser, Credentials] | None:
        row = await self._one(select(t.staff_users).where(t.staff_users.c.username == username))
        return (_staff(row), _creds(row)) if row else None

    async def credentials(self, user_id: int) -> Credentials:
        row = await self._one(select(t.staff_users).where(t.staff_users.c.id == user_id))
        if row is None:
            raise LookupError(f"no staff user {user_id}")
        return _creds(row)

    async def list(self) -> list[StaffUser]:
        stmt = select(t.staff_users).order_by(t.staff_users.c.display_name)
        return [_staff(r) for r in await self._all(stmt)]

    async def _set(self, user_id: int, **values: Any) -> None:
        await self.conn.execute(
            update(t.staff_users).where(t.staff_users.c.id == user_id).values(**values)
        )

    async def update_profile(
        self,
        user_id: int,
        display_name: str,
        role: Role,
        skills: frozenset[Skill],
        active: bool,
    ) -> None:
        await self._set(
            user_id,
            display_name=display_name,
            role=role.value,
            skills=sorted(s.value for s in skills),
            active=active,
        )

    async def set_password(self, user_id: int, password_hash: str) -> None:
        await self._set(user_id, password_hash=password_hash)

    async def record_failure(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> None:
        await self._set(user_id, failed_attempts=failed_attempts, locked_until=locked_until)

    async def clear_failures(self, user_id: int) -> None:
        await self._set(user_id, failed_attempts=0, locked_until=None)

    async def set_totp(self, user_id: int, sealed_secret: str | None, confirmed: bool) -> None:
        values: dict[str, Any] = {"totp_secret_sealed": sealed_secret, "totp_confirmed": confirmed}
        if sealed_secret is None:
            values["totp_last_counter"] = 0
        await self._set(user_id, **values)

    async def advance_totp_counter(self, user_id: int, counter: int) -> bool:
        result = await self.conn.execute(
            update(t.staff_users)
            .where(t.staff_users.c.id == user_id, t.staff_users.c.totp_last_counter < counter)
            .values(totp_last_counter=counter)
        )
        return result.rowcount == 1


def _staff(r: RowMapping) -> StaffUser:
    return StaffUser(
        r["id"],
        r["username"],
        r["display_name"],
        Role(r["role"]),
        frozenset(Skill(s) for s in r["skills"]),
        r["active"],
        r["totp_confirmed"],
        r["home_id"],
        r["created_at"],
    )


def _creds(r: RowMapping) -> Credentials:
    return Credentials(
        r["password_hash"],
        r["totp_secret_sealed"],
        r["totp_last_counter"],
        r["failed_attempts"],
        r["locked_until"],
    )


class SqlSessions(Repo):
    async def add(self, session: StaffSession) -> None:
        await self.conn.execute(
            insert(t.staff_sessions).values(
                token_hash=session.token_hash,
                user_id=session.user_id,
                stage=session.stage.value,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        )

    async def get(self, token_hash: str) -> StaffSession | None:
        row = await self._one(_SESSION_BY_TOKEN, {"token_hash": token_hash})
        if row is None:
            return None
        return StaffSession(
            row["token_hash"],
            row["user_id"],
            Stage(row["stage"]),
            row["created_at"],
            row["last_seen_at"],
        )

    async def touch(self, token_hash: str, at: datetime) -> None:
        await self.conn.execute(_TOUCH_SESSION, {"key": token_hash, "at": at})

    async def promote(self, token_hash: str, stage: str) -> None:
        await self.conn.execute(
            update(t.staff_sessions)
            .where(t.staff_sessions.c.token_hash == token_hash)
            .values(stage=stage)
        )

    async def delete(self, token_hash: str) -> None:
        await self.conn.execute(
            t.staff_sessions.delete().where(t.staff_sessions.c.token_hash == token_hash)
        )

    async def delete_for_user(self, user_id: int) -> None:
        await self.conn.execute(
            t.staff_sessions.delete().where(t.staff_sessions.c.user_id == user_id)
        )


class SqlDevices(Repo):
    async def add_code(
        self,
        home_id: int,
        label: str,
        code_hash: str,
        created_by: str,
        at: datetime,
        expires_at: datetime,
    ) -> EnrolmentCode:
        result = await self.conn.execute(
            insert(t.enrolment_codes).values(
                home_id=home_id,
                label=label,
                code_hash=code_hash,
                created_by=created_by,
                created_at=at,
                expires_at=expires_at,
            )
        )
        code_id = new_id(result)
        return EnrolmentCode(code_id, home_id, label, at, expires_at, None, None, created_by)

    async def code_by_hash(self, code_hash: str) -> EnrolmentCode | None:
        row = await self._one(
            select(t.enrolment_codes).where(t.enrolment_codes.c.code_hash == code_hash)
        )
        return _code(row) if row else None

    async def use_code(self, code_id: int, device_id: int, at: datetime) -> bool:
        c = t.enrolment_codes.c
        result = await self.conn.execute(
            update(t.enrolment_codes)
            .where(c.id == code_id, c.used_at.is_(None), c.expires_at > at)
            .values(used_at=at, device_id=device_id)
        )
        return result.rowcount == 1

    async def codes(self, home_id: int | None = None) -> list[EnrolmentCode]:
        stmt = select(t.enrolment_codes).order_by(t.enrolment_codes.c.created_at.desc())
        if home_id is not None:
            stmt = stmt.where(t.enrolment_codes.c.home_id == home_id)
        return [_code(r) for r in await self._all(stmt)]

    async def add_device(self, home_id: int, label: str, token_hash: str, at: datetime) -> Device:
        result = await self.conn.execute(
            insert(t.devices).values(
                home_id=home_id,
                label=label,
                token_hash=token_hash,
                enrolled_at=at,
                last_seen_at=at,
            )
        )
        device_id = new_id(result)
        return Device(device_id, home_id, label, at, None, at)

    async def get(self, device_id: int) -> Device | None:
        row = await self._one(select(t.devices).where(t.devices.c.id == device_id))
        return _device(row) if row else None

    async def by_token(self, token_hash: str) -> Device | None:
        row = await self._one(_DEVICE_BY_TOKEN, {"token_hash": token_hash})
        return _device(row) if row else None

    async def list(self, home_id: int | None = None) -> list[Device]:
        stmt = select(t.devices).order_by(t.devices.c.enrolled_at.desc())
        if home_id is not None:
            stmt = stmt.where(t.devices.c.home_id == home_id)
        return [_device(r) for r in await self._all(stmt)]

    async def revoke(self, device_id: int, at: datetime) -> bool:
        result = await self.conn.execute(
            update(t.devices)
            .where(t.devices.c.id == device_id, t.devices.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    async def touch(self, device_id: int, at: datetime) -> None:
        await self.conn.execute(_TOUCH_DEVICE, {"key": device_id, "at": at})


def _code(r: RowMapping) -> EnrolmentCode:
    return EnrolmentCode(
        r["id"],
        r["home_id"],
        r["label"],
        r["created_at"],
        r["expires_at"],
        r["used_at"],
        r["device_id"],
        r["created_by"],
    )


def _device(r: RowMapping) -> Device:
    return Device(
        r["id"], r["home_id"], r["label"], r["enrolled_at"], r["revoked_at"], r["last_seen_at"]
    )
