"""Transparency-log entries for case events (`"v": 1`, RFC 8785 via `tlog.queue`).

No personal data and no free text: titles, stories and answers can later be hidden for
defamation or personal data, and the log can never forget. Entries carry a SHA-256 of the
public content instead, so anyone holding the text shown on the page can prove it is the text
that was filed (see `content_digest`)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import rfc8785

from wefirst.domain.clock import rfc3339


def content_digest(content: dict[str, Any]) -> str:
    """Hex SHA-256 over the RFC 8785 form of the public content."""
    return hashlib.sha256(rfc8785.dumps(content)).hexdigest()


def _base(kind: str, case_id: str, brand_id: str, at: datetime) -> dict[str, Any]:
    return {"v": 1, "kind": kind, "case_id": case_id, "brand_id": brand_id, "at": rfc3339(at)}


def opened(
    *,
    case_id: str,
    brand_id: str,
    campaign_id: str | None,
    case_kind: str,
    category: str,
    language: str,
    content_sha256: str,
    at: datetime,
) -> dict[str, Any]:
    entry = _base("case_opened", case_id, brand_id, at)
    entry.update(case_kind=case_kind, category=category, language=language, content_sha256=content_sha256)
    if campaign_id:
        entry["campaign_id"] = campaign_id
    return entry


def milestone(*, case_id: str, brand_id: str, cosigns: int, at: datetime) -> dict[str, Any]:
    entry = _base("case_cosign_milestone", case_id, brand_id, at)
    entry["cosigns"] = cosigns
    return entry


def answered(
    *,
    case_id: str,
    brand_id: str,
    answer_id: str,
    commitments: int,
    content_sha256: str,
    at: datetime,
) -> dict[str, Any]:
    entry = _base("case_answered", case_id, brand_id, at)
    entry.update(answer_id=answer_id, commitments=commitments, content_sha256=content_sha256)
    return entry


def resolved(*, case_id: str, brand_id: str, answer_id: str, outcome: str, at: datetime) -> dict[str, Any]:
    """`outcome` is `accepted` (state resolved) or `not_accepted`: both are the opener's
    verdict on an answer, so they share one kind."""
    entry = _base("case_resolved", case_id, brand_id, at)
    entry.update(answer_id=answer_id, outcome=outcome)
    return entry


def hidden(
    *,
    case_id: str,
    brand_id: str,
    hidden: bool,
    reason_sha256: str,
    report_reason: str | None,
    at: datetime,
) -> dict[str, Any]:
    """`hidden: false` records a restore, so the log shows both directions of moderation."""
    entry = _base("case_hidden", case_id, brand_id, at)
    entry.update(hidden=hidden, public_reason_sha256=reason_sha256)
    if report_reason:
        entry["report_reason"] = report_reason
    return entry


def unanswered(*, case_id: str, brand_id: str, after_hours: int, at: datetime) -> dict[str, Any]:
    entry = _base("case_unanswered", case_id, brand_id, at)
    entry["after_hours"] = after_hours
    return entry
