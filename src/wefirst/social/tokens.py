"""A brand's access tokens for social servers, sealed at rest and never shown back.

Mastodon answers some of what a social rule needs only to the post's author: the streaming API
(every stream needs a user token since 4.2) and the list of a post's quotes. The brand gives
its own token for its instance; it is sealed with the app's secret box (AES-GCM, bound to the
brand, the network and the server: copied to another row it does not open), and what the brand
reads back is the server and a keyed fingerprint, never the token in any form."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select, update

from wefirst.domain.clock import rfc3339
from wefirst.secretbox import SecretBox
from wefirst.store.tables_social import social_tokens

NETWORKS = ("mastodon",)


def server_of(url: str) -> str:
    """`https://host` from an instance or post address: what a token is stored under, and
    what a rule's target (a status URL) is looked up by."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("an https:// address of the server, e.g. https://mastodon.social")
    port = f":{parts.port}" if parts.port else ""
    return f"https://{parts.hostname.lower()}{port}"


def _binding(brand_id: str, network: str, server: str) -> str:
    return f"social-token:{brand_id}:{network}:{server}"


def put_token(
    conn: Connection, box: SecretBox, brand_id: str, network: str, server: str, token: str, now: datetime
) -> dict[str, Any]:
    t = social_tokens
    values = {
        "sealed": box.seal(token, bound_to=_binding(brand_id, network, server)),
        "fingerprint": box.fingerprint(token),
        "updated_at": now,
    }
    key = (t.c.brand_id == brand_id, t.c.network == network, t.c.server == server)
    if conn.execute(update(t).where(*key).values(**values)).rowcount == 0:
        conn.execute(insert(t).values(brand_id=brand_id, network=network, server=server, **values))
    return {"network": network, "server": server, "fingerprint": values["fingerprint"],
            "updated_at": rfc3339(now)}  # fmt: skip


def remove_token(conn: Connection, brand_id: str, network: str, server: str) -> bool:
    t = social_tokens
    key = (t.c.brand_id == brand_id, t.c.network == network, t.c.server == server)
    return conn.execute(delete(t).where(*key)).rowcount > 0


def list_tokens(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    t = social_tokens
    rows = conn.execute(
        select(t.c.network, t.c.server, t.c.fingerprint, t.c.updated_at)
        .where(t.c.brand_id == brand_id)
        .order_by(t.c.network, t.c.server)
    )
    return [{"network": r.network, "server": r.server, "fingerprint": r.fingerprint,
             "updated_at": rfc3339(r.updated_at)} for r in rows]  # fmt: skip


def open_token(conn: Connection, box: SecretBox, brand_id: str, network: str, server: str) -> str | None:
    """The token, for a request to that very server; None if the brand gave none."""
    t = social_tokens
    sealed = conn.execute(
        select(t.c.sealed).where(t.c.brand_id == brand_id, t.c.network == network, t.c.server == server)
    ).scalar()
    if sealed is None:
        return None
    return box.open(bytes(sealed), bound_to=_binding(brand_id, network, server))


def tokens_for_servers(conn: Connection, box: SecretBox, network: str) -> dict[tuple[str, str], str]:
    """Every brand's token for `network`, by (brand, server): for the follower's streams."""
    t = social_tokens
    rows = conn.execute(select(t.c.brand_id, t.c.server, t.c.sealed).where(t.c.network == network))
    return {
        (r.brand_id, r.server): box.open(bytes(r.sealed), bound_to=_binding(r.brand_id, network, r.server))
        for r in rows
    }
