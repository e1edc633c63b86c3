"""Demo cases for `wefirst demo`: a complaint against a campaign with a promise gap (co-signed
past the first milestone, answered with a commitment, awaiting the opener's verdict), a praise
case (answered and accepted), and a complaint left unanswered past the deadline.

Everything goes through the same service functions as the API (co-signs are requested and
confirmed with real signed tokens), so the log entries, milestones and velocity are the real
thing. No mail is sent: the demo's supporters are invented `example.org` addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from wefirst.auth.keys import Actor
from wefirst.cases import service, supporters
from wefirst.cases.identity import network_hash, sign_verification
from wefirst.cases.model import CaseLimits, validate_draft
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_cases import case_supporters


@dataclass(frozen=True)
class SeededCase:
    case_id: str
    opener_token: str


def _open(
    db: Database, settings: Settings, brand_id: str, campaign_id: str | None, at: datetime, **fields: Any
) -> SeededCase:
    draft = validate_draft(**fields, limits=CaseLimits(max_evidence=settings.cases_max_evidence_links))
    with db.write() as conn:
        opened = service.open_case(
            conn,
            settings,
            brand_id=brand_id,
            campaign_id=campaign_id,
            draft=draft,
            network_hash=network_hash(settings.secret_key, f"192.0.2.{len(fields['title']) % 250}"),
            now=at,
        )
    return SeededCase(opened.case_id, opened.opener_token)


def _supporters(
    db: Database, settings: Settings, case_id: str, count: int, start: datetime, prefix: str
) -> None:
    """`count` verified co-signs, faster at first (a mobilization), spread over hours."""
    for i in range(count):
        at = start + timedelta(minutes=int(12 * i**1.3))
        with db.write() as conn:
            supporters.request_cosign(
                conn,
                settings,
                case_id=case_id,
                email=f"{prefix}{i}@example.org",
                language="fr" if i % 3 else "en",
                network_hash=network_hash(settings.secret_key, f"198.51.{i}.1"),
                now=at,
            )
        with db.write() as conn:
            sup_id: str = conn.execute(
                select(case_supporters.c.id).where(
                    case_supporters.c.case_id == case_id,
                    case_supporters.c.email == f"{prefix}{i}@example.org",
                )
            ).scalar_one()
            supporters.confirm_cosign(conn, settings, sign_verification(settings.secret_key, sup_id), at)


def seed(
    db: Database,
    settings: Settings,
    *,
    brand_id: str,
    campaign_id: str,
    praise_brand_id: str,
    now: datetime | None = None,
) -> dict[str, SeededCase]:
    """Returns the seeded cases by name (`gap`, `praise`, `unanswered`) with opener tokens."""
    now = now or datetime.now(UTC)
    gap = _open(
        db,
        settings,
        brand_id,
        campaign_id,
        now - timedelta(days=6),
        kind="complaint",
        title="Des vaccins promis, bien moins payés",
        what_happened="La campagne promet un vaccin contre le tétanos par paquet acheté. Le registre "
        "public montre beaucoup plus de vaccins promis que de vaccins dont le paiement est confirmé "
        "par l'association.",
        what_is_asked="Payer tous les vaccins promis et publier les virements.",
        evidence=["https://doudou.example/campagne-vaccins"],
        category="campaign_honesty",
        language="fr",
    )
    _supporters(db, settings, gap.case_id, 14, now - timedelta(days=5, hours=20), "soutien")
    brand = Actor(role="brand", owner_id=brand_id, key_id="demo", livemode=True)
    with db.write() as conn:
        service.answer_case(
            conn,
            brand,
            gap.case_id,
            body="Nous avons versé une partie des fonds et le reste part avant la fin du trimestre. "
            "Chaque virement sera confirmé publiquement par l'association.",
            language="fr",
            commitments=[
                service.CommitmentIn("Verser le solde des vaccins promis", (now + timedelta(days=45)).date())
            ],
            now=now - timedelta(days=4),
        )

    praise = _open(
        db,
        settings,
        praise_brand_id,
        None,
        now - timedelta(days=3),
        kind="praise",
        title="Thank you for publishing every water payment",
        what_happened="Every click on the widget shows up in the public log, and the water charity "
        "confirmed each payment within days. This is how a campaign should be run.",
        what_is_asked=None,
        evidence=[],
        category="other",
        language="en",
    )
    _supporters(db, settings, praise.case_id, 5, now - timedelta(days=2, hours=12), "fan")
    with db.write() as conn:
        service.answer_case(
            conn,
            Actor(role="brand", owner_id=praise_brand_id, key_id="demo", livemode=True),
            praise.case_id,
            body="Thank you! We will keep publishing every payment, and the receipts too.",
            language="en",
            commitments=[],
            now=now - timedelta(days=2),
        )
        service.verdict(
            conn,
            praise.case_id,
            opener_token=praise.opener_token,
            accept=True,
            note="",
            now=now - timedelta(days=1),
        )

    late = _open(
        db,
        settings,
        praise_brand_id,
        None,
        now - timedelta(hours=settings.cases_answer_within_hours + 30),
        kind="complaint",
        title="Refill pouches still not recyclable",
        what_happened="The refill pouches were announced as recyclable in January; the label "
        "still says to throw them away with household waste.",
        what_is_asked="Say when recyclable pouches reach the shops.",
        evidence=["https://clairo.example/refills"],
        category="environment",
        language="en",
    )
    with db.write() as conn:
        service.sweep_unanswered(conn, settings, now)
    return {"gap": gap, "praise": praise, "unanswered": late}


def demo_step(ctx: Any) -> None:
    """Adapter for `wefirst.demo.EXTRA_STEPS` (takes the demo's `DemoContext`)."""
    seeded = seed(
        ctx.db,
        ctx.settings,
        brand_id=ctx.ids["brand1"],
        campaign_id=ctx.ids["vaccine"],
        praise_brand_id=ctx.ids["brand2"],
    )
    ctx.ids.update({f"case_{name}": c.case_id for name, c in seeded.items()})
    ctx.urls["Case (API)"] = f"{ctx.base_url}/v1/cases/{seeded['gap'].case_id}"
