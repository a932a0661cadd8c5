"""Events: signed webhooks through a durable outbox, and the flood guard that raises events.

Events are written to the outbox (``webhook_deliveries``) in the transaction that caused them and
sent later by :func:`deliver_due`, so a notification survives restarts and is sent at least once.
"""

from brightline.events.delivery import (
    DeliveryReport,
    RetryPolicy,
    deliver_due,
    sign,
    verify_signature,
    webhook_client,
)
from brightline.events.flood_guard import (
    Quarantined,
    count_matches,
    list_quarantined,
    release_entry,
)
from brightline.events.models import (
    DeliveryStatus,
    EntryMatchCount,
    EntryQuarantine,
    EventType,
    Webhook,
    WebhookDelivery,
)
from brightline.events.outbox import (
    create_webhook,
    enqueue_event,
    enqueue_events,
    get_webhook,
    list_deliveries,
    list_webhooks,
    queue_counts,
    remove_webhook,
    retry_delivery,
    set_webhook_enabled,
)

__all__ = [
    "DeliveryReport",
    "DeliveryStatus",
    "EntryMatchCount",
    "EntryQuarantine",
    "EventType",
    "Quarantined",
    "RetryPolicy",
    "Webhook",
    "WebhookDelivery",
    "count_matches",
    "create_webhook",
    "deliver_due",
    "enqueue_event",
    "enqueue_events",
    "get_webhook",
    "list_deliveries",
    "list_quarantined",
    "list_webhooks",
    "queue_counts",
    "release_entry",
    "remove_webhook",
    "retry_delivery",
    "set_webhook_enabled",
    "sign",
    "verify_signature",
    "webhook_client",
]
