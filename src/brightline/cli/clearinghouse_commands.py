"""``brightline clearinghouse provider add|list`` and ``expire``: the intake's providers and
housekeeping (the intake itself is ``brightline serve --role clearinghouse``); ``analyse``
(once, or every N seconds), ``runs``, ``queue``, ``feedback`` and ``investigator``."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

import click
from sqlalchemy.exc import SQLAlchemyError

from brightline.clearinghouse.analysis_models import RunTrigger
from brightline.clearinghouse.analysis_store import (
    AnalysisRun,
    agencies,
    analysis_queue,
    analysis_runs,
    record_feedback,
    replay_intake,
)
from brightline.clearinghouse.intake import (
    DEFAULT_EXPIRY,
    expire_unfinished,
    list_providers,
    register_provider,
)
from brightline.clearinghouse.investigators import (
    assign_agency,
    list_assignments,
    unassign_agency,
)
from brightline.clearinghouse.routing import Router, demo_router, load_routing_config
from brightline.clearinghouse.scheduled_analysis import load_analysis_plan, run_analysis
from brightline.clearinghouse.triage import default_triage_config, load_triage_config
from brightline.cli.context import CliContext
from brightline.errors import InvalidInput, StorageError
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


def _echo_run(run: AnalysisRun) -> None:
    click.echo(f"analysed {run.reports} reports (run {run.run_id}, weights {run.weights_version})")
    for tier, count in run.tiers.items():
        click.echo(f"{tier}\t{count}")
    click.echo(f"referrals\t{run.referrals}")
    for novelty, count in (run.files or {}).items():
        click.echo(f"files {novelty}\t{count}")
    if run.unreadable:
        ids = " ".join(str(i) for i in run.unreadable)
        click.echo(f"brightline: {len(run.unreadable)} reports could not be read: {ids}", err=True)


class _Stop:
    """Set by SIGINT or SIGTERM: a scheduled loop finishes the run in progress (its
    transaction commits or rolls back whole) and exits 0 instead of dying half-way."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def _sleep(seconds: float, stop: _Stop) -> None:
    """Sleep in short steps so that a signal ends the wait promptly."""
    deadline = time.monotonic() + seconds
    while not stop.requested:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.5))


def _run_every(seconds: int, one_pass: Callable[[], None]) -> None:
    stop = _Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        first = True
        while not stop.requested:
            try:
                one_pass()
            except (StorageError, SQLAlchemyError) as exc:
                if first:
                    raise
                # The database may be back next time; a scheduler that died here would not.
                # The error's class only: a driver's message can quote the statement's values.
                click.echo(f"brightline: analysis run failed ({type(exc).__name__})", err=True)
            first = False
            _sleep(seconds, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("stopped")


@clearinghouse.command("analyse")
@click.option("--as-of", help="Triage time, ISO 8601 with offset (default: now).")
@click.option("--weights", type=_FILE, help="Triage weights TOML (default: the shipped one).")
@click.option("--routing", type=_FILE, help="Routing config TOML (default: the demo agencies).")
@click.option("--ip-regions", type=_FILE, help="IP ranges to regions CSV (with --routing).")
@click.option("--proxies", type=_FILE, help="Proxy/VPN ranges (with --routing).")
@click.option(
    "--known-bank",
    "known_banks",
    multiple=True,
    help="A local bank of known material (md5, sha1, PDQ within its threshold); repeatable.",
)
@click.option(
    "--known-list",
    "known_lists",
    multiple=True,
    type=_FILE,
    help="A CSV of known material (header: md5, sha1, pdq, series); repeatable.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1, max=7 * 24 * 3600),
    help="Run every SECONDS until interrupted, skipping a run when no report finished since "
    "the last one.",
)
@click.option("--by", "actor", default=lambda: os.environ.get("USER") or "cli", help="Who runs it.")
@click.pass_obj
def analyse_command(
    obj: CliContext,
    as_of: str | None,
    weights: Path | None,
    routing: Path | None,
    ip_regions: Path | None,
    proxies: Path | None,
    known_banks: tuple[str, ...],
    known_lists: tuple[Path, ...],
    every: int | None,
    actor: str,
) -> None:
    """Analyse every finished intake report and store the results; prints counts per tier.

    Re-running replaces the previous results; agency feedback on referrals is kept. Without
    --known-bank or --known-list every file is "unchecked". Every run is recorded (``runs``).
    """
    if every is not None and as_of is not None:
        raise InvalidInput("--as-of is fixed, so it cannot be used with --every")
    plan = load_analysis_plan(
        routing=routing,
        ip_regions=ip_regions,
        proxies=proxies,
        weights=weights,
        known_lists=known_lists,
        known_banks=known_banks,
    )

    def one_pass(trigger: RunTrigger, force: bool) -> None:
        with obj.transaction() as session:
            run = run_analysis(
                session=session,
                plan=plan,
                trigger=trigger,
                triggered_by=actor,
                as_of=_as_of(as_of),
                force=force,
            )
        if run is None:
            click.echo(f"{utcnow().isoformat(timespec='seconds')} nothing new: skipped")
        else:
            _echo_run(run)

    if every is None:
        one_pass(RunTrigger.COMMAND, force=True)
    else:
        _run_every(every, lambda: one_pass(RunTrigger.SCHEDULE, force=False))


@clearinghouse.command("replay")
@click.option("--weights", type=_FILE, required=True, help="The new triage weights TOML.")
@click.option(
    "--against", type=_FILE, help="The weights to compare with (default: the shipped ones)."
)
@click.option(
    "--known-bank",
    "known_banks",
    multiple=True,
    help="A local bank of known material, as for analyse; repeatable.",
)
@click.option(
    "--known-list",
    "known_lists",
    multiple=True,
    type=_FILE,
    help="A CSV of known material, as for analyse; repeatable.",
)
@click.option("--as-of", help="Triage time, ISO 8601 with offset (default: now).")
@click.option(
    "--limit",
    type=click.IntRange(min=0, max=100_000),
    default=50,
    show_default=True,
    help="Reports that change tier to list (most urgent new tier first).",
)
@click.pass_obj
def replay_command(
    obj: CliContext,
    weights: Path,
    against: Path | None,
    known_banks: tuple[str, ...],
    known_lists: tuple[Path, ...],
    as_of: str | None,
    limit: int,
) -> None:
    """Show what new triage weights would move, over every finished report; stores nothing.

    Prints the tier transitions (old tier, new tier, reports), then each report that changes
    tier: id, tiers, scores and the contributions that changed. Give the same --known-bank and
    --known-list as the analysis, or new material scores nothing under either weights.
    """
    new = load_triage_config(weights)
    old = default_triage_config() if against is None else load_triage_config(against)
    plan = load_analysis_plan(known_lists=known_lists, known_banks=known_banks)
    with obj.transaction() as session:
        result = replay_intake(
            session=session,
            as_of=_as_of(as_of),
            old_weights=old,
            new_weights=new,
            lookup=plan.lookup(session),
        )
    reports = sum(result.transitions.values())
    click.echo(
        f"weights {result.old_version} -> {result.new_version}: {reports} reports, "
        f"{result.score_changed} scores changed, {len(result.moves)} change tier"
    )
    click.echo("from\tto\treports")
    for (before, after), count in sorted(
        result.transitions.items(), key=lambda item: (item[0][0].rank, item[0][1].rank)
    ):
        click.echo(f"{before}\t{after}\t{count}")
    moves = sorted(result.moves, key=lambda m: (m.new_tier.rank, -m.new_score, m.report_id))
    for move in moves[:limit]:
        changes = "; ".join(
            f"{c.feature} {c.old_points:+d} -> {c.new_points:+d}" for c in move.changes
        )
        click.echo(
            f"{move.report_id}\t{move.old_tier} -> {move.new_tier}\t"
            f"{move.old_score} -> {move.new_score}\t{changes or '-'}"
        )
    if len(moves) > limit:
        click.echo(f"... and {len(moves) - limit} more (--limit)")


@clearinghouse.command("runs")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=20, show_default=True)
@click.pass_obj
def runs_command(obj: CliContext, limit: int) -> None:
    """The latest analysis runs, newest first: id, finished, trigger, by, reports, refused,
    immediate/high/normal/informational, files known/new/unchecked, weights, seconds."""
    with obj.transaction() as session:
        for run in analysis_runs(session=session, limit=limit):
            took = (run.finished_at - run.started_at).total_seconds()
            tiers = f"{run.immediate}/{run.high}/{run.normal}/{run.informational}"
            files = f"{run.files_known}/{run.files_new}/{run.files_unchecked}"
            click.echo(
                f"{run.id}\t{run.finished_at.isoformat(timespec='seconds')}\t{run.trigger}\t"
                f"{run.triggered_by}\t{run.reports}\t{run.refused}\t{tiers}\t{files}\t"
                f"{run.weights_version}\t{took:.1f}"
            )


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


@clearinghouse.group()
def investigator() -> None:
    """Which agencies' referrals each investigator account sees (none: an empty queue)."""


def _known_agencies(obj: CliContext, routing: Path | None) -> set[str]:
    config = (demo_router() if routing is None else Router(load_routing_config(routing))).config
    known = {agency.agency_id for agency in config.agencies} | {config.national_queue}
    with obj.transaction() as session:
        known |= set(agencies(session=session))
    return known


@investigator.command("assign")
@click.argument("username")
@click.argument("agency")
@click.option(
    "--routing", type=_FILE, help="Routing config naming the agency (default: the demo agencies)."
)
@click.option("--by", "actor", default=lambda: os.environ.get("USER") or "cli", help="Who.")
@click.pass_obj
def assign_command(
    obj: CliContext, username: str, agency: str, routing: Path | None, actor: str
) -> None:
    """Let investigator USERNAME see AGENCY's referrals (the agency must be in the routing
    configuration or already have referrals)."""
    known = _known_agencies(obj, routing)
    with obj.transaction() as session:
        added = assign_agency(
            session=session, username=username, agency_id=agency, actor=actor, known_agencies=known
        )
    click.echo(f"{'assigned' if added else 'already assigned'} {agency} to {username.lower()}")


@investigator.command("unassign")
@click.argument("username")
@click.argument("agency")
@click.option("--by", "actor", default=lambda: os.environ.get("USER") or "cli", help="Who.")
@click.pass_obj
def unassign_command(obj: CliContext, username: str, agency: str, actor: str) -> None:
    """Stop investigator USERNAME seeing AGENCY's referrals."""
    with obj.transaction() as session:
        removed = unassign_agency(session=session, username=username, agency_id=agency, actor=actor)
    done = "unassigned" if removed else "was not assigned"
    click.echo(f"{done} {agency} from {username.lower()}")


@investigator.command("list")
@click.argument("username", required=False)
@click.pass_obj
def investigators_command(obj: CliContext, username: str | None) -> None:
    """One line per assignment: username, agency, assigned by, when."""
    with obj.transaction() as session:
        for one in list_assignments(session=session, username=username):
            when = one.assigned_at.isoformat(timespec="seconds")
            click.echo(f"{one.username}\t{one.agency_id}\t{one.assigned_by}\t{when}")


# Bulk intake lives in a module of its own (``brightline clearinghouse import``).
from brightline.cli.clearinghouse_import import import_command  # noqa: E402

clearinghouse.add_command(import_command)
