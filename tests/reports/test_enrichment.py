"""Enrichers: the signed webhook (mock transport and a real loopback server), plugins, settings.

Answers are synthetic (documentation IP ranges, ``example.org``, placeholder ids).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from brightline.errors import InvalidInput, UpstreamError
from brightline.events import verify_signature
from brightline.reports import (
    EnrichmentFailed,
    EnrichmentItem,
    EnrichmentRequest,
    EnrichmentSubject,
    InvalidEnrichment,
    NoEnrichment,
    PluginEnricher,
    ReportContext,
    ReportEnricher,
    WebhookEnricher,
    enricher_from_settings,
    load_plugin,
)
from brightline.settings import EnrichmentSettings
from tests.reports import plugins

SECRET = "whsec-test-placeholder"  # noqa: S105  (a test secret)
URL = "https://platform.example.org/brightline/enrich?token=receiver-token"
CLOCK = 1_764_576_000.0

REQUEST = EnrichmentRequest(
    case_id=3,
    urgent=False,
    requested_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    subject=EnrichmentSubject(
        subject_id=1,
        service="example-service",
        platform_user_id="user-0001",
        screen_name="placeholder1",
    ),
    items=(
        EnrichmentItem(
            item_id=7,
            sha256="8a83d94d44b74afe4f81305048bf6e5b3f5f5ba22a2947652fdcf5b83290fc8c",
            md5="360ebe8964fab73553a60189969cc478",
            sha1="9c13c49ba052aba9eaeb62c1804d5afae10d4ad7",
            media_type="image/jpeg",
            media_ref="sha256:8a83d94d44b74afe4f81305048bf6e5b3f5f5ba22a2947652fdcf5b83290fc8c",
            uploaded_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
            decision="confirm",
            classification="A2",
            viewed_by_person=True,
        ),
    ),
)
ANSWER = {
    "internet_details": [{"type": "web_page", "urls": ["https://example.org/p/1"]}],
    "ip_capture_events": [{"ip_address": "192.0.2.10", "event": "Login"}],
    "files": {"7": {"publicly_available": False}},
}


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> WebhookEnricher:
    return WebhookEnricher(
        URL, SECRET, timeout_seconds=2, transport=httpx.MockTransport(handler), clock=lambda: CLOCK
    )


def test_the_request_is_signed_like_event_webhooks_and_the_answer_is_read() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ANSWER)

    context = mock(handler).enrich(REQUEST)
    assert context.ip_capture_events[0].ip_address == "192.0.2.10"
    assert context.files[7].publicly_available is False

    (sent,) = seen
    body = sent.content
    assert sent.method == "POST"
    assert str(sent.url) == URL
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["brightline-event"] == "report.enrichment"
    assert sent.headers["brightline-timestamp"] == str(int(CLOCK))
    assert verify_signature(
        SECRET,
        sent.headers["brightline-timestamp"],
        body,
        sent.headers["brightline-signature"],
        now=CLOCK,
    )
    signature = sent.headers["brightline-signature"]
    assert not verify_signature("another-secret", int(CLOCK), body, signature, now=CLOCK)
    envelope = json.loads(body)
    assert envelope["type"] == "report.enrichment"
    assert envelope["request_id"] == sent.headers["brightline-request"]
    assert envelope["created_at"] == "2026-12-01T08:00:00Z"
    data = envelope["data"]
    assert data["version"] == 1
    assert data["case_id"] == 3
    assert data["subject"]["platform_user_id"] == "user-0001"
    assert data["subject"]["display_name"] is None
    item = data["items"][0]
    assert item["item_id"] == 7
    assert item["uploaded_at"] == "2026-11-29T08:00:00Z"
    assert item["media_ref"].startswith("sha256:")
    assert item["viewed_by_person"] is True


def test_each_request_has_its_own_id() -> None:
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["brightline-request"])
        return httpx.Response(200, json={})

    enricher = mock(handler)
    assert enricher.enrich(REQUEST) == ReportContext()
    enricher.enrich(REQUEST)
    assert len(set(ids)) == 2


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "failed (HTTP 500); nothing was built, try again later"),
        (503, "failed (HTTP 503)"),
        (429, "failed (HTTP 429)"),
        (401, "check that it verifies signatures with BRIGHTLINE_ENRICHMENT_SECRET"),
        (404, "refused the request (HTTP 404)"),
        (302, "redirects are not followed"),
    ],
)
def test_http_failures_are_upstream_errors_with_a_clear_message(status: int, message: str) -> None:
    headers = {"Location": "https://elsewhere.example.org/"} if status == 302 else {}
    enricher = mock(lambda _request: httpx.Response(status, headers=headers, json=ANSWER))
    with pytest.raises(EnrichmentFailed) as caught:
        enricher.enrich(REQUEST)
    assert isinstance(caught.value, UpstreamError)
    assert message in str(caught.value)
    assert "https://platform.example.org" in str(caught.value)
    assert "receiver-token" not in str(caught.value)
    assert "/brightline/enrich" not in str(caught.value)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            httpx.ReadTimeout("slow"),
            "did not answer within 2 s; nothing was built, try again later",
        ),
        (httpx.ConnectTimeout("slow"), "did not answer within 2 s"),
        (httpx.ConnectError("refused"), "could not connect to the enrichment webhook"),
        (httpx.RemoteProtocolError("broken"), "failed: RemoteProtocolError"),
    ],
)
def test_network_failures_are_upstream_errors(error: Exception, message: str) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(EnrichmentFailed, match=message):
        mock(handler).enrich(REQUEST)


@pytest.mark.parametrize(
    ("body", "path", "problem"),
    [
        (b"<html>oops</html>", "$", "not valid JSON"),
        (b"[]", "$", "expected an object"),
        (json.dumps({**ANSWER, "extra": 1}).encode(), "$", 'unknown field "extra"'),
        (
            b'{"files": {"7": {"upload_ip": {"ip_address": "192.0.2.1", "port": "443"}}}}',
            "$.files.7.upload_ip.port",
            "expected an integer, got a string",
        ),
        (b'{"incident_at": "2026-11-28T10:00:00"}', "$.incident_at", "UTC offset"),
    ],
)
def test_an_invalid_answer_names_the_path(body: bytes, path: str, problem: str) -> None:
    enricher = mock(lambda _request: httpx.Response(200, content=body))
    with pytest.raises(InvalidEnrichment) as caught:
        enricher.enrich(REQUEST)
    assert caught.value.path == path
    assert problem in str(caught.value)
    assert isinstance(caught.value, UpstreamError)


def test_an_oversized_answer_is_refused() -> None:
    enricher = mock(lambda _request: httpx.Response(200, content=b" " * (4 * 1024 * 1024 + 1)))
    with pytest.raises(EnrichmentFailed, match="more than 4194304 bytes"):
        enricher.enrich(REQUEST)


def test_nothing_of_either_body_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mock(lambda _request: httpx.Response(200, json=ANSWER)).enrich(REQUEST)
    with pytest.raises(InvalidEnrichment):
        mock(lambda _request: httpx.Response(200, json={"esp_identifier": 1})).enrich(REQUEST)
    text = caplog.text
    assert "case 3" in text
    for private in ("user-0001", "placeholder1", "192.0.2.10", "example.org/p/1", "receiver-token"):
        assert private not in text


def test_repr_hides_the_secret_and_the_path() -> None:
    enricher = WebhookEnricher(URL, SECRET)
    assert repr(enricher) == "WebhookEnricher(https://platform.example.org)"
    with pytest.raises(InvalidInput):
        WebhookEnricher("ftp://example.org/", SECRET)
    with pytest.raises(InvalidInput):
        WebhookEnricher(URL, "")


# --- a real HTTP server on loopback ------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, bytes]]] = []
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    delay: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        if type(self).delay.is_set():
            threading.Event().wait(3)
        status, answer = type(self).answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.answers, _Receiver.received = [], []
    _Receiver.delay.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/enrich"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_real_receiver_verifies_and_answers(receiver: str) -> None:
    _Receiver.answers.append((200, json.dumps(ANSWER).encode()))
    settings = EnrichmentSettings(url=receiver, secret=SECRET, timeout_seconds=5)
    enricher = enricher_from_settings(settings)
    assert isinstance(enricher, WebhookEnricher)
    context = enricher.enrich(REQUEST)
    assert context.internet_details
    ((headers, body),) = _Receiver.received
    assert verify_signature(
        SECRET, headers["Brightline-Timestamp"], body, headers["Brightline-Signature"]
    )


def test_a_slow_receiver_times_out(receiver: str) -> None:
    _Receiver.delay.set()
    _Receiver.answers.append((200, b"{}"))
    enricher = WebhookEnricher(receiver, SECRET, timeout_seconds=1)
    with pytest.raises(EnrichmentFailed, match="did not answer within 1 s"):
        enricher.enrich(REQUEST)


def test_an_unreachable_receiver() -> None:
    enricher = WebhookEnricher("http://127.0.0.1:9/enrich", SECRET, timeout_seconds=2)
    with pytest.raises(EnrichmentFailed, match="could not connect"):
        enricher.enrich(REQUEST)


# --- plugins and settings ----------------------------------------------------------------------


def test_a_class_with_enrich_is_a_plugin() -> None:
    plugins.REQUESTS.clear()
    enricher = load_plugin("tests.reports.plugins:Enricher")
    assert isinstance(enricher, ReportEnricher)
    context = enricher.enrich(REQUEST)
    assert context.files[7].original_file_name == "placeholder.png"
    assert plugins.REQUESTS == [REQUEST]


def test_a_factory_returning_a_callable_may_answer_in_the_wire_format() -> None:
    enricher = load_plugin("tests.reports.plugins:make_function")
    context = enricher.enrich(REQUEST)
    assert context.files[7].exif_viewed is False


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tests.reports.plugins", "'module:callable'"),
        ("tests.reports.plugins:", "'module:callable'"),
        ("tests.reports.no_such_module:make", "cannot import the enrichment plugin module"),
        ("tests.reports.plugins:missing", "does not exist"),
        ("tests.reports.plugins:NOT_CALLABLE", "is not callable"),
        ("tests.reports.plugins:make_nothing", "neither an enricher"),
    ],
)
def test_bad_plugins_are_refused_when_loaded(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_plugin(spec)


def test_a_failing_plugin_is_an_upstream_error_with_the_cause_chained() -> None:
    with pytest.raises(EnrichmentFailed, match="failed: KeyError") as caught:
        load_plugin("tests.reports.plugins:make_broken").enrich(REQUEST)
    assert isinstance(caught.value.__cause__, KeyError)
    with pytest.raises(EnrichmentFailed, match="returned list, not a ReportContext"):
        load_plugin("tests.reports.plugins:make_wrong_answer").enrich(REQUEST)
    with pytest.raises(InvalidEnrichment) as invalid:
        load_plugin("tests.reports.plugins:make_bad_mapping").enrich(REQUEST)
    assert invalid.value.path == "$.internet_details[0].urls"


def test_enricher_from_settings() -> None:
    assert isinstance(enricher_from_settings(EnrichmentSettings()), NoEnrichment)
    assert NoEnrichment().enrich(REQUEST) == ReportContext()
    plugin = enricher_from_settings(EnrichmentSettings(plugin="tests.reports.plugins:Enricher"))
    assert isinstance(plugin, PluginEnricher)
    with pytest.raises(InvalidInput, match="not both"):
        enricher_from_settings(EnrichmentSettings(url=URL, secret=SECRET, plugin="a:b"))
    with pytest.raises(InvalidInput, match="SECRET"):
        enricher_from_settings(EnrichmentSettings(url=URL))
