"""The legal hooks as platforms provide them: signed webhooks against a real loopback server
(signature checked by the receiver, timeouts, refusals, malformed answers), plugins, the outbox
pager, and the settings that choose them. A failing hook is recorded and flagged, never undoes a
hold."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.errors import InvalidInput
from brightline.events import create_webhook, verify_signature
from brightline.events.models import WebhookDelivery
from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    ExportOutcome,
    FlagCode,
    LegalContext,
    NoExport,
    NoSnapshot,
    RequestStatus,
    RequestType,
    build_production,
    request_detail,
    transition_request,
)
from brightline.legal.models import EventKind
from brightline.legal.platform_hooks import (
    HookFailed,
    HookSettings,
    OutboxPager,
    PluginExporter,
    PluginPager,
    PluginSnapshotter,
    WebhookExporter,
    WebhookSnapshotter,
    legal_context,
    load_hook_plugin,
    load_hook_settings,
)
from tests.legal import plugins
from tests.legal.helpers import (
    KEY,
    T0,
    context,
    make_sender,
    new_request,
    preserved_account,
    submit,
)

SECRET = "whsec_synthetic-test-secret"  # noqa: S105  (a test secret)
S = RequestStatus


class _Platform(BaseHTTPRequestHandler):
    """A platform's hook receiver: refuses a bad signature (401), as a real one must."""

    answers: ClassVar[list[tuple[int, bytes]]] = []
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    stall: ClassVar[threading.Event] = threading.Event()
    release: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        if type(self).stall.is_set():
            type(self).release.wait(10)
        signed = verify_signature(
            SECRET, self.headers["Brightline-Timestamp"], body, self.headers["Brightline-Signature"]
        )
        status, answer = (401, b"{}") if not signed else type(self).answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def platform() -> Iterator[str]:
    _Platform.answers, _Platform.received = [], []
    _Platform.stall.clear()
    _Platform.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/legal"
    finally:
        _Platform.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _verify_preservation(
    sessions: sessionmaker[Session], store: EvidenceStore, ctx: LegalContext
) -> int:
    with sessions.begin() as session:
        made = preserved_account(session, store, files=1)
        sender = make_sender(session)
        request = submit(
            session, ctx, store,
            new_request(sender, accounts=[(made.service, made.platform_user_id)]),
        )  # fmt: skip
        transition_request(
            session=session, context=ctx, request_id=request.id, to=S.VERIFIED,
            actor="staff-1", now=T0 + timedelta(hours=1),
        )  # fmt: skip
        return request.id


def test_snapshot_webhook_signed_ticket_recorded_and_refusal_flagged(
    platform: str, sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    _Platform.answers.append((200, b'{"ticket": "snap-0001"}'))
    ctx = context(snapshotter=WebhookSnapshotter(platform, SECRET, timeout_seconds=5))
    request_id = _verify_preservation(sessions, store, ctx)
    ((headers, body),) = _Platform.received
    envelope = json.loads(body)
    assert headers["Brightline-Event"] == "legal.snapshot"
    assert envelope["data"]["legal_request_id"] == request_id
    with sessions.begin() as session:
        detail = request_detail(session=session, request_id=request_id)
        snaps = [e for e in detail.events if e.kind == EventKind.SNAPSHOT_REQUESTED]
        assert json.loads(snaps[0].details)["ticket"] == "snap-0001"
        assert detail.hold_ids
        assert not detail.flags

    # Signed with the wrong secret: the platform refuses (401); the hold stays, staff are told.
    wrong = WebhookSnapshotter(platform, "whsec_wrong", timeout_seconds=5)
    refused_id = _verify_preservation(sessions, store, context(snapshotter=wrong))
    with sessions.begin() as session:
        detail = request_detail(session=session, request_id=refused_id)
        assert detail.hold_ids, "a failed snapshot never undoes the hold"
        assert [flag.code for flag in detail.flags] == [FlagCode.SNAPSHOT_FAILED]
        assert detail.summary.request.status == S.VERIFIED


def test_hook_errors_say_what_failed(platform: str) -> None:
    _Platform.answers.append((503, b"{}"))
    hook = WebhookSnapshotter(platform, SECRET, timeout_seconds=5)
    with pytest.raises(HookFailed, match="HTTP 503"):
        hook.snapshot(request_id=1, service="example", platform_user_id="user-1")
    with pytest.raises(
        HookFailed,
        match=r"HTTP 401\): check that it verifies signatures "
        "with BRIGHTLINE_LEGAL_SNAPSHOT_SECRET",
    ):
        WebhookSnapshotter(platform, "whsec_wrong", timeout_seconds=5).snapshot(
            request_id=1, service="example", platform_user_id="user-1"
        )
    with pytest.raises(HookFailed, match="could not connect"):
        WebhookSnapshotter("http://127.0.0.1:9/x", SECRET, timeout_seconds=2).snapshot(
            request_id=1, service="example", platform_user_id="user-1"
        )
    _Platform.answers.append((200, b"<html>"))
    with pytest.raises(HookFailed, match="not JSON"):
        hook.snapshot(request_id=1, service="example", platform_user_id="user-1")
    _Platform.stall.set()
    _Platform.answers.append((200, b"{}"))
    with pytest.raises(HookFailed, match=r"did not answer within 0\.3 s"):
        WebhookSnapshotter(platform, SECRET, timeout_seconds=0.3).snapshot(
            request_id=1, service="example", platform_user_id="user-1"
        )
    assert SECRET not in repr(hook)
    assert "/legal" not in repr(hook)


def test_export_webhook_feeds_a_production(
    platform: str, sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    content = base64.b64encode(b'{"profile": "synthetic placeholder"}').decode()
    _Platform.answers.append(
        (200, json.dumps({"records": [{"kind": "profile", "media_type": "application/json",
                                       "content_base64": content}]}).encode())
    )  # fmt: skip
    _Platform.answers.append((200, b'{"records": [{"kind": "Bad Kind!"}]}'))
    exporter = WebhookExporter(platform, SECRET, timeout_seconds=5)
    ctx = context(exporter=exporter)
    request_id = _verify_preservation(sessions, store, ctx)
    with sessions.begin() as session:
        built = build_production(
            session=session, context=ctx, store=store, request_id=request_id, actor="staff-2"
        )
        assert built.export is ExportOutcome.EXPORTED
        assert built.platform_members == 1
        # A malformed answer: flagged, the production is partial, the holds stay.
        second = build_production(
            session=session, context=ctx, store=store, request_id=request_id, actor="staff-2"
        )
        assert second.export is ExportOutcome.FAILED
        assert not second.complete
        detail = request_detail(session=session, request_id=request_id)
        assert FlagCode.EXPORT_FAILED in {flag.code for flag in detail.flags}
        assert detail.hold_ids
    assert json.loads(_Platform.received[0][1])["type"] == "legal.export"


def test_plugins_load_and_are_checked() -> None:
    plugins.CALLS.clear()
    snapshotter = load_hook_plugin("tests.legal.plugins:Platform", "snapshot")
    assert isinstance(snapshotter, PluginSnapshotter)
    assert snapshotter.snapshot(request_id=4, service="example", platform_user_id="u") == "snap-4"
    exporter = load_hook_plugin("tests.legal.plugins:make_function", "export")
    assert isinstance(exporter, PluginExporter)
    (record,) = exporter.export(request_id=4, service="example", platform_user_id="u")
    assert record.kind == "profile"
    assert record.data == b'{"placeholder": true}'
    pager = load_hook_plugin("tests.legal.plugins:Platform", "page")
    assert isinstance(pager, PluginPager)
    pager.page(role="on-call", request_id=4, message="emergency legal request 4")
    assert [call for call, _ in plugins.CALLS] == ["snapshot", "export", "page"]
    broken = load_hook_plugin("tests.legal.plugins:make_broken", "export")
    with pytest.raises(HookFailed, match="RuntimeError"):
        broken.export(request_id=4, service="example", platform_user_id="u")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tests.legal.plugins", "'module:callable'"),
        ("tests.legal.no_such_module:make", "cannot import"),
        ("tests.legal.plugins:missing", "does not exist"),
        ("tests.legal.plugins:NOT_CALLABLE", "is not callable"),
        ("tests.legal.plugins:make_nothing", "neither an object"),
    ],
)
def test_bad_plugins_are_refused_when_loaded(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_hook_plugin(spec, "snapshot")


def test_outbox_pager_queues_pages_durably(
    sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    ctx = context(pager=OutboxPager())
    with sessions.begin() as session:
        sender = make_sender(session)
        unheard = submit(session, ctx, store, new_request(sender, kind=RequestType.EMERGENCY))
        flags = request_detail(session=session, request_id=unheard.id).flags
        assert FlagCode.PAGE_FAILED in {flag.code for flag in flags}  # nobody subscribed
        create_webhook(
            session=session, name="on-call-bridge", url="https://pager.example/hook",
            event_types=["legal.page"],
        )  # fmt: skip
        request = submit(session, ctx, store, new_request(sender, kind=RequestType.EMERGENCY))
        request_id = request.id
    with sessions.begin() as session:
        (delivery,) = session.scalars(select(WebhookDelivery)).all()
        assert delivery.event_type == "legal.page"
        payload = json.loads(delivery.payload)
        assert payload["legal_request_id"] == request_id
        assert payload["role"] == "on-call"
        flags = request_detail(session=session, request_id=request_id).flags
        assert FlagCode.PAGE_FAILED not in {flag.code for flag in flags}


def test_settings_choose_the_hooks(platform: str) -> None:
    assert load_hook_settings({}) == HookSettings()
    built = legal_context(
        context().settings,
        KEY,
        load_hook_settings(
            {
                "BRIGHTLINE_LEGAL_SNAPSHOT_URL": platform,
                "BRIGHTLINE_LEGAL_SNAPSHOT_SECRET": SECRET,
                "BRIGHTLINE_LEGAL_EXPORT_PLUGIN": "tests.legal.plugins:Platform",
                "BRIGHTLINE_LEGAL_PAGER": "outbox",
                "BRIGHTLINE_LEGAL_HOOK_TIMEOUT_SECONDS": "5",
            }
        ),
    )
    assert isinstance(built.snapshotter, WebhookSnapshotter)
    assert isinstance(built.exporter, PluginExporter)
    assert isinstance(built.pager, OutboxPager)
    default = legal_context(context().settings, KEY, HookSettings())
    assert isinstance(default.snapshotter, NoSnapshot)
    assert isinstance(default.exporter, NoExport)
    assert default.pager is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BRIGHTLINE_LEGAL_SNAPSHOT_URL": "ftp://x"}, "http\\(s\\) URL"),
        ({"BRIGHTLINE_LEGAL_SNAPSHOT_URL": "https://platform.example/s"}, "_SECRET"),
        ({"BRIGHTLINE_LEGAL_EXPORT_URL": "https://p.example", "BRIGHTLINE_LEGAL_EXPORT_PLUGIN":
          "a:b", "BRIGHTLINE_LEGAL_EXPORT_SECRET": "s"}, "at most one"),
        ({"BRIGHTLINE_LEGAL_EXPORT_PLUGIN": "nocolon"}, "module:callable"),
        ({"BRIGHTLINE_LEGAL_PAGER": "sms"}, "none, outbox"),
        ({"BRIGHTLINE_LEGAL_HOOK_TIMEOUT_SECONDS": "0"}, "between"),
    ],
)  # fmt: skip
def test_bad_hook_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_hook_settings(environ)


def test_every_hook_setting_is_documented() -> None:
    docs = Path(__file__).parents[2] / "docs"
    text = (docs / "legal.md").read_text(encoding="utf-8")
    for what in ("SNAPSHOT", "EXPORT"):
        for part in ("URL", "SECRET", "PLUGIN"):
            assert f"BRIGHTLINE_LEGAL_{what}_{part}" in text
    for name in (
        "BRIGHTLINE_LEGAL_PAGER",
        "BRIGHTLINE_LEGAL_HOOK_TIMEOUT_SECONDS",
        "BRIGHTLINE_LEGAL_EXPORT_MAX_BYTES",
    ):
        assert name in text
    assert "### `legal.page`" in (docs / "webhooks.md").read_text(encoding="utf-8")
