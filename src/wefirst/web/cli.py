"""`wefirst web …`: console users for the web pages (a person who signs in for a brand, a
beneficiary or a publisher). The password is read from a prompt or from the environment, never
from the command line, so it does not end up in shell history."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy import Connection

from wefirst.auth import console_users
from wefirst.errors import WefirstError
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.web import sessions

T = TypeVar("T")

app = typer.Typer(help="Console users for the web pages.", no_args_is_help=True)


@app.callback()
def web() -> None:
    """Console users for the web pages."""


@app.command("add-user")
def add_user(
    email: Annotated[str, typer.Option(help="Sign-in e-mail address.")],
    role: Annotated[str, typer.Option(help="brand, beneficiary, publisher or admin.")],
    owner: Annotated[str | None, typer.Option(help="The brd_/ben_/pub_ id the user acts for.")] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            help="Name of an environment variable holding the password (else a prompt; "
            "--no-password for magic links only)."
        ),
    ] = None,
    no_password: Annotated[bool, typer.Option(help="Sign in by e-mailed link only.")] = False,
) -> None:
    """Create a console user."""
    password = _password(password_env, no_password, "Password (12+ characters)")
    user = _write(lambda conn: sessions.create_user(conn, email, role, owner, password))
    typer.echo(f"{user.id} {user.email} ({user.role}{' for ' + owner if owner else ''})")


def _password(password_env: str | None, no_password: bool, prompt: str) -> str | None:
    """The password from the named environment variable or a hidden, confirmed prompt (never
    from the command line, which ends up in shell history); None for links-only users."""
    if no_password:
        return None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise typer.BadParameter(f"${password_env} is empty or unset")
        return password
    prompted: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return prompted


def _write(work: Callable[[Connection], T]) -> T:
    """One write transaction on the configured database; our errors become `error: …` on
    stderr and exit code 2."""
    try:
        with Database(Settings()) as db, db.write() as conn:
            return work(conn)
    except WefirstError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


def _run(what: str, work: Callable[[Connection], str]) -> None:
    typer.echo(f"{_write(work)}: {what}")


Email = Annotated[str, typer.Option(help="The console user's sign-in e-mail address.")]


@app.command("disable-user")
def disable_user(email: Email) -> None:
    """No sign-in of any kind any more (password or e-mailed link); every session ends."""
    _run("disabled; sessions ended", lambda conn: console_users.disable_user(conn, email))


@app.command("enable-user")
def enable_user(email: Email) -> None:
    """Allow a disabled user to sign in again."""
    _run("enabled", lambda conn: console_users.enable_user(conn, email))


@app.command("end-sessions")
def end_sessions(email: Email) -> None:
    """Sign the user out everywhere (every browser's session ends)."""
    _run("sessions ended", lambda conn: console_users.end_sessions(conn, email))


@app.command("reset-password")
def reset_password(
    email: Email,
    password_env: Annotated[
        str | None, typer.Option(help="Name of an environment variable holding the new password.")
    ] = None,
    no_password: Annotated[bool, typer.Option(help="Remove the password: e-mailed links only.")] = False,
) -> None:
    """Set a new password (prompted, or from --password-env); every session ends and pending
    sign-in links stop working."""
    password = _password(password_env, no_password, "New password (12+ characters)")
    _run("password reset; sessions ended", lambda conn: console_users.reset_password(conn, email, password))
