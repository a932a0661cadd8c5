"""Send due webhook deliveries: leased, signed, retried with backoff, all state in the database.

Delivery is at-least-once. A worker first *claims* a due row by setting ``lease_until`` with a
conditional UPDATE (``WHERE id = ? AND (lease_until IS NULL OR lease_until < now)``): on SQLite
writers take turns, on PostgreSQL the second UPDATE waits for the first and re-checks the
condition, so exactly one worker wins each row and concurrent workers never send the same delivery
at the same time. The claim commits before the request is sent and the outcome is written in a
second transaction, so a crash in between leaves a leased row that any worker sends again once the
lease runs out: receivers must tolerate repeats, and get an ``Idempotency-Key`` to drop them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from brightline import __version__
from brightline.events.models import DeliveryStatus, Webhook, WebhookDelivery
from brightline.settings import WebhookSettings
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)


class _OriginOnly(logging.Filter):
    """Cuts httpx's INFO line of every request (``HTTP Request: POST <url> ...``) down to the
    URL's origin: a receiver's URL path or query often holds its token, and must not be logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            str(record.msg).startswith("HTTP Request:")
            and isinstance(args, tuple)
            and len(args) > 1
            and isinstance(args[1], httpx.URL)
        ):
            url = args[1]
            record.args = (args[0], f"{url.scheme}://{url.netloc.decode('ascii')}", *args[2:])
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(existing, _OriginOnly) for existing in _httpx_log.filters):
    _httpx_log.addFilter(_OriginOnly())

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class RetrySettings(Protocol):
    """What a retry policy reads from settings (webhooks and CyberTipline submissions alike)."""

    @property
    def max_attempts(self) -> int: ...
    @property
    def backoff_base_seconds(self) -> float: ...
    @property
    def backoff_cap_seconds(self) -> float: ...
    @property
    def lease_seconds(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts, exponential backoff with equal jitter, and the lease of one claim: shared by
    every durable outbox (webhook deliveries, report submissions)."""

    max_attempts: int = 12
    base_seconds: float = 5.0
    cap_seconds: float = 3600.0
    lease_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            base_seconds=settings.backoff_base_seconds,
            cap_seconds=settings.backoff_cap_seconds,
            lease_seconds=settings.lease_seconds,
        )

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: ``base·2^(attempts-1)``, capped.

        "Equal jitter": half the step is kept and the other half is random, so receivers that
        come back after an outage are not hit by every queued delivery in the same second, while
        the wait still grows exponentially.
        """
        step = min(self.cap_seconds, self.base_seconds * 2.0 ** min(attempts - 1, 60))
        return timedelta(seconds=step / 2 + rng.uniform(0, step / 2))


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did: deliveries sent successfully, to be retried, and given up on."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True, slots=True)
class _Claimed:
    """A claimed delivery, detached from any session (the request is sent outside one)."""

    id: int
    event_type: str
    idempotency_key: str
    payload: str
    attempts: int
    created_at: datetime
    url: str = field(repr=False)
    """Kept out of ``repr``, as is the secret: a receiver's URL often carries its own token."""
    secret: str = field(repr=False)


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The ``Brightline-Signature`` value: ``v1=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"``.

    Signing the timestamp with the body lets a receiver refuse replays of an old request.
    """
    raw = body.encode() if isinstance(body, str) else body
    message = str(timestamp).encode() + b"." + raw
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    header: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """For receivers: is ``header`` (``Brightline-Signature``) a valid signature of this request?

    ``body`` must be the raw request body, exactly as received (not re-serialised JSON). False
    when the timestamp is not a number or is more than ``tolerance`` seconds from ``now`` (the
    local clock by default): that refuses replays. The header may hold several comma-separated
    ``v1=`` values (e.g. while a secret is rotated); any one valid value is enough. Comparison is
    constant-time.
    """
    current = time.time() if now is None else now
    try:
        sent_at = int(str(timestamp).strip())
        # A timestamp of hundreds of digits overflows the float subtraction: not a number here.
        if abs(current - sent_at) > tolerance:
            return False
    except (ValueError, OverflowError):
        return False
    expected = sign(secret, sent_at, body).encode()
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (TypeError), and
    # the header is whatever the sender put there.
    candidates = [part.strip().encode("utf-8", "replace") for part in header.split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def webhook_client(settings: WebhookSettings) -> httpx.Client:
    """A client with short timeouts that does not follow redirects (a 3xx is a failed attempt)."""
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout_seconds),
        follow_redirects=False,
        headers={"User-Agent": f"brightline/{__version__} (webhooks)"},
    )


def _due_ids(session: Session, now: datetime, batch: int) -> list[int]:
    query = (
        select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            Webhook.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(batch)
    )
    return [int(i) for i in session.scalars(query)]


def _claim(
    sessions: sessionmaker[Session], delivery_id: int, now: datetime, lease: timedelta
) -> _Claimed | None:
    """Lease one delivery for this worker; None when another worker got it first."""
    with sessions.begin() as session:
        result = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .values(lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
        ).first()
        if row is None:
            return None
        delivery, webhook = row
        return _Claimed(
            id=delivery.id,
            event_type=delivery.event_type,
            idempotency_key=delivery.idempotency_key,
            payload=delivery.payload,
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            url=webhook.url,
            secret=webhook.secret,
        )


def request_body(claimed: _Claimed) -> bytes:
    """The JSON envelope: the same bytes on every attempt (the payload is stored canonical)."""
    envelope = {
        "type": claimed.event_type,
        "idempotency_key": claimed.idempotency_key,
        "created_at": claimed.created_at.isoformat().replace("+00:00", "Z"),
        "data": json.loads(claimed.payload),
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def _send(client: httpx.Client, claimed: _Claimed, now: datetime) -> str | None:
    """POST one delivery; None on a 2xx, else a short reason (never the response body)."""
    body = request_body(claimed)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "Brightline-Event": claimed.event_type,
        "Brightline-Delivery": str(claimed.id),
        "Idempotency-Key": claimed.idempotency_key,
        "Brightline-Timestamp": str(timestamp),
        "Brightline-Signature": sign(claimed.secret, timestamp, body),
    }
    try:
        # Streaming: the status line is all we need, so a large response body is never read.
        with client.stream("POST", claimed.url, content=body, headers=headers) as response:
            status = response.status_code
    except httpx.TimeoutException:
        return "timeout"
    except httpx.ConnectError:
        return "connection failed"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return type(exc).__name__
    if 200 <= status < 300:
        return None
    return f"HTTP {status}"


def _record(
    sessions: sessionmaker[Session],
    claimed: _Claimed,
    error: str | None,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> DeliveryStatus:
    attempts = claimed.attempts + 1
    if error is None:
        status = DeliveryStatus.DELIVERED
        values: dict[str, object] = {"delivered_at": now, "last_error": None}
    elif attempts >= policy.max_attempts:
        status = DeliveryStatus.FAILED
        values = {"last_error": error[:200]}
    else:
        status = DeliveryStatus.PENDING
        values = {"last_error": error[:200], "next_attempt_at": now + policy.delay(attempts, rng)}
    with sessions.begin() as session:
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claimed.id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
            )
            .values(status=status.value, attempts=attempts, lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    return status


def deliver_due(
    sessions: sessionmaker[Session],
    http_client: httpx.Client,
    now: datetime | None = None,
    batch: int = 50,
    *,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Send up to ``batch`` due deliveries, one at a time; returns what happened.

    ``now`` fixes the clock (tests, replays); by default the clock is read at every step, so a
    lease starts when its delivery is claimed, not when the pass began. ``stop`` ends the pass
    between deliveries (shutdown). Database errors propagate; a failed request never does.
    """
    policy = policy or RetryPolicy()
    rng = rng or random.Random()  # noqa: S311  (jitter, not security)
    lease = timedelta(seconds=policy.lease_seconds)

    def clock() -> datetime:
        return now if now is not None else utcnow()

    report = DeliveryReport()
    with sessions() as session:
        due = _due_ids(session, clock(), batch)
    for delivery_id in due:
        if stop is not None and stop.is_set():
            break
        claimed = _claim(sessions, delivery_id, clock(), lease)
        if claimed is None:
            continue
        error = _send(http_client, claimed, clock())
        outcome = _record(sessions, claimed, error, clock(), policy, rng)
        if outcome is DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif outcome is DeliveryStatus.FAILED:
            report.failed += 1
            log.warning(
                "webhook delivery %d failed for good after %d attempts: %s",
                claimed.id,
                claimed.attempts + 1,
                error,
            )
        else:
            report.retrying += 1
    return report
