"""The review console: server-rendered pages over the review core, protecting reviewers.

Mounted into the HTTP service at ``/console`` (see docs/console.md). It calls the review and
accounts services directly, never the HTTP API, and signs people in with local accounts
(sessions), not API keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request

from brightline.web.security import ConsoleConfig


def console_router(environ: Mapping[str, str] | None = None) -> APIRouter:
    """The console's routes with their configuration (read from ``environ`` once, here)."""
    from brightline.web.clearinghouse import router as clearinghouse
    from brightline.web.legal import router as legal
    from brightline.web.pages import router as pages
    from brightline.web.reports import router as reports

    config = ConsoleConfig.from_environ(environ)

    def attach_config(request: Request) -> None:
        request.state.console_config = config

    router = APIRouter(dependencies=[Depends(attach_config)])
    router.include_router(pages)
    router.include_router(reports)
    router.include_router(clearinghouse)
    router.include_router(legal)
    return router


__all__ = ["ConsoleConfig", "console_router"]
