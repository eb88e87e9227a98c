"""Answering while a call of yours still needs its outcome: the console hears a typed
error naming that call, and may answer once the outcome is recorded or deferred."""

from __future__ import annotations

from tests.signalling.conftest import claim, place_call


async def test_claim_refused_with_a_typed_error_until_the_outcome_is_deferred(
    resident, waiting_call, clinician
) -> None:
    nurse, _ = await clinician("cleo")
    tab, first = await waiting_call()
    await claim(nurse, first)
    await nurse.send("call.end", call_id=first)
    await nurse.expect("call.state", call_id=first, state="ended")

    second = await place_call(tab, resident.id)
    await nurse.send("call.claim", call_id=second, ref="a2")
    error = await nurse.expect("error")
    assert error["code"] == "outcome_outstanding" and error["ref"] == "a2"
    assert error["message"].startswith(f"record the outcome of call {first} (Edna Smith, ended ")

    resp = await nurse.http(
        "POST", f"/api/calls/{first}/outcome/defer", json={"reason": "GP to ring back"}
    )
    assert resp.status == 200, await resp.text()
    await nurse.send("call.claim", call_id=second, ref="a3")
    claimed = await nurse.expect("call.claimed")
    assert (claimed["call_id"], claimed["ok"], claimed["ref"]) == (second, True, "a3")
