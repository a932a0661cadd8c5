"""The law-enforcement portal (``/portal``): officers sign in with a code sent by email, see
their agency's requests and deadlines, send new ones with their documents, and download what
was produced for them.

A thin adapter over :mod:`brightline.legal.portal`, with the console's protections
(:mod:`brightline.web.security`): its own session cookie (``bl_portal``, scoped to ``/portal``,
HttpOnly, SameSite=Strict), a CSRF token on every POST, a one-time key on the submission form, a
double-submit cookie on sign-in, cross-site POSTs refused, the same security headers. A console
session means nothing here and a portal session nothing in the console. The officer's agency
comes from their session, never from a form or a URL: another agency's request answers 404.
"""

# No ``from __future__ import annotations``: FastAPI must see the dependency annotations.
import hmac
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from brightline.errors import InvalidInput
from brightline.http.state import ServiceState, service_state
from brightline.legal import IdentifierKind, LegalContext, RequestType, list_requests
from brightline.legal.documents import AttachmentUpload
from brightline.legal.platform_hooks import HookSettings, legal_context, load_hook_settings
from brightline.legal.portal import (
    CodeRefused,
    PortalOfficer,
    PortalSettings,
    PortalSubmission,
    end_portal_session,
    load_portal_settings,
    portal_code_key,
    portal_request_view,
    request_access,
    request_sign_in_code,
    resolve_portal_session,
    sign_in_with_code,
    submit_portal_request,
    use_portal_form_key,
)
from brightline.legal.portal_mail import CodeMailer, SmtpCodeMailer
from brightline.legal.productions import list_productions, open_production_for_download
from brightline.legal.settings import LegalSettings, load_legal_settings
from brightline.web.security import (
    ConsoleConfig,
    ConsoleRoute,
    LoginRequired,
    PageError,
    check_origin,
    set_cookie,
)
from brightline.web.templating import render

log = logging.getLogger(__name__)

PORTAL = "/portal"
PORTAL_COOKIE = "bl_portal"
PORTAL_LOGIN_COOKIE = "bl_portal_login"


class PortalRoute(ConsoleRoute):
    """Console error handling and headers, with the portal's sign-in page and error page."""

    login_path = f"{PORTAL}/login"
    error_template = "portal_error.html"


router = APIRouter(prefix=PORTAL, route_class=PortalRoute, include_in_schema=False)


class PortalConfig:
    """What the portal reads from the environment once, when the app is built."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.console = ConsoleConfig.from_environ(environ)
        self.portal: PortalSettings = load_portal_settings(environ)
        self.legal: LegalSettings = load_legal_settings(environ)
        self.hooks: HookSettings = load_hook_settings(environ)


def portal_config(request: Request) -> PortalConfig:
    config: PortalConfig = request.state.portal_config
    return config


def code_mailer(config: Annotated[PortalConfig, Depends(portal_config)]) -> CodeMailer | None:
    """The mailer for sign-in codes (tests override this dependency with a recording one)."""
    smtp = config.portal.smtp
    return SmtpCodeMailer(smtp) if smtp is not None else None


StateDep = Annotated[ServiceState, Depends(service_state)]
ConfigDep = Annotated[PortalConfig, Depends(portal_config)]
MailerDep = Annotated[CodeMailer | None, Depends(code_mailer)]


def current_officer(request: Request, state: StateDep, config: ConfigDep) -> PortalOfficer:
    token = request.cookies.get(PORTAL_COOKIE, "")
    if not token:
        raise LoginRequired()
    with state.transaction() as session:
        # No raise in here: the removal of an expired or revoked session must commit.
        officer = resolve_portal_session(session=session, settings=config.portal, token=token)
    if officer is None:
        raise LoginRequired()
    return officer


OfficerDep = Annotated[PortalOfficer, Depends(current_officer)]


def checked_officer(
    request: Request,
    officer: OfficerDep,
    csrf_token: Annotated[str, Form()] = "",
    x_csrf_token: Annotated[str, Header()] = "",
) -> PortalOfficer:
    """For POSTs: the officer, with the origin and the session's CSRF token checked."""
    check_origin(request)
    given = csrf_token or x_csrf_token
    if not given or not hmac.compare_digest(given.encode(), officer.csrf_token.encode()):
        raise PageError(
            403,
            "refused: the form's security token is missing or out of date; reload the page",
        )
    return officer


OfficerFormDep = Annotated[PortalOfficer, Depends(checked_officer)]


def _context(state: ServiceState, config: PortalConfig) -> LegalContext:
    """The platform's configured hooks: an emergency request sent here pages on-call as one
    entered by staff does."""
    return legal_context(config.legal, state.custody_key, config.hooks)


def _page(config: PortalConfig, officer: PortalOfficer, name: str, **context: object) -> Response:
    zone = config.legal.calendar.zone

    def local(moment: datetime | None) -> str:
        """Times in the legal time zone, the one deadlines are counted in."""
        if moment is None:
            return "-"
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    def end_day(moment: datetime) -> str:
        """The local day a deadline at the end of a day closes (its midnight is the day before)."""
        return (moment.astimezone(zone) - timedelta(microseconds=1)).date().isoformat()

    return HTMLResponse(
        render(name, officer=officer, local=local, end_day=end_day, zone=zone.key, **context)
    )


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"{PORTAL}{path}", status_code=303)


# --- sign-in ----------------------------------------------------------------------------------


def _safe_next(target: str) -> str:
    """Only a path inside the portal: never an open redirect to another site."""
    if target.startswith(f"{PORTAL}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PORTAL}/requests"


def _login_form(
    request: Request,
    *,
    next: str,
    step: str = "email",
    email: str = "",
    code_minutes: int = 0,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A sign-in step with a fresh double-submit token, in the form and in its cookie."""
    token = secrets.token_urlsafe(24)
    response = HTMLResponse(
        render(
            "portal_login.html",
            login_token=token,
            next=_safe_next(next),
            step=step,
            email=email,
            code_minutes=code_minutes,
            message=message,
        ),
        status_code=status,
    )
    set_cookie(request, response, PORTAL_LOGIN_COOKIE, token, f"{PORTAL}/login")
    return response


def _check_login_token(request: Request, login_token: str) -> None:
    check_origin(request)
    cookie = request.cookies.get(PORTAL_LOGIN_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie.encode(), login_token.encode()):
        raise PageError(403, "refused: the sign-in form is out of date or forged; reload it")


@router.get("/")
def home() -> RedirectResponse:
    return _redirect("/requests")


@router.get("/login")
def login_page(request: Request, next: str = "") -> HTMLResponse:
    return _login_form(request, next=next)


@router.post("/login")
def ask_for_code(
    request: Request,
    state: StateDep,
    config: ConfigDep,
    mailer: MailerDep,
    email: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Send a code if the address may sign in; the answer is the same whether or not it may."""
    _check_login_token(request, login_token)
    if mailer is None:
        raise PageError(
            503,
            "sign-in codes cannot be sent: the platform has not configured a mail relay "
            "(BRIGHTLINE_PORTAL_SMTP_HOST)",
        )
    address = email.strip()
    if not address or len(address) > 320:
        raise InvalidInput("enter your work email address")
    with state.transaction() as session:
        request_sign_in_code(
            session=session,
            settings=config.portal,
            key=portal_code_key(state.custody_key),
            mailer=mailer,
            email=address,
        )
    return _login_form(
        request,
        next=next,
        step="code",
        email=address,
        code_minutes=config.portal.code_minutes,
    )


@router.post("/login/code")
def sign_in(
    request: Request,
    state: StateDep,
    config: ConfigDep,
    email: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    _check_login_token(request, login_token)
    refused: CodeRefused | None = None
    token = ""
    with state.transaction() as session:
        # The refusal is caught inside the transaction so that the attempt count commits.
        try:
            token = sign_in_with_code(
                session=session,
                settings=config.portal,
                key=portal_code_key(state.custody_key),
                email=email,
                code=code[:100],
            )
        except CodeRefused as exc:
            refused = exc
    if refused is not None:
        return _login_form(
            request,
            next=next,
            step="code",
            email=email.strip()[:320],
            code_minutes=config.portal.code_minutes,
            message=str(refused),
            status=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, response, PORTAL_COOKIE, token, PORTAL)
    response.delete_cookie(PORTAL_LOGIN_COOKIE, path=f"{PORTAL}/login")
    return response


def _access_form(request: Request, *, done: bool = False) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = HTMLResponse(render("portal_access.html", login_token=token, done=done))
    set_cookie(request, response, PORTAL_LOGIN_COOKIE, token, f"{PORTAL}/login")
    return response


@router.get("/login/access")
def access_page(request: Request) -> HTMLResponse:
    return _access_form(request)


@router.post("/login/access")
def ask_for_access(
    request: Request,
    state: StateDep,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    login_token: Annotated[str, Form()] = "",
) -> Response:
    """Ask to be registered; the answer is the same whether or not anything was registered."""
    _check_login_token(request, login_token)
    with state.transaction() as session:
        request_access(session=session, email=email[:400], name=name[:400])
    return _access_form(request, done=True)


@router.post("/logout")
def logout(request: Request, state: StateDep, _officer: OfficerFormDep) -> Response:
    with state.transaction() as session:
        end_portal_session(session=session, token=request.cookies.get(PORTAL_COOKIE, ""))
    response = _redirect("/login")
    response.delete_cookie(PORTAL_COOKIE, path=PORTAL)
    return response


# --- requests ---------------------------------------------------------------------------------


@router.get("/requests")
def requests_page(state: StateDep, config: ConfigDep, officer: OfficerDep) -> Response:
    """The agency's requests, open first (emergency first), with each one's next deadline."""
    with state.transaction() as session:
        listed = list_requests(session=session, agency_id=officer.agency_id)
        return _page(config, officer, "portal_requests.html", requests=listed)


@router.get("/requests/new")
def new_request_page(config: ConfigDep, officer: OfficerDep) -> Response:
    return _page(
        config,
        officer,
        "portal_new.html",
        form_key=secrets.token_urlsafe(24),
        types=list(RequestType),
        identifier_kinds=[k.value for k in IdentifierKind if k is not IdentifierKind.ACCOUNT],
        max_attachments=config.legal.max_attachments,
        max_mib=round(config.legal.max_attachment_bytes / (1024 * 1024), 1),
    )


def _read_uploads(files: list[UploadFile], config: PortalConfig) -> list[AttachmentUpload]:
    """The uploaded files, each read no further than one byte past the size cap; a file input
    left empty (no name, no bytes) is not an attachment."""
    chosen = [f for f in files if f.filename or (f.size or 0) > 0]
    limit = config.legal.max_attachments
    if len(chosen) > limit:
        raise InvalidInput(f"a request carries at most {limit} attachments")
    cap = config.legal.max_attachment_bytes
    uploads = []
    for position, upload in enumerate(chosen, start=1):
        data = upload.file.read(cap + 1)
        if len(data) > cap:
            raise InvalidInput(f"attachment {position} is over the size cap of {cap} bytes")
        uploads.append(AttachmentUpload(data, upload.filename or None))
    return uploads


@router.post("/requests")
def submit(
    state: StateDep,
    config: ConfigDep,
    officer: OfficerFormDep,
    type: Annotated[str, Form()] = "",
    external_reference: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
    accounts: Annotated[str, Form()] = "",
    identifiers: Annotated[str, Form()] = "",
    stated_due: Annotated[str, Form()] = "",
    jurisdiction: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form()] = "",
    attachments: Annotated[list[UploadFile], File()] = [],  # noqa: B006  (FastAPI copies it)
) -> Response:
    """Send a request for the officer's agency; every check of the legal service applies and
    a refused request leaves nothing stored."""
    submission = PortalSubmission(
        type=type,
        external_reference=external_reference,
        legal_basis=legal_basis,
        accounts=accounts,
        identifiers=identifiers,
        stated_due=stated_due,
        jurisdiction=jurisdiction,
        attachments=_read_uploads(attachments, config),
    )
    with state.transaction() as session:
        use_portal_form_key(session=session, officer_id=officer.officer_id, form_key=form_key)
        received = submit_portal_request(
            session=session,
            context=_context(state, config),
            store=state.evidence,
            officer=officer,
            submission=submission,
        )
        request_id = received.id
    return _redirect(f"/requests/{request_id}?received=1")


@router.get("/requests/{request_id}")
def request_page(
    request_id: int,
    state: StateDep,
    config: ConfigDep,
    officer: OfficerDep,
    received: int = 0,
) -> Response:
    """One request of the agency (another agency's answers 404, as an unknown id does)."""
    if not 0 < request_id < 2**63:
        raise PageError(404, f"no legal request with id {request_id}")
    with state.transaction() as session:
        view = portal_request_view(
            session=session, request_id=request_id, agency_id=officer.agency_id
        )
        productions = list_productions(
            session=session, request_id=request_id, agency_id=officer.agency_id
        )
        return _page(
            config,
            officer,
            "portal_request.html",
            view=view,
            received=bool(received),
            productions=productions,
        )


@router.post("/productions/{production_id}/download")
def download_production(
    production_id: int, state: StateDep, config: ConfigDep, officer: OfficerFormDep
) -> Response:
    """A delivered production of the officer's agency, as its zip; the download is written to
    the chain of custody (who, when, the package's digests) before a byte is sent. A POST with
    the CSRF token, so that a prefetch or a link elsewhere never records a download."""
    if not 0 < production_id < 2**63:
        raise PageError(404, f"no production with id {production_id}")
    with state.transaction() as session:
        filename, data = open_production_for_download(
            session=session,
            context=_context(state, config),
            store=state.evidence,
            production_id=production_id,
            agency_id=officer.agency_id,
            officer_id=officer.officer_id,
            actor=officer.actor,
        )
    response = Response(data, media_type="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def portal_router(environ: Mapping[str, str] | None = None) -> APIRouter:
    """The portal's routes with their configuration (read from ``environ`` once, here)."""
    config = PortalConfig(environ)

    def attach_config(request: Request) -> None:
        request.state.portal_config = config
        request.state.console_config = config.console  # for set_cookie's Secure flag

    wrapper = APIRouter(dependencies=[Depends(attach_config)])
    wrapper.include_router(router)
    return wrapper


__all__ = ["PORTAL", "PORTAL_COOKIE", "code_mailer", "portal_router"]
