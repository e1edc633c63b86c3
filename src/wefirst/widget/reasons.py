"""The closed set of decisions a click can get. Every click attempt is recorded with exactly one
of these so the per-campaign fraud report adds up to the number of attempts."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"
    BAD_ORIGIN = "bad_origin"
    BAD_CHALLENGE = "bad_challenge"
    AUTOMATED = "automated"
    CAMPAIGN_INACTIVE = "campaign_inactive"
    CAP_REACHED = "cap_reached"


REFUSALS: frozenset[Reason] = frozenset(Reason) - {Reason.COUNTED}
