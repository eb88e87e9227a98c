"""Notes over real WebSockets: entries reach every console with the call open and
nobody else; drafts survive a reload and never silently overwrite another tab's text."""

from __future__ import annotations

from typing import Any

from tests.signalling.conftest import Peer, claim, place_call


async def nothing_about_notes(peer: Peer) -> None:
    """Everything ``peer`` was sent before a pong it asks for now holds no notes."""
    await peer.send("ping", ref="fence")
    while (m := await peer.recv())["type"] != "pong":
        assert not m["type"].startswith("notes."), m


async def claimed(nurse: Peer, call_id: int) -> dict[str, Any]:
    """``nurse`` answers the call and opens its notes: the snapshot."""
    await claim(nurse, call_id)
    await nurse.send("notes.open", call_id=call_id, ref="open")
    return await nurse.expect("notes.snapshot", ref="open")


async def test_two_tabs_of_one_clinician_lose_nothing(waiting_call, clinician, reconnect) -> None:
    cleo, _ = await clinician("cleo")
    bob, _ = await clinician("bob")
    tab, call_id = await waiting_call()
    snap = await claimed(cleo, call_id)
    assert (snap["entries"], snap["draft_text"], snap["draft_revision"]) == ([], "", 0)

    await cleo.send("notes.draft", call_id=call_id, text="Resp 24", base=0, ref="d1")
    assert (await cleo.expect("notes.draft_saved", ref="d1"))["revision"] == 1
    # The same clinician in a second tab (or after a reload) gets the draft back.
    second = await reconnect(cleo)
    await second.send("notes.open", call_id=call_id)
    again = await second.expect("notes.snapshot")
    assert (again["draft_text"], again["draft_revision"]) == ("Resp 24", 1)

    await cleo.send("notes.draft", call_id=call_id, text="Resp 24, sats 93%", base=1)
    await cleo.expect("notes.draft_saved", revision=2)
    await second.send("notes.draft", call_id=call_id, text="Typed in tab two", base=1, ref="t2")
    clash = await second.expect("notes.draft_conflict", ref="t2")
    assert (clash["draft_text"], clash["revision"]) == ("Resp 24, sats 93%", 2)

    # Add to notes: an entry for every console with the call open, and nobody else.
    await cleo.send("notes.add", call_id=call_id, text="Resp 24, sats 93%", base=2, ref="a")
    added = await cleo.expect("notes.added", ref="a")
    assert added["draft_revision"] == 3
    for peer in (cleo, second):
        entry = await peer.expect("notes.entry", call_id=call_id)
        assert (entry["entry_id"], entry["text"]) == (added["entry_id"], "Resp 24, sats 93%")
        assert entry["author_name"] == "Cleo"
    await nothing_about_notes(tab)
    await nothing_about_notes(bob)


async def test_a_tablet_and_a_colleague_cannot_open_the_notes(waiting_call, clinician) -> None:
    cleo, _ = await clinician("cleo")
    bob, _ = await clinician("bob")
    tab, call_id = await waiting_call()
    await claimed(cleo, call_id)
    await tab.send("notes.open", call_id=call_id, ref="t")
    err = await tab.expect("error", ref="t")
    assert (err["code"], err["message"]) == (
        "forbidden",
        "only clinicians read and write notes here",
    )
    await tab.send("notes.add", call_id=call_id, text="tablet writes notes?", ref="t2")
    assert (await tab.expect("error", ref="t2"))["code"] == "forbidden"
    await bob.send("notes.open", call_id=call_id, ref="b")
    err = await bob.expect("error", ref="b")
    assert (
        err["message"]
        == f"call {call_id} is being handled by Cleo: only they add notes until it ends"
    )
    await cleo.send("notes.add", call_id=call_id, text="Fell at 9", ref="a")
    await cleo.expect("notes.added", ref="a")
    await nothing_about_notes(bob)
    await nothing_about_notes(tab)
    await cleo.send("notes.add", call_id=call_id, text="   ", ref="e")
    err = await cleo.expect("error", ref="e")
    assert (err["code"], err["message"]) == ("invalid", "a note cannot be empty")


async def test_transfer_commits_the_draft_and_the_colleague_sees_every_entry(
    waiting_call, clinician
) -> None:
    cleo, _ = await clinician("cleo")
    bob, bob_user = await clinician("bob")
    _, call_id = await waiting_call()
    await claimed(cleo, call_id)
    await cleo.send("notes.add", call_id=call_id, text="Fell in the lounge")
    first = await cleo.expect("notes.entry")
    await cleo.send("notes.draft", call_id=call_id, text="Not finished typing", base=0)
    await cleo.expect("notes.draft_saved")
    await cleo.send("call.transfer", call_id=call_id, to_user_id=bob_user.id)
    await bob.expect("call.state", call_id=call_id, state="answered")
    await bob.send("notes.open", call_id=call_id)
    snap = await bob.expect("notes.snapshot")
    assert [(e["text"], e["author_name"]) for e in snap["entries"]] == [
        ("Fell in the lounge", "Cleo"),
        ("Not finished typing", "Cleo"),
    ]
    assert (snap["draft_text"], snap["draft_revision"]) == ("", 0)  # Bob's own draft
    await bob.send("notes.correct", call_id=call_id, corrects=first["entry_id"], text="In the hall")
    fix = await bob.expect("notes.entry")
    assert (fix["corrects"], fix["author_name"]) == (first["entry_id"], "Bob")


async def test_hand_back_keeps_the_entries_and_commits_the_draft(waiting_call, clinician) -> None:
    cleo, _ = await clinician("cleo")
    _, call_id = await waiting_call()
    await claimed(cleo, call_id)
    await cleo.send("notes.add", call_id=call_id, text="Entry one")
    await cleo.expect("notes.added")
    await cleo.send("notes.draft", call_id=call_id, text="Draft two", base=0)
    await cleo.expect("notes.draft_saved")
    await cleo.send("call.release", call_id=call_id)
    await cleo.expect("call.state", call_id=call_id, state="waiting")
    await cleo.send("notes.open", call_id=call_id, ref="w")
    assert "waiting in the queue" in (await cleo.expect("error", ref="w"))["message"]
    snap = await claimed(cleo, call_id)
    assert [e["text"] for e in snap["entries"]] == ["Entry one", "Draft two"]
    assert snap["draft_text"] == "" and snap["draft_revision"] == 2


async def test_an_entry_reaches_a_console_on_another_process(
    two_nodes, reconnect, home, resident, tablet, clinician
) -> None:
    """Two telehub processes on one Redis bus: the clinician's second tab is connected to
    the other process and still gets the new entry (and the tablet gets none)."""
    node_a, node_b = two_nodes
    tab = await reconnect(await tablet(home), node_a)
    cleo, _ = await clinician("cleo")
    here, there = await reconnect(cleo, node_a), await reconnect(cleo, node_b)
    call_id = await place_call(tab, resident.id)  # through node A
    await claimed(here, call_id)
    await there.send("notes.open", call_id=call_id)
    await there.expect("notes.snapshot")
    await here.send("notes.add", call_id=call_id, text="Across processes")
    entry = await there.expect("notes.entry", timeout=10)
    assert entry["text"] == "Across processes"
    await nothing_about_notes(tab)
