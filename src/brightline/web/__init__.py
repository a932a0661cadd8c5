"""The review console: server-rendered pages over the review core, protecting reviewers.

Mounted into the HTTP service at ``/console`` (see docs/console.md). It calls the review and
accounts services directly, never the HTTP API, and signs people in with local accounts
(sessions), not API keys.

The routers are imported when built, not with this package: the console's modules use the
HTTP adapter's state and error mapping, and the HTTP app imports this package to mount them, so
either package can be imported first.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request


def console_router(environ: Mapping[str, str] | None = None) -> APIRouter:
    """The console's routes with their configuration (read from ``environ`` once, here)."""
    from brightline.web.clearinghouse import router as clearinghouse
    from brightline.web.legal import router as legal
    from brightline.web.legal_requests import router as legal_requests
    from brightline.web.pages import router as pages
    from brightline.web.reports import router as reports
    from brightline.web.security import ConsoleConfig
    from brightline.web.text_candidates import router as text_candidates

    config = ConsoleConfig.from_environ(environ)

    def attach_config(request: Request) -> None:
        request.state.console_config = config

    router = APIRouter(dependencies=[Depends(attach_config)])
    router.include_router(pages)
    router.include_router(reports)
    router.include_router(clearinghouse)
    router.include_router(legal)
    router.include_router(legal_requests)
    router.include_router(text_candidates)
    return router


def portal_router(environ: Mapping[str, str] | None = None) -> APIRouter:
    """The law-enforcement portal's routes (``/portal``, see docs/legal-portal.md)."""
    from brightline.web.portal import portal_router as build

    return build(environ)


__all__ = ["console_router", "portal_router"]
