"""Refuse a NUL character in a request's path or query before any route sees it.

PostgreSQL cannot hold NUL in text, so a NUL reaching a query fails in the driver; SQLite would
quietly search for it. Neither is a meaningful request, and no identifier, name or hash in this
API may contain one: refusing it here answers the same precise 400 on both databases.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            body = json.dumps(
                {"error": "invalid_input", "detail": "the path or query contains a NUL character"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
