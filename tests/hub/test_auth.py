"""Login with password + TOTP, lockout with back-off, replay protection, sessions."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from hub.clock import FixedClock
from hub.context import HubContext
from hub.errors import AuthenticationFailed, LockedOut, ValidationError
from hub.people import auth
from hub.people.sessions import Stage
from hub.people.staff import StaffUser
from tests.conftest import PASSWORD
from tests.web.helpers import totp_secret


async def full_login(ctx: HubContext, clock: FixedClock, user: StaffUser) -> str:
    step = await auth.login_password(ctx, user.username, PASSWORD)
    code = pyotp.TOTP(await totp_secret(ctx, user.id)).at(clock.now())
    done = await auth.login_totp(ctx, step.token, code)
    return done.token


async def test_first_login_needs_totp_setup_then_totp(ctx, clock, clinician_user) -> None:
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    assert step.stage is Stage.NEEDS_TOTP_SETUP
    assert await auth.session_actor(ctx, step.token) is not None
    token = await full_login(ctx, clock, clinician_user)
    actor, session = await auth.session_actor(ctx, token)  # type: ignore[misc]
    assert session.stage is Stage.FULL and actor.id == clinician_user.id
    clock.advance(timedelta(minutes=1))
    again = await auth.login_password(ctx, "cleo", PASSWORD)
    assert again.stage is Stage.NEEDS_TOTP


async def test_setup_uri_names_issuer_and_user(ctx, clinician_user) -> None:
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    _, session = await auth.session_actor(ctx, step.token)  # type: ignore[misc]
    uri, secret = await auth.totp_setup_uri(ctx, session)
    assert uri.startswith("otpauth://totp/telehub:cleo?secret=") and secret in uri


async def test_wrong_password(ctx, clinician_user) -> None:
    with pytest.raises(AuthenticationFailed, match="wrong username or password"):
        await auth.login_password(ctx, "cleo", "not the password")
    with pytest.raises(AuthenticationFailed, match="wrong username or password"):
        await auth.login_password(ctx, "nobody", "whatever")


async def test_wrong_passwords_never_lock_the_account(ctx, clock, clinician_user) -> None:
    """A stranger who knows a username cannot lock its clinician out: wrong passwords
    are slowed per client address at the edge (tests/web/test_login_throttle_web.py),
    never by locking the account, and answer exactly like an unknown username."""
    for _ in range(12):
        with pytest.raises(AuthenticationFailed) as known:
            await auth.login_password(ctx, "cleo", "wrong")
        with pytest.raises(AuthenticationFailed) as unknown:
            await auth.login_password(ctx, "nobody", "wrong")
        assert type(known.value) is type(unknown.value) is AuthenticationFailed
        assert known.value.message == unknown.value.message == "wrong username or password"
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    assert step.stage is Stage.NEEDS_TOTP_SETUP
    async with ctx.uow() as uow:
        creds = await uow.staff.credentials(clinician_user.id)
        failed = await uow.audit.for_subject("staff", str(clinician_user.id), ["login.failed"])
    assert creds.locked_until is None and creds.failed_attempts == 0
    assert len(failed) == 12  # still audited, one by one


def test_backoff_is_capped(ctx) -> None:
    assert auth.lockout_delay(ctx, 4) is None
    assert auth.lockout_delay(ctx, 5) == timedelta(seconds=30)
    assert auth.lockout_delay(ctx, 7) == timedelta(seconds=120)
    assert auth.lockout_delay(ctx, 50) == timedelta(seconds=3600)


async def test_wrong_totp_counts_towards_lockout(ctx, clock, clinician_user) -> None:
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed, match="that code is not right"):
            await auth.login_totp(ctx, step.token, "000000")
    code = pyotp.TOTP(await totp_secret(ctx, clinician_user.id)).at(clock.now())
    with pytest.raises(LockedOut):
        await auth.login_totp(ctx, step.token, code)


async def test_replayed_totp_is_refused(ctx, clock, clinician_user) -> None:
    await full_login(ctx, clock, clinician_user)
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    used = pyotp.TOTP(await totp_secret(ctx, clinician_user.id)).at(clock.now())
    with pytest.raises(AuthenticationFailed, match="already used"):
        await auth.login_totp(ctx, step.token, used)
    clock.advance(timedelta(seconds=30))
    fresh = pyotp.TOTP(await totp_secret(ctx, clinician_user.id)).at(clock.now())
    assert (await auth.login_totp(ctx, step.token, fresh)).stage is Stage.FULL


async def test_totp_code_shape_is_checked(ctx, clinician_user) -> None:
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    with pytest.raises(ValidationError, match="6 digits"):
        await auth.login_totp(ctx, step.token, "12ab56")


async def test_session_idle_and_absolute_expiry(ctx, clock, clinician_user) -> None:
    token = await full_login(ctx, clock, clinician_user)
    clock.advance(timedelta(minutes=29))
    assert await auth.session_actor(ctx, token) is not None  # touches the idle timer
    clock.advance(timedelta(minutes=29))
    assert await auth.session_actor(ctx, token) is not None
    clock.advance(timedelta(minutes=31))
    assert await auth.session_actor(ctx, token) is None
    token = await full_login(ctx, clock, clinician_user)
    for _ in range(13):
        clock.advance(timedelta(minutes=59))
        await auth.session_actor(ctx, token)
    assert await auth.session_actor(ctx, token) is None  # 12 h absolute limit


async def test_half_login_cannot_skip_totp(ctx, clinician_user) -> None:
    step = await auth.login_password(ctx, "cleo", PASSWORD)
    _, session = await auth.session_actor(ctx, step.token)  # type: ignore[misc]
    assert session.stage is not Stage.FULL


async def test_logout_ends_session(ctx, clock, clinician_user) -> None:
    token = await full_login(ctx, clock, clinician_user)
    await auth.logout(ctx, token)
    assert await auth.session_actor(ctx, token) is None


async def test_test_settings_hash_with_real_argon2id_at_the_cheapest_cost(
    ctx, clinician_user
) -> None:
    async with ctx.uow() as uow:
        creds = await uow.staff.credentials(clinician_user.id)
    assert creds.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert auth.hasher(ctx.settings.security).verify(creds.password_hash, PASSWORD)


def test_production_keeps_argon2_cffi_default_costs() -> None:
    from argon2.profiles import RFC_9106_LOW_MEMORY

    from hub import settings as settings_mod

    ph = auth.hasher(settings_mod.load().security)
    assert (
        (ph.time_cost, ph.memory_cost, ph.parallelism)
        == (
            RFC_9106_LOW_MEMORY.time_cost,
            RFC_9106_LOW_MEMORY.memory_cost,
            RFC_9106_LOW_MEMORY.parallelism,
        )
        == (3, 65536, 4)
    )


async def test_a_hash_of_another_cost_still_logs_in_and_is_rehashed_at_the_configured_one(
    ctx, clinician_user
) -> None:
    """Raising the configured cost (here: to production's) keeps old hashes working;
    each is upgraded at its user's next successful login."""
    stronger = HubContext(
        ctx.uow,
        ctx.clock,
        ctx.keyring,
        ctx.settings.replace("security", password_time_cost=2, password_memory_kib=16),
    )
    await auth.login_password(stronger, "cleo", PASSWORD)
    async with ctx.uow() as uow:
        creds = await uow.staff.credentials(clinician_user.id)
    assert creds.password_hash.startswith("$argon2id$v=19$m=16,t=2,p=1$")
