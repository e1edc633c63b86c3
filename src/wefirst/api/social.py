"""A campaign's social tally and "did my share count?": public, found by an action's
commitment (SHA-256 of its public URI, computed in the person's browser), never by handle."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from wefirst.api.deps import ActorDep, DbDep, OptionalActorDep
from wefirst.auth.walls import require, visible
from wefirst.catalog.models import PerSocialActionRuleIn, RuleIn, Strict
from wefirst.catalog.service import get_brand
from wefirst.domain.clock import utcnow
from wefirst.errors import NotFound, invalid
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.social import social_report, social_status
from wefirst.pseudonyms import network_key, server_key
from wefirst.ratelimit import Limit, take
from wefirst.services import Services, ServicesDep
from wefirst.settings import Settings
from wefirst.social.addresses import DID, BadAddress, Resolver, parse_web
from wefirst.social.tokens import list_tokens, put_token, remove_token, server_of

router = APIRouter(prefix="/v1", tags=["social"])
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def bluesky_resolver(services: ServicesDep) -> Resolver:
    """bsky.app addresses resolved through the outbound guard (tests override this)."""
    policy = OutboundPolicy.from_settings(services.settings)
    return Resolver(lambda: policy.client(timeout=10.0), services.settings.social_bsky_appview)


ResolverDep = Annotated[Resolver, Depends(bluesky_resolver)]


def resolve_rule_targets(rules: Sequence[RuleIn], resolver: Resolver) -> list[RuleIn]:
    """A Bluesky rule given a bsky.app post address is stored with the post's AT-URI: the
    stream, the AppView's lists and the commitments all name the post by it, and a handle may
    later pass to someone else. Nothing is asked of the network for AT-URIs."""
    out: list[RuleIn] = []
    for i, rule in enumerate(rules):
        if (
            isinstance(rule, PerSocialActionRuleIn)
            and rule.network == "bluesky"
            and rule.action != "hashtag_post"
            and not rule.target.startswith("at://")
        ):
            try:
                rule = rule.model_copy(update={"target": resolver.post_uri(rule.target)})
            except BadAddress as exc:
                raise invalid(f"rules[{i}].target", str(exc)) from exc
        out.append(rule)
    return out


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


@router.get("/social/resolve")
def resolve_address(
    request: Request,
    db: DbDep,
    services: ServicesDep,
    resolver: ResolverDep,
    address: Annotated[str, Query(max_length=500)] = "",
) -> Any:
    """A bsky.app profile or post address as the protocol names it (DID, post AT-URI), for the
    "did my share count?" box: the browser then computes the commitment itself. The handle
    is public; it is resolved, not stored or logged."""
    try:
        web = parse_web(address)
    except BadAddress as exc:
        raise invalid("address", str(exc)) from exc
    if web is None:
        raise invalid("address", "a Bluesky address: https://bsky.app/profile/<handle>[/post/<id>]")
    if not DID.fullmatch(web.actor):
        with db.write() as conn:  # resolving asks the AppView: bounded like the check
            take(conn, [check_limit(services.settings, request.client.host if request.client else None)],
                 utcnow(), action="check")  # fmt: skip
    try:
        did = resolver.did(web.actor)
    except BadAddress as exc:
        raise invalid("address", str(exc)) from exc
    uri = resolver.post_uri(address) if web.rkey else None
    return JSONResponse({"did": did, "uri": uri}, headers={"Cache-Control": "no-store"})


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


class SocialTokenIn(Strict):
    network: Literal["mastodon"]
    server: Annotated[str, Field(min_length=9, max_length=300)]
    token: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^[\x21-\x7e]+$")]


def _server(services: Services, url: str) -> str:
    try:
        server = server_of(url)
    except ValueError as exc:
        raise invalid("server", str(exc)) from exc
    why = OutboundPolicy.from_settings(services.settings).refused_at_registration(server)
    if why:
        raise invalid("server", why)
    return server


@router.put("/brands/{brand_id}/social/tokens")
def put_social_token(
    brand_id: str, data: SocialTokenIn, actor: ActorDep, db: DbDep, services: ServicesDep
) -> dict[str, Any]:
    """The brand's own access token for its server (Mastodon streaming and a post's quotes
    answer only its author): sealed at rest, shown back only as a fingerprint."""
    require(actor, "brand", owner=brand_id)
    server = _server(services, data.server)
    with db.write() as conn:
        get_brand(conn, brand_id)
        return put_token(conn, services.secret_box, brand_id, data.network, server, data.token, utcnow())


@router.get("/brands/{brand_id}/social/tokens")
def get_social_tokens(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    require(actor, "brand", owner=brand_id)
    with db.read() as conn:
        get_brand(conn, brand_id)
        return {"data": list_tokens(conn, brand_id)}


@router.delete("/brands/{brand_id}/social/tokens", status_code=204)
def delete_social_token(
    brand_id: str,
    actor: ActorDep,
    db: DbDep,
    services: ServicesDep,
    network: Annotated[Literal["mastodon"], Query()],
    server: Annotated[str, Query(max_length=300)],
) -> Response:
    require(actor, "brand", owner=brand_id)
    with db.write() as conn:
        get_brand(conn, brand_id)
        if not remove_token(conn, brand_id, network, _server(services, server)):
            raise NotFound(f"no {network} token for {server}")
    return Response(status_code=204)
