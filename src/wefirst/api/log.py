"""The public log over HTTP, exactly the C2SP tlog-tiles layout under /log, plus receipts.

Everything here is public and needs no key. Full tiles and bundles never change, so they are
cached forever; the checkpoint and partial tiles get a short cache."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from wefirst.errors import NotFound
from wefirst.services import ServicesDep
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.tiles import parse_tile_path

router = APIRouter(tags=["transparency log"])

TEXT = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"
OPEN = {"Access-Control-Allow-Origin": "*"}  # verifiers in any browser page may read the log


@router.get(
    "/log/checkpoint",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "C2SP signed checkpoint."}},
)
def get_checkpoint(services: ServicesDep) -> Response:
    """The latest signed tree head (C2SP tlog-checkpoint in a signed note) of the first log;
    after a key rotation, its final one (the current log is then under /log/<n>/)."""
    cp = services.log.checkpoint(1)
    return Response(cp.note, media_type=TEXT, headers={"Cache-Control": SHORT, **OPEN})


@router.get(
    "/log/key",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Note verifier key."}},
)
def get_key(services: ServicesDep) -> Response:
    """The verifier key line (`<origin>+<key id>+<base64 key>`) to check checkpoints with."""
    key = services.log.key_of(1) or ""
    return Response(key + "\n", media_type=TEXT, headers={"Cache-Control": "public, max-age=3600", **OPEN})


@router.get(
    "/log/tile/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "Tile or bundle."},
        404: {"description": "Not published."},
    },
)
def get_tile(services: ServicesDep, path: str) -> Response:
    """Hash tiles `tile/<L>/<N>[.p/<W>]` and entry bundles `tile/entries/<N>[.p/<W>]`."""
    return _tile_response(services.log.tile, "tile/" + path, 1)


def _tile_response(read: Callable[[str, int], bytes | None], full_path: str, number: int) -> Response:
    prefix = "/log/" if number == 1 else f"/log/{number}/"
    try:
        tile = parse_tile_path(full_path)
    except LogFormatError:
        raise NotFound(f"{prefix}{full_path} is not a tile path") from None
    data = read(full_path, number)
    if data is None:
        raise NotFound(f"{prefix}{full_path} is not published")
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": IMMUTABLE if tile.is_full else SHORT, **OPEN},
    )


@router.get(
    "/log/{number}/checkpoint",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 404: {"description": "No such log."}},
)
def get_later_checkpoint(services: ServicesDep, number: int) -> Response:
    """After a key rotation (docs/tlog.md) log 2, 3, … is served under /log/<n>/, with the same
    layout; /log/ keeps the first log, frozen at its final checkpoint."""
    service = services.log
    if number < 2 or service.generation(number) is None:
        raise NotFound(f"/log/{number}/ is not a log of this deployment")
    cp = service.checkpoint(number)
    return Response(cp.note, media_type=TEXT, headers={"Cache-Control": SHORT, **OPEN})


@router.get(
    "/log/{number}/key",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 404: {"description": "No such log."}},
)
def get_later_key(services: ServicesDep, number: int) -> Response:
    """The verifier key line of log <n>."""
    key = services.log.key_of(number) if number >= 2 else None
    if key is None:
        raise NotFound(f"/log/{number}/ is not a log of this deployment")
    return Response(key + "\n", media_type=TEXT, headers={"Cache-Control": "public, max-age=3600", **OPEN})


@router.get(
    "/log/{number}/tile/{path:path}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "Tile or bundle."},
        404: {"description": "Not published."},
    },
)
def get_later_tile(services: ServicesDep, number: int, path: str) -> Response:
    """Tiles and bundles of log <n>, as under /log/tile/."""
    service = services.log
    if number < 2 or service.generation(number) is None:
        raise NotFound(f"/log/{number}/ is not a log of this deployment")
    return _tile_response(service.tile, "tile/" + path, number)


@router.get(
    "/v1/receipts/{secret}",
    responses={
        202: {"description": "Accepted, not yet integrated into the log."},
        404: {"description": "No entry carries this secret's commitment."},
    },
)
def get_receipt(services: ServicesDep, secret: str) -> Any:
    """A consumer's proof: the entry (text, parsed, base64 bytes), its index, the inclusion
    proof (base64 hashes) and the signed checkpoint it leads to. The secret never leaves this
    request: entries are found by its SHA-256 commitment."""
    if not secret or len(secret) > 200:
        raise NotFound("no entry carries this receipt secret")
    commitment = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    receipt = services.log.receipt(commitment)
    if receipt is None:
        raise NotFound("no entry carries this receipt secret")
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if receipt["status"] == "pending":
        return JSONResponse(receipt, status_code=202, headers=headers)
    return JSONResponse(receipt, headers=headers)
