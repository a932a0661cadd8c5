"""``brightline webhook``: signed event notifications to other systems, and their outbox."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from brightline.cli.context import CliContext
from brightline.events import (
    DeliveryStatus,
    EventType,
    RetryPolicy,
    create_webhook,
    deliver_due,
    list_deliveries,
    list_webhooks,
    queue_counts,
    remove_webhook,
    retry_delivery,
    set_webhook_enabled,
    webhook_client,
)

EVENT_TYPES = click.Choice([kind.value for kind in EventType] + ["*"], case_sensitive=False)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


@click.group()
def webhook() -> None:
    """Manage webhooks: HTTPS receivers of signed match and quarantine events."""


@webhook.command("add")
@click.argument("name")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=EVENT_TYPES,
    help="An event type to receive (repeat for several); default: every type.",
)
@click.pass_obj
def add(obj: CliContext, name: str, url: str, events: tuple[str, ...]) -> None:
    """Send events to URL; prints the signing secret (the only time it is shown)."""
    with obj.transaction() as session:
        hook = create_webhook(session=session, name=name, url=url, event_types=events)
        hook_id, secret, types = hook.id, hook.secret, hook.event_types
    click.echo(secret)
    click.echo(
        f"webhook {hook_id} ({types}): give the secret to the receiver now, it is not shown again",
        err=True,
    )


@webhook.command("list")
@click.pass_obj
def list_(obj: CliContext) -> None:
    """One line per webhook: id, state, event types, created, name, URL."""
    with obj.transaction() as session:
        hooks = list_webhooks(session=session)
        for hook in hooks:
            state = "enabled" if hook.enabled else "disabled"
            click.echo(
                f"{hook.id}\t{state}\t{hook.event_types}\t{_when(hook.created_at)}\t"
                f"{hook.name}\t{hook.url}"
            )
    if not hooks:
        click.echo("no webhooks yet: add one with `brightline webhook add NAME URL`", err=True)


@webhook.command("remove")
@click.argument("webhook_id", type=int)
@click.pass_obj
def remove(obj: CliContext, webhook_id: int) -> None:
    """Delete webhook WEBHOOK_ID and its deliveries (pending ones are never sent)."""
    with obj.transaction() as session:
        dropped = remove_webhook(session=session, webhook_id=webhook_id)
    click.echo(f"removed webhook {webhook_id} ({dropped} deliveries)")


@webhook.command("disable")
@click.argument("webhook_id", type=int)
@click.pass_obj
def disable(obj: CliContext, webhook_id: int) -> None:
    """Pause WEBHOOK_ID: no new events are queued for it and queued ones wait."""
    with obj.transaction() as session:
        set_webhook_enabled(session=session, webhook_id=webhook_id, enabled=False)
    click.echo(f"disabled webhook {webhook_id}")


@webhook.command("enable")
@click.argument("webhook_id", type=int)
@click.pass_obj
def enable(obj: CliContext, webhook_id: int) -> None:
    """Resume WEBHOOK_ID: queued deliveries are sent again."""
    with obj.transaction() as session:
        set_webhook_enabled(session=session, webhook_id=webhook_id, enabled=True)
    click.echo(f"enabled webhook {webhook_id}")


@webhook.command("deliveries")
@click.option("--failed", is_flag=True, help="Only deliveries that failed for good.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_obj
def deliveries(obj: CliContext, failed: bool, limit: int) -> None:
    """Newest first: id, status, attempts, next attempt, event, webhook, last error."""
    status = DeliveryStatus.FAILED if failed else None
    with obj.transaction() as session:
        rows = list_deliveries(session=session, status=status, limit=limit)
        for delivery, hook_name in rows:
            when = (
                _when(delivery.next_attempt_at)
                if delivery.status == DeliveryStatus.PENDING.value
                else "-"
            )
            click.echo(
                f"{delivery.id}\t{delivery.status}\tattempts={delivery.attempts}\t{when}\t"
                f"{delivery.event_type}\t{hook_name}\t{delivery.last_error or ''}"
            )
    if not rows:
        click.echo("no failed deliveries" if failed else "no deliveries", err=True)


@webhook.command("retry")
@click.argument("delivery_id", type=int)
@click.pass_obj
def retry(obj: CliContext, delivery_id: int) -> None:
    """Re-queue failed delivery DELIVERY_ID (sent at the next pass, with fresh attempts)."""
    with obj.transaction() as session:
        retry_delivery(session=session, delivery_id=delivery_id)
    click.echo(f"re-queued delivery {delivery_id}")


@webhook.command("deliver")
@click.pass_obj
def deliver(obj: CliContext) -> None:
    """Send the due deliveries now (one pass). Exit status 1 if any delivery has failed."""
    config = obj.settings.webhooks
    with webhook_client(config) as client:
        report = deliver_due(
            obj.sessions,
            client,
            batch=config.batch_size,
            policy=RetryPolicy.from_settings(config),
        )
    with obj.transaction() as session:
        counts = queue_counts(session=session)
    click.echo(
        f"{report.delivered} delivered, {report.retrying} to retry, {report.failed} failed now; "
        f"{counts['pending']} pending, {counts['failed']} failed in all"
    )
    if counts["failed"]:
        click.echo(
            f"brightline: {counts['failed']} deliveries failed: "
            "see `brightline webhook deliveries --failed`",
            err=True,
        )
        sys.exit(1)
