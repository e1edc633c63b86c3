"""Atom feeds (written by `wefirst.atom`): a brand's cases, and one case's public history
(opened, answers, verdicts, moderation), for journalists' and brands' feed readers. Entry ids are `tag:` URIs
that never change, so readers update an entry instead of showing it twice. Hidden cases keep
their entry, with the public reason in place of the text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from wefirst import atom
from wefirst.domain.clock import as_utc

TAG = "tag:wefirst,2026:"


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def brand_cases_feed(
    *, brand_id: str, brand_name: str, base_url: str, rows: Sequence[Any], now: datetime
) -> bytes:
    base = base_url.rstrip("/")
    entries = []
    for r in rows:
        label = "Praise" if r.kind == "praise" else "Complaint"
        if r.hidden:
            title, summary = f"{label} hidden by moderation", f"Hidden: {r.hidden_reason}"
        else:
            title, summary = f"{label}: {r.title}", f"State: {r.state}; {r.cosign_count} co-signs."
            if r.unanswered_at is not None and r.state == "open":
                summary += " Unanswered past the deadline."
        entries.append(
            atom.Entry(
                id=f"{TAG}case:{r.id}",
                title=title,
                updated=as_utc(r.updated_at),
                published=as_utc(r.opened_at),
                links=[atom.Link(f"{base}/v1/cases/{r.id}")],
                summary=summary,
            )
        )
    return atom.render(
        atom.Feed(
            id=f"{TAG}brand-cases:{brand_id}",
            title=f"Cases about {brand_name}",
            self_url=f"{base}/v1/brands/{brand_id}/cases.atom",
            entries=entries,
            empty_updated=as_utc(now),
        )
    )


def case_history_feed(*, case: dict[str, Any], base_url: str) -> bytes:
    """`case` is `views.case_json(...)` (so hidden content is already withheld)."""
    base = base_url.rstrip("/")
    events: list[tuple[str, str, str, str]] = [
        ("opened", case["opened_at"], "Case opened", case.get("title") or "(hidden by moderation)")
    ]
    for a in case["answers"]:
        promises = "; ".join(c["text"] for c in a["commitments"])
        text = a["body"] + (f" Commitments: {promises}." if promises else "")
        events.append((f"answer:{a['id']}", a["created_at"], "The brand answered", text))
    for i, v in enumerate(case["verdicts"]):
        title = (
            "The opener accepted the answer" if v["verdict"] == "accepted" else "The opener did not accept"
        )
        events.append((f"verdict:{i}", v["at"], title, v["note"] or title))
    for i, m in enumerate(case["moderation"]):
        events.append((f"moderation:{i}", m["at"], f"Moderation: {m['action']}", m["public_reason"]))
    if case["unanswered_at"]:
        events.append(("unanswered", case["unanswered_at"], "Marked unanswered", "No answer in time."))
    events.sort(key=lambda e: e[1])
    link = atom.Link(f"{base}/v1/cases/{case['id']}")
    return atom.render(
        atom.Feed(
            id=f"{TAG}case-history:{case['id']}",
            title=f"History of case {case['id']}",
            self_url=f"{base}/v1/cases/{case['id']}/history.atom",
            entries=[
                atom.Entry(
                    id=f"{TAG}case:{case['id']}:{key}",
                    title=title,
                    updated=_when(at),
                    links=[link],
                    content=text,
                )
                for key, at, title, text in events
            ],
        )
    )
