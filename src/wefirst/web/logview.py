"""What the pages need from the transparency log, in one place: the published verifier key,
the URL prefix of the tiles, and a receipt bundle (entry, inclusion proof, signed checkpoint)
for a consumer's commitment. The log area owns the logic (`wefirst.tlog.service`); this module
only adapts its calls to what a page shows."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from wefirst.services import services_of


def published_key(request: Request) -> str | None:
    return services_of(request.app).log.signer.verifier.key_string


def published_policy(request: Request) -> str | None:
    """The deployment's default trust policy (its log key and witnesses), or None without
    witnesses. Pages show it only as text to copy and check elsewhere, never as what the
    verifier uses (docs/witnessing.md, "Trust policy")."""
    return services_of(request.app).log.published_policy()


def log_prefix(request: Request) -> str:
    """Where the static tlog-tiles layout is served (``<prefix>/checkpoint``)."""
    return "/log"


def receipt_for_commitment(request: Request, commitment: str) -> dict[str, Any] | None:
    """The verifier's receipt JSON for the entry carrying this commitment (its "status" is
    "pending" until a signed checkpoint covers it), or None."""
    return services_of(request.app).log.receipt(commitment)
