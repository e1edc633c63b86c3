"""Connector errors, one per kind of answer a sender must get.

They subclass the project's error hierarchy so the API renders them as problem details without
a special case, and they carry a short machine `reason` so rejections can be counted per reason
in the reconciliation view without parsing messages."""

from __future__ import annotations

from typing import ClassVar

from wefirst.errors import BadRequest, Conflict, FieldError, Invalid, Unauthorized


class SignatureRejected(Unauthorized):
    """The delivery is not provably from the platform: 401, nothing stored but a counter.

    `reason` is one of `missing_signature`, `malformed_signature`, `bad_signature`,
    `stale_timestamp`, `no_secret`."""

    slug = "webhook-signature-rejected"
    title = "Webhook signature rejected"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


class MalformedPayload(BadRequest):
    """A verified body that we cannot read: 400 with the field and the reason.

    Parsers raise only this (never KeyError/ValueError), so a surprising body from a platform
    produces an answer the sender's logs can explain."""

    slug = "malformed-webhook-payload"
    title = "Malformed webhook payload"
    reason: ClassVar[str] = "malformed"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", [FieldError(field, problem)])
        self.field = field
        self.why = problem


class AccountMismatch(BadRequest):
    """Signed with the connection's secret but naming another shop or account.

    Kept apart from malformed bodies because it means a misconfigured webhook (one secret
    shared by two shops, or a staging site posting to production), which a brand must fix."""

    slug = "webhook-account-mismatch"
    title = "Webhook from another shop or account"
    reason: ClassVar[str] = "account_mismatch"


class SalesReportInvalid(Invalid):
    """A sales report refused as a whole; `errors` names every bad row as `line N`."""

    slug = "sales-report-invalid"
    title = "Sales report rejected"


class SalesReportConflict(Conflict):
    """The same (retailer, report_id) uploaded again with different bytes.

    A correction must be a new report id with `supersedes_report_id`, so that what was counted
    under the first id stays explainable."""

    slug = "sales-report-conflict"
    title = "Sales report id already used with different content"
