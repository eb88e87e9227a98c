"""``call.security``: the parties of a live call report how its media travels; the
server checks the sender and the level, stores changes and tells both sides."""

from __future__ import annotations

import pytest

from hub.calls import live, security
from signalling import protocol as p
from tests.signalling.conftest import claim, place_call


def test_protocol_parses_and_refuses_levels() -> None:
    m = p.parse('{"type": "call.security", "call_id": 4, "level": "relay", "ref": "s1"}')
    assert m == p.CallSecurity(call_id=4, level="relay", ref="s1")
    with pytest.raises(p.ProtocolError) as err:
        p.parse('{"type": "call.security", "call_id": 4, "level": "p2p"}')
    assert (err.value.code, err.value.message) == (
        "bad_field",
        "field 'level' of 'call.security' must be one of 'direct', 'relay', 'relay_e2ee', "
        "'relay_not_e2ee', got 'p2p'",
    )
    with pytest.raises(p.ProtocolError, match=r"missing field 'level' in 'call\.security'"):
        p.parse('{"type": "call.security", "call_id": 4}')
    text = p.dump(p.CallSecurityState(call_id=4, level="direct", changed=True))
    assert p.parse_server(text) == p.CallSecurityState(call_id=4, level="direct", changed=True)


async def live_call(home, resident, tablet, clinician):  # type: ignore[no-untyped-def]
    nurse, _ = await clinician("cleo")
    tab = await tablet(home)
    call_id = await place_call(tab, resident.id)
    await claim(nurse, call_id)
    await tab.expect("call.state", state="answered")
    return nurse, tab, call_id


async def test_a_report_is_stored_and_both_sides_hear_the_change(
    ctx, home, resident, tablet, clinician
) -> None:
    nurse, tab, call_id = await live_call(home, resident, tablet, clinician)
    await tab.send("call.security", call_id=call_id, level="direct", ref="s1")
    assert await tab.expect("call.security") == {
        "type": "call.security",
        "call_id": call_id,
        "level": "direct",
        "changed": True,
        "ref": "s1",
    }
    heard = await nurse.expect("call.security")
    assert (heard["level"], heard["changed"]) == ("direct", True)
    # The clinician's browser reports the same pair: acknowledged, no change.
    await nurse.send("call.security", call_id=call_id, level="direct", ref="s2")
    same = await nurse.expect("call.security", ref="s2")
    assert same["changed"] is False
    # The path moves to the relay.
    await nurse.send("call.security", call_id=call_id, level="relay")
    await nurse.expect("call.security", level="relay")
    assert (await tab.expect("call.security"))["level"] == "relay"
    assert (await live.participants(ctx, call_id)).security_level == "relay"
    assert [c.level.value for c in await security.changes(ctx, call_id)] == [
        "direct",
        "relay",
    ]


async def test_an_unknown_level_is_refused_and_nothing_stored(
    ctx, home, resident, tablet, clinician
) -> None:
    _, tab, call_id = await live_call(home, resident, tablet, clinician)
    await tab.send("call.security", call_id=call_id, level="quantum", ref="bad")
    error = await tab.expect("error")
    assert error == {
        "type": "error",
        "code": "bad_field",
        "message": "field 'level' of 'call.security' must be one of 'direct', 'relay', "
        "'relay_e2ee', 'relay_not_e2ee', got 'quantum'",
        "ref": "bad",
    }
    assert (await live.participants(ctx, call_id)).security_level is None


async def test_only_a_party_of_the_live_call_may_report(
    ctx, home, resident, tablet, clinician
) -> None:
    nurse, tab, call_id = await live_call(home, resident, tablet, clinician)
    bob, _ = await clinician("bob")
    await bob.send("call.security", call_id=call_id, level="relay", ref="x")
    error = await bob.expect("error")
    assert (error["code"], error["message"], error["ref"]) == (
        "forbidden",
        f"call {call_id} is not yours",
        "x",
    )
    await nurse.send("call.end", call_id=call_id)
    await tab.expect("call.state", state="ended")
    await tab.send("call.security", call_id=call_id, level="direct", ref="late")
    late = await tab.expect("error")
    assert (late["code"], late["message"]) == ("forbidden", f"call {call_id} is ended, not live")
    assert (await live.participants(ctx, call_id)).security_level is None
