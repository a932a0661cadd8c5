"""Webhooks and their outbox: register receivers, enqueue events, inspect and re-queue deliveries.

Every function takes the caller's session and never commits. :func:`enqueue_event` in
particular writes into the transaction of the event it announces (a match, a quarantine), so an
event is notified exactly when it is committed: no notification for a rolled-back match, no lost
notification for a committed one, whatever happens to the process afterwards.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.events.models import DeliveryStatus, EventType, Webhook, WebhookDelivery
from brightline.storage.base import utcnow

ALL_EVENTS = "*"
MAX_LISTED = 1000


def _check_event_types(event_types: Iterable[str]) -> str:
    """Validate and store as a comma-separated string; no types means every type."""
    chosen: list[str] = []
    known = {kind.value for kind in EventType}
    for raw in event_types:
        for part in raw.split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name != ALL_EVENTS and name not in known:
                listed = ", ".join(sorted(known))
                raise InvalidInput(f"unknown event type {name!r} (known: {listed})")
            if name not in chosen:
                chosen.append(name)
    if not chosen or ALL_EVENTS in chosen:
        return ALL_EVENTS
    return ",".join(chosen)


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput("a webhook URL must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        # Credentials in the URL would be shown by `webhook list`; the signature authenticates.
        raise InvalidInput("a webhook URL must not contain credentials")
    if len(url) > 2000:
        raise InvalidInput("a webhook URL is at most 2000 characters")
    return url


def create_webhook(
    *, session: Session, name: str, url: str, event_types: Iterable[str] = ()
) -> Webhook:
    """Register a receiver; its signing secret is generated here (``webhook.secret``)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a webhook needs a name of 1 to 200 characters")
    if session.scalar(select(Webhook.id).where(Webhook.name == name)) is not None:
        raise Conflict(f"a webhook named {name!r} already exists")
    webhook = Webhook(
        name=name,
        url=_check_url(url),
        secret=f"whsec_{secrets.token_hex(32)}",
        event_types=_check_event_types(event_types),
        enabled=True,
        created_at=utcnow(),
    )
    session.add(webhook)
    session.flush()
    return webhook


def list_webhooks(*, session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(*, session: Session, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"no webhook with id {webhook_id}")
    return webhook


def set_webhook_enabled(*, session: Session, webhook_id: int, enabled: bool) -> Webhook:
    """Pause or resume a webhook; a paused one receives no new events and sends nothing."""
    webhook = get_webhook(session=session, webhook_id=webhook_id)
    webhook.enabled = enabled
    session.flush()
    return webhook


def remove_webhook(*, session: Session, webhook_id: int) -> int:
    """Delete a webhook and its deliveries (sent or not); returns how many deliveries went."""
    get_webhook(session=session, webhook_id=webhook_id)
    dropped = session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    )
    session.execute(delete(Webhook).where(Webhook.id == webhook_id))
    session.expire_all()
    return int(dropped.rowcount)  # type: ignore[attr-defined]


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Canonical JSON (sorted keys, no spaces), so a payload is stored and sent byte-stable."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def enqueue_events(
    *,
    session: Session,
    event_type: EventType | str,
    events: Sequence[tuple[str, Mapping[str, Any]]],
    now: datetime | None = None,
) -> int:
    """Queue ``(idempotency key, payload)`` events for every enabled webhook that wants them.

    Returns how many deliveries were queued. Cheap when nothing subscribes: one small query.
    """
    kind = EventType(event_type)
    if not events:
        return 0
    hooks = [
        hook
        for hook in session.scalars(select(Webhook).where(Webhook.enabled.is_(True)))
        if hook.wants(kind.value)
    ]
    if not hooks:
        return 0
    when = now or utcnow()
    rows = [
        {
            "webhook_id": hook.id,
            "event_type": kind.value,
            "idempotency_key": key,
            "payload": encode_payload(payload),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": when,
            "created_at": when,
        }
        for key, payload in events
        for hook in hooks
    ]
    session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def enqueue_event(
    session: Session,
    event_type: EventType | str,
    payload: Mapping[str, Any],
    *,
    key: str | None = None,
    now: datetime | None = None,
) -> int:
    """Queue one event (see :func:`enqueue_events`); ``key`` defaults to a fresh random one.

    Give a key derived from the event (``match-123``) where there is one: receivers see it as
    ``Idempotency-Key`` and can use it to join the event to Brightline's own records.
    """
    return enqueue_events(
        session=session,
        event_type=event_type,
        events=[(key or uuid.uuid4().hex, payload)],
        now=now,
    )


def list_deliveries(
    *,
    session: Session,
    status: DeliveryStatus | None = None,
    webhook_id: int | None = None,
    limit: int = 100,
) -> list[tuple[WebhookDelivery, str]]:
    """The newest deliveries first, each with its webhook's name."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidInput(f"limit must be between 1 and {MAX_LISTED}")
    query = select(WebhookDelivery, Webhook.name).join(
        Webhook, Webhook.id == WebhookDelivery.webhook_id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    rows = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit))
    return [(delivery, name) for delivery, name in rows]


def retry_delivery(*, session: Session, delivery_id: int, now: datetime | None = None) -> None:
    """Re-queue a failed delivery with a fresh set of attempts, due at once."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery with id {delivery_id}")
    if delivery.status != DeliveryStatus.FAILED.value:
        raise Conflict(f"delivery {delivery_id} is {delivery.status}, not failed")
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now or utcnow(),
            lease_until=None,
        )
    )
    session.expire(delivery)


def queue_counts(*, session: Session) -> dict[str, int]:
    """Pending and failed deliveries (for queue-depth metrics and the CLI's exit code).

    Delivered rows are not counted: they are the bulk of the table and nobody waits on them.
    """
    counts = {DeliveryStatus.PENDING.value: 0, DeliveryStatus.FAILED.value: 0}
    for status, count in session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(list(counts)))
        .group_by(WebhookDelivery.status)
    ):
        counts[status] = int(count)
    return counts


def prune_delivered(*, session: Session, before: datetime) -> int:
    """Delete delivered rows older than ``before`` (failed ones stay until handled)."""
    result = session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status == DeliveryStatus.DELIVERED.value,
            WebhookDelivery.delivered_at < before,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
