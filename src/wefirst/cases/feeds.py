"""Atom feeds (RFC 4287): a brand's cases, and one case's public history (opened, answers,
verdicts, moderation), for journalists' and brands' feed readers. Entry ids are `tag:` URIs
that never change, so readers update an entry instead of showing it twice. Hidden cases keep
their entry, with the public reason in place of the text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from wefirst.domain.clock import as_utc, rfc3339

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG = "tag:wefirst,2026:"


def _ts(value: datetime) -> str:
    return rfc3339(as_utc(value).replace(microsecond=0))


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def _feed(feed_id: str, title: str, self_url: str, updated: datetime) -> ET.Element:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "updated", _ts(updated))
    _sub(feed, "link", rel="self", href=self_url)
    author = _sub(feed, "author")
    _sub(author, "name", "wefirst")
    return feed


def _bytes(feed: ET.Element) -> bytes:
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def brand_cases_feed(
    *, brand_id: str, brand_name: str, base_url: str, rows: Sequence[Any], now: datetime
) -> bytes:
    base = base_url.rstrip("/")
    updated = max((as_utc(r.updated_at) for r in rows), default=as_utc(now))
    feed = _feed(
        f"{TAG}brand-cases:{brand_id}",
        f"Cases about {brand_name}",
        f"{base}/v1/brands/{brand_id}/cases.atom",
        updated,
    )
    for r in rows:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"{TAG}case:{r.id}")
        label = "Praise" if r.kind == "praise" else "Complaint"
        if r.hidden:
            _sub(entry, "title", f"{label} hidden by moderation")
            summary = f"Hidden: {r.hidden_reason}"
        else:
            _sub(entry, "title", f"{label}: {r.title}")
            summary = f"State: {r.state}; {r.cosign_count} co-signs."
            if r.unanswered_at is not None and r.state == "open":
                summary += " Unanswered past the deadline."
        _sub(entry, "updated", _ts(r.updated_at))
        _sub(entry, "published", _ts(r.opened_at))
        _sub(entry, "link", rel="alternate", href=f"{base}/v1/cases/{r.id}")
        _sub(entry, "summary", summary)
    return _bytes(feed)


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
    latest = datetime.fromisoformat(events[-1][1].replace("Z", "+00:00"))
    feed = _feed(
        f"{TAG}case-history:{case['id']}",
        f"History of case {case['id']}",
        f"{base}/v1/cases/{case['id']}/history.atom",
        latest,
    )
    for key, at, title, text in events:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"{TAG}case:{case['id']}:{key}")
        _sub(entry, "title", title)
        _sub(entry, "updated", at)
        _sub(entry, "link", rel="alternate", href=f"{base}/v1/cases/{case['id']}")
        _sub(entry, "content", text, type="text")
    return _bytes(feed)
