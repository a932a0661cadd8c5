"""The legal-process hooks as the platform provides them: a signed webhook, a plugin, the outbox.

* :class:`WebhookSnapshotter` and :class:`WebhookExporter` POST a small JSON envelope to the
  platform, signed exactly like Brightline's event webhooks and the report enrichment hook
  (``Brightline-Timestamp`` + ``Brightline-Signature``, HMAC-SHA256, verified with
  :func:`brightline.events.verify_signature`), and read the answer strictly;
* :func:`load_hook_plugin` loads a ``module:callable`` plugin (the same shape as the enrichment
  plugin: called once with no arguments, it returns an object with ``snapshot``/``export`` or a
  plain callable), wrapped so that its answer is checked;
* :class:`OutboxPager` queues each page as a ``legal.page`` event in the durable webhook outbox,
  in the transaction of the escalation it announces: committed together, retried by the events
  worker until delivered, and never lost to a crash.

A hook that fails raises :class:`HookFailed`; the legal services catch it, record it and flag the
request for staff, and never undo a legal hold because of it. Requests carry ids and the
account the legal process names, never content; nothing of an answer is logged.

Settings (``BRIGHTLINE_LEGAL_SNAPSHOT_*``, ``BRIGHTLINE_LEGAL_EXPORT_*``,
``BRIGHTLINE_LEGAL_PAGER``, ``BRIGHTLINE_LEGAL_HOOK_TIMEOUT_SECONDS``) are read by
:func:`load_hook_settings`, and :func:`legal_context` builds the
:class:`~brightline.legal.hooks.LegalContext` the CLI and the console use.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from brightline.errors import BrightlineError, InvalidInput, UpstreamError
from brightline.events.models import EventType
from brightline.events.outbox import enqueue_event
from brightline.events.signed_post import SignedEndpoint
from brightline.legal.hooks import (
    AccountExporter,
    AccountSnapshotter,
    DurablePager,
    ExportedRecord,
    LegalContext,
    NoExport,
    NoSnapshot,
    Pager,
)
from brightline.legal.settings import LegalSettings

log = logging.getLogger(__name__)

SNAPSHOT_EVENT = "legal.snapshot"
EXPORT_EVENT = "legal.export"
MAX_SNAPSHOT_ANSWER = 64 * 1024
_TICKET = re.compile(r"[A-Za-z0-9_.:+\-]{1,100}")


class HookFailed(UpstreamError):
    """A legal hook (webhook or plugin) did not give a usable answer."""


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HookSettings:
    """Where the snapshot and export hooks are, and how pages leave (docs/legal.md, "Hooks")."""

    snapshot_url: str | None = None
    snapshot_secret: str | None = field(default=None, repr=False)
    snapshot_plugin: str | None = None
    export_url: str | None = None
    export_secret: str | None = field(default=None, repr=False)
    export_plugin: str | None = None
    pager: str = "none"
    """``none``, ``outbox`` (a ``legal.page`` webhook event) or a ``module:callable`` plugin."""
    timeout_seconds: float = 30.0
    max_export_bytes: int = 64 * 1024 * 1024


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _hook(env: Mapping[str, str], what: str) -> tuple[str | None, str | None, str | None]:
    prefix = f"BRIGHTLINE_LEGAL_{what}"
    url, plugin = _text(env, f"{prefix}_URL"), _text(env, f"{prefix}_PLUGIN")
    secret = env.get(f"{prefix}_SECRET") or None
    if url is not None and plugin is not None:
        raise InvalidInput(f"set at most one of {prefix}_URL and {prefix}_PLUGIN")
    if url is not None and not url.startswith(("https://", "http://")):
        raise InvalidInput(f"{prefix}_URL must be an http(s) URL")
    if url is not None and secret is None:
        raise InvalidInput(f"{prefix}_URL needs {prefix}_SECRET to sign with")
    if plugin is not None and ":" not in plugin:
        raise InvalidInput(f"{prefix}_PLUGIN is 'module:callable'")
    return url, secret, plugin


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low:g} and {high:g}")
    return value


def load_hook_settings(environ: Mapping[str, str] | None = None) -> HookSettings:
    """Read the hook settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    snapshot_url, snapshot_secret, snapshot_plugin = _hook(env, "SNAPSHOT")
    export_url, export_secret, export_plugin = _hook(env, "EXPORT")
    pager = _text(env, "BRIGHTLINE_LEGAL_PAGER") or "none"
    if pager not in ("none", "outbox") and ":" not in pager:
        raise InvalidInput("BRIGHTLINE_LEGAL_PAGER is none, outbox or 'module:callable'")
    return HookSettings(
        snapshot_url=snapshot_url,
        snapshot_secret=snapshot_secret,
        snapshot_plugin=snapshot_plugin,
        export_url=export_url,
        export_secret=export_secret,
        export_plugin=export_plugin,
        pager=pager,
        timeout_seconds=_number(env, "BRIGHTLINE_LEGAL_HOOK_TIMEOUT_SECONDS", 30.0, 1.0, 600.0),
        max_export_bytes=int(
            _number(env, "BRIGHTLINE_LEGAL_EXPORT_MAX_BYTES", 64 * 1024 * 1024, 1, 1 << 32)
        ),
    )


# -- the signed webhook ------------------------------------------------------------------------


class _SignedWebhook:
    """POST a signed envelope, read a bounded JSON answer; every failure is :class:`HookFailed`."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        event: str,
        name: str,
        max_answer: int,
        timeout_seconds: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._event = event
        self._endpoint = SignedEndpoint(
            url,
            secret,
            name=name,
            max_answer=max_answer,
            failure=HookFailed,
            timeout_seconds=timeout_seconds,
            key_variable=f"BRIGHTLINE_LEGAL_{name.upper()}_SECRET",
            retry_hint="staff are told and can retry",
            transport=transport,
            clock=clock,
        )

    def __repr__(self) -> str:
        # Never the secret, nor the URL's path (it may hold the receiver's own token).
        return f"{type(self).__name__}({self._endpoint.origin})"

    def _call(self, data: Mapping[str, object]) -> object:
        _, answer = self._endpoint.post(self._event, data)
        if not answer.strip():
            return None
        try:
            return json.loads(answer)
        except ValueError:
            raise HookFailed(
                f"{self._endpoint.where} answered something that is not JSON"
            ) from None


def _account(request_id: int, service: str, platform_user_id: str) -> dict[str, object]:
    return {
        "legal_request_id": request_id,
        "service": service,
        "platform_user_id": platform_user_id,
    }


def _ticket(answer: object, source: str) -> str | None:
    if answer is None:
        return None
    ticket = answer.get("ticket") if isinstance(answer, Mapping) else answer
    if ticket is None:
        return None
    if not isinstance(ticket, str) or not _TICKET.fullmatch(ticket):
        raise HookFailed(f"{source} answered a ticket that is not a short code")
    return ticket


def _records(answer: object, source: str) -> list[ExportedRecord]:
    """``{"records": [{"kind", "media_type", "content_base64"}]}`` (or ExportedRecord values
    from a plugin), strictly: anything else is :class:`HookFailed`."""
    if answer is None:
        return []
    items = answer.get("records") if isinstance(answer, Mapping) else answer
    if not isinstance(items, list | tuple):
        raise HookFailed(f"{source} answered no list of records")
    found = []
    for position, item in enumerate(items):
        if isinstance(item, ExportedRecord):
            found.append(item)
            continue
        try:
            if not isinstance(item, Mapping):
                raise InvalidInput("not an object")
            content = item.get("content_base64")
            if not isinstance(content, str):
                raise InvalidInput("content_base64 is missing")
            data = base64.b64decode(content, validate=True)
            found.append(ExportedRecord(str(item.get("kind")), str(item.get("media_type")), data))
        except (InvalidInput, binascii.Error, ValueError) as exc:
            raise HookFailed(f"{source}: record {position} is malformed ({exc})") from None
    return found


class WebhookSnapshotter(_SignedWebhook):
    """Asks the platform to snapshot an account: answer ``{"ticket": "..."}`` (or nothing)."""

    def __init__(self, url: str, secret: str, **options: Any) -> None:
        super().__init__(
            url,
            secret,
            event=SNAPSHOT_EVENT,
            name="snapshot",
            max_answer=MAX_SNAPSHOT_ANSWER,
            **options,
        )

    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        answer = self._call(_account(request_id, service, platform_user_id))
        return _ticket(answer, self._endpoint.where)


class WebhookExporter(_SignedWebhook):
    """Asks the platform for an account's data: answer
    ``{"records": [{"kind": "profile", "media_type": "application/json", "content_base64": ...}]}``.
    """

    def __init__(
        self, url: str, secret: str, *, max_bytes: int = 64 * 1024 * 1024, **options: Any
    ) -> None:
        # base64 is 4/3 of the bytes, plus the envelope.
        super().__init__(
            url,
            secret,
            event=EXPORT_EVENT,
            name="export",
            max_answer=max_bytes * 4 // 3 + 65536,
            **options,
        )

    def export(
        self, *, request_id: int, service: str, platform_user_id: str
    ) -> Sequence[ExportedRecord]:
        answer = self._call(_account(request_id, service, platform_user_id))
        return _records(answer, self._endpoint.where)


# -- plugins -------------------------------------------------------------------------------------


def _resolve(spec: str, what: str) -> object:
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name.strip() or not attribute.strip():
        raise InvalidInput(f"a {what} plugin is named 'module:callable'")
    try:
        target: object = importlib.import_module(module_name.strip())
    except ImportError as exc:
        raise InvalidInput(
            f"cannot import the {what} plugin module {module_name.strip()!r}: {type(exc).__name__}"
        ) from None
    for part in attribute.strip().split("."):
        if not hasattr(target, part):
            raise InvalidInput(f"the {what} plugin {spec!r} does not exist")
        target = getattr(target, part)
    if not callable(target):
        raise InvalidInput(f"the {what} plugin {spec!r} is not callable")
    return target()


class _Plugin:
    def __init__(self, name: str, what: str, call: Callable[..., object]) -> None:
        self.name = name
        self._what = what
        self._call = call

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _run(self, **arguments: object) -> object:
        try:
            return self._call(**arguments)
        except BrightlineError:
            raise
        except Exception as exc:  # a plugin's own bug: one clear line, the traceback chained
            raise HookFailed(
                f"the {self._what} plugin {self.name} failed: {type(exc).__name__}"
            ) from exc


class PluginSnapshotter(_Plugin):
    def snapshot(self, *, request_id: int, service: str, platform_user_id: str) -> str | None:
        answer = self._run(
            request_id=request_id, service=service, platform_user_id=platform_user_id
        )
        return _ticket(answer, f"the snapshot plugin {self.name}")


class PluginExporter(_Plugin):
    def export(
        self, *, request_id: int, service: str, platform_user_id: str
    ) -> Sequence[ExportedRecord]:
        answer = self._run(
            request_id=request_id, service=service, platform_user_id=platform_user_id
        )
        return _records(answer, f"the export plugin {self.name}")


class PluginPager(_Plugin):
    def page(self, *, role: str, request_id: int, message: str) -> None:
        self._run(role=role, request_id=request_id, message=message)


_METHODS = {"snapshot": PluginSnapshotter, "export": PluginExporter, "page": PluginPager}


def load_hook_plugin(spec: str, method: str) -> _Plugin:
    """The hook named by ``module:callable``: called once with no arguments, it returns an
    object with ``method`` (``snapshot``, ``export`` or ``page``) or a plain callable taking the
    same keyword arguments."""
    wrapper = _METHODS.get(method)
    if wrapper is None:
        raise InvalidInput(f"unknown legal hook method {method!r}")
    made = _resolve(spec, method)
    bound = getattr(made, method, None)
    if callable(bound):
        return wrapper(spec, method, bound)
    if callable(made):
        return wrapper(spec, method, made)
    raise InvalidInput(
        f"the {method} plugin {spec!r} returned {type(made).__name__}: neither an object with "
        f"{method}(...) nor a callable"
    )


# -- the pager -----------------------------------------------------------------------------------


class OutboxPager:
    """Pages through the durable webhook outbox: one ``legal.page`` event per page, queued in
    the caller's transaction for every enabled webhook subscribed to it (``brightline webhook
    add NAME URL --event legal.page``). With no such webhook the page cannot leave, which is a
    failure (flagged ``page_failed`` for staff), not a silent drop."""

    configured = True

    def page_in(
        self, *, session: Session, role: str, request_id: int, message: str, at: datetime
    ) -> None:
        queued = enqueue_event(
            session,
            EventType.LEGAL_PAGE,
            {"role": role, "legal_request_id": request_id, "message": message},
            key=f"legal-page-{request_id}-{int(at.timestamp() * 1000)}",
            now=at,
        )
        if queued == 0:
            raise HookFailed("no enabled webhook subscribes to legal.page: the page cannot leave")

    def page(self, *, role: str, request_id: int, message: str) -> None:
        raise HookFailed("the outbox pager pages inside a transaction (page_in)")


# -- wiring -------------------------------------------------------------------------------------


def snapshotter_from_settings(hooks: HookSettings) -> AccountSnapshotter:
    if hooks.snapshot_url is not None and hooks.snapshot_secret is not None:
        return WebhookSnapshotter(
            hooks.snapshot_url, hooks.snapshot_secret, timeout_seconds=hooks.timeout_seconds
        )
    if hooks.snapshot_plugin is not None:
        return _snapshot_plugin(hooks)
    return NoSnapshot()


def _snapshot_plugin(hooks: HookSettings) -> AccountSnapshotter:
    plugin = load_hook_plugin(hooks.snapshot_plugin or "", "snapshot")
    if not isinstance(plugin, PluginSnapshotter):  # pragma: no cover - load_hook_plugin's map
        raise InvalidInput("not a snapshot plugin")
    return plugin


def exporter_from_settings(hooks: HookSettings) -> AccountExporter:
    if hooks.export_url is not None and hooks.export_secret is not None:
        return WebhookExporter(
            hooks.export_url,
            hooks.export_secret,
            max_bytes=hooks.max_export_bytes,
            timeout_seconds=hooks.timeout_seconds,
        )
    if hooks.export_plugin is not None:
        plugin = load_hook_plugin(hooks.export_plugin, "export")
        if not isinstance(plugin, PluginExporter):  # pragma: no cover
            raise InvalidInput("not an export plugin")
        return plugin
    return NoExport()


def pager_from_settings(hooks: HookSettings) -> Pager | DurablePager | None:
    if hooks.pager == "none":
        return None
    if hooks.pager == "outbox":
        return OutboxPager()
    plugin = load_hook_plugin(hooks.pager, "page")
    if not isinstance(plugin, PluginPager):  # pragma: no cover
        raise InvalidInput("not a pager plugin")
    return plugin


def legal_context(
    settings: LegalSettings, custody_key: bytes, hooks: HookSettings | None = None
) -> LegalContext:
    """The context the CLI and the console run the legal services with: settings, the custody
    key and the configured hooks (``hooks`` defaults to the environment's)."""
    chosen = hooks if hooks is not None else load_hook_settings()
    return LegalContext(
        settings=settings,
        custody_key=custody_key,
        snapshotter=snapshotter_from_settings(chosen),
        pager=pager_from_settings(chosen),
        exporter=exporter_from_settings(chosen),
    )
