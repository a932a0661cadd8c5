"""Liveness and readiness probes (public: orchestrators call them without keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from brightline import __version__
from brightline.http.state import service_state

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/ready", summary="Readiness: database reachable and indexes loaded")
def ready(request: Request) -> JSONResponse:
    state = service_state(request)
    body: dict[str, Any] = {"indexes": state.indexes.sizes()}
    try:
        with state.transaction() as session:
            session.execute(text("SELECT 1"))
        body["database"] = "ok"
    except Exception:
        body["database"] = "unreachable"
    ok = body["database"] == "ok" and state.ready
    body["status"] = "ready" if ok else "not_ready"
    return JSONResponse(body, status_code=200 if ok else 503)
