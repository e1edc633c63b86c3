"""Connections: a brand's shop, Stripe account or retailer, its signing secrets and its
product→campaign mapping rules.

Secrets are write-only: they are sealed with `SecretBox` on the way in and only ever opened to
verify a delivery. Two may be active at once so a brand can rotate without losing deliveries;
the API shows which one last matched (by fingerprint) so the old one can be retired safely."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from wefirst.domain.clock import rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, Invalid, NotFound, invalid
from wefirst.ingest.connectors.mapping import MappingKind, MappingRule, ProductMapping
from wefirst.ingest.connectors.records import Source
from wefirst.secretbox import SecretBox
from wefirst.store.tables_connectors import (
    connector_connections,
    connector_mappings,
    connector_secrets,
)
from wefirst.store.tables_core import brands, campaigns

MAX_ACTIVE_SECRETS = 2
WEBHOOK_PLATFORMS = frozenset({Source.SHOPIFY, Source.WOOCOMMERCE, Source.STRIPE})
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}\.myshopify\.com$")
_SITE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?/$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_CREDENTIAL_KEYS = {
    Source.STRIPE: {"api_key"},
    Source.WOOCOMMERCE: {"consumer_key", "consumer_secret"},
}


@dataclass(frozen=True)
class ConnectionInfo:
    id: str
    brand_id: str
    platform: Source
    account: str
    name: str
    livemode: bool
    status: str


def _info(row: Row[Any]) -> ConnectionInfo:
    return ConnectionInfo(
        row.id, row.brand_id, Source(row.platform), row.account, row.name, bool(row.livemode), row.status
    )


def normalise_account(platform: Source, account: str) -> str:
    """The tenant key exactly as the platform will send it, so lookups are plain equality."""
    value = account.strip()
    if platform is Source.SHOPIFY:
        value = value.lower()
        if not _SHOP.match(value):
            raise invalid("account", "a Shopify shop domain such as my-shop.myshopify.com")
    elif platform is Source.WOOCOMMERCE:
        if not value.endswith("/"):
            value += "/"
        if not _SITE.match(value):
            raise invalid(
                "account", "the site URL WooCommerce sends in X-WC-Webhook-Source, e.g. https://shop.example/"
            )
    elif not _CODE.match(value):
        raise invalid("account", "letters, digits, '_', '.' and '-' (a Stripe acct_… id or a retailer code)")
    return value


def create_connection(
    conn: Connection,
    box: SecretBox,
    *,
    brand_id: str,
    platform: Source,
    account: str,
    name: str | None,
    secret: str | None,
    livemode: bool,
    credentials: Mapping[str, str] | None = None,
) -> ConnectionInfo:
    if conn.execute(select(brands.c.id).where(brands.c.id == brand_id)).first() is None:
        raise NotFound(f"brand {brand_id} does not exist")
    account = normalise_account(platform, account)
    if platform in WEBHOOK_PLATFORMS and not secret:
        raise invalid("secret", f"a {platform} connection needs its webhook signing secret")
    taken = conn.execute(
        select(connector_connections.c.id).where(
            connector_connections.c.platform == platform.value,
            connector_connections.c.account == account,
            connector_connections.c.livemode == livemode,
        )
    ).first()
    if taken is not None:
        raise Conflict(f"{account} is already connected", [FieldError("account", "taken")])
    connection_id = new_id("con")
    now = utcnow()
    conn.execute(
        insert(connector_connections).values(
            id=connection_id,
            brand_id=brand_id,
            platform=platform.value,
            account=account,
            name=name or account,
            livemode=livemode,
            status="active",
            credentials=_seal_credentials(box, connection_id, platform, credentials),
            created_at=now,
            updated_at=now,
        )
    )
    if secret:
        add_secret(conn, box, connection_id, secret)
    return get_connection(conn, connection_id)


def _seal_credentials(
    box: SecretBox, connection_id: str, platform: Source, credentials: Mapping[str, str] | None
) -> bytes | None:
    if not credentials:
        return None
    allowed = _CREDENTIAL_KEYS.get(platform, set())
    unknown = sorted(set(credentials) - allowed)
    if unknown or set(credentials) != allowed:
        expected = ", ".join(sorted(allowed)) or "none"
        raise invalid("credentials", f"{platform} credentials are: {expected}")
    return box.seal(json.dumps(dict(credentials)), bound_to=connection_id + ":credentials")


def open_credentials(box: SecretBox, connection_id: str, blob: bytes | None) -> dict[str, str]:
    if blob is None:
        return {}
    value = json.loads(box.open(blob, bound_to=connection_id + ":credentials"))
    return {str(k): str(v) for k, v in value.items()}


def get_connection(conn: Connection, connection_id: str) -> ConnectionInfo:
    row = conn.execute(
        select(connector_connections).where(connector_connections.c.id == connection_id)
    ).first()
    if row is None:
        raise NotFound(f"connection {connection_id} does not exist")
    return _info(row)


def credentials_blob(conn: Connection, connection_id: str) -> bytes | None:
    blob: bytes | None = conn.execute(
        select(connector_connections.c.credentials).where(connector_connections.c.id == connection_id)
    ).scalar()
    return blob


def list_connections(conn: Connection, brand_id: str | None) -> list[ConnectionInfo]:
    query = select(connector_connections).order_by(connector_connections.c.seq)
    if brand_id is not None:
        query = query.where(connector_connections.c.brand_id == brand_id)
    return [_info(r) for r in conn.execute(query)]


def add_secret(conn: Connection, box: SecretBox, connection_id: str, secret: str) -> int:
    if not secret or len(secret) > 500 or secret != secret.strip():
        raise invalid("secret", "1 to 500 characters, no surrounding spaces")
    active = _active_rows(conn, connection_id)
    if len(active) >= MAX_ACTIVE_SECRETS:
        raise Conflict(
            "two secrets are already active; retire the old one first",
            [FieldError("secret", "retire one of the active secrets first")],
        )
    fp = box.fingerprint(secret)
    if any(r.fingerprint == fp for r in active):
        raise Conflict("this secret is already active", [FieldError("secret", "already active")])
    result = conn.execute(
        insert(connector_secrets).values(
            connection_id=connection_id,
            ciphertext=box.seal(secret, bound_to=connection_id),
            fingerprint=fp,
            created_at=utcnow(),
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def retire_secret(conn: Connection, connection_id: str, secret_id: int) -> None:
    active = _active_rows(conn, connection_id)
    if not any(r.seq == secret_id for r in active):
        raise NotFound(f"no active secret {secret_id} on {connection_id}")
    if len(active) == 1:
        raise Conflict("this is the only active secret; add the new one before retiring it")
    conn.execute(
        update(connector_secrets).where(connector_secrets.c.seq == secret_id).values(retired_at=utcnow())
    )


def _active_rows(conn: Connection, connection_id: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(connector_secrets)
            .where(
                connector_secrets.c.connection_id == connection_id, connector_secrets.c.retired_at.is_(None)
            )
            .order_by(connector_secrets.c.seq)
        )
    )


def active_secrets(conn: Connection, box: SecretBox, connection_id: str) -> list[tuple[int, str]]:
    """(secret id, plaintext) of the active secrets, oldest first."""
    return [
        (r.seq, box.open(r.ciphertext, bound_to=connection_id)) for r in _active_rows(conn, connection_id)
    ]


def mark_secret_matched(conn: Connection, secret_id: int, when: datetime) -> None:
    conn.execute(
        update(connector_secrets).where(connector_secrets.c.seq == secret_id).values(last_matched_at=when)
    )


def set_mappings(conn: Connection, connection: ConnectionInfo, rules: Sequence[MappingRule]) -> None:
    """Replace the rules as a whole: order matters (first match wins), so a partial edit
    would be ambiguous."""
    for i, rule in enumerate(rules):
        if rule.campaign_id is None:
            continue
        owner = conn.execute(
            select(campaigns.c.brand_id, campaigns.c.livemode).where(campaigns.c.id == rule.campaign_id)
        ).first()
        if owner is None or owner.brand_id != connection.brand_id:
            raise Invalid(
                f"rules[{i}].campaign_id: no such campaign for this brand",
                [FieldError(f"rules[{i}].campaign_id", "unknown campaign")],
            )
        if bool(owner.livemode) != connection.livemode:
            raise Invalid(
                f"rules[{i}].campaign_id: live and test data never mix",
                [FieldError(f"rules[{i}].campaign_id", "other mode")],
            )
    conn.execute(connector_mappings.delete().where(connector_mappings.c.connection_id == connection.id))
    for i, rule in enumerate(rules):
        conn.execute(
            insert(connector_mappings).values(
                connection_id=connection.id,
                position=i,
                kind=rule.kind.value,
                pattern=rule.pattern,
                campaign_id=rule.campaign_id,
                sku=rule.sku,
            )
        )


def mapping_for(conn: Connection, connection_id: str) -> ProductMapping:
    rows = conn.execute(
        select(connector_mappings)
        .where(connector_mappings.c.connection_id == connection_id)
        .order_by(connector_mappings.c.position)
    )
    return ProductMapping.of(
        [MappingRule(MappingKind(r.kind), r.pattern, r.campaign_id, r.sku) for r in rows]
    )


def connection_json(conn: Connection, info: ConnectionInfo, base_url: str) -> dict[str, Any]:
    """Never includes a secret or credential, only fingerprints and dates."""
    secrets = conn.execute(
        select(connector_secrets)
        .where(connector_secrets.c.connection_id == info.id)
        .order_by(connector_secrets.c.seq)
    )
    blob = credentials_blob(conn, info.id)
    base = base_url.rstrip("/")
    body: dict[str, Any] = {
        "object": "connection",
        "id": info.id,
        "brand_id": info.brand_id,
        "platform": info.platform.value,
        "account": info.account,
        "name": info.name,
        "livemode": info.livemode,
        "status": info.status,
        "secrets": [
            {
                "id": s.seq,
                "fingerprint": s.fingerprint,
                "created_at": rfc3339(s.created_at),
                "last_matched_at": rfc3339(s.last_matched_at) if s.last_matched_at else None,
                "active": s.retired_at is None,
            }
            for s in secrets
        ],
        "has_credentials": blob is not None,
        "mappings": [
            {"kind": r.kind.value, "pattern": r.pattern, "campaign_id": r.campaign_id, "sku": r.sku}
            for r in mapping_for(conn, info.id).rules
        ],
    }
    if info.platform in WEBHOOK_PLATFORMS:
        body["webhook_url"] = f"{base}/v1/connectors/{info.id}/{info.platform.value}"
    else:
        body["sales_report_url"] = f"{base}/v1/connectors/{info.id}/sales-reports"
    return body
