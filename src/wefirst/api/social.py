"""A campaign's social tally and "did my share count?": public, found by an action's
commitment (SHA-256 of its public URI, computed in the person's browser), never by handle."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from wefirst.api.deps import DbDep, OptionalActorDep
from wefirst.auth.walls import visible
from wefirst.domain.clock import utcnow
from wefirst.errors import invalid
from wefirst.pledges.social import social_report, social_status
from wefirst.pseudonyms import network_key, server_key
from wefirst.ratelimit import Limit, take
from wefirst.services import ServicesDep
from wefirst.settings import Settings

router = APIRouter(prefix="/v1", tags=["social"])
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@router.get("/campaigns/{campaign_id}/social")
def get_social(campaign_id: str, actor: OptionalActorDep, db: DbDep) -> dict[str, Any]:
    """Per social rule: actions counted, units, reversed (withdrawn before settlement), duplicates,
    over a cap, and refusals by reason (the fraud report's counts; no account is named)."""
    with db.read() as conn:
        visible(conn, actor, campaign_id)
        return social_report(conn, campaign_id)


def check_limit(settings: Settings, client_host: str | None) -> Limit:
    """Checks per network per hour: the box is public and each answer reads the database, so
    one network scripting lookups (to probe which public accounts acted, or to load the
    server) is bounded like every other public door (`ratelimit.py`)."""
    net = network_key(server_key(settings.secret_key), "social.check.net", client_host)
    per_hour = settings.social_check_per_network_per_hour
    return Limit("social.check.net", net, per_hour, timedelta(hours=1), "your network")


@router.get("/campaigns/{campaign_id}/social/check")
def check_social(
    request: Request,
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
    with db.write() as conn:  # its own transaction: a 404 below still spends the budget
        take(conn, [check_limit(services.settings, request.client.host if request.client else None)],
             utcnow(), action="check")  # fmt: skip
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
