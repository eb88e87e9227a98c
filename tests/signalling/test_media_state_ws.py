"""``call.media`` carries mute and camera-off to the other side (issue 10, item 9), over
real WebSockets; older clients that send only ``mode`` still work."""

from __future__ import annotations

from typing import Any

import pytest

from signalling import protocol as p
from tests.signalling.conftest import claim


async def test_mute_and_camera_off_reach_the_other_side(waiting_call: Any, clinician: Any) -> None:
    nurse, _ = await clinician()
    tab, call_id = await waiting_call()
    await claim(nurse, call_id)
    await tab.expect("call.state", state="answered")

    await tab.send("call.media", call_id=call_id, mode="video", muted=True, camera_off=True)
    told = await nurse.expect("call.media")
    assert told == {
        "type": "call.media",
        "call_id": call_id,
        "mode": "video",
        "from_role": "device",
        "muted": True,
        "camera_off": True,
    }
    await nurse.send("call.media", call_id=call_id, mode="audio", muted=True)
    told = await tab.expect("call.media")
    assert (told["from_role"], told["mode"], told["muted"], told["camera_off"]) == (
        "clinician",
        "audio",
        True,
        False,
    )
    await tab.send("call.media", call_id=call_id, mode="video")  # an older client
    told = await nurse.expect("call.media")
    assert (told["muted"], told["camera_off"]) == (False, False)


def test_the_flags_are_checked_like_every_field() -> None:
    message = p.parse('{"type": "call.media", "call_id": 1, "mode": "video", "muted": true}')
    assert message == p.CallMedia(call_id=1, mode="video", muted=True, camera_off=False)
    with pytest.raises(p.ProtocolError) as caught:
        p.parse('{"type": "call.media", "call_id": 1, "mode": "video", "camera_off": "yes"}')
    assert caught.value.message == (
        "field 'camera_off' of 'call.media' must be true or false, got string"
    )
