"""The consultation lifecycle as an explicit state machine.

    requested ──queue──▶ waiting ──claim──▶ answered ──connect──▶ in_call ──end──▶ ended
        │                 │  ▲                 │  ▲                 │
        └──cancel──┐      │  └────release──────┘  └─transfer─┐      ├─release─▶ waiting
                   ▼      ├──cancel──▶ cancelled             │      └─transfer─▶ answered
              cancelled   └──abandon─▶ abandoned      (to a named colleague)

A transition not in the table is refused with a message that says what the call is
doing now, e.g. "call 12 is already answered by Cleo" — the caller maps it to a
409 or a WebSocket error. Ended, cancelled and abandoned are terminal.
"""

from __future__ import annotations

from enum import StrEnum

from hub.calls.consultation import State
from hub.errors import Conflict


class Event(StrEnum):
    QUEUE = "queue"
    CLAIM = "claim"
    CONNECT = "connect"
    RELEASE = "release"
    TRANSFER = "transfer"
    CANCEL = "cancel"
    ABANDON = "abandon"
    END = "end"


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.REQUESTED, Event.QUEUE): State.WAITING,
    (State.REQUESTED, Event.CANCEL): State.CANCELLED,
    (State.WAITING, Event.CLAIM): State.ANSWERED,
    (State.WAITING, Event.CANCEL): State.CANCELLED,
    (State.WAITING, Event.ABANDON): State.ABANDONED,
    (State.WAITING, Event.TRANSFER): State.ANSWERED,
    (State.ANSWERED, Event.CONNECT): State.IN_CALL,
    (State.ANSWERED, Event.RELEASE): State.WAITING,
    (State.ANSWERED, Event.TRANSFER): State.ANSWERED,
    (State.ANSWERED, Event.END): State.ENDED,
    (State.IN_CALL, Event.CONNECT): State.IN_CALL,
    (State.IN_CALL, Event.RELEASE): State.WAITING,
    (State.IN_CALL, Event.TRANSFER): State.ANSWERED,
    (State.IN_CALL, Event.END): State.ENDED,
}

TERMINAL = frozenset({State.ENDED, State.CANCELLED, State.ABANDONED})
LIVE = frozenset({State.ANSWERED, State.IN_CALL})
OPEN = frozenset({State.REQUESTED, State.WAITING, State.ANSWERED, State.IN_CALL})


def sources(event: Event) -> frozenset[State]:
    """The states from which ``event`` is allowed (the WHERE of a conditional UPDATE)."""
    return frozenset(s for (s, e) in TRANSITIONS if e is event)


def next_state(call_id: int, current: State, event: Event, holder: str | None = None) -> State:
    """The state after ``event``, or Conflict explaining why the call cannot take it."""
    target = TRANSITIONS.get((current, event))
    if target is not None:
        return target
    raise Conflict(refusal(call_id, current, holder))


def refusal(call_id: int, current: State, holder: str | None = None) -> str:
    match current:
        case State.ANSWERED | State.IN_CALL:
            by = f" by {holder}" if holder else ""
            return f"call {call_id} is already answered{by}"
        case State.CANCELLED:
            return f"call {call_id} was cancelled by the care home"
        case State.ABANDONED:
            return f"call {call_id} was abandoned: the tablet went away"
        case State.ENDED:
            return f"call {call_id} has ended"
        case State.WAITING:
            return f"call {call_id} is waiting in the queue and has not been answered"
        case _:
            return f"call {call_id} is {current.value}"
