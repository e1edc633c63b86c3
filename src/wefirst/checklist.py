"""The production checklist that the processes enforce at start (docs/deploy.md lists the same
items; a test keeps them together).

Why: `wefirst serve` started silently with the public default secret key, with which anyone
forges console sessions, magic links, co-sign tokens and widget challenges, and derives the
connectors' encryption key (issue 13, finding 2). `serve`, its worker processes,
`voice listen` and `webhooks work` now refuse to start while an item is unsafe, naming the
setting and the fix, unless WEFIRST_DEVELOPMENT is set (the demo builds its app itself and is
not concerned)."""

from __future__ import annotations

from dataclasses import dataclass

from wefirst.settings import Settings

DEFAULT_SECRET_KEY = str(Settings.model_fields["secret_key"].default)
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Unsafe:
    setting: str  # the environment variable to change
    why: str
    fix: str

    def line(self) -> str:
        return f"{self.setting}: {self.why} (fix: {self.fix})"


class UnsafeSettings(RuntimeError):
    def __init__(self, what: str, problems: list[Unsafe]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p.line()}" for p in problems)
        super().__init__(
            f"{what} refuses to start with unsafe production settings:\n{lines}\n"
            "(WEFIRST_DEVELOPMENT=true starts anyway, for development only; see docs/deploy.md)"
        )


def problems(settings: Settings) -> list[Unsafe]:
    """Every unsafe item of `settings`, in the order of docs/deploy.md's checklist."""
    out: list[Unsafe] = []
    key = settings.secret_key
    if key == DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_LENGTH:
        out.append(
            Unsafe(
                "WEFIRST_SECRET_KEY",
                "is the public default or shorter than 32 characters: sessions, magic links and "
                "co-sign tokens could be forged",
                "WEFIRST_SECRET_KEY=$(openssl rand -hex 32)",
            )
        )
    if not settings.connectors_encryption_key:
        out.append(
            Unsafe(
                "WEFIRST_CONNECTORS_ENCRYPTION_KEY",
                "is unset, so shop secrets and brands' tokens are sealed with a key derived from "
                "the secret key",
                "WEFIRST_CONNECTORS_ENCRYPTION_KEY=$(openssl rand -base64 32), a separate secret",
            )
        )
    if settings.tlog_key_autocreate:
        out.append(
            Unsafe(
                "WEFIRST_TLOG_KEY_AUTOCREATE",
                "is on: a lost signer key would silently start a new log",
                "create the key once with `wefirst log keygen`, then WEFIRST_TLOG_KEY_AUTOCREATE=false",
            )
        )
    if not settings.base_url.startswith("https://"):
        out.append(
            Unsafe(
                "WEFIRST_BASE_URL",
                "is not https: session cookies and links would travel in clear",
                "WEFIRST_BASE_URL=https://your.domain",
            )
        )
    if settings.smtp_user and not settings.smtp_starttls and settings.smtp_port != 465:
        out.append(
            Unsafe(
                "WEFIRST_SMTP_STARTTLS",
                "is off while WEFIRST_SMTP_USER is set: the SMTP password would be sent in clear",
                "WEFIRST_SMTP_STARTTLS=true (port 587)",
            )
        )
    if not settings.outbound_https_only:
        out.append(
            Unsafe(
                "WEFIRST_OUTBOUND_HTTPS_ONLY",
                "is off: webhooks and shop call-backs (with Basic auth) could go over plain http",
                "WEFIRST_OUTBOUND_HTTPS_ONLY=true",
            )
        )
    if settings.connectors_fake_remote or settings.webhooks_transport == "memory":
        out.append(
            Unsafe(
                "WEFIRST_CONNECTORS_FAKE_REMOTE / WEFIRST_WEBHOOKS_TRANSPORT",
                "are demo fakes: call-backs and webhooks would never reach anyone",
                "WEFIRST_CONNECTORS_FAKE_REMOTE=false, WEFIRST_WEBHOOKS_TRANSPORT=http",
            )
        )
    if settings.demo_outbox:
        out.append(
            Unsafe(
                "WEFIRST_DEMO_OUTBOX",
                "is on: /demo/outbox would show every sign-in and co-sign link to anyone",
                "WEFIRST_DEMO_OUTBOX=false",
            )
        )
    return out


def check_at_start(settings: Settings, what: str) -> None:
    """For commands: print each unsafe item and exit 2 (warnings only in development mode)."""
    import typer
    from rich.console import Console

    err = Console(stderr=True)
    try:
        for item in require_safe(settings, what):
            err.print(f"[yellow]warning (development mode):[/] {item.line()}", highlight=False)
    except UnsafeSettings as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


def require_safe(settings: Settings, what: str) -> list[Unsafe]:
    """Raise `UnsafeSettings` naming every unsafe item, unless in development mode, where the
    items are returned for the caller to print as warnings."""
    found = problems(settings)
    if found and not settings.development:
        raise UnsafeSettings(what, found)
    return found
