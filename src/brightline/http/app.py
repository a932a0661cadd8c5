"""The app factory: one FastAPI app per worker process, over one database.

Each worker loads the persisted indexes at start-up, then a background task syncs them from the
database every ``index_sync_seconds``: new and disabled entries take effect within seconds in
every worker, read incrementally (see :mod:`brightline.matching.index_sync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from brightline import __version__
from brightline.clearinghouse_client.worker import submit_forever
from brightline.errors import StorageError
from brightline.events.worker import deliver_forever
from brightline.evidence import EvidenceStore
from brightline.http import metrics
from brightline.http.body_limit import BodyLimit, body_limit_for
from brightline.http.problems import install_error_handlers
from brightline.http.request_guards import NulGuard
from brightline.http.routes import banks, health, hma, match_events, matching
from brightline.http.routes.text import router_for as text_router_for
from brightline.http.state import ServiceState
from brightline.matching.indexes import MatchIndexes
from brightline.settings import Settings, load_settings
from brightline.signals import HashingLimits, default_registry
from brightline.storage import create_engine_for, session_factory, upgrade_database
from brightline.storage.migrate import schema_is_current
from brightline.web import console_router, portal_router

log = logging.getLogger(__name__)


def _prepare_database(engine: Engine) -> None:
    """Create a brand-new database (zero setup); refuse one whose schema is behind."""
    try:
        if not inspect(engine).get_table_names():
            upgrade_database(engine)
        elif not schema_is_current(engine):
            raise StorageError("the database schema is out of date: run `brightline db upgrade`")
    except OperationalError as exc:
        raise StorageError(f"cannot open the database: {exc.orig}") from None


async def _keep_indexes_synced(state: ServiceState) -> None:
    """Sync every interval until cancelled. A sync already running in its thread is awaited
    (shielded) on cancellation, so no thread still holds a connection when the engine goes."""
    interval = state.settings.service.index_sync_seconds
    while True:
        await asyncio.sleep(interval)
        work = asyncio.ensure_future(asyncio.to_thread(_sync_once, state))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await work
            raise
        except Exception as exc:
            # Serve from the last good index; readiness reports the problem. Any error, not only
            # the database's: one that escaped would end the loop for good (the index would go
            # stale while the worker still reported ready) and resurface at shutdown, skipping
            # the index save and the engine's disposal.
            state.ready = False
            log.warning("index sync failed: %s", type(exc).__name__)


def _sync_once(state: ServiceState) -> None:
    with state.transaction() as session:
        state.indexes.sync(session=session)
    state.ready = True
    metrics.record_index_sizes(state.indexes.sizes())


def create_app(settings: Settings) -> FastAPI:
    """A ready-to-serve app; the database and indexes are opened by its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine_for(settings.database_url)
        _prepare_database(engine)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            indexes = await asyncio.to_thread(
                MatchIndexes.open, session=session, index_dir=settings.index_dir
            )
        await asyncio.to_thread(MatchIndexes.warm_up)
        state = ServiceState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            registry=default_registry(),
            indexes=indexes,
            limits=HashingLimits.from_settings(settings),
            evidence=EvidenceStore.from_settings(settings),
        )
        state.auth.ttl = settings.service.auth_cache_seconds
        state.ready = True
        metrics.record_index_sizes(indexes.sizes())
        app.state.brightline = state
        syncing = asyncio.create_task(_keep_indexes_synced(state))
        # Webhooks: every worker sends due deliveries from the outbox (leases prevent doubles).
        delivering = asyncio.create_task(
            deliver_forever(sessions, settings, on_report=metrics.record_webhook_report)
        )
        background = [syncing, delivering]
        # CyberTipline submissions: only once credentials are configured (leases prevent doubles).
        if settings.cybertipline.username and settings.cybertipline.password:
            background.append(
                asyncio.create_task(submit_forever(sessions, settings.cybertipline, state.evidence))
            )
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            indexes.save()
            engine.dispose()

    app = FastAPI(
        title="Brightline",
        version=__version__,
        summary="Match uploads against banks of known-abuse hashes; curate the banks.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=body_limit_for(settings))
    app.add_middleware(NulGuard)
    metrics.install(app)
    for module in (health, matching, banks, match_events, hma):
        app.include_router(module.router)
    app.include_router(text_router_for(settings))
    app.include_router(console_router())
    app.include_router(portal_router())
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: settings from the environment."""
    return create_app(load_settings())
