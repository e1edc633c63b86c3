"""The witness over HTTP: `POST /add-checkpoint` (C2SP tlog-witness submission prefix = the
root), and two public reads — `GET /` (who this witness is and what it has cosigned) and
`GET /evidence` (every validly signed checkpoint it refused as inconsistent, with the one it
had cosigned), so anyone can check a fork claim with `wefirst verify evidence`."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wefirst.tlog.note import b64encode
from wefirst.tlog.witness_protocol import MAX_BODY
from wefirst.witness.add_checkpoint import Answer, Witness

OPEN = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


async def _read_limited(request: Request) -> bytes | None:
    """The body, or None once it exceeds MAX_BODY (never buffered beyond that)."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_limited(request)
        if body is None:
            answer = Answer.problem(413, f"request body is larger than {MAX_BODY} bytes")
        else:
            answer = await run_in_threadpool(witness.add_checkpoint, body)
        # Set verbatim: Starlette would add "; charset=utf-8" to text/x.tlog.size, and the spec
        # names the exact Content-Type.
        return Response(answer.body, status_code=answer.status, headers={"Content-Type": answer.content_type})

    def status(_request: Request) -> Response:
        states = {s.origin: s for s in witness.state.logs()}
        logs: list[dict[str, Any]] = []
        for origin, verifier in sorted(witness.logs.items()):
            st = states.get(origin)
            logs.append(
                {
                    "origin": origin,
                    "key": verifier.key_string,
                    "size": st.size if st else 0,
                    "root": b64encode(st.root) if st else None,
                    "cosigned_at": st.cosigned_at if st else None,
                }
            )
        body = {"name": witness.signer.name, "key": witness.signer.verifier.key_string, "logs": logs}
        return JSONResponse(body, headers=OPEN)

    def evidence(request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", "0"))
            limit = min(max(int(request.query_params.get("limit", "100")), 1), 100)
        except ValueError:
            return Response("after and limit must be integers\n", status_code=400, media_type="text/plain")
        origin = request.query_params.get("origin") or None
        items = witness.state.evidence(origin=origin, after=after, limit=limit)
        return JSONResponse({"evidence": [e.as_json() for e in items]}, headers=OPEN)

    routes = [
        Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
        Route("/", status, methods=["GET"]),
        Route("/evidence", evidence, methods=["GET"]),
    ]
    return Starlette(routes=routes)
