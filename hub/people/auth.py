"""Staff authentication: password (Argon2) then TOTP, back-off, sessions.

Login is two steps. The password step creates a session at stage NEEDS_TOTP (or
NEEDS_TOTP_SETUP on first login); only the TOTP step promotes it to FULL. A TOTP code
is accepted once: its time step must be newer than the last one used.

Wrong passwords never lock an account: anyone could lock a clinician out by typing
their username five times, and a locked account would answer differently from an
unknown one. They are slowed per client address instead, at the edge
(``web/http/throttles.py``), the same for known and unknown usernames; an unknown username
costs an Argon2 hash of the same cost so it takes as long as a known one. The cost
comes from the settings (``security.password_*``: argon2-cffi's defaults in production,
the cheapest parameters in the test suite). Wrong TOTP codes
(which only someone holding the password can send) count towards a lock of the account
with back-off, so the second factor cannot be brute-forced either.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.audit.trail import AuditRecord
from hub.context import HubContext
from hub.errors import AuthenticationFailed, Forbidden, LockedOut, ValidationError
from hub.events import AccessEnded
from hub.people.access import Actor
from hub.people.devices import digest, new_token
from hub.people.sessions import StaffSession, Stage
from hub.people.staff import StaffUser
from hub.ports import UnitOfWork
from hub.settings import SecuritySettings

TOTP_INTERVAL = 30


class LoginExpired(AuthenticationFailed):
    """The half-finished login is gone: start again from the password."""


class WrongCode(AuthenticationFailed):
    """The one-time code did not match (counts towards the lockout)."""


@dataclass(frozen=True)
class LoginStep:
    """The result of a login step: the session token to set as a cookie, and its stage."""

    token: str
    stage: Stage
    user: StaffUser


def hasher(security: SecuritySettings) -> PasswordHasher:
    """Argon2id at the configured cost. Verifying reads the cost from the hash itself,
    so hashes made at another cost still verify (and are re-hashed at login)."""
    return PasswordHasher(
        time_cost=security.password_time_cost,
        memory_cost=security.password_memory_kib,
        parallelism=security.password_parallelism,
    )


def lockout_delay(ctx: HubContext, failed_attempts: int) -> timedelta | None:
    """Back-off: locked for base·2^(n−threshold) seconds once n reaches the threshold."""
    sec = ctx.settings.security
    if failed_attempts < sec.lockout_threshold:
        return None
    exponent = min(failed_attempts - sec.lockout_threshold, 20)
    seconds = min(sec.lockout_base_seconds * 2**exponent, sec.lockout_max_seconds)
    return timedelta(seconds=seconds)


async def login_password(ctx: HubContext, username: str, password: str) -> LoginStep:
    now = ctx.clock.now()
    ph = hasher(ctx.settings.security)
    async with ctx.uow() as uow:
        found = await uow.staff.by_username(username.strip().lower())
        if found is None or not found[0].active:
            # As slow as checking a real hash: the answer must not tell which users exist.
            ph.hash(password)
            await uow.audit.append(
                AuditRecord(
                    "login.failed",
                    "anonymous",
                    "staff",
                    username[:80],
                    {"why": "unknown or inactive user"},
                ),
                now,
            )
            await uow.commit()
            raise AuthenticationFailed("wrong username or password")
        user, creds = found
        if not _verify_quietly(ph, creds.password_hash, password):
            # No account lock (see the module docstring): audited, and slowed per address.
            await uow.audit.append(
                AuditRecord(
                    "login.failed", "anonymous", "staff", str(user.id), {"why": "wrong password"}
                ),
                now,
            )
            await uow.commit()
            raise AuthenticationFailed("wrong username or password")
        if ph.check_needs_rehash(creds.password_hash):
            await uow.staff.set_password(user.id, ph.hash(password))
        stage = Stage.NEEDS_TOTP if user.totp_confirmed else Stage.NEEDS_TOTP_SETUP
        if stage is Stage.NEEDS_TOTP_SETUP and creds.totp_secret_sealed is None:
            secret = pyotp.random_base32()
            await uow.staff.set_totp(
                user.id, ctx.keyring.seal(secret, totp_context(user.id)), False
            )
        token = new_token()
        await uow.sessions.add(StaffSession(digest(token), user.id, stage, now, now))
        await uow.commit()
    return LoginStep(token, stage, user)


async def totp_setup_uri(ctx: HubContext, session: StaffSession) -> tuple[str, str]:
    """The otpauth:// URI and the bare secret to show while TOTP is being set up."""
    if session.stage is not Stage.NEEDS_TOTP_SETUP:
        raise AuthenticationFailed("two-factor set-up is not pending for this login")
    async with ctx.uow() as uow:
        user = await uow.staff.get(session.user_id)
        creds = await uow.staff.credentials(session.user_id)
    if user is None or creds.totp_secret_sealed is None:
        raise AuthenticationFailed("two-factor set-up is not pending for this login")
    secret = ctx.keyring.open(creds.totp_secret_sealed, totp_context(user.id))
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.username, issuer_name=ctx.settings.security.totp_issuer
    )
    return uri, secret


async def login_totp(ctx: HubContext, token: str, code: str) -> LoginStep:
    now = ctx.clock.now()
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        raise ValidationError("the code is the 6 digits your authenticator app shows", field="code")
    async with ctx.uow() as uow:
        session = await uow.sessions.get(digest(token))
        if session is None or session.stage is Stage.FULL or _expired(ctx, session, now):
            raise LoginExpired("this login has expired: start again")
        user = await uow.staff.get(session.user_id)
        creds = await uow.staff.credentials(session.user_id)
        if user is None or not user.active or creds.totp_secret_sealed is None:
            raise LoginExpired("this login has expired: start again")
        _raise_if_locked(creds.locked_until, now)
        secret = ctx.keyring.open(creds.totp_secret_sealed, totp_context(user.id))
        counter = _matching_counter(secret, code, now)
        if counter is None:
            await _fail(ctx, uow, user.id, creds.failed_attempts, now, "wrong TOTP code")
            await uow.commit()
            raise WrongCode("that code is not right: check the time on your phone")
        if not await uow.staff.advance_totp_counter(user.id, counter):
            await _fail(ctx, uow, user.id, creds.failed_attempts, now, "replayed TOTP code")
            await uow.commit()
            raise AuthenticationFailed("that code was already used: wait for the next one")
        if session.stage is Stage.NEEDS_TOTP_SETUP:
            await uow.staff.set_totp(user.id, creds.totp_secret_sealed, True)
        await uow.staff.clear_failures(user.id)
        # A fresh token at privilege change: a token seen before login is worthless after.
        await uow.sessions.delete(session.token_hash)
        new = new_token()
        await uow.sessions.add(StaffSession(digest(new), user.id, Stage.FULL, now, now))
        await uow.audit.append(
            AuditRecord("login.ok", f"staff:{user.id}", "staff", str(user.id), {}), now
        )
        await uow.commit()
    return LoginStep(new, Stage.FULL, user)


async def session_actor(ctx: HubContext, token: str) -> tuple[Actor, StaffSession] | None:
    """The actor behind a session cookie, touching its idle timer; None if not valid."""
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        session = await uow.sessions.get(digest(token))
        if session is None:
            return None
        if _expired(ctx, session, now):
            await uow.sessions.delete(session.token_hash)
            await uow.commit()
            await ctx.events.publish(AccessEnded("session", session.token_hash))
            return None
        user = await uow.staff.get(session.user_id)
        if user is None or not user.active:
            return None
        # Touch at most once a minute: a page with many requests need not write each time.
        if now - session.last_seen_at > timedelta(seconds=60):
            await uow.sessions.touch(session.token_hash, now)
            await uow.commit()
    actor = Actor("staff", user.id, user.display_name, user.role, user.home_id)
    return actor, session


async def logout(ctx: HubContext, token: str) -> None:
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        session = await uow.sessions.get(digest(token))
        if session is None:
            return
        await uow.sessions.delete(session.token_hash)
        await uow.audit.append(
            AuditRecord("logout", f"staff:{session.user_id}", "staff", str(session.user_id), {}),
            now,
        )
        await uow.commit()
    # Its live sockets close at once, on every process (not at their next message).
    await ctx.events.publish(AccessEnded("session", session.token_hash))


def current_code(secret: str, now: datetime) -> str:
    return pyotp.TOTP(secret).at(now)


async def demo_totp_code(ctx: HubContext, actor: Actor, username: str) -> str | None:
    """A demo login's current TOTP code (``telehub totp``), or None when the user has no
    secret. Demo databases only, and telehub itself only: it is a second factor given
    away. Audited like every other use of a login's secret."""
    if not ctx.settings.demo.enabled:
        raise Forbidden("`totp` works on demo databases only")
    if actor.kind != "system":
        raise Forbidden("only telehub itself shows a demo login's code")
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        found = await uow.staff.by_username(username.strip().lower())
        sealed = found[1].totp_secret_sealed if found is not None else None
        if found is None or sealed is None:
            return None
        user = found[0]
        secret = ctx.keyring.open(sealed, totp_context(user.id))
        await uow.audit.append(
            AuditRecord("staff.totp_code_shown", actor.ref, "staff", str(user.id), {}), now
        )
        await uow.commit()
    return current_code(secret, now)


def _matching_counter(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code matches, allowing one step of clock drift either way."""
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // TOTP_INTERVAL
    for counter in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _verify_quietly(ph: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return ph.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _raise_if_locked(locked_until: datetime | None, now: datetime) -> None:
    if locked_until is not None and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        raise LockedOut(
            f"too many failed attempts: try again in {_humanise(wait)}", retry_after_s=wait
        )


async def _fail(
    ctx: HubContext, uow: UnitOfWork, user_id: int, previous: int, now: datetime, why: str
) -> None:
    attempts = previous + 1
    delay = lockout_delay(ctx, attempts)
    locked_until = now + delay if delay else None
    await uow.staff.record_failure(user_id, attempts, locked_until)
    await uow.audit.append(
        AuditRecord(
            "login.failed",
            "anonymous",
            "staff",
            str(user_id),
            {
                "why": why,
                "attempts": attempts,
                "locked_until": locked_until.isoformat() if locked_until else None,
            },
        ),
        now,
    )


def _expired(ctx: HubContext, session: StaffSession, now: datetime) -> bool:
    sec = ctx.settings.security
    return session.expired(
        now,
        timedelta(minutes=sec.session_idle_minutes),
        timedelta(hours=sec.session_absolute_hours),
    )


def totp_context(user_id: int) -> str:
    return f"staff:{user_id}:totp"


def _humanise(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"
