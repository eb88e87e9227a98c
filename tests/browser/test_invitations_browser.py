"""The console's invitation links in real Chromium (web/static/js/console_invite.js), and
the self-view beside the tiles of a relayed call (web/static/css/app.css).

The clinician makes two links from the console's Invite panel: both are listed, the
newest with its link and QR code. After a reload of the console both are still listed,
each with Withdraw and a plain sentence saying why its link is not shown. Withdrawing one
takes it off the list, and its link's page says it no longer works. A guest comes in by
the other link (it is used: off the list too) and is let in: on the relay, the console's
and the tablet's self-view sits beside the tiles and covers no tile's name and role.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    LiveServer,
    admit,
    end_call,
    guest_joins,
    hub,
    no_page_errors,
    page_errors,
    poll,
    record_outcome,
    screenshot,
    until_text,
    video_call,
    wait_for_frames,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]

NOT_SHOWN = "Link shown when it was made; withdraw it and invite again if it was lost"

ITEMS = "() => [...document.querySelectorAll('#invite-list > li')]"

LISTED = f"""() => ({ITEMS})().map((li) => ({{
    id: Number(li.dataset.invitationId),
    kind: li.querySelector('.invite-kind').textContent,
    expiry: li.querySelector('.invite-expiry').textContent,
    withdraw: li.querySelector('button[data-testid=invite-withdraw]')?.textContent ?? null,
    note: li.querySelector('.invite-not-shown')?.textContent ?? null,
    link: li.querySelector('#invite-link')?.value ?? null,
    qr: Boolean(li.querySelector('#invite-qr:not([hidden])')?.getAttribute('src')),
}}))"""

ROUTE_FRAMES = """async () => {
    if (!window.telehubRoute?.relay?.pc) return 0;
    let n = 0;
    (await window.telehubRoute.relay.pc.getStats()).forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded ?? 0;
    });
    return n;
}"""

# The self-view's box and every tile caption's box on the page, and which overlap.
OVERLAPS = """(tiles) => {
    const box = (el) => {
        const r = el.getBoundingClientRect();
        return {
            left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            width: r.width, height: r.height,
        };
    };
    const self = box(document.getElementById('local'));
    const captions = [...document.querySelectorAll(`${tiles} figcaption`)]
        .map((c) => ({ text: c.textContent, ...box(c) }));
    const overlap = (a, b) =>
        a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    return { self, captions, covered: captions.filter((c) => overlap(self, c)).map((c) => c.text) };
}"""


def listed(console: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = console.evaluate(LISTED)
    return found


def make_link(console: Any, kind: str, count: int) -> str:
    """Invite from the console's panel; the link it shows, once ``count`` links are listed."""
    console.select_option("[data-testid=invite-kind]", kind)
    console.click("[data-testid=invite]")
    poll(console, f"() => ({ITEMS})().length === {count}")
    poll(console, "() => document.getElementById('invite-link').value.includes('/join/')")
    link: str = console.input_value("#invite-link")
    return link


def assert_self_view_covers_no_caption(page: Any, tiles: str, at_least: int) -> None:
    found = page.evaluate(OVERLAPS, tiles)
    assert found["self"]["width"] > 0 and found["self"]["height"] > 0, found  # it is shown
    assert len(found["captions"]) >= at_least, found
    assert all(c["text"] and c["width"] > 0 for c in found["captions"]), found
    assert found["covered"] == [], found


def test_open_links_are_listed_after_a_reload_withdrawn_and_the_self_view_covers_no_caption(
    browser: Any,
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
    page_errors: Any,  # noqa: F811
) -> None:
    console, tablet = hub
    call_id = video_call(console, tablet, live_server, "Edna Smith")
    assert not console.is_visible("[data-testid=invitations]")  # no links yet: no list

    gp_link = make_link(console, "gp", 1)
    family_link = make_link(console, "family", 2)
    assert gp_link != family_link
    newest, older = listed(console)
    # The newest made here shows its link and QR code; the other says why it cannot.
    assert newest["kind"] == "Family member" and newest["link"] == family_link, newest
    assert newest["qr"] and newest["note"] is None, newest
    assert older["kind"] == "GP" and older["link"] is None and older["note"] == NOT_SHOWN, older
    for item in (newest, older):
        assert item["expiry"].startswith("Works once, until "), item
        assert item["expiry"].endswith(" (UK time)"), item
        assert item["withdraw"] == "Withdraw", item

    # The clinician reloads the console mid-call: both links still listed, with Withdraw.
    console.reload()
    console.locator("#in-call").wait_for()
    poll(console, f"() => ({ITEMS})().length === 2")
    after = listed(console)
    assert [i["kind"] for i in after] == ["Family member", "GP"], after
    assert all(i["withdraw"] == "Withdraw" for i in after), after
    assert all(i["note"] == NOT_SHOWN and i["link"] is None for i in after), after
    assert not console.is_visible("[data-testid=invitation]")  # no link to show now
    assert console.get_by_role("list", name="Invitation links that still work").is_visible()
    gp_item = console.locator("#invite-list > li", has_text="GP")
    gp_withdraw = gp_item.get_by_role("button", name="Withdraw the GP link")
    assert gp_withdraw.is_visible()
    screenshot(console, "console-invitations-after-reload.png", full_page=True)

    # Withdraw the GP's link: the list keeps only the family member's.
    gp_withdraw.click()
    until_text(console, "invite-state", "t === 'Link withdrawn: it no longer works'")
    poll(console, f"() => ({ITEMS})().length === 1")
    (left,) = listed(console)
    assert left["kind"] == "Family member", left
    # Its page says it no longer works (and nothing about the call).
    stranger = browser.new_context()
    try:
        page = stranger.new_page()
        response = page.goto(gp_link)
        assert response is not None and response.status == 410
        refused = page.inner_text("[data-testid=join-refused]")
        assert "This link was withdrawn" in refused, refused
        assert "Edna" not in page.inner_text("body")
    finally:
        stranger.close()

    # The other link brings a guest in: used, so off the list.
    wait_for_frames(console)  # the reloaded console is back in the call
    guest_ctx, _guest = guest_joins(browser, page_errors, family_link, "Sam Guest")
    try:
        poll(console, f"() => ({ITEMS})().length === 0")
        poll(console, "() => document.getElementById('invitations').hidden")
        admit(console, call_id, "Sam Guest")

        # On the relay: the tiles with names and roles, and the self-view beside them.
        for page in (console, tablet):
            poll(page, "() => window.telehubRoute && window.telehubRoute.route === 'relay'")
            poll(page, f"async () => (await ({ROUTE_FRAMES})()) > 20", timeout_s=30)
        poll(
            console,
            "() => [...document.querySelectorAll('#relay-tiles figcaption')]"
            ".some((c) => c.textContent.includes('Sam Guest'))",
        )
        poll(
            tablet,
            "() => [...document.querySelectorAll('#tiles figcaption')]"
            ".some((c) => c.textContent.includes('Sam Guest'))",
        )
        assert_self_view_covers_no_caption(console, "#relay-tiles", at_least=2)
        assert_self_view_covers_no_caption(tablet, "#tiles", at_least=2)
        screenshot(console, "console-relay-self-view.png")
        screenshot(tablet, "tablet-relay-self-view.png")
    finally:
        guest_ctx.close()
    end_call(console, tablet)
    record_outcome(console, call_id)
