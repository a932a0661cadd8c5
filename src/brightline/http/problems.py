"""The one mapping from core errors to HTTP answers, and the JSON body every error has.

Every error body is ``{"error": <stable code>, "detail": <one line for people>}``, plus
``reason`` for unhashable content. Nothing in the core knows about HTTP.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from brightline.errors import (
    BrightlineError,
    Conflict,
    FetchFailed,
    ImportFailed,
    InvalidInput,
    NotFound,
    StorageError,
    Unhashable,
    UnsupportedContent,
    UpstreamError,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[BrightlineError], int, str]] = [
    (ImportFailed, 400, "import_failed"),
    (InvalidInput, 400, "invalid_input"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (UnsupportedContent, 422, "unsupported_content"),
    (Unhashable, 422, "unhashable"),
    # A URL the client gave that cannot be fetched is the client's problem, not a bad gateway.
    (FetchFailed, 422, "fetch_failed"),
    (UpstreamError, 502, "upstream_error"),
    (StorageError, 503, "storage_unavailable"),
]


def problem(status: int, error: str, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status)


def status_for(exc: BrightlineError) -> tuple[int, str]:
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal_error"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BrightlineError)
    async def brightline_error(_request: Request, exc: BrightlineError) -> JSONResponse:
        status, code = status_for(exc)
        detail = str(exc).splitlines()[0] if str(exc) else code
        if isinstance(exc, Unhashable):
            return problem(status, code, detail, reason=exc.reason)
        return problem(status, code, detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "invalid request"))
        return problem(422, "invalid_request", f"{where}: {message}" if where else message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
        }
        response = problem(
            exc.status_code, code.get(exc.status_code, "http_error"), str(exc.detail)
        )
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(DataError)
    async def refused_value(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot hold (e.g. out of range): the request's fault, not a
        # reason for clients to retry, which a 503 would tell them to do.
        log.info("database refused a value: %s", type(exc.orig).__name__)
        return problem(400, "invalid_input", "a value in the request cannot be stored or searched")

    @app.exception_handler(SQLAlchemyError)
    async def storage_error(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.error("database error: %s", type(exc).__name__)
        return problem(503, "storage_unavailable", "the database could not complete the request")
