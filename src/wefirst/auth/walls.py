"""The tenant walls, in one place for the API and the consoles: who may do what (`require`),
what a caller may see (`can_see`), and the 404 that hides what lies across a wall
(`hide_unless`), so a tenant cannot learn that another tenant's campaign exists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from wefirst.auth.keys import Actor
from wefirst.catalog import service
from wefirst.errors import Forbidden, NotFound


def require(actor: Actor, *roles: str, owner: str | None = None) -> None:
    """Admins pass every wall; others need one of `roles` and, when given, to own `owner`."""
    if actor.is_admin:
        return
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} key cannot do this (needs: {', '.join(roles)})")
    if owner is not None and actor.owner_id != owner:
        raise Forbidden("this key cannot see or change another tenant's data")


def hide_unless(visible: bool, what: str) -> None:
    """Across a tenant wall, answer 404 rather than confirm that something exists."""
    if not visible:
        raise NotFound(f"{what} does not exist")


def can_see(actor: Actor | None, row: Any) -> bool:
    """Live, non-draft campaigns are public; drafts and test data only to owners."""
    if row.status != "draft" and row.livemode:
        return True
    if actor is None:
        return False
    return (
        actor.is_admin
        or (actor.role == "brand" and actor.owner_id == row.brand_id)
        or (actor.role == "beneficiary" and actor.owner_id == row.beneficiary_id)
    )


def visible(conn: Connection, actor: Actor | None, campaign_id: str) -> service.Loaded:
    """The campaign, if this caller may see it; else 404."""
    loaded = service.load_campaign(conn, campaign_id)
    hide_unless(can_see(actor, loaded.row), f"campaign {campaign_id}")
    return loaded


def same_mode(actor: Actor, row: Any) -> None:
    """Test-mode keys change test campaigns only, live keys live ones: a test key handed to a
    developer must not pause, edit or settle the brand's real promise."""
    if not actor.is_admin and actor.livemode != bool(row.livemode):
        mode = "test-mode" if not actor.livemode else "live"
        target = "live" if row.livemode else "test-mode"
        raise Forbidden(f"a {mode} key cannot change a {target} campaign")


def owned(conn: Connection, actor: Actor, campaign_id: str) -> service.Loaded:
    """The campaign, for the brand that runs it (or an admin), with a key of the campaign's mode."""
    loaded = visible(conn, actor, campaign_id)
    require(actor, "brand", owner=loaded.row.brand_id)
    same_mode(actor, loaded.row)
    return loaded
