"""Cases applied to the database: opening, answers, the opener's verdict, the unanswered
sweep and the figures the scorecard reads. Every function runs inside the caller's write
transaction (`with db.write() as conn`), raises `wefirst.errors` on refusal (so the whole
transaction rolls back and nothing changes), and appends its log entry in that transaction.

E-mails are not sent here: functions return the `Mail`s to send, and the edge sends them
after the commit, so a slow mail server never holds a database lock and a rolled-back
request never mails anyone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from wefirst.auth.keys import Actor
from wefirst.cases import follow_events, logentries, notify
from wefirst.cases.duplicates import Fingerprint, find_duplicates
from wefirst.cases.identity import new_opener_token, token_hash, token_matches
from wefirst.cases.messages import message
from wefirst.cases.model import CaseDraft, Kind
from wefirst.cases.rules import CaseRuleError, Problem, TransitionError
from wefirst.cases.states import Action, State, is_overdue, next_state
from wefirst.cases.text import check_text
from wefirst.domain.clock import as_utc
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, invalid
from wefirst.mail import Mail
from wefirst.ratelimit import Limit, take
from wefirst.settings import Settings
from wefirst.store.tables_cases import (
    case_answers,
    case_brand_contacts,
    case_commitments,
    case_verdicts,
    cases,
)
from wefirst.store.tables_core import brands, campaigns
from wefirst.tlog.queue import enqueue

MAX_COMMITMENTS = 10


def rule_error(exc: CaseRuleError) -> Invalid:
    """The API shape of pure-rule refusals: English reasons, plus machine `codes` so pages
    can show the French (or English) wording from `cases.messages`."""
    fields = [FieldError(p.field, p.reason("en")) for p in exc.problems]
    summary = "; ".join(f"{f.field}: {f.reason}" for f in fields[:5])
    codes = [{"field": p.field, "code": p.code} for p in exc.problems]
    return Invalid(summary, fields, codes=codes)


def transition_error(exc: TransitionError) -> Conflict:
    return Conflict(str(exc), state=exc.state)


def get_case(conn: Connection, case_id: str) -> Any:
    row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"case {case_id} does not exist")
    return row


def public_content(row: Any) -> dict[str, Any]:
    """The fields whose digest goes into the log (`case_opened.content_sha256`)."""
    return {
        "title": row.title,
        "what_happened": row.what_happened,
        "what_is_asked": row.what_is_asked,
        "evidence": list(row.evidence),
    }


@dataclass
class Opened:
    case_id: str
    opener_token: str
    mails: list[Mail] = field(default_factory=list)


def open_case(
    conn: Connection,
    settings: Settings,
    *,
    brand_id: str,
    campaign_id: str | None,
    draft: CaseDraft,
    network_hash: str,
    now: datetime,
) -> Opened:
    brand = conn.execute(select(brands.c.id, brands.c.name).where(brands.c.id == brand_id)).first()
    if brand is None:
        raise invalid("brand_id", f"no brand with id {brand_id}")
    if campaign_id is not None:
        owner = conn.execute(select(campaigns.c.brand_id).where(campaigns.c.id == campaign_id)).scalar()
        if owner is None:
            raise invalid("campaign_id", f"no campaign with id {campaign_id}")
        if owner != brand_id:
            raise invalid("campaign_id", "this campaign belongs to another brand")

    new_fp = Fingerprint.of(draft.title, draft.what_happened, draft.what_is_asked)
    candidates = conn.execute(
        select(cases.c.id, cases.c.title, cases.c.what_happened, cases.c.what_is_asked).where(
            cases.c.brand_id == brand_id,
            cases.c.kind == draft.kind.value,
            cases.c.hidden.is_(False),
            cases.c.state != State.resolved.value,
        )
    ).all()
    matches = find_duplicates(
        new_fp, ((r.id, Fingerprint.of(r.title, r.what_happened, r.what_is_asked)) for r in candidates)
    )
    if matches:
        best = matches[0].case_id
        raise Conflict(
            message("duplicate_case", "en", case_id=best),
            duplicate_of=best,
            cosign=f"/v1/cases/{best}/cosign",
            duplicates=[
                {
                    "case_id": m.case_id,
                    "title_similarity": m.title_similarity,
                    "body_similarity": m.body_similarity,
                }
                for m in matches[:5]
            ],
            message_fr=message("duplicate_case", "fr", case_id=best),
        )

    window = timedelta(minutes=settings.cases_rate_window_minutes)
    take(
        conn,
        [Limit("cases.open", network_hash, settings.cases_open_limit_per_network, window, "your network")],
        now,
        action="open",
    )
    case_id = new_id("cas")
    token = new_opener_token()
    values = {
        "id": case_id,
        "brand_id": brand_id,
        "campaign_id": campaign_id,
        "kind": draft.kind.value,
        "category": draft.category.value,
        "language": draft.language.value,
        "title": draft.title,
        "what_happened": draft.what_happened,
        "what_is_asked": draft.what_is_asked,
        "evidence": list(draft.evidence),
        "state": State.open.value,
        "opener_token_hash": token_hash(token),
        "cosign_count": 0,
        "hidden": False,
        "opened_at": now,
        "updated_at": now,
    }
    conn.execute(insert(cases).values(**values))
    enqueue(
        conn,
        logentries.opened(
            case_id=case_id,
            brand_id=brand_id,
            campaign_id=campaign_id,
            case_kind=draft.kind.value,
            category=draft.category.value,
            language=draft.language.value,
            content_sha256=logentries.content_digest(
                {
                    "title": draft.title,
                    "what_happened": draft.what_happened,
                    "what_is_asked": draft.what_is_asked,
                    "evidence": list(draft.evidence),
                }
            ),
            at=now,
        ),
    )
    contact = brand_contact(conn, brand_id)
    mails = []
    if contact:
        mails.append(notify.brand_alert(settings, contact, case_id, draft.title, draft.kind))
    return Opened(case_id, token, mails)


def brand_contact(conn: Connection, brand_id: str) -> str | None:
    return conn.execute(
        select(case_brand_contacts.c.alert_email).where(case_brand_contacts.c.brand_id == brand_id)
    ).scalar()


def set_brand_contact(conn: Connection, brand_id: str, email: str, now: datetime) -> None:
    exists = conn.execute(
        select(case_brand_contacts.c.brand_id).where(case_brand_contacts.c.brand_id == brand_id)
    ).first()
    if exists:
        conn.execute(
            update(case_brand_contacts)
            .where(case_brand_contacts.c.brand_id == brand_id)
            .values(alert_email=email, updated_at=now)
        )
    else:
        conn.execute(insert(case_brand_contacts).values(brand_id=brand_id, alert_email=email, updated_at=now))


@dataclass(frozen=True)
class CommitmentIn:
    text: str
    due_on: date | None = None


def answer_case(
    conn: Connection,
    actor: Actor,
    case_id: str,
    *,
    body: str,
    language: str,
    commitments: list[CommitmentIn],
    now: datetime,
) -> str:
    """Only the brand the case is about answers it: its answers are its public word, so
    not even an admin key may speak for it."""
    row = get_case(conn, case_id)
    if actor.role != "brand" or actor.owner_id != row.brand_id:
        raise Forbidden("only the brand this case is about can answer it, with its own key")
    problems: list[Problem] = []
    body_v, p = check_text("body", body, min_len=10, max_len=5000, multiline=True)
    problems += p
    if language not in ("fr", "en"):
        problems.append(Problem("language", "bad_choice", {"choices": "fr, en"}))
    if len(commitments) > MAX_COMMITMENTS:
        problems.append(
            Problem(
                "commitments", "too_many_commitments", {"max": MAX_COMMITMENTS, "count": len(commitments)}
            )
        )
        commitments = []
    clean: list[tuple[str, date | None]] = []
    for i, c in enumerate(commitments):
        text_v, p = check_text(f"commitments[{i}].text", c.text, min_len=5, max_len=500, multiline=False)
        problems += p
        if c.due_on is not None and c.due_on < now.date():
            problems.append(Problem(f"commitments[{i}].due_on", "date_in_past"))
        clean.append((text_v, c.due_on))
    if problems:
        raise rule_error(CaseRuleError(problems))
    try:
        state = next_state(State(row.state), Action.answer)
    except TransitionError as exc:
        raise transition_error(exc) from None

    answer_id = new_id("ans")
    conn.execute(
        insert(case_answers).values(
            id=answer_id,
            case_id=case_id,
            brand_id=row.brand_id,
            body=body_v,
            language=language,
            key_id=actor.key_id,
            created_at=now,
        )
    )
    for text_v, due in clean:
        conn.execute(
            insert(case_commitments).values(
                answer_id=answer_id, case_id=case_id, text=text_v, due_on=due, created_at=now
            )
        )
    values: dict[str, Any] = {"state": state.value, "updated_at": now}
    if row.answered_at is None:
        values["answered_at"] = now
    conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
    follow_events.queue(conn, case_id, follow_events.Event.answered, answer_id, now)
    enqueue(
        conn,
        logentries.answered(
            case_id=case_id,
            brand_id=row.brand_id,
            answer_id=answer_id,
            commitments=len(clean),
            content_sha256=logentries.content_digest(
                {
                    "body": body_v,
                    "commitments": [{"text": t, "due_on": d.isoformat() if d else None} for t, d in clean],
                }
            ),
            at=now,
        ),
    )
    return answer_id


def check_opener(row: Any, opener_token: str) -> None:
    if not opener_token or not token_matches(opener_token, row.opener_token_hash):
        raise Forbidden("this opener token does not match the case")


def verdict(
    conn: Connection, case_id: str, *, opener_token: str, accept: bool, note: str, now: datetime
) -> str:
    """The opener accepts the latest answer (case resolved) or not; returns the new state."""
    row = get_case(conn, case_id)
    check_opener(row, opener_token)
    note_v = ""
    if note.strip():
        note_v, problems = check_text("note", note, min_len=1, max_len=2000, multiline=True)
        if problems:
            raise rule_error(CaseRuleError(problems))
    try:
        state = next_state(State(row.state), Action.accept if accept else Action.reject)
    except TransitionError as exc:
        raise transition_error(exc) from None
    answer_id: str = conn.execute(
        select(case_answers.c.id)
        .where(case_answers.c.case_id == case_id)
        .order_by(case_answers.c.seq.desc())
        .limit(1)
    ).scalar_one()
    outcome = "accepted" if accept else "not_accepted"
    conn.execute(
        insert(case_verdicts).values(
            case_id=case_id, answer_id=answer_id, verdict=outcome, note=note_v, at=now
        )
    )
    values: dict[str, Any] = {"state": state.value, "updated_at": now}
    if state is State.resolved:
        values["closed_at"] = now
        follow_events.queue(conn, case_id, follow_events.Event.resolved, case_id, now)
    conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
    enqueue(
        conn,
        logentries.resolved(
            case_id=case_id, brand_id=row.brand_id, answer_id=answer_id, outcome=outcome, at=now
        ),
    )
    return state.value


def sweep_unanswered(conn: Connection, settings: Settings, now: datetime) -> list[str]:
    """Mark complaints still open after `cases_answer_within_hours` as unanswered (once
    each; the mark stays even if the brand answers later). Returns the ids marked now."""
    within = timedelta(hours=settings.cases_answer_within_hours)
    rows = conn.execute(
        select(cases.c.id, cases.c.brand_id, cases.c.kind, cases.c.state, cases.c.opened_at)
        .where(
            cases.c.kind == Kind.complaint.value,
            cases.c.state == State.open.value,
            cases.c.unanswered_at.is_(None),
            cases.c.opened_at <= now - within,
        )
        .order_by(cases.c.seq)
    ).all()
    marked = []
    for r in rows:
        if not is_overdue(Kind(r.kind), State(r.state), as_utc(r.opened_at), now, within):
            continue
        conn.execute(update(cases).where(cases.c.id == r.id).values(unanswered_at=now))
        enqueue(
            conn,
            logentries.unanswered(
                case_id=r.id,
                brand_id=r.brand_id,
                after_hours=settings.cases_answer_within_hours,
                at=now,
            ),
        )
        marked.append(r.id)
    return marked


def brand_case_summary(conn: Connection, brand_id: str) -> dict[str, Any]:
    """What the brand scorecard shows about cases. Hidden cases count under `hidden` only:
    moderation removed them from the public record of what the brand faced."""
    late = cases.c.unanswered_at.is_not(None)
    rows = conn.execute(
        select(cases.c.kind, cases.c.state, cases.c.hidden, late, func.count())
        .where(cases.c.brand_id == brand_id)
        .group_by(cases.c.kind, cases.c.state, cases.c.hidden, late)
    ).all()
    out: dict[str, Any] = {
        "complaints": {s.value: 0 for s in State} | {"unanswered": 0, "answered_late": 0},
        "praise": {s.value: 0 for s in State},
        "hidden": 0,
        "cosigns": 0,
    }
    for kind, state, hidden, was_late, count in rows:
        if hidden:
            out["hidden"] += count
            continue
        bucket = out["complaints" if kind == Kind.complaint.value else "praise"]
        bucket[state] += count
        if kind == Kind.complaint.value and was_late:
            bucket["unanswered" if state == State.open.value else "answered_late"] += count
    out["cosigns"] = int(
        conn.execute(
            select(func.coalesce(func.sum(cases.c.cosign_count), 0)).where(
                cases.c.brand_id == brand_id, cases.c.hidden.is_(False)
            )
        ).scalar_one()
    )
    return out
