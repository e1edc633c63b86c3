"""What a case is and what a valid one looks like. Pure: takes raw values, returns a
normalised `CaseDraft` or raises `CaseRuleError` listing every problem."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from wefirst.cases.rules import CaseRuleError, Problem
from wefirst.cases.text import check_text


class Kind(StrEnum):
    complaint = "complaint"
    praise = "praise"


class Category(StrEnum):
    environment = "environment"
    health = "health"
    labour = "labour"
    campaign_honesty = "campaign_honesty"
    other = "other"


class Language(StrEnum):
    fr = "fr"
    en = "en"


@dataclass(frozen=True)
class CaseLimits:
    """Bounds on what one case may hold; large enough for a real story, small enough that
    a case page stays readable and a flood of links cannot be used as a link farm."""

    title_min: int = 8
    title_max: int = 140
    happened_min: int = 20
    happened_max: int = 5000
    asked_min: int = 5
    asked_max: int = 2000
    max_evidence: int = 10
    url_max: int = 2048


DEFAULT_LIMITS: Final = CaseLimits()


@dataclass(frozen=True)
class CaseDraft:
    kind: Kind
    title: str
    what_happened: str
    what_is_asked: str
    evidence: tuple[str, ...]
    category: Category
    language: Language


def _choice(field: str, value: str, enum: type[StrEnum], problems: list[Problem]) -> str:
    try:
        return enum(value).value
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        problems.append(Problem(field, "bad_choice", {"choices": choices}))
        return value


def check_url(url: str, max_len: int) -> str | None:
    """Why `url` is not a usable public evidence link, or None when it is.

    Links are shown to the public and clicked by journalists: only http(s), a real public
    host name, no embedded credentials (a phishing trick: https://bank.com@evil.example)."""
    if len(url) > max_len:
        return f"longer than {max_len} characters"
    if any(ch.isspace() or ch in '<>"\\' or ord(ch) < 0x20 for ch in url):
        return "contains spaces or characters not allowed in a link"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "malformed"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// links are accepted"
    if parts.username is not None or parts.password is not None:
        return "links with a user name or password are not accepted"
    if not host:
        return "no host name"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host.endswith((".local", ".localhost", ".internal")):
            return "not a public host name"
        return None
    if not ip.is_global:
        return "not a public address"
    return None


def validate_draft(
    *,
    kind: str,
    title: str,
    what_happened: str,
    what_is_asked: str | None,
    evidence: list[str] | tuple[str, ...],
    category: str,
    language: str,
    limits: CaseLimits = DEFAULT_LIMITS,
) -> CaseDraft:
    """Check every field and return the normal form, or raise with all problems at once."""
    problems: list[Problem] = []
    kind_v = _choice("kind", kind, Kind, problems)
    category_v = _choice("category", category, Category, problems)
    language_v = _choice("language", language, Language, problems)

    title_v, p = check_text(
        "title", title, min_len=limits.title_min, max_len=limits.title_max, multiline=False
    )
    problems += p
    happened_v, p = check_text(
        "what_happened",
        what_happened,
        min_len=limits.happened_min,
        max_len=limits.happened_max,
        multiline=True,
    )
    problems += p
    asked_v = ""
    # A praise case need not ask for anything; a complaint must say what would settle it.
    if (what_is_asked is not None and what_is_asked.strip()) or kind_v == Kind.complaint.value:
        asked_v, p = check_text(
            "what_is_asked",
            what_is_asked or "",
            min_len=limits.asked_min,
            max_len=limits.asked_max,
            multiline=True,
        )
        problems += p

    if len(evidence) > limits.max_evidence:
        problems.append(
            Problem("evidence", "too_many_links", {"max": limits.max_evidence, "count": len(evidence)})
        )
    else:
        seen: set[str] = set()
        for i, url in enumerate(evidence):
            why = check_url(url, limits.url_max)
            if why:
                problems.append(Problem(f"evidence[{i}]", "bad_url", {"why": why}))
            elif url in seen:
                problems.append(Problem(f"evidence[{i}]", "duplicate_link"))
            seen.add(url)

    if problems:
        raise CaseRuleError(problems)
    return CaseDraft(
        kind=Kind(kind_v),
        title=title_v,
        what_happened=happened_v,
        what_is_asked=asked_v,
        evidence=tuple(evidence),
        category=Category(category_v),
        language=Language(language_v),
    )
