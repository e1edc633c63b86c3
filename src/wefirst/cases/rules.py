"""The one error type the pure case rules raise. It carries machine codes and per-field
reasons in English and French; the service turns it into `wefirst.errors.Invalid` (or
`Conflict` for transitions) so domain code stays free of HTTP concerns."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from wefirst.cases.messages import Lang, message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field: `code` indexes the message catalogue."""

    field: str
    code: str
    params: dict[str, object] = dc_field(default_factory=dict)

    def reason(self, lang: Lang = "en") -> str:
        return message(self.code, lang, **self.params)


class CaseRuleError(ValueError):
    """Raised by pure validation; holds every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason()}" for p in problems))


class TransitionError(ValueError):
    """A state change the case's current state does not allow."""

    def __init__(self, state: str, action: str) -> None:
        self.state = state
        self.action = action
        super().__init__(message("bad_transition", "en", state=state, action=action))
