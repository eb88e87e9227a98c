from __future__ import annotations

import pytest

from hub.calls.consultation import State
from hub.calls.lifecycle import TERMINAL, TRANSITIONS, Event, next_state, sources
from hub.errors import Conflict


@pytest.mark.parametrize(
    ("state", "event", "target"), [(s, e, t) for (s, e), t in TRANSITIONS.items()]
)
def test_every_allowed_transition(state: State, event: Event, target: State) -> None:
    assert next_state(1, state, event) is target


def test_happy_path() -> None:
    s = State.REQUESTED
    for event in (Event.QUEUE, Event.CLAIM, Event.CONNECT, Event.END):
        s = next_state(7, s, event)
    assert s is State.ENDED


@pytest.mark.parametrize(
    ("state", "event", "message"),
    [
        (State.ANSWERED, Event.CLAIM, "call 7 is already answered by Cleo"),
        (State.IN_CALL, Event.CLAIM, "call 7 is already answered by Cleo"),
        (State.CANCELLED, Event.CLAIM, "call 7 was cancelled by the care home"),
        (State.ABANDONED, Event.CLAIM, "call 7 was abandoned: the tablet went away"),
        (State.ENDED, Event.CONNECT, "call 7 has ended"),
        (State.WAITING, Event.END, "call 7 is waiting in the queue and has not been answered"),
        (State.ANSWERED, Event.CANCEL, "call 7 is already answered by Cleo"),
    ],
)
def test_refused_transitions_say_why(state: State, event: Event, message: str) -> None:
    with pytest.raises(Conflict) as err:
        next_state(7, state, event, holder="Cleo")
    assert err.value.message == message


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_states_go_nowhere(state: State) -> None:
    for event in Event:
        with pytest.raises(Conflict):
            next_state(1, state, event)


def test_claim_only_from_waiting() -> None:
    assert sources(Event.CLAIM) == {State.WAITING}
