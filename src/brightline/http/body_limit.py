"""Refuse oversized request bodies with 413 before the app reads them.

Starlette parses a multipart upload completely (spooling it to disk) before a route sees it, so a
size check inside the route comes after the whole body has been received and written. This pure
ASGI middleware sits in front instead:

* a ``Content-Length`` over the cap is answered at once, without reading any of the body;
* a body without one (chunked) is counted as the app reads it, and reading past the cap fails;
  whatever the app then tries to answer is replaced by the same 413.

The cap is per request: ``max_upload_bytes`` plus :data:`MULTIPART_ALLOWANCE` for the multipart
framing around the file, so a batch upload's files together get the same limit as one file.

A path prefix may have a cap and an answer of its own (:class:`PrefixLimit`): the clearinghouse
intake under ``/ispws`` answers in its protocol's ``reportResponse``, never in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.settings import Settings

MULTIPART_ALLOWANCE = 64 * 1024
"""Room for multipart boundaries and part headers (a few hundred bytes per file) and form fields."""


def body_limit_for(settings: Settings) -> int:
    """The largest request body the service accepts."""
    return settings.service.max_upload_bytes + MULTIPART_ALLOWANCE


class BodyTooLarge(Exception):
    """Raised to the app when it reads past the cap (it never gets the rest of the body)."""


Refusal = Callable[[int], tuple[int, bytes, bytes]]
"""The cap → (HTTP status, body, content type) of the answer to an oversized request."""


@dataclass(frozen=True, slots=True)
class PrefixLimit:
    """Requests whose path starts with ``prefix`` get ``max_bytes`` and ``refusal``'s answer."""

    prefix: str
    max_bytes: int
    refusal: Refusal


def json_refusal(max_bytes: int) -> tuple[int, bytes, bytes]:
    body = json.dumps(
        {
            "error": "too_large",
            "detail": f"the request body is larger than the limit of {max_bytes} bytes",
        }
    ).encode()
    return 413, body, b"application/json"


class BodyLimit:
    """Pure ASGI middleware (no ``BaseHTTPMiddleware``: that would buffer and copy the body)."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefixes: Sequence[PrefixLimit] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefixes = tuple(prefixes)

    def _limit_for(self, path: str) -> tuple[int, Refusal]:
        for limit in self.prefixes:
            if path == limit.prefix or path.startswith(limit.prefix.rstrip("/") + "/"):
                return limit.max_bytes, limit.refusal
        return self.max_bytes, json_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, refusal = self._limit_for(str(scope.get("path", "")))

        async def refuse() -> None:
            await _refuse(send, *refusal(max_bytes))

        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await refuse()
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app answered its failed read (FastAPI turns it into a 400 "error parsing
                # the body"): the client gets the 413 instead, and nothing else.
                if not started:
                    started = True
                    await refuse()
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            exceeded = True
        if exceeded and not started:
            await refuse()


async def _refuse(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is never read, so the connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            # Malformed values are the server's to reject; counting still applies to them.
            return int(text) if text.isdigit() else None
    return None
