"""Refuse oversized request bodies with 413 before the app reads them.

Starlette parses a multipart upload completely (spooling it to disk) before a route sees it, so a
size check inside the route comes after the whole body has been received and written. This pure
ASGI middleware sits in front instead:

* a ``Content-Length`` over the cap is answered at once, without reading any of the body;
* a body without one (chunked) is counted as the app reads it, and reading past the cap fails;
  whatever the app then tries to answer is replaced by the same 413.

The cap is per request: ``max_upload_bytes`` plus :data:`MULTIPART_ALLOWANCE` for the multipart
framing around the file, so a batch upload's files together get the same limit as one file.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brightline.settings import Settings

MULTIPART_ALLOWANCE = 64 * 1024
"""Room for multipart boundaries and part headers (a few hundred bytes per file) and form fields."""


def body_limit_for(settings: Settings) -> int:
    """The largest request body the service accepts."""
    return settings.service.max_upload_bytes + MULTIPART_ALLOWANCE


class BodyTooLarge(Exception):
    """Raised to the app when it reads past the cap (it never gets the rest of the body)."""


class BodyLimit:
    """Pure ASGI middleware (no ``BaseHTTPMiddleware``: that would buffer and copy the body)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
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
                if received > self.max_bytes:
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
                    await self._refuse(send)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            exceeded = True
        if exceeded and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": "too_large",
                "detail": f"the request body is larger than the limit of {self.max_bytes} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
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
