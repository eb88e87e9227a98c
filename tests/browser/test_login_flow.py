"""Issue 2's browser path: a clinician logs in with TOTP; a tablet is enrolled."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from tests.browser.server import PASSWORD, LiveServer

pytestmark = pytest.mark.browser


def login_with_totp_setup(page: Any, server: LiveServer, username: str) -> str:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/login/setup"))
    assert page.locator(".qr svg").count() == 1
    page.click("summary")
    secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
    uri = page.inner_text("[data-testid=totp-uri]")
    assert uri.startswith(f"otpauth://totp/telehub:{username}?secret={secret}")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Confirm and log in')")
    return secret


def test_admin_enrols_a_tablet_which_then_stays_enrolled(
    browser: Any, live_server: LiveServer
) -> None:
    admin = browser.new_context()
    page = admin.new_page()
    login_with_totp_setup(page, live_server, "ada")
    page.wait_for_url(re.compile(r"/admin$"))
    page.click("text=Rose Court")
    page.fill("input[name=label]", "Ground floor trolley")
    page.click("button:has-text('Issue enrolment code')")
    code = page.inner_text("[data-testid=enrolment-code]")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)

    tablet = browser.new_context()
    tab = tablet.new_page()
    tab.goto(f"{live_server.url}/")
    tab.wait_for_url(re.compile(r"/login"))
    tab.goto(f"{live_server.url}/enrol")
    tab.fill("input[name=code]", code.lower())
    tab.click("button:has-text('Enrol tablet')")
    tab.wait_for_url(re.compile(r"/tablet$"))
    assert tab.inner_text("h1") == "Rose Court"
    names = tab.locator("[data-testid=resident-list] .name").all_inner_texts()
    assert sorted(names) == ["Arthur Smith", "Edna Smith", "Mabel Smith"]  # not Walter
    tab.reload()
    assert tab.inner_text("h1") == "Rose Court"
    (cookie,) = [c for c in tablet.cookies() if c["name"] == "th_device"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    tab.goto(f"{live_server.url}/")
    tab.wait_for_url(re.compile(r"/tablet$"))

    other = browser.new_context().new_page()
    other.goto(f"{live_server.url}/enrol")
    other.fill("input[name=code]", code)
    other.click("button:has-text('Enrol tablet')")
    assert "already been used" in other.inner_text("[role=alert]")
    for ctx in (admin, tablet, other.context):
        ctx.close()


def test_clinician_logs_in_with_totp_and_a_wrong_code_is_refused(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    secret = login_with_totp_setup(page, live_server, "cleo")
    page.wait_for_url(re.compile(r"/console$"))
    page.click("button:has-text('Log out')")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("input[name=username]", "cleo")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/login/totp"))
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    page.fill("input[name=code]", wrong)
    page.click("button:has-text('Log in')")
    assert "not right" in page.inner_text("[role=alert]")
    page.goto(f"{live_server.url}/console")
    page.wait_for_url(re.compile(r"/login"))
    context.close()
