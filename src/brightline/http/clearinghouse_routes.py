"""The clearinghouse intake over HTTP: the CyberTipline Reporting API's paths and answers.

Wire-compatible with the API Brightline's own submission client speaks
(:mod:`brightline.clearinghouse_client.client`): HTTP Basic auth per provider, ``GET /status``
and ``/xsd``, ``POST /submit`` (a ``<report>``), ``/upload`` (multipart ``id``, ``file``),
``/fileinfo`` (a ``<fileDetails>``), ``/finish`` and ``/retract`` (form ``id``), every answer
a ``reportResponse`` document with the documented ``responseCode``. The lifecycle itself is
:mod:`brightline.clearinghouse.intake`; this module maps requests to it and its errors to
codes, once. Credentials are checked before a request body is parsed, so an unauthenticated
caller never gets an upload spooled.

Answers use HTTP 200 with the code in the body, as the API does, except: 401 for missing or
wrong credentials (code 2000) and 500 for a server error (code 1000), so a sender retries what
may succeed later and stops on what will not.

Settings are :class:`brightline.settings.ClearinghouseSettings` (schema, expiry, upload cap,
login cache). A verified login is remembered for ``auth_cache_seconds``
(:class:`~brightline.http.auth_cache.VerifiedLogins`): argon2 is deliberately slow, and without
the cache each of a report's four requests paid for it. An oversized request under
:data:`INTAKE_PREFIX` is answered with a ``reportResponse`` (code 4000, HTTP 413).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware

from brightline import __version__
from brightline.clearinghouse.intake import (
    DEFAULT_EXPIRY,
    MAX_DOCUMENT_BYTES,
    InvalidRequest,
    ProviderRefused,
    ReceivedFile,
    ResponseCode,
    attach_stored_file,
    authenticate_provider,
    check_report_open,
    expire_unfinished,
    finish_report,
    open_report,
    record_file_details,
    response_code_for,
    retract_report,
    store_received_bytes,
)
from brightline.clearinghouse.models import IntakeFile, IntakeProvider
from brightline.clearinghouse.scheduled_analysis import (
    AnalysisPlan,
    analyse_forever,
    plan_from_settings,
)
from brightline.errors import BrightlineError, InvalidInput
from brightline.evidence import EvidenceStore
from brightline.http.auth_cache import VerifiedLogins
from brightline.http.body_limit import MULTIPART_ALLOWANCE, BodyLimit, PrefixLimit, body_limit_for
from brightline.settings import Settings, load_clearinghouse_settings, load_settings
from brightline.storage import create_engine_for, session_factory

log = logging.getLogger(__name__)

INTAKE_PREFIX = "/ispws"
"""Where the API is served, as on the CyberTipline's own hosts (``.../ispws/submit``)."""
SCHEMA_ENV = "BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH"
EXPIRY_ENV = "BRIGHTLINE_CLEARINGHOUSE_EXPIRE_HOURS"
EXPIRY_INTERVAL_SECONDS = 300.0
"""How often the standalone service expires abandoned reports."""
_READ_CHUNK = 64 * 1024
_T = TypeVar("_T")


@dataclass
class IntakeState:
    """What every intake request shares: the database, the vault, the schema and the limits."""

    sessions: sessionmaker[Session]
    store: EvidenceStore
    schema_path: Path
    max_upload_bytes: int
    expire_after: timedelta = DEFAULT_EXPIRY
    logins: VerifiedLogins = field(default_factory=lambda: VerifiedLogins(ttl=0))
    """Verified logins (off unless given: the service turns it on from its settings)."""
    write_lock: threading.Lock | None = None
    """On SQLite, write transactions take turns on this lock: SQLite has one writer, and
    threads left to contend inside it back off in sleeps of up to 100 ms (its busy handler),
    far longer than the writes they wait for. None: the database arbitrates."""


def writer_lock_for(sessions: sessionmaker[Session]) -> threading.Lock | None:
    """A lock for :attr:`IntakeState.write_lock` when ``sessions`` is bound to SQLite."""
    bind = sessions.kw.get("bind")
    dialect = getattr(getattr(bind, "dialect", None), "name", None)
    return threading.Lock() if dialect == "sqlite" else None


def _intake_settings(settings: Settings, environ: Mapping[str, str] | None) -> Settings:
    """``settings``, with its intake part read afresh from ``environ`` when one is given."""
    if environ is None:
        return settings
    return replace(settings, clearinghouse=load_clearinghouse_settings(environ))


def intake_schema_path(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """The XSD submitted documents are validated against; the intake refuses to start without
    one, since accepting unvalidated reports would hand analysts whatever arrives."""
    settings = _intake_settings(settings, environ)
    path = settings.clearinghouse.schema_path or settings.reporter.schema_path
    if path is None:
        raise InvalidInput(
            f"the clearinghouse intake needs the CyberTipline schema: set {SCHEMA_ENV}"
        )
    if not path.is_file():
        raise InvalidInput(f"{SCHEMA_ENV} does not name a readable file")
    return path


def intake_expiry(settings: Settings) -> timedelta:
    return timedelta(hours=settings.clearinghouse.expire_hours)


def intake_state(
    settings: Settings, *, sessions: sessionmaker[Session], store: EvidenceStore, schema_path: Path
) -> IntakeState:
    """The intake's shared state from its settings."""
    return IntakeState(
        sessions=sessions,
        store=store,
        schema_path=schema_path,
        max_upload_bytes=settings.clearinghouse.max_upload_bytes,
        expire_after=intake_expiry(settings),
        logins=VerifiedLogins(ttl=settings.clearinghouse.auth_cache_seconds),
        write_lock=writer_lock_for(sessions),
    )


def _too_large(max_bytes: int) -> tuple[int, bytes, bytes]:
    """The answer to an oversized request under :data:`INTAKE_PREFIX`: the protocol's own
    ``reportResponse`` (4000), so a provider's client reads it like any other refusal."""
    response = report_response(
        ResponseCode.INVALID_REQUEST, f"the request is larger than {max_bytes} bytes"
    )
    return 413, bytes(response.body), b"text/xml"


def intake_body_limit(max_upload_bytes: int) -> PrefixLimit:
    return PrefixLimit(INTAKE_PREFIX, max_upload_bytes + MULTIPART_ALLOWANCE, _too_large)


# -- answers -------------------------------------------------------------------------------


def report_response(
    code: ResponseCode,
    description: str = "",
    *,
    status: int = 200,
    report_id: int | None = None,
    file_id: str | None = None,
    md5: str | None = None,
) -> Response:
    """A ``reportResponse`` document, the API's only kind of answer."""
    root = etree.Element("reportResponse")
    etree.SubElement(root, "responseCode").text = str(int(code))
    etree.SubElement(root, "responseDescription").text = description or (
        "Success" if code == ResponseCode.OK else code.name.replace("_", " ").capitalize()
    )
    if report_id is not None:
        etree.SubElement(root, "reportId").text = str(report_id)
    if file_id is not None:
        etree.SubElement(root, "fileId").text = file_id
    if md5 is not None:
        etree.SubElement(root, "hash").text = md5
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    headers = {}
    if code == ResponseCode.AUTHENTICATION_REQUIRED:
        headers["WWW-Authenticate"] = 'Basic realm="clearinghouse", charset="UTF-8"'
    return Response(body, status_code=status, media_type="text/xml", headers=headers)


def _error_response(error: BaseException, step: str) -> Response:
    """The one mapping from errors to answers: intake errors carry their code; anything else
    is a server error, logged by type only (never the request)."""
    code = response_code_for(error)
    if code == ResponseCode.SERVER_ERROR:
        log.error("clearinghouse %s failed: %s", step, type(error).__name__)
        return report_response(code, "Server error", status=500)
    if code == ResponseCode.AUTHENTICATION_REQUIRED:
        return report_response(code, str(error), status=401)
    message = str(error).splitlines()[0] if str(error) else ""
    return report_response(code, message)


# -- requests ------------------------------------------------------------------------------


def _state(request: Request) -> IntakeState:
    state = getattr(request.app.state, "brightline_intake", None)
    if not isinstance(state, IntakeState):
        raise RuntimeError("the clearinghouse intake is not started")
    return state


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, separator, password = decoded.partition(":")
    return (name, password) if separator else None


def _authenticate(state: IntakeState, credentials: tuple[str, str] | None) -> int:
    """The provider's id (in a transaction of its own, before any body is read), from the
    verified-login cache when this login passed argon2 within its time to live."""
    if credentials is None:
        raise _MissingCredentials()
    name, password = credentials
    cached = state.logins.cached(name, password)
    if cached is not None:
        return cached
    with state.sessions.begin() as session:
        provider_id = authenticate_provider(session=session, name=name, password=password).id
    state.logins.remember(name, password, provider_id)
    return provider_id


async def _authenticated(request: Request, state: IntakeState) -> int:
    """:func:`_authenticate` on a thread only when argon2 has to run (a cache hit costs no
    thread hop)."""
    credentials = _basic_credentials(request)
    if credentials is not None:
        cached = state.logins.cached(*credentials)
        if cached is not None:
            return cached
    return await run_in_threadpool(_authenticate, state, credentials)


def _active(state: IntakeState, provider_id: int) -> None:
    """Refuse a provider disabled since its login was cached (``/status`` and ``/xsd``)."""
    _reading_as_provider(state, provider_id, _nothing)


def _nothing(_session: Session, _provider: IntakeProvider) -> None:
    return None


class _MissingCredentials(BrightlineError):
    response_code = ResponseCode.AUTHENTICATION_REQUIRED

    def __init__(self) -> None:
        super().__init__("authentication required")


def _as_provider(
    state: IntakeState, provider_id: int, action: Callable[[Session, IntakeProvider], _T]
) -> _T:
    """Run ``action`` in one transaction: all of it is kept, or (on any error) none of it."""
    with state.write_lock or contextlib.nullcontext(), state.sessions.begin() as session:
        return action(session, _provider(session, provider_id))


def _reading_as_provider(
    state: IntakeState, provider_id: int, action: Callable[[Session, IntakeProvider], _T]
) -> _T:
    """Like :func:`_as_provider` for an action that only reads (no turn on the write lock)."""
    with state.sessions.begin() as session:
        return action(session, _provider(session, provider_id))


_PROVIDER_BY_ID = select(IntakeProvider).where(IntakeProvider.id == bindparam("provider_id"))
"""Built once (every intake request runs it): cheaper than ``Session.get`` building its own."""


def _provider(session: Session, provider_id: int) -> IntakeProvider:
    provider = session.scalar(_PROVIDER_BY_ID, {"provider_id": provider_id})
    if provider is None or provider.disabled_at is not None:
        raise ProviderRefused()
    return provider


async def _body(request: Request) -> bytes:
    """The request body, refused once it passes :data:`MAX_DOCUMENT_BYTES`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise InvalidRequest(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    return bytes(body)


def _form_id(form: Any) -> str:
    value = form.get("id")
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("the request has no report id")
    return value


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(_READ_CHUNK):
        yield chunk


def intake_router() -> APIRouter:
    """The API's paths, relative to :data:`INTAKE_PREFIX` (included with it as the prefix)."""
    router = APIRouter(tags=["clearinghouse intake"], include_in_schema=True)

    @router.get("/status", summary="Are the service and these credentials usable?")
    async def status(request: Request) -> Response:
        state = _state(request)
        try:
            provider_id = await _authenticated(request, state)
            await run_in_threadpool(_active, state, provider_id)
        except Exception as exc:
            return _error_response(exc, "status")
        return report_response(ResponseCode.OK)

    @router.get("/xsd", summary="The schema submitted documents are validated against")
    async def xsd(request: Request) -> Response:
        state = _state(request)
        try:
            provider_id = await _authenticated(request, state)
            await run_in_threadpool(_active, state, provider_id)
            schema = await run_in_threadpool(state.schema_path.read_bytes)
        except Exception as exc:
            return _error_response(exc, "xsd")
        return Response(schema, media_type="text/xml")

    @router.post("/submit", summary="Open a report from a <report> document")
    async def submit(request: Request) -> Response:
        state = _state(request)
        try:
            provider_id = await _authenticated(request, state)
            document = await _body(request)
            report_id = await run_in_threadpool(
                _as_provider,
                state,
                provider_id,
                lambda session, provider: (
                    open_report(
                        session=session,
                        provider=provider,
                        document=document,
                        schema_path=state.schema_path,
                    ).id
                ),
            )
        except Exception as exc:
            return _error_response(exc, "submit")
        return report_response(ResponseCode.OK, report_id=report_id)

    @router.post("/upload", summary="Attach one file (multipart id, file) to an open report")
    async def upload(request: Request) -> Response:
        state = _state(request)
        try:
            provider_id = await _authenticated(request, state)
            async with request.form(max_files=1, max_fields=8) as form:
                report_id = _form_id(form)
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise InvalidRequest("the request has no file")
                received = await run_in_threadpool(
                    _receive_upload, state, provider_id, report_id, upload.file
                )
        except Exception as exc:
            return _error_response(exc, "upload")
        return report_response(
            ResponseCode.OK,
            report_id=received.report_id,
            file_id=received.file_id,
            md5=received.md5,
        )

    @router.post("/fileinfo", summary="Describe an uploaded file with <fileDetails>")
    async def fileinfo(request: Request) -> Response:
        state = _state(request)
        try:
            provider_id = await _authenticated(request, state)
            document = await _body(request)
            ids = await run_in_threadpool(
                _as_provider,
                state,
                provider_id,
                lambda session, provider: _ids(
                    record_file_details(
                        session=session,
                        provider=provider,
                        document=document,
                        schema_path=state.schema_path,
                    )
                ),
            )
        except Exception as exc:
            return _error_response(exc, "fileinfo")
        return report_response(ResponseCode.OK, report_id=ids[0], file_id=ids[1])

    @router.post("/finish", summary="The report is complete (form id)")
    async def finish(request: Request) -> Response:
        return await _close(request, "finish")

    @router.post("/retract", summary="Cancel an unfinished report (form id)")
    async def retract(request: Request) -> Response:
        return await _close(request, "retract")

    return router


def _receive_upload(
    state: IntakeState, provider_id: int, report_id: str, handle: BinaryIO
) -> ReceivedFile:
    """``/upload``'s work, on one worker thread (one hop, not three): the report checked
    (read only), the bytes sealed into the vault outside any transaction (its fsyncs hold no
    lock), then the file recorded in a short write that checks the report again."""
    _reading_as_provider(
        state,
        provider_id,
        lambda session, provider: check_report_open(
            session=session, provider=provider, report_id=report_id
        ),
    )
    stored = store_received_bytes(
        _read_chunks(handle), store=state.store, max_bytes=state.max_upload_bytes
    )
    return _as_provider(
        state,
        provider_id,
        lambda session, provider: attach_stored_file(
            session=session, provider=provider, report_id=report_id, stored=stored
        ),
    )


def _ids(received: IntakeFile) -> tuple[int, str]:
    """Read inside the transaction, while the row is attached."""
    return received.report_id, received.file_id


async def _close(request: Request, step: str) -> Response:
    """``/finish`` and ``/retract``: the same request, a different ending."""
    state = _state(request)
    close = finish_report if step == "finish" else retract_report
    try:
        provider_id = await _authenticated(request, state)
        async with request.form(max_files=0, max_fields=8) as form:
            raw_id = _form_id(form)
        report_id = await run_in_threadpool(
            _as_provider,
            state,
            provider_id,
            lambda session, provider: (
                close(session=session, provider=provider, report_id=raw_id).id
            ),
        )
    except Exception as exc:
        return _error_response(exc, step)
    return report_response(ResponseCode.OK, report_id=report_id)


# -- apps ----------------------------------------------------------------------------------


def create_intake_app(state: IntakeState) -> FastAPI:
    """The intake alone over an open database and vault (tests, embedding)."""
    app = FastAPI(
        title="Brightline clearinghouse intake",
        version=__version__,
        summary="Receive CyberTipline reports from providers.",
    )
    app.state.brightline_intake = state
    app.include_router(intake_router(), prefix=INTAKE_PREFIX)
    limit = intake_body_limit(state.max_upload_bytes)
    app.add_middleware(BodyLimit, max_bytes=limit.max_bytes, prefixes=[limit])
    return app


async def _expire_forever(state: IntakeState, interval: float = EXPIRY_INTERVAL_SECONDS) -> None:
    """Expire abandoned reports every ``interval`` until cancelled (each worker does it; the
    update is idempotent)."""

    def once() -> None:
        with state.sessions.begin() as session:
            expire_unfinished(session=session, older_than=state.expire_after)

    while True:
        try:
            await asyncio.to_thread(once)
        except Exception as exc:
            log.warning("expiring clearinghouse reports failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class _Schedule:
    plan: AnalysisPlan
    every_seconds: float


def analysis_schedule(settings: Settings) -> _Schedule | None:
    """The scheduled analysis, its files read and checked now (the service refuses to start
    on a bad one); None unless ``BRIGHTLINE_CLEARINGHOUSE_ANALYSE_EVERY_SECONDS`` is set."""
    every = settings.clearinghouse.analyse_every_seconds
    if every is None:
        return None
    return _Schedule(plan_from_settings(settings.clearinghouse), float(every))


@asynccontextmanager
async def _housekeeping(state: IntakeState, schedule: _Schedule | None) -> AsyncIterator[None]:
    """Expire abandoned reports and, when scheduled, analyse finished ones, until shutdown."""
    tasks = [asyncio.create_task(_expire_forever(state))]
    if schedule is not None:
        tasks.append(
            asyncio.create_task(
                analyse_forever(state.sessions, schedule.plan, schedule.every_seconds)
            )
        )
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_intake_app_from_settings(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> FastAPI:
    """``brightline serve --role clearinghouse``: the intake on its own database and vault.

    ``environ``, when given, is read for the intake's settings instead of ``settings``.
    """
    settings = _intake_settings(settings, environ)
    schema_path = intake_schema_path(settings)
    schedule = analysis_schedule(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from brightline.http.app import _prepare_database

        engine = create_engine_for(settings.database_url)
        _prepare_database(engine)
        state = intake_state(
            settings,
            sessions=session_factory(engine),
            store=EvidenceStore.from_settings(settings),
            schema_path=schema_path,
        )
        app.state.brightline_intake = state
        try:
            async with _housekeeping(state, schedule):
                yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Brightline clearinghouse intake",
        version=__version__,
        summary="Receive CyberTipline reports from providers.",
        lifespan=lifespan,
    )
    app.include_router(intake_router(), prefix=INTAKE_PREFIX)
    limit = intake_body_limit(settings.clearinghouse.max_upload_bytes)
    app.add_middleware(BodyLimit, max_bytes=body_limit_for(settings), prefixes=[limit])
    return app


def create_combined_app(settings: Settings, environ: Mapping[str, str] | None = None) -> FastAPI:
    """``--role both``: the platform service with the intake under :data:`INTAKE_PREFIX`,
    sharing its database and vault (the platform's lifespan opens them)."""
    from brightline.http.app import create_app

    settings = _intake_settings(settings, environ)
    schema_path = intake_schema_path(settings)
    schedule = analysis_schedule(settings)
    app = create_app(settings)
    _limit_intake_bodies(app, settings, intake_body_limit(settings.clearinghouse.max_upload_bytes))
    platform_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with platform_lifespan(app) as maybe_state:
            platform = app.state.brightline
            state = intake_state(
                settings,
                sessions=platform.sessions,
                store=platform.evidence,
                schema_path=schema_path,
            )
            app.state.brightline_intake = state
            async with _housekeeping(state, schedule):
                yield maybe_state

    app.router.lifespan_context = lifespan
    app.include_router(intake_router(), prefix=INTAKE_PREFIX)
    return app


def _limit_intake_bodies(app: FastAPI, settings: Settings, limit: PrefixLimit) -> None:
    """Give the platform app's body limit the intake's cap and answer under its prefix (the
    middleware stack is built on the first request, so its arguments can still change)."""
    for index, entry in enumerate(app.user_middleware):
        if cast("object", entry.cls) is BodyLimit:
            app.user_middleware[index] = Middleware(
                BodyLimit, max_bytes=body_limit_for(settings), prefixes=[limit]
            )


def create_intake_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (``--role clearinghouse``)."""
    return create_intake_app_from_settings(load_settings())


def create_combined_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (``--role both``)."""
    return create_combined_app(load_settings())
