"""Who sees the live queue, and a console that stops the moment its login ends.

- Logging out in one tab ends the console open in another at once: the server closes
  its socket (4401) and the page goes to the login, without the console sending a thing.
- A hub-wide manager watches the queue read-only (no Answer buttons); a care-home
  manager's account has no console link and is refused the console.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    DESKTOP,
    TABLET,
    LiveServer,
    enrol,
    first_login,
    login,
    no_page_errors,
    page_errors,
    place_call,
)
from tests.browser.server import PASSWORD

pytestmark = [pytest.mark.browser]


def test_logging_out_in_one_tab_ends_the_console_in_the_other(
    telehub: LiveServer, new_context: Any
) -> None:
    context = new_context(viewport=DESKTOP)
    console = context.new_page()
    login(console, telehub, "cleo")
    other_tab = context.new_page()
    other_tab.goto(f"{telehub.url}/hub")
    other_tab.click("button:has-text('Log out')")
    other_tab.wait_for_url(re.compile(r"/login"))
    # The console did nothing; the server closed its socket and it left the queue.
    console.wait_for_url(re.compile(r"/login\?next=/console"))
    assert "Edna" not in console.content()


def _add_staff(admin: Any, server: LiveServer, username: str, home: str | None) -> None:
    admin.goto(f"{server.url}/admin/staff")
    admin.fill("input[name=username]", username)
    admin.fill("input[name=display_name]", username.capitalize())
    admin.select_option("select[name=role]", "manager")
    if home:
        admin.select_option("select[name=home_id]", label=home)
    admin.fill("input[name=password]", PASSWORD)
    admin.click("button:has-text('Add staff member')")
    admin.locator(".notice, [role=status], p").filter(has_text=f"{username} added").first.wait_for()


def test_a_hub_manager_watches_read_only_and_a_home_manager_not_at_all(
    telehub: LiveServer, new_context: Any
) -> None:
    admin = new_context(viewport=DESKTOP).new_page()
    first_login(admin, telehub, "ada")
    _add_staff(admin, telehub, "mona", None)
    _add_staff(admin, telehub, "hana", "Rose Court")

    tablet = new_context(viewport=TABLET).new_page()
    enrol(tablet, telehub)
    call_id = place_call(tablet, telehub, "Edna Smith")

    manager = new_context(viewport=DESKTOP).new_page()
    first_login(manager, telehub, "mona")
    manager.goto(f"{telehub.url}/console")
    manager.wait_for_selector("#link[data-state=open]")
    row = manager.locator(f"tr[data-call-id='{call_id}']")
    row.wait_for()
    assert "Edna Smith" in row.inner_text()
    assert row.locator("button:has-text('Answer')").count() == 0
    assert manager.locator("[data-testid=read-only]").is_visible()

    home_manager = new_context(viewport=DESKTOP).new_page()
    first_login(home_manager, telehub, "hana")
    assert home_manager.locator("nav a[href='/console'], header a[href='/console']").count() == 0
    response = home_manager.goto(f"{telehub.url}/console")
    assert response is not None and response.status == 403
    assert "Edna" not in home_manager.content()
    assert "this is for hub staff, not a care home" in home_manager.content()
