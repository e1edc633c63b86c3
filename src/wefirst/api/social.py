"""A campaign's social tally and "did my share count?": public, found by an action's
commitment (SHA-256 of its public URI, computed in the person's browser), never by handle."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from wefirst.api.deps import DbDep, OptionalActorDep
from wefirst.auth.walls import visible
from wefirst.errors import invalid
from wefirst.pledges.social import social_report, social_status
from wefirst.services import ServicesDep

router = APIRouter(prefix="/v1", tags=["social"])
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@router.get("/campaigns/{campaign_id}/social")
def get_social(campaign_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    """Per social rule: actions counted, units, reversed (withdrawn before settlement), duplicates,
    over a cap, and refusals by reason (the fraud report's counts; no account is named)."""
    with db.read() as conn:
        visible(conn, actor, campaign_id)
        return social_report(conn, campaign_id)


@router.get("/campaigns/{campaign_id}/social/check")
def check_social(
    campaign_id: str,
    actor: OptionalActorDep,
    db: DbDep,
    services: ServicesDep,
    commitment: Annotated[str, Query(max_length=64)] = "",
) -> Any:
    """What happened to one action — counted (with its log proof), refused and why, a
    duplicate of the account's earlier action, over a cap, reversed, or `not_seen` — by its
    commitment."""
    if not _HEX64.match(commitment):
        raise invalid("commitment", "64 lowercase hex characters: SHA-256 of the action's public URI")
    with db.read() as conn:
        loaded = visible(conn, actor, campaign_id)
        status = social_status(conn, campaign_id, commitment)
    if status is None:  # an answer, not an error: "not seen (yet)" is what the person needs to know
        body = {"commitment": commitment, "campaign_id": campaign_id, "outcome": "not_seen", "proof": None}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
    proof = None
    if status["pledge_id"] is not None and loaded.campaign.public:
        proof = services.log.receipt(commitment)
    return JSONResponse(
        {**status, "campaign_id": campaign_id, "proof": proof}, headers={"Cache-Control": "no-store"}
    )
