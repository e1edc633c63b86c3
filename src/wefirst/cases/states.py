"""The case life cycle, as a table so that every allowed move is visible in one place.

    open ──answer──▶ answered ──accept──▶ resolved (final)
                        │ ▲
                  reject│ │answer (the brand tries again)
                        ▼ │
                   not_accepted

Two more facts sit beside the state rather than in it, because they can happen in any state
and must not erase it: *hidden* (moderation, with a public reason; can be restored) and
*unanswered* (a complaint still `open` after the configured time; stays on record even if
the brand answers later, since lateness is part of the story)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from wefirst.cases.model import Kind
from wefirst.cases.rules import TransitionError


class State(StrEnum):
    open = "open"
    answered = "answered"
    resolved = "resolved"
    not_accepted = "not_accepted"


class Action(StrEnum):
    answer = "answer"
    accept = "accept"
    reject = "reject"


TRANSITIONS: Final[dict[tuple[State, Action], State]] = {
    (State.open, Action.answer): State.answered,
    (State.answered, Action.answer): State.answered,
    (State.not_accepted, Action.answer): State.answered,
    (State.answered, Action.accept): State.resolved,
    (State.answered, Action.reject): State.not_accepted,
}

_PAST: Final = {Action.answer: "answered", Action.accept: "accepted", Action.reject: "rejected"}


def next_state(state: State, action: Action) -> State:
    """The state after `action`, or `TransitionError` naming what was tried."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(state.value, _PAST[action]) from None


def can_cosign(state: State, hidden: bool) -> bool:
    """Supporters can join until the opener closes the case; a hidden case takes no new
    signatures (moderation froze it)."""
    return not hidden and state is not State.resolved


def is_overdue(
    kind: Kind, state: State, opened_at: datetime, now: datetime, answer_within: timedelta
) -> bool:
    """A complaint nobody answered within `answer_within`. Praise asks for nothing, so it
    is never overdue."""
    return kind is Kind.complaint and state is State.open and now - opened_at >= answer_within
