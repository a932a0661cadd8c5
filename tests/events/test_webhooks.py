"""Webhook delivery against a real HTTP receiver on loopback (SQLite and PostgreSQL).

The clock is passed in (``now``), so backoff and leases are checked without waiting and nothing
is asserted about how long anything took.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from brightline.cli.main import cli
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.events import (
    EventType,
    RetryPolicy,
    WebhookDelivery,
    create_webhook,
    deliver_due,
    enqueue_event,
    list_deliveries,
    queue_counts,
    remove_webhook,
    retry_delivery,
    set_webhook_enabled,
    sign,
    verify_signature,
)
from brightline.events.delivery import _claim
from brightline.matchlog import MatchSource, record_matches
from brightline.settings import FloodGuardSettings
from brightline.storage import create_engine_for, session_factory
from tests.events.conftest import Receiver
from tests.events.helpers import make_entries, match_of

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=12, base_seconds=5, cap_seconds=3600, lease_seconds=60)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0, follow_redirects=False) as http:
        yield http


def add_hook(
    sessions: sessionmaker[Session], url: str, *events: str, name: str = "receiver"
) -> tuple[int, str]:
    with sessions.begin() as session:
        hook = create_webhook(session=session, name=name, url=url, event_types=events)
        return hook.id, hook.secret


def enqueue(sessions: sessionmaker[Session], key: str = "evt-1", when: datetime = NOW) -> int:
    with sessions.begin() as session:
        return enqueue_event(session, EventType.MATCH, {"entry_id": 7}, key=key, now=when)


def only_delivery(sessions: sessionmaker[Session]) -> WebhookDelivery:
    with sessions() as session:
        rows = list(session.scalars(select(WebhookDelivery)))
    assert len(rows) == 1
    return rows[0]


def test_delivery_is_signed_and_the_signature_verifies(
    sessions: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    _, secret = add_hook(sessions, receiver.url)
    assert enqueue(sessions) == 1

    report = deliver_due(sessions, client, now=NOW, policy=FAST)

    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [request] = receiver.requests
    headers, body = request.headers, request.body
    delivery = only_delivery(sessions)
    assert headers["brightline-event"] == "match"
    assert headers["brightline-delivery"] == str(delivery.id)
    assert headers["idempotency-key"] == "evt-1"
    assert headers["content-type"] == "application/json"
    timestamp, signature = headers["brightline-timestamp"], headers["brightline-signature"]
    assert timestamp == str(int(NOW.timestamp()))
    assert signature.startswith("v1=")
    at = NOW.timestamp()
    assert verify_signature(secret, timestamp, body, signature, 300, now=at)
    assert verify_signature(secret, timestamp, body.decode(), signature, 300, now=at)
    assert verify_signature(secret, timestamp, body, f"v1=00ff, {signature}", 300, now=at)
    assert not verify_signature(secret, timestamp, body + b" ", signature, 300, now=at)
    assert not verify_signature("whsec_other", timestamp, body, signature, 300, now=at)
    assert not verify_signature(secret, timestamp, body, signature, 300, now=at + 301)
    assert not verify_signature(secret, "soon", body, signature, 300, now=at)
    assert sign(secret, timestamp, body) == signature
    envelope = json.loads(body)
    assert envelope == {
        "type": "match",
        "idempotency_key": "evt-1",
        "created_at": "2026-12-01T08:00:00Z",
        "data": {"entry_id": 7},
    }
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 1, NOW)
    assert deliver_due(sessions, client, now=NOW + timedelta(hours=1)).attempted == 0


def test_a_malformed_signature_or_timestamp_is_refused_not_raised() -> None:
    """Receivers pass whatever the sender put in the headers: a non-ASCII signature and a
    timestamp too large for a float must answer False, never raise."""
    body = b'{"type":"match"}'
    at = NOW.timestamp()
    timestamp = str(int(at))
    valid = sign("whsec_x", timestamp, body)
    assert not verify_signature("whsec_x", timestamp, body, "v1=\u00e9\u00e9", 300, now=at)
    assert verify_signature("whsec_x", timestamp, body, f"v1=\u00e9, {valid}", 300, now=at)
    assert not verify_signature("whsec_x", "9" * 400, body, valid, 300, now=at)


def test_a_claimed_delivery_and_the_request_log_never_show_the_secret_or_url_path(
    sessions: sessionmaker[Session],
    receiver: Receiver,
    client: httpx.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, secret = add_hook(sessions, f"{receiver.url}/tok-123?key=abc")
    enqueue(sessions)
    claimed = _claim(sessions, only_delivery(sessions).id, NOW, timedelta(seconds=60))
    assert claimed is not None
    assert secret not in repr(claimed)
    assert "tok-123" not in repr(claimed)

    with caplog.at_level(logging.INFO, logger="httpx"):
        assert deliver_due(sessions, client, now=NOW + timedelta(minutes=2)).delivered == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "HTTP Request: POST http://127.0.0.1:" in logged
    assert "tok-123" not in logged
    assert "key=abc" not in logged


def test_server_errors_are_retried_with_backoff_then_delivered(
    sessions: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    add_hook(sessions, receiver.url)
    enqueue(sessions)
    receiver.script = [500, 503]

    assert deliver_due(sessions, client, now=NOW, policy=FAST).retrying == 1
    first = only_delivery(sessions)
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "HTTP 500")
    assert first.lease_until is None
    # Equal jitter: between half and all of 5 s after the first failure ...
    assert NOW + timedelta(seconds=2.5) <= first.next_attempt_at <= NOW + timedelta(seconds=5)
    assert deliver_due(sessions, client, now=NOW, policy=FAST).attempted == 0  # not due yet
    assert len(receiver.requests) == 1

    assert deliver_due(sessions, client, now=first.next_attempt_at, policy=FAST).retrying == 1
    second = only_delivery(sessions)
    assert (second.attempts, second.last_error) == (2, "HTTP 503")
    # ... and between half and all of 10 s after the second.
    low, high = timedelta(seconds=5), timedelta(seconds=10)
    assert first.next_attempt_at + low <= second.next_attempt_at <= first.next_attempt_at + high

    assert deliver_due(sessions, client, now=second.next_attempt_at, policy=FAST).delivered == 1
    done = only_delivery(sessions)
    assert (done.status, done.attempts, done.last_error) == ("delivered", 3, None)
    assert len(receiver.requests) == 3
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {"evt-1"}
    assert {r.headers["brightline-delivery"] for r in receiver.requests} == {str(done.id)}
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes on every attempt


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_seconds=5, cap_seconds=3600)
    rng = random.Random(1)
    for attempts in range(1, 40):
        step = min(3600.0, 5.0 * 2 ** (attempts - 1))
        delay = policy.delay(attempts, rng).total_seconds()
        assert step / 2 <= delay <= step


def test_unreachable_receiver_is_a_failed_attempt(
    sessions: sessionmaker[Session], client: httpx.Client
) -> None:
    add_hook(sessions, "http://127.0.0.1:9/nothing-listens-here")
    enqueue(sessions)
    assert deliver_due(sessions, client, now=NOW, policy=FAST).retrying == 1
    assert only_delivery(sessions).last_error == "connection failed"


def test_a_restart_resumes_pending_deliveries(
    database_url: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    receiver: Receiver,
    client: httpx.Client,
) -> None:
    add_hook(sessions, receiver.url)
    enqueue(sessions, key="evt-1")
    enqueue(sessions, key="evt-2")
    receiver.script = [500]
    deliver_due(sessions, client, now=NOW, policy=FAST, batch=1)  # evt-1 fails once
    # evt-2 was claimed by a worker that then died: its lease is left behind, nothing recorded.
    with sessions.begin() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.idempotency_key == "evt-2")
            .values(lease_until=NOW + timedelta(seconds=60))
        )
    engine.dispose()

    # A new process: new engine, new sessions, new HTTP client; nothing but the database.
    fresh_engine = create_engine_for(database_url)
    fresh_sessions = session_factory(fresh_engine)
    with httpx.Client(timeout=5.0) as fresh_client:
        later = NOW + timedelta(seconds=30)  # evt-1 is due again, evt-2's lease still holds
        report = deliver_due(fresh_sessions, fresh_client, now=later, policy=FAST)
        assert report.delivered == 1
        assert receiver.requests[-1].headers["idempotency-key"] == "evt-1"
        expired = NOW + timedelta(seconds=61)
        assert deliver_due(fresh_sessions, fresh_client, now=expired, policy=FAST).delivered == 1
        assert receiver.requests[-1].headers["idempotency-key"] == "evt-2"
    with fresh_sessions() as session:
        assert queue_counts(session=session) == {"pending": 0, "failed": 0}
    fresh_engine.dispose()


def test_concurrent_passes_never_send_a_delivery_twice(
    database_url: str, sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    add_hook(sessions, receiver.url)
    for n in range(30):
        enqueue(sessions, key=f"evt-{n}")
    receiver.delay = 0.005  # keep both passes busy at the same time
    start = threading.Barrier(2)
    reports = []
    errors: list[BaseException] = []

    def worker() -> None:
        worker_engine = create_engine_for(database_url)
        try:
            with httpx.Client(timeout=5.0) as http:
                start.wait()
                reports.append(
                    deliver_due(session_factory(worker_engine), http, now=NOW, batch=100)
                )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            worker_engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = [r.headers["brightline-delivery"] for r in receiver.requests]
    assert len(sent) == len(set(sent)) == 30
    assert sum(report.delivered for report in reports) == 30
    with sessions() as session:
        assert queue_counts(session=session) == {"pending": 0, "failed": 0}


def test_failed_after_max_attempts_and_nothing_more_is_sent(
    sessions: sessionmaker[Session], receiver: Receiver, client: httpx.Client
) -> None:
    add_hook(sessions, receiver.url)
    enqueue(sessions)
    receiver.default = 500
    policy = RetryPolicy(max_attempts=3, base_seconds=5)
    when = NOW
    outcomes = []
    for _ in range(3):
        report = deliver_due(sessions, client, now=when, policy=policy)
        outcomes.append((report.retrying, report.failed))
        when = only_delivery(sessions).next_attempt_at
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    failed = only_delivery(sessions)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 3, "HTTP 500")
    assert deliver_due(sessions, client, now=NOW + timedelta(days=1), policy=policy).attempted == 0
    assert len(receiver.requests) == 3

    with sessions.begin() as session:
        with pytest.raises(NotFound):
            retry_delivery(session=session, delivery_id=failed.id + 100)
        retry_delivery(session=session, delivery_id=failed.id, now=NOW)
        with pytest.raises(Conflict):
            retry_delivery(session=session, delivery_id=failed.id)
    receiver.default = 200
    assert deliver_due(sessions, client, now=NOW, policy=policy).delivered == 1


def test_events_go_only_to_enabled_webhooks_that_want_them(
    sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    matches_only, _ = add_hook(sessions, receiver.url, "match", name="matches")
    quarantines, _ = add_hook(sessions, receiver.url, "entry.quarantined", name="curators")
    everything, _ = add_hook(sessions, receiver.url, name="all")
    paused, _ = add_hook(sessions, receiver.url, "*", name="paused")
    with sessions.begin() as session:
        set_webhook_enabled(session=session, webhook_id=paused, enabled=False)
        assert enqueue_event(session, "match", {"entry_id": 1}, key="m-1") == 2
        assert enqueue_event(session, EventType.ENTRY_QUARANTINED, {"entry_id": 1}) == 2
    with sessions() as session:
        rows = list_deliveries(session=session)
        targets = sorted((d.event_type, name) for d, name in rows)
    assert targets == [
        ("entry.quarantined", "all"),
        ("entry.quarantined", "curators"),
        ("match", "all"),
        ("match", "matches"),
    ]
    # In the caller's transaction: a rolled-back event is never notified.
    with sessions() as session:
        enqueue_event(session, EventType.MATCH, {"entry_id": 2}, key="m-2")
        session.rollback()
    with sessions.begin() as session:
        assert len(list_deliveries(session=session)) == 4
        assert remove_webhook(session=session, webhook_id=everything) == 2
        assert {name for _, name in list_deliveries(session=session)} == {"matches", "curators"}
        assert quarantines != matches_only


def test_webhook_validation(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for url in ("ftp://example.org/x", "example.org/hook", "https://user:pw@example.org/"):
            with pytest.raises(InvalidInput):
                create_webhook(session=session, name="x", url=url)
        with pytest.raises(InvalidInput, match="unknown event type"):
            create_webhook(session=session, name="x", url="https://example.org/", event_types=["y"])
        hook = create_webhook(session=session, name="x", url="https://example.org/hook")
        assert hook.event_types == "*"
        assert hook.secret.startswith("whsec_")
        with pytest.raises(Conflict):
            create_webhook(session=session, name="x", url="https://example.org/other")


def test_a_recorded_match_queues_a_payload_without_content(
    sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    add_hook(sessions, receiver.url, "match")
    with sessions.begin() as session:
        [entry] = make_entries(session, "known", 1)
        match = match_of(entry, "known", distance=3)
        [event_id] = record_matches(
            session=session,
            matches=[match],
            source=MatchSource.UPLOAD,
            content_sha256="ab" * 32,
            request_id="req-1",
            flood_guard=FloodGuardSettings(),
        )
    delivery = only_delivery(sessions)
    payload = json.loads(delivery.payload)
    assert delivery.idempotency_key == f"match-{event_id}"
    assert payload == {
        "match_event_id": event_id,
        "bank": "known",
        "bank_id": entry.bank_id,
        "entry_id": entry.id,
        "signal_type": "pdq",
        "value": entry.value,
        "distance": 3,
        "source": "upload",
        "occurred_at": payload["occurred_at"],
    }
    assert payload["occurred_at"].endswith("Z")
    assert "ab" * 32 not in delivery.payload
    assert "req-1" not in delivery.payload


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_WEBHOOK_MAX_ATTEMPTS": "1",
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_cli_failed_delivery_is_loud_and_can_be_retried(  # type: ignore[no-untyped-def]
    run, sessions: sessionmaker[Session], receiver: Receiver
) -> None:
    added = run("webhook", "add", "receiver", receiver.url, "--event", "match")
    assert added.exit_code == 0, added.output
    secret = added.stdout.splitlines()[0]
    assert secret.startswith("whsec_")
    listed = run("webhook", "list").output
    assert "receiver" in listed
    assert secret not in listed  # the secret is shown once, at creation

    enqueue(sessions, when=datetime.now(UTC))
    receiver.default = 500
    delivered = run("webhook", "deliver")
    assert delivered.exit_code == 1
    assert "webhook deliveries --failed" in delivered.stderr
    failed = run("webhook", "deliveries", "--failed")
    assert failed.exit_code == 0
    [line] = failed.stdout.splitlines()
    delivery_id, status, attempts = line.split("\t")[:3]
    assert (status, attempts) == ("failed", "attempts=1")
    assert line.endswith("HTTP 500")

    assert run("webhook", "retry", delivery_id).exit_code == 0
    assert run("webhook", "retry", delivery_id).exit_code == 2  # not failed any more
    assert run("webhook", "deliveries", "--failed").stdout == ""
    receiver.default = 200
    again = run("webhook", "deliver")
    assert again.exit_code == 0, again.output
    assert "1 delivered" in again.stdout
    assert f"{delivery_id}\tdelivered" in run("webhook", "deliveries").stdout
    verified = receiver.requests[-1]
    assert verify_signature(
        secret,
        verified.headers["brightline-timestamp"],
        verified.body,
        verified.headers["brightline-signature"],
    )
    hook_id = listed.split("\t")[0]
    assert "removed webhook" in run("webhook", "remove", hook_id).output
    assert run("webhook", "remove", hook_id).exit_code == 2
