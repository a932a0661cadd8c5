"""``brightline clearinghouse provider add|list`` and ``expire``: the intake's providers and
housekeeping (the intake itself is ``brightline serve --role clearinghouse``)."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from brightline.clearinghouse.analysis_store import analyse_intake, analysis_queue, record_feedback
from brightline.clearinghouse.intake import (
    DEFAULT_EXPIRY,
    expire_unfinished,
    list_providers,
    register_provider,
)
from brightline.clearinghouse.networks import load_ip_regions, load_proxy_ranges
from brightline.clearinghouse.routing import Router, demo_router, load_routing_config
from brightline.clearinghouse.triage import load_triage_config
from brightline.cli.context import CliContext
from brightline.errors import InvalidInput
from brightline.storage.base import utcnow


def _read_password(from_stdin: bool) -> str:
    """From stdin (one line, for scripts) or an interactive prompt that asks twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def clearinghouse() -> None:
    """The clearinghouse intake: providers allowed to submit reports, and housekeeping."""


@clearinghouse.group()
def provider() -> None:
    """Providers that submit reports to the intake (HTTP Basic auth; argon2 hashes kept)."""


@provider.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def add(obj: CliContext, name: str, password_stdin: bool) -> None:
    """Allow provider NAME to submit; the password is prompted for (12 characters or more)."""
    password = _read_password(password_stdin)
    with obj.transaction() as session:
        created = register_provider(session=session, name=name, password=password)
        provider_id, provider_name = created.id, created.name
    click.echo(f"added provider {provider_id} {provider_name}")


@provider.command("list")
@click.pass_obj
def list_command(obj: CliContext) -> None:
    """One line per provider: id, name, state, created."""
    with obj.transaction() as session:
        for one in list_providers(session=session):
            state = "disabled" if one.disabled_at is not None else "active"
            created = one.created_at.isoformat(timespec="seconds")
            click.echo(f"{one.id}\t{one.name}\t{state}\t{created}")


@clearinghouse.command("expire")
@click.option(
    "--older-than-hours",
    type=click.FloatRange(min=0, min_open=True, max=24 * 365),
    default=DEFAULT_EXPIRY.total_seconds() / 3600,
    show_default=True,
    help="Expire unfinished reports received longer ago than this.",
)
@click.pass_obj
def expire(obj: CliContext, older_than_hours: float) -> None:
    """Expire unfinished reports nobody finished (the service also does it every 5 minutes)."""
    with obj.transaction() as session:
        count = expire_unfinished(session=session, older_than=timedelta(hours=older_than_hours))
    click.echo(f"expired {count} unfinished reports")


def _router(routing: Path | None, ip_regions: Path | None, proxies: Path | None) -> Router:
    """The operator's routing when given, else the shipped demo agencies (synthetic only)."""
    if routing is None:
        if ip_regions is not None or proxies is not None:
            raise InvalidInput("--ip-regions and --proxies need --routing")
        return demo_router()
    return Router(
        load_routing_config(routing),
        None if ip_regions is None else load_ip_regions(ip_regions),
        None if proxies is None else load_proxy_ranges(proxies),
    )


def _as_of(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("--as-of must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidInput("--as-of needs a UTC offset (e.g. 2026-12-01T00:00:00+00:00)")
    return parsed


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@clearinghouse.command("analyse")
@click.option("--as-of", help="Triage time, ISO 8601 with offset (default: now).")
@click.option("--weights", type=_FILE, help="Triage weights TOML (default: the shipped one).")
@click.option("--routing", type=_FILE, help="Routing config TOML (default: the demo agencies).")
@click.option("--ip-regions", type=_FILE, help="IP ranges to regions CSV (with --routing).")
@click.option("--proxies", type=_FILE, help="Proxy/VPN ranges (with --routing).")
@click.pass_obj
def analyse_command(
    obj: CliContext,
    as_of: str | None,
    weights: Path | None,
    routing: Path | None,
    ip_regions: Path | None,
    proxies: Path | None,
) -> None:
    """Analyse every finished intake report and store the results; prints counts per tier.

    Re-running replaces the previous results; agency feedback on referrals is kept.
    """
    config = None if weights is None else load_triage_config(weights)
    router = _router(routing, ip_regions, proxies)
    with obj.transaction() as session:
        run = analyse_intake(session=session, as_of=_as_of(as_of), router=router, weights=config)
    click.echo(f"analysed {run.reports} reports (weights {run.weights_version})")
    for tier, count in run.tiers.items():
        click.echo(f"{tier}\t{count}")
    click.echo(f"referrals\t{run.referrals}")
    if run.unreadable:
        ids = " ".join(str(i) for i in run.unreadable)
        click.echo(f"brightline: {len(run.unreadable)} reports could not be read: {ids}", err=True)


@clearinghouse.command("queue")
@click.option("--agency", help="Only reports referred to this agency id.")
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=50, show_default=True)
@click.pass_obj
def queue_command(obj: CliContext, agency: str | None, limit: int) -> None:
    """Analysed reports, most urgent first: tier, score, report id, top reasons."""
    with obj.transaction() as session:
        for row in analysis_queue(session=session, agency=agency, limit=limit):
            reasons = "; ".join(row.top_reasons) or "-"
            click.echo(f"{row.tier}\t{row.score}\t{row.report_id}\t{reasons}")


@clearinghouse.command("feedback")
@click.argument("referral_id", type=click.IntRange(min=1, max=2**63 - 1))
@click.option("--status", required=True, help="new, under_investigation, arrest, referred, closed.")
@click.option(
    "--reason",
    help="Closing reason (closed only): unable_to_locate, "
    "provider_response_lacked_information, no_offence_found, other.",
)
@click.option(
    "--by", "actor", default=lambda: os.environ.get("USER") or "cli", help="Who reports it."
)
@click.pass_obj
def feedback_command(
    obj: CliContext, referral_id: int, status: str, reason: str | None, actor: str
) -> None:
    """Record an agency's feedback on referral REFERRAL_ID (status and closing reason)."""
    with obj.transaction() as session:
        referral = record_feedback(
            session=session, referral_id=referral_id, status=status, reason=reason, actor=actor
        )
        shown = f"{referral.id} {referral.status} {referral.closing_reason or '-'}"
    click.echo(f"recorded referral {shown}")
