"""The admin API for console users, mirroring `wefirst web disable-user|enable-user|
end-sessions|reset-password` (issue 13 #9): an operator can lock out a person who left a brand
without shell access to a server. Admin key only; the e-mail travels in the body, never in a
path that a proxy might log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from wefirst.api.deps import ActorDep, DbDep
from wefirst.auth import console_users
from wefirst.auth.walls import require
from wefirst.catalog.models import Strict

router = APIRouter(prefix="/v1/console-users", tags=["console users"])


class UserIn(Strict):
    email: Annotated[str, Field(max_length=320)]


class PasswordIn(UserIn):
    password: Annotated[str, Field(min_length=12, max_length=1000)] | None = Field(
        None, description="The new password; null: sign-in by e-mailed link only."
    )


@router.post("/disable")
def disable(data: UserIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """No sign-in of any kind any more (password or e-mailed link); every session ends."""
    require(actor, "admin")
    with db.write() as conn:
        user_id = console_users.disable_user(conn, data.email)
    return {"id": user_id, "disabled": True, "sessions_ended": True}


@router.post("/enable")
def enable(data: UserIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Allow a disabled user to sign in again."""
    require(actor, "admin")
    with db.write() as conn:
        user_id = console_users.enable_user(conn, data.email)
    return {"id": user_id, "disabled": False}


@router.post("/end-sessions")
def end_sessions(data: UserIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Sign the user out everywhere."""
    require(actor, "admin")
    with db.write() as conn:
        user_id = console_users.end_sessions(conn, data.email)
    return {"id": user_id, "sessions_ended": True}


@router.post("/reset-password")
def reset_password(data: PasswordIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """A new password (or none); every session ends and pending sign-in links stop working."""
    require(actor, "admin")
    with db.write() as conn:
        user_id = console_users.reset_password(conn, data.email, data.password)
    return {"id": user_id, "sessions_ended": True, "password": data.password is not None}
