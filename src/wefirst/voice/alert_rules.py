"""A brand's voice alert rules: which polarity, from what size, to which webhook endpoint.

Without rules every voice alert goes to every endpoint of the brand (as before rules
existed). With rules, a voice alert goes only where a rule asks for it: a rule's `started`
alert is sent once the episode has at least `min_posts` posts (at its start, or later as it
grows), its `ended` alert only after its `started` one. Case events are not voice alerts:
they still go to every endpoint. The sending itself is the `webhooks` package's outbox and
worker, as for every webhook."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from wefirst.errors import FieldError, Invalid
from wefirst.store.tables_voice import voice_brand_settings
from wefirst.voice.brand_settings import brand_exists, ensure_settings_row, touch
from wefirst.webhooks import endpoints

RULE_POLARITIES = ("negative", "positive", "any")
MAX_RULES = 20
MAX_MIN_POSTS = 1_000_000


@dataclass(frozen=True)
class AlertRule:
    id: str
    polarity: str
    min_posts: int
    endpoint_id: str

    def wants(self, polarity: str, posts: int) -> bool:
        return self.polarity in ("any", polarity) and posts >= self.min_posts

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "polarity": self.polarity,
            "min_posts": self.min_posts,
            "endpoint_id": self.endpoint_id,
        }


def rule_id(polarity: str, min_posts: int, endpoint_id: str) -> str:
    """Derived from what the rule says: saving the same rule again keeps its id, so an
    episode already alerted under it is not alerted twice."""
    digest = hashlib.sha256(f"{polarity}\0{min_posts}\0{endpoint_id}".encode()).hexdigest()
    return "var_" + digest[:20]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def validate(conn: Connection, brand_id: str, items: Sequence[Mapping[str, Any]]) -> list[AlertRule]:
    """Rules as stored; an endpoint must be an active one of this brand (another brand's
    endpoint id is refused like an unknown one). Every wrong field is named (`rules[i]…`)."""
    if len(items) > MAX_RULES:
        raise Invalid(f"at most {MAX_RULES} rules", [FieldError("rules", f"at most {MAX_RULES}")])
    own = set(endpoints.active_ids(conn, brand_id))
    problems: list[FieldError] = []
    out: list[AlertRule] = []
    for i, item in enumerate(items):
        polarity = str(item.get("polarity") or "")
        size = _int(item.get("min_posts"))
        endpoint_id = str(item.get("endpoint_id") or "")
        wrong = []
        if polarity not in RULE_POLARITIES:
            wrong.append(FieldError(f"rules[{i}].polarity", "|".join(RULE_POLARITIES)))
        if size is None or not 1 <= size <= MAX_MIN_POSTS:
            wrong.append(FieldError(f"rules[{i}].min_posts", f"a whole number from 1 to {MAX_MIN_POSTS}"))
        if endpoint_id not in own:
            wrong.append(FieldError(f"rules[{i}].endpoint_id", "not an active endpoint of this brand"))
        problems.extend(wrong)
        if wrong or size is None:
            continue
        rule = AlertRule(rule_id(polarity, size, endpoint_id), polarity, size, endpoint_id)
        if rule not in out:
            out.append(rule)
    if problems:
        raise Invalid("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)
    return out


def rules_of(conn: Connection, brand_id: str) -> list[AlertRule]:
    row = conn.execute(
        select(voice_brand_settings.c.alert_rules).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    return [AlertRule(**r) for r in (row.alert_rules or [])] if row else []


def get_rules(conn: Connection, brand_id: str) -> dict[str, Any]:
    brand_exists(conn, brand_id)
    return {"brand_id": brand_id, "rules": [r.as_json() for r in rules_of(conn, brand_id)]}


def put_rules(conn: Connection, brand_id: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Replace the brand's rules (an empty list: every voice alert to every endpoint again)."""
    brand_exists(conn, brand_id)
    rules = validate(conn, brand_id, items)
    ensure_settings_row(conn, brand_id)
    touch(conn, brand_id, alert_rules=[r.as_json() for r in rules])
    return get_rules(conn, brand_id)
