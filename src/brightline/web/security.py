"""Who is asking, may they, and did this form really come from our page?

- **Sessions**: a random token in an HttpOnly, SameSite=Strict cookie scoped to ``/console``;
  the database keeps only its digest, with an absolute and an idle expiry
  (:mod:`brightline.accounts.service`). ``Secure`` is set whenever the request came over HTTPS,
  or always/never by configuration.
- **CSRF**: every POST carries the session's CSRF token (a form field, or the ``X-CSRF-Token``
  header for the reveal button's fetch), compared in constant time; a cross-site
  ``Origin``/``Sec-Fetch-Site`` is refused outright. Sign-in itself is protected by a
  double-submit cookie, so a page elsewhere cannot sign a reviewer in as someone else.
- **Replays and double submissions**: forms carry a one-time key, remembered once accepted
  (decisions use it as the review core's idempotency key).
- **Roles**: each page names the roles allowed; everyone else gets 403, never the page.
- **Headers**: a CSP without inline scripts or styles, no framing, no referrer, ``no-store``.
"""

# No ``from __future__ import annotations`` here: FastAPI must see the dependency closures'
# annotations as objects (they refer to local variables, which a string cannot name).
import enum
import hmac
import logging
import os
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import SQLAlchemyError

from brightline.accounts import AccountRole, Wellness, resolve_session, wellness_for
from brightline.errors import BrightlineError, InvalidInput
from brightline.http.problems import status_for
from brightline.http.state import ServiceState, service_state
from brightline.storage.base import utcnow
from brightline.web.templating import render

log = logging.getLogger(__name__)

SESSION_COOKIE = "bl_session"
LOGIN_COOKIE = "bl_login"
PREFIX = "/console"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class CookieSecure(enum.StrEnum):
    AUTO = "auto"
    """Secure when the request came over HTTPS (run uvicorn with proxy headers behind TLS)."""
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    cookie_secure: CookieSecure = CookieSecure.AUTO

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "ConsoleConfig":
        """``BRIGHTLINE_CONSOLE_SECURE_COOKIES``: auto (default), always or never."""
        env = os.environ if environ is None else environ
        raw = env.get("BRIGHTLINE_CONSOLE_SECURE_COOKIES", "auto").strip().lower() or "auto"
        try:
            return cls(cookie_secure=CookieSecure(raw))
        except ValueError:
            raise InvalidInput(
                "BRIGHTLINE_CONSOLE_SECURE_COOKIES must be auto, always or never"
            ) from None


class LoginRequired(Exception):
    """No valid session: the adapter answers with a redirect to the sign-in page."""


class PageError(Exception):
    """A refusal to show as a page with this status (403 wrong role, 400 forged form...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person, as every page and form handler sees them."""

    account_id: int
    username: str
    role: AccountRole
    csrf_token: str
    wellness: Wellness
    today: date

    def may(self, roles: frozenset[AccountRole]) -> bool:
        return self.role in roles


REVIEWERS = frozenset({AccountRole.ADMIN, AccountRole.LEAD, AccountRole.REVIEWER})
ORIGINALS = frozenset({AccountRole.ADMIN, AccountRole.LEAD})
"""Who may open or download a full-resolution original (always with a stated reason)."""
TEAM = frozenset({AccountRole.ADMIN, AccountRole.LEAD})
BANK_HEALTH = frozenset({AccountRole.ADMIN, AccountRole.LEAD, AccountRole.AUDITOR})
AUDITORS = frozenset({AccountRole.ADMIN, AccountRole.AUDITOR})
ADMINS = frozenset({AccountRole.ADMIN})
EVERYONE = frozenset(AccountRole)


def cookie_secure(request: Request) -> bool:
    config: ConsoleConfig = request.state.console_config
    if config.cookie_secure is CookieSecure.AUTO:
        return request.url.scheme == "https"
    return config.cookie_secure is CookieSecure.ALWAYS


def set_cookie(request: Request, response: Response, name: str, value: str, path: str) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def current_viewer(
    request: Request, state: Annotated[ServiceState, Depends(service_state)]
) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise LoginRequired()
    with state.transaction() as session:
        # No raise in here: the transaction must commit resolve_session's removal of an
        # expired session row.
        signed_in = resolve_session(session=session, token=token)
        chosen = (
            wellness_for(session=session, preferences=signed_in.preferences)
            if signed_in is not None
            else None
        )
    if signed_in is None or chosen is None:
        raise LoginRequired()
    return Viewer(
        account_id=signed_in.account_id,
        username=signed_in.username,
        role=signed_in.role,
        csrf_token=signed_in.csrf_token,
        wellness=chosen,
        today=utcnow().date(),
    )


def require(roles: frozenset[AccountRole]) -> Callable[[Viewer], Viewer]:
    """A dependency: the viewer, if their role is one of ``roles``; else 403."""

    def dependency(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
        if not viewer.may(roles):
            log.info("account %s refused a page for its role", viewer.account_id)
            raise PageError(403, "your role does not give access to this page")
        return viewer

    return dependency


def check_origin(request: Request) -> None:
    """Refuse a POST that a browser says came from another site (before any token check)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        raise PageError(403, "refused: this form was sent from another site")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise PageError(403, "refused: this form was sent from another site")


def checked_form(roles: frozenset[AccountRole]) -> Callable[..., Viewer]:
    """A dependency for POSTs: the viewer, with the role, the origin and the CSRF token checked."""

    def dependency(
        request: Request,
        viewer: Annotated[Viewer, Depends(require(roles))],
        csrf_token: Annotated[str, Form()] = "",
        x_csrf_token: Annotated[str, Header()] = "",
    ) -> Viewer:
        check_origin(request)
        given = csrf_token or x_csrf_token
        if not given or not hmac.compare_digest(given.encode(), viewer.csrf_token.encode()):
            raise PageError(
                403,
                "refused: the form's security token is missing or out of date (a forged "
                "request, or a page from before you signed in again); reload the page",
            )
        return viewer

    return dependency


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def error_response(
    request: Request, status: int, message: str, template: str = "error.html"
) -> Response:
    if wants_json(request):
        return JSONResponse({"error": status, "detail": message}, status_code=status)
    return HTMLResponse(render(template, status=status, message=message), status_code=status)


def add_security_headers(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")


class ConsoleRoute(APIRoute):
    """Every console route: errors become pages (never a 500 for a refusal), headers added.

    The law-enforcement portal subclasses it with its own sign-in page and error template."""

    login_path = f"{PREFIX}/login"
    error_template = "error.html"

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                target = quote(request.url.path, safe="/")
                if wants_json(request):
                    response = JSONResponse(
                        {"error": 401, "detail": "your session ended; sign in again"},
                        status_code=401,
                    )
                else:
                    response = RedirectResponse(f"{self.login_path}?next={target}", status_code=303)
            except PageError as exc:
                response = error_response(request, exc.status, exc.message, self.error_template)
            except RequestValidationError as exc:
                # Field names only: the values may be what a person typed.
                fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
                log.info("console form invalid: %s", fields)
                response = error_response(
                    request, 400, "the form was incomplete or malformed", self.error_template
                )
            except BrightlineError as exc:
                status, _ = status_for(exc)
                message = str(exc).splitlines()[0] if str(exc) else "refused"
                if status >= 500:
                    log.error("console error: %s", type(exc).__name__)
                response = error_response(request, status, message, self.error_template)
            except SQLAlchemyError as exc:
                log.error("console database error: %s", type(exc).__name__)
                response = error_response(
                    request,
                    503,
                    "the database could not complete the request; nothing changed",
                    self.error_template,
                )
            add_security_headers(response)
            return response

        return wrapped
