"""voice: Mastodon sources stop naming an environment variable of `wefirst voice listen`
(`token_env`, issue 13 finding 1: a brand could make the listener send WEFIRST_SECRET_KEY as a
Bearer token to its own server). The name is dropped from every stored source; such a source
polls until its brand stores its own token (sealed) with PUT .../voice/settings.

Revision ID: 0014_voice_tokens_sealed
Revises: 0013_received_at
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014_voice_tokens_sealed"
down_revision = "0013_received_at"
branch_labels = None
depends_on = None

_settings = sa.table("voice_brand_settings", sa.column("brand_id", sa.String), sa.column("sources", sa.JSON))


def _without_env(sources: dict[str, Any]) -> dict[str, Any] | None:
    mastodon = sources.get("mastodon") or []
    if not any("token_env" in m for m in mastodon):
        return None
    return {**sources, "mastodon": [{k: v for k, v in m.items() if k != "token_env"} for m in mastodon]}


def upgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_settings.c.brand_id, _settings.c.sources)).all():
        changed = _without_env(row.sources or {})
        if changed is not None:
            conn.execute(
                sa.update(_settings).where(_settings.c.brand_id == row.brand_id).values(sources=changed)
            )


def downgrade() -> None:
    """Nothing to restore: the variable names were the vulnerability."""
