"""Voice: a brand's listening settings and alert endpoints (the brand's key), and the public
reads anyone can check — mention series, mobilization episodes, and their Atom feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, model_validator
from sqlalchemy import Connection

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, RawBody, SettingsDep
from wefirst.api.writes import idempotent_post
from wefirst.auth.walls import require
from wefirst.catalog.models import Strict
from wefirst.domain.clock import as_utc, utcnow
from wefirst.services import ServicesDep
from wefirst.store.db import Database
from wefirst.voice import alert_rules as voice_alert_rules
from wefirst.voice import brand_settings as voice_brand_settings
from wefirst.voice import competitors as voice_competitors
from wefirst.voice import episodes as voice_episodes
from wefirst.voice import filters as voice_filters
from wefirst.voice import series as voice_series
from wefirst.voice.atom import FeedEpisode, episodes_feed
from wefirst.voice.brand_settings import refuse_unreachable
from wefirst.voice.filters import VoiceFilter
from wefirst.webhooks import endpoints as webhook_endpoints
from wefirst.webhooks import outbox

router = APIRouter(prefix="/v1/brands/{brand_id}/voice", tags=["voice"])

Term = Annotated[str, Field(min_length=1, max_length=100)]
Terms = Annotated[list[Term], Field(max_length=200)]
Hashtag = Annotated[str, Field(pattern=r"^#?\w{1,100}$")]
Url = Annotated[str, Field(max_length=1000, pattern=r"^https?://[^\s]+$")]


class MastodonSourceIn(Strict):
    server: Url
    hashtags: Annotated[list[Hashtag], Field(max_length=50)] = Field(default_factory=list)
    public: bool = False
    #: stream instead of polling with the brand's own access token (streaming needs one since
    #: Mastodon 4.2). Write-only: stored sealed, read back as `has_token`. Omitted: the token
    #: already stored for this server is kept; null removes it.
    token: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    #: read back by GET; accepted (and ignored) so a settings document round-trips
    has_token: bool | None = None


class SourcesIn(Strict):
    mastodon: Annotated[list[MastodonSourceIn], Field(max_length=20)] = Field(default_factory=list)
    bluesky: bool = False
    rss: Annotated[list[Url], Field(max_length=200)] = Field(default_factory=list)


class DetectorIn(Strict):
    """Sensitivity: ``alpha`` is the per-hour false-alarm probability (docs/voice-detection.md)."""

    alpha: Annotated[float, Field(gt=0, le=0.01)] | None = None
    min_count: Annotated[int, Field(ge=1, le=10_000)] | None = None
    min_ratio: Annotated[float, Field(ge=1, le=100)] | None = None
    cooldown_hours: Annotated[int, Field(ge=1, le=48)] | None = None
    share_alpha: Annotated[float, Field(gt=0, lt=1)] | None = None


class VoiceSettingsIn(Strict):
    names: Terms = Field(default_factory=list)
    aliases: Terms = Field(default_factory=list)
    handles: Terms = Field(default_factory=list)
    hashtags: Terms = Field(default_factory=list)
    exclusions: Terms = Field(default_factory=list)
    sources: SourcesIn = SourcesIn()
    detector: DetectorIn = DetectorIn()


class EndpointIn(Strict):
    url: Url


def _own(actor: Any, brand_id: str) -> None:
    require(actor, "brand", owner=brand_id)


def _owned_list(
    actor: Any, db: Database, brand_id: str, read: Callable[[Connection], list[dict[str, Any]]]
) -> dict[str, Any]:
    """An owner-only list read: the brand's key is checked before anything is read, and the
    answer has the paged-list shape (one page: these lists are bounded by ``limit``)."""
    _own(actor, brand_id)
    with db.read() as conn:
        return {"data": read(conn), "has_more": False, "next_cursor": None}


@router.get("/settings")
def get_settings(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, brand_id)
    with db.read() as conn:
        return voice_brand_settings.get_voice_settings(conn, brand_id)


@router.put("/settings")
def put_settings(
    services: ServicesDep,
    brand_id: str,
    data: VoiceSettingsIn,
    actor: ActorDep,
    db: DbDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Replace the brand's names, aliases, handles, hashtags, exclusion terms, live sources and
    detector sensitivity. A running `wefirst voice listen` picks the change up at its next poll;
    imports use it at once."""
    _own(actor, brand_id)
    refuse_unreachable(
        settings,
        [(f"sources.mastodon[{i}].server", m.server) for i, m in enumerate(data.sources.mastodon)]
        + [(f"sources.rss[{i}]", url) for i, url in enumerate(data.sources.rss)],
    )
    payload = data.model_dump()
    payload["detector"] = {k: v for k, v in payload["detector"].items() if v is not None}
    for given, source in zip(payload["sources"]["mastodon"], data.sources.mastodon, strict=True):
        given.pop("has_token", None)
        if "token" not in source.model_fields_set:
            given.pop("token")  # keep the token stored for this server
    with db.write() as conn:
        return voice_brand_settings.put_voice_settings(conn, brand_id, payload, services.secret_box)


@router.post("/alert-endpoints", status_code=201)
def create_alert_endpoint(
    services: ServicesDep,
    request: Request,
    brand_id: str,
    data: EndpointIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a webhook URL for every event of the brand (voice and cases; docs/webhooks.md).
    The answer holds the signing secret (`whsec_…`), shown this once."""
    _own(actor, brand_id)
    refuse_unreachable(settings, [("url", data.url)])

    def work(conn: Connection) -> tuple[int, Any]:
        voice_brand_settings.brand_exists(conn, brand_id)
        return 201, webhook_endpoints.create(conn, services.secret_box, brand_id, data.url, utcnow())

    return idempotent_post(request, db, actor, body, idempotency_key, work)


@router.get("/alert-endpoints")
def list_alert_endpoints(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    return _owned_list(actor, db, brand_id, lambda conn: webhook_endpoints.listed(conn, brand_id))


@router.delete("/alert-endpoints/{endpoint_id}", status_code=204)
def delete_alert_endpoint(brand_id: str, endpoint_id: str, actor: ActorDep, db: DbDep) -> Response:
    _own(actor, brand_id)
    with db.write() as conn:
        webhook_endpoints.deactivate(conn, brand_id, endpoint_id)
    return Response(status_code=204)


@router.post("/alert-endpoints/{endpoint_id}/rotate-secret")
def rotate_alert_secret(
    services: ServicesDep, brand_id: str, endpoint_id: str, actor: ActorDep, db: DbDep
) -> dict[str, Any]:
    """A new signing secret, shown this once; the old one keeps signing beside it for 24 hours
    so the receiver can switch without losing a delivery."""
    _own(actor, brand_id)
    with db.write() as conn:
        return webhook_endpoints.rotate(conn, services.secret_box, brand_id, endpoint_id, utcnow())


@router.get("/alert-attempts")
def list_alert_attempts(
    brand_id: str,
    actor: ActorDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Every delivery attempt of the brand's alerts, newest first (status, error, retry time)."""
    return _owned_list(actor, db, brand_id, lambda conn: outbox.attempts(conn, brand_id, limit))


@router.get("/alert-deliveries")
def list_alert_deliveries(
    brand_id: str,
    actor: ActorDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Every delivery of the brand's webhooks, newest first: pending, delivered or failed."""
    return _owned_list(actor, db, brand_id, lambda conn: outbox.deliveries(conn, brand_id, limit))


@router.post("/alert-attempts/{delivery_id}/replay", status_code=202)
def replay_alert(
    services: ServicesDep, request: Request, brand_id: str, delivery_id: str, actor: ActorDep, db: DbDep
) -> dict[str, Any]:
    """Queue a delivery's event again for its endpoint (same `webhook-id`); the webhook worker
    sends it within moments. Answers 202 with the new delivery, never waiting on the receiver."""
    _own(actor, brand_id)
    with db.write() as conn:
        queued = outbox.replay(conn, brand_id, delivery_id, utcnow())
    services.wake_webhooks()
    return queued


Language = Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$", description="en, fr, …")]
Source = Annotated[Literal["file", "mastodon", "bluesky", "rss"] | None, Query()]
Polarity = Annotated[Literal["negative", "neutral", "positive"] | None, Query()]


def voice_filter(
    language: Language = None,
    source: Source = None,
    polarity: Polarity = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> VoiceFilter:
    """The filter query parameters every public voice read accepts (voice/filters.py)."""
    return voice_filters.check(language=language, source=source, polarity=polarity, start=start, end=end)


FilterDep = Annotated[VoiceFilter, Depends(voice_filter)]


@router.get("/series")
def get_series(
    brand_id: str,
    db: DbDep,
    where: FilterDep,
    granularity: Literal["hour", "day"] = "hour",
    by: Literal["polarity", "language", "none"] = "polarity",
) -> dict[str, Any]:
    """Public: posts mentioning the brand per hour or day, by polarity or language, narrowed
    to a language, a source, a polarity and a period (`start` inclusive, `end` exclusive)."""
    with db.read() as conn:
        return voice_series.series(
            conn, brand_id, granularity=granularity, by=None if by == "none" else by, where=where
        )


@router.get("/share-of-voice")
def get_share_of_voice(services: ServicesDep, brand_id: str, db: DbDep, where: FilterDep) -> dict[str, Any]:
    """Public: the brand's mentions beside those of the competitors it names, with each one's
    split by polarity and its share of all of them, over the filter's period (counted at most
    a minute ago, like the scorecard's chart)."""
    with db.read() as conn:
        rows = services.voice_days.shares(conn, brand_id, where)
    return {"brand_id": brand_id, "data": [r.as_json() for r in rows]}


class CompetitorIn(Strict):
    """Another brand of the platform (`brand_id`), or a plain name with the terms that say a
    post is about it (names, `@handles`, `#hashtags`; the name itself when none is given)."""

    brand_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    terms: Annotated[list[Term], Field(max_length=20)] = Field(default_factory=list)

    @model_validator(mode="after")
    def one_kind(self) -> CompetitorIn:
        if (self.brand_id is None) == (self.name is None):
            raise ValueError("brand_id: give a brand_id or a name, not both")
        return self


class CompetitorsIn(Strict):
    competitors: Annotated[list[CompetitorIn], Field(max_length=10)]


class AlertRuleIn(Strict):
    polarity: Literal["negative", "positive", "any"]
    min_posts: Annotated[int, Field(ge=1, le=1_000_000)]
    endpoint_id: Annotated[str, Field(min_length=1, max_length=40)]


class AlertRulesIn(Strict):
    rules: Annotated[list[AlertRuleIn], Field(max_length=20)]


@router.get("/competitors")
def get_competitors(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, brand_id)
    with db.read() as conn:
        return voice_competitors.get_competitors(conn, brand_id)


@router.put("/competitors")
def put_competitors(brand_id: str, data: CompetitorsIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Replace the competitors the brand's share of voice compares it with. Plain names are
    listened for from now on (a running `wefirst voice listen` picks them up at its next poll)."""
    _own(actor, brand_id)
    with db.write() as conn:
        return voice_competitors.put_competitors(
            conn, brand_id, [c.model_dump(exclude_none=True) for c in data.competitors]
        )


@router.get("/alert-rules")
def get_alert_rules(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, brand_id)
    with db.read() as conn:
        return voice_alert_rules.get_rules(conn, brand_id)


@router.put("/alert-rules")
def put_alert_rules(brand_id: str, data: AlertRulesIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Replace the brand's voice alert rules: which polarity, from how many posts, to which of
    its endpoints. No rule: every voice alert goes to every endpoint (docs/listening.md)."""
    _own(actor, brand_id)
    with db.write() as conn:
        return voice_alert_rules.put_rules(conn, brand_id, [r.model_dump() for r in data.rules])


@router.get("/episodes")
def list_episodes(
    brand_id: str,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: str | None = None,
    polarity: Literal["negative", "positive"] | None = None,
) -> dict[str, Any]:
    """Public: the brand's mobilization episodes (backlash = negative, praise = positive),
    newest first."""
    with db.read() as conn:
        rows, has_more = voice_episodes.list_episodes(
            conn, brand_id, limit=limit, starting_after=starting_after, polarity=polarity
        )
    return {
        "data": [voice_episodes.episode_json(r) for r in rows],
        "has_more": has_more,
        "next_cursor": rows[-1].id if has_more and rows else None,
    }


@router.get(
    "/episodes.atom", response_class=Response, responses={200: {"content": {"application/atom+xml": {}}}}
)
def episodes_atom(brand_id: str, db: DbDep, settings: SettingsDep) -> Response:
    """Public Atom feed of the brand's episodes (for feed readers and newsrooms)."""
    with db.read() as conn:
        name = voice_brand_settings.brand_name(conn, brand_id)
        rows, _ = voice_episodes.list_episodes(conn, brand_id, limit=50)
    base = settings.base_url.rstrip("/")
    episodes = [
        FeedEpisode(
            id=r.id,
            polarity=r.polarity,
            start=as_utc(r.start),
            end=as_utc(r.end) if r.end else None,
            peak_hour=as_utc(r.peak_hour),
            peak_count=r.peak_count,
            peak_expected=r.peak_expected,
            posts=r.posts,
            expected=r.expected,
            updated=as_utc(r.updated_at),
            top_terms=[t for t, _ in r.top_terms][:8],
            top_reasons=[x for x, _ in r.top_reasons][:3],
        )
        for r in rows
    ]
    xml = episodes_feed(
        brand_id=brand_id,
        brand_name=name,
        feed_url=f"{base}/v1/brands/{brand_id}/voice/episodes.atom",
        html_url=f"{base}/v1/brands/{brand_id}/voice/episodes",
        episodes=episodes,
    )
    return Response(xml, media_type="application/atom+xml")


@router.get("/episodes/{episode_id}")
def get_episode(brand_id: str, episode_id: str, db: DbDep) -> dict[str, Any]:
    with db.read() as conn:
        return voice_episodes.episode_json(voice_episodes.get_episode(conn, brand_id, episode_id))
