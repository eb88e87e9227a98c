"""In real Chromium against a real telehub: an admin logs in with TOTP set-up and
enrols a tablet through the admin pages; the tablet stays enrolled; a clinician's
wrong TOTP code is refused; an enrolment code works only once."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.server import PASSWORD, LiveServer

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/telehub-shots")
TABLET = {"width": 1024, "height": 768}
ROSE_COURT_RESIDENTS = ["Arthur Smith", "Edna Smith", "Mabel Smith"]  # Oak House has Walter


def password_step(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Continue')")


def read_setup_secret(page: Any, username: str, screenshot: str | None = None) -> str:
    """On /login/setup: open "Can't scan?" and read the key the way a person would."""
    page.wait_for_url(re.compile(r"/login/setup"))
    assert page.locator(".qr svg").count() == 1
    secret_el = page.locator("[data-testid=totp-secret]")
    assert not secret_el.is_visible()  # tucked away in the <details> until asked for
    page.click("details > summary")
    assert secret_el.is_visible()
    shown = secret_el.inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})*", shown), shown
    secret = str(shown).replace(" ", "")
    uri = page.inner_text("[data-testid=totp-uri]")
    assert uri.startswith(f"otpauth://totp/telehub:{username}?secret={secret}"), uri
    if screenshot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / screenshot), full_page=True)
    return secret


def wrong_code(secret: str) -> str:
    """Six digits that no accepted time step (now, one before, one after) produces."""
    totp, now = pyotp.TOTP(secret), time.time()
    accepted = {str(totp.at(now + drift)) for drift in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222") if c not in accepted)


def enrol(page: Any, server: LiveServer, code: str) -> None:
    page.goto(f"{server.url}/enrol")
    page.fill("input[name=code]", code)
    page.click("button:has-text('Enrol tablet')")


def test_admin_issues_a_code_in_the_browser_and_the_tablet_stays_enrolled(
    new_context: Callable[..., Any], telehub: LiveServer
) -> None:
    admin = new_context().new_page()
    password_step(admin, telehub, "ada")
    secret = read_setup_secret(admin, "ada", screenshot="totp-setup.png")
    admin.fill("input[name=code]", pyotp.TOTP(secret).now())
    admin.click("button:has-text('Confirm and log in')")
    admin.wait_for_url(re.compile(r"/admin$"))

    admin.click("a:has-text('Rose Court')")
    admin.wait_for_url(re.compile(r"/admin/homes/\d+$"))
    home_page = admin.url
    admin.fill("input[name=label]", "Ground floor trolley")
    admin.click("button:has-text('Issue enrolment code')")
    code = admin.inner_text("[data-testid=enrolment-code]")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code), code
    admin.reload()  # shown once: a reload neither shows it again nor issues another
    assert admin.locator("[data-testid=enrolment-code]").count() == 0
    assert admin.locator("text=Ground floor trolley").count() == 1

    tablet_context = new_context(viewport=TABLET)
    tablet = tablet_context.new_page()
    tablet.goto(f"{telehub.url}/")
    tablet.wait_for_url(re.compile(r"/login"))  # not enrolled yet: nothing to see
    enrol(tablet, telehub, code.lower())  # typed sloppily on a tablet keyboard
    tablet.wait_for_url(re.compile(r"/tablet$"))
    assert tablet.inner_text("h1") == "Rose Court"
    names = tablet.locator("ul[data-testid=resident-list] .name").all_inner_texts()
    assert sorted(names) == ROSE_COURT_RESIDENTS
    SHOTS.mkdir(parents=True, exist_ok=True)
    tablet.screenshot(path=str(SHOTS / "tablet.png"), full_page=True)

    tablet.reload()  # no login, no code: the device cookie is enough
    assert tablet.url.endswith("/tablet")
    assert tablet.inner_text("h1") == "Rose Court"
    tablet.goto(f"{telehub.url}/")
    tablet.wait_for_url(re.compile(r"/tablet$"))
    (device,) = [c for c in tablet_context.cookies() if c["name"] == "th_device"]
    assert device["httpOnly"] is True
    assert device["sameSite"] == "Strict"
    assert device["expires"] > time.time() + 300 * 24 * 3600  # survives browser restarts

    admin.goto(home_page)  # the admin page now lists the enrolled tablet
    assert "Ground floor trolley" in admin.inner_text("#tablets table")


def test_clinician_sets_up_totp_and_a_wrong_code_does_not_log_in(
    context: Any, telehub: LiveServer
) -> None:
    page = context.new_page()
    password_step(page, telehub, "cleo")
    secret = read_setup_secret(page, "cleo")
    page.fill("input[name=code]", wrong_code(secret))  # a slip while setting up
    page.click("button:has-text('Confirm and log in')")
    page.wait_for_url(re.compile(r"/login/setup\?.*failed=1"))
    assert "not right" in page.inner_text("[role=alert]")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Confirm and log in')")
    page.wait_for_url(re.compile(r"/console$"))
    assert "Cleo" in page.inner_text("header .who")

    page.click("button:has-text('Log out')")
    page.wait_for_url(re.compile(r"/login$"))
    password_step(page, telehub, "cleo")
    page.wait_for_url(re.compile(r"/login/totp"))  # set up already: just the code now
    page.fill("input[name=code]", wrong_code(secret))
    page.click("button:has-text('Log in')")
    assert "that code is not right" in page.inner_text("[role=alert]")
    assert "/login/totp" in page.url
    page.goto(f"{telehub.url}/console")
    page.wait_for_url(re.compile(r"/login"))  # still not logged in


def test_an_enrolment_code_works_only_once(
    new_context: Callable[..., Any], telehub: LiveServer
) -> None:
    code = telehub.enrolment_code("Rose Court")
    first = new_context().new_page()
    enrol(first, telehub, code)
    first.wait_for_url(re.compile(r"/tablet$"))

    second_context = new_context()
    second = second_context.new_page()
    enrol(second, telehub, code)
    assert "already been used" in second.inner_text("[role=alert]")
    assert second.url.endswith("/enrol")
    assert not [c for c in second_context.cookies() if c["name"] == "th_device"]
    second.goto(f"{telehub.url}/tablet")
    assert not second.url.endswith("/tablet")
