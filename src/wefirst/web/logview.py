"""What the pages need from the transparency log, in one place: the published verifier key,
the URL prefix of the tiles, and a receipt bundle (entry, inclusion proof, signed checkpoint)
for a consumer's commitment. The log area owns the logic (`wefirst.tlog.service`); this module
only adapts its calls to what a page shows."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


def _ensure_service(request: Request) -> None:
    """Make the app's LogService on first use when the app has a database (the real app);
    bare test apps set `signer` / `receipt_finder` on their state themselves."""
    state = request.app.state
    if getattr(state, "signer", None) is None and hasattr(state, "db"):
        from wefirst.tlog.sequencer import service_for

        service_for(request.app)


def published_key(request: Request) -> str | None:
    _ensure_service(request)
    signer = getattr(request.app.state, "signer", None)
    verifier = getattr(signer, "verifier", None)
    key = getattr(verifier, "key_string", None)
    return key if isinstance(key, str) else None


def published_policy(request: Request) -> str | None:
    """The deployment's default trust policy (its log key and witnesses), or None without
    witnesses. Pages show it only as text to copy and check elsewhere, never as what the
    verifier uses (docs/witnessing.md, "Trust policy")."""
    _ensure_service(request)
    service = getattr(request.app.state, "tlog", None)
    policy = getattr(service, "published_policy", None)
    text = policy() if callable(policy) else None
    return text if isinstance(text, str) else None


def log_prefix(request: Request) -> str:
    """Where the static tlog-tiles layout is served (``<prefix>/checkpoint``)."""
    return "/log"


def receipt_for_commitment(request: Request, commitment: str) -> dict[str, Any] | None:
    """The verifier's receipt JSON for the entry carrying this commitment (its "status" is
    "pending" until a signed checkpoint covers it), or None."""
    _ensure_service(request)
    finder = getattr(request.app.state, "receipt_finder", None)
    if finder is None:
        return None
    result = finder(commitment)
    return result if isinstance(result, dict) else None
