from datetime import UTC, datetime, timedelta

import pytest

from wefirst.cases.model import Kind
from wefirst.cases.rules import TransitionError
from wefirst.cases.states import TRANSITIONS, Action, State, can_cosign, is_overdue, next_state


def test_happy_paths() -> None:
    s = next_state(State.open, Action.answer)
    assert s is State.answered
    assert next_state(s, Action.accept) is State.resolved
    assert next_state(s, Action.reject) is State.not_accepted
    assert next_state(State.not_accepted, Action.answer) is State.answered


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_pair_is_either_in_the_table_or_refused(state: State, action: Action) -> None:
    if (state, action) in TRANSITIONS:
        assert next_state(state, action) is TRANSITIONS[(state, action)]
    else:
        with pytest.raises(TransitionError) as info:
            next_state(state, action)
        assert info.value.state == state.value


def test_resolved_is_final() -> None:
    assert not [k for k in TRANSITIONS if k[0] is State.resolved]
    with pytest.raises(TransitionError, match="resolved cannot be answered"):
        next_state(State.resolved, Action.answer)


def test_open_case_cannot_be_accepted_before_any_answer() -> None:
    with pytest.raises(TransitionError):
        next_state(State.open, Action.accept)


def test_cosign_allowed_until_resolved_and_never_when_hidden() -> None:
    assert can_cosign(State.open, hidden=False)
    assert can_cosign(State.not_accepted, hidden=False)
    assert not can_cosign(State.resolved, hidden=False)
    assert not can_cosign(State.open, hidden=True)


def test_overdue_only_for_open_complaints_after_the_delay() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    week = timedelta(days=7)
    assert not is_overdue(Kind.complaint, State.open, t0, t0 + week - timedelta(seconds=1), week)
    assert is_overdue(Kind.complaint, State.open, t0, t0 + week, week)
    assert not is_overdue(Kind.complaint, State.answered, t0, t0 + 2 * week, week)
    assert not is_overdue(Kind.praise, State.open, t0, t0 + 2 * week, week)
