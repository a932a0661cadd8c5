"""``brightline legal``: agencies, officers, legal requests, their deadlines and escalations.

Staff use these to enter process received by other channels (email, mail, service), verify and
work it, and to run the escalation clock from a timer (``brightline legal escalate`` every few
minutes: exit status 1 while any request is overdue). Times are shown in the configured legal
time zone (``BRIGHTLINE_LEGAL_TIMEZONE``); anything a person typed is shown escaped on one line.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click

from brightline.cli.context import CliContext, default_actor
from brightline.custody import custody_key
from brightline.errors import InvalidInput
from brightline.evidence.store import EvidenceStore, write_private_file
from brightline.legal import (
    AttachmentUpload,
    IdentifierKind,
    LegalContext,
    LegalRequestCreate,
    LegalRequestRead,
    LegalSettings,
    NamedAccount,
    NamedIdentifier,
    ProductionRead,
    RequestStatus,
    RequestType,
    add_agency,
    add_note,
    add_officer,
    assign_request,
    build_production,
    deliver_production,
    due_escalations,
    get_request,
    list_agencies,
    list_officers,
    list_productions,
    list_requests,
    load_legal_settings,
    open_production_for_download,
    renew_preservation,
    request_detail,
    resolve_flag,
    revoke_officer,
    submit_request,
    transition_request,
    verify_officer,
)
from brightline.legal.accountability import (
    OUTCOMES,
    DurationSummary,
    describe_duration,
    legal_stats,
    parse_period,
    transparency_report,
    write_stats_csv,
    write_transparency_csv,
)
from brightline.legal.models import Channel
from brightline.legal.officers import agency_domains
from brightline.legal.platform_hooks import legal_context

_BY = click.option(
    "--by",
    "actor",
    default=default_actor,
    show_default="cli:$USER",
    help="Who is acting (recorded in the request's history).",
)


def _context(obj: CliContext) -> LegalContext:
    """Settings, the custody key and the hooks configured in the environment
    (``BRIGHTLINE_LEGAL_SNAPSHOT_*``, ``BRIGHTLINE_LEGAL_EXPORT_*``, ``BRIGHTLINE_LEGAL_PAGER``)."""
    return legal_context(load_legal_settings(), custody_key(obj.settings))


def _one_line(text: str | None) -> str:
    """Free text on one line: control characters escaped, so nothing can forge a line."""
    if text is None:
        return "-"
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _when(moment: datetime | None, settings: LegalSettings) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(settings.calendar.zone).isoformat(timespec="minutes")


def _parse_when(text: str, settings: LegalSettings, *, what: str, date_is_end: bool) -> datetime:
    """An ISO 8601 time; without an offset it is in the legal time zone. A bare date is the
    end of that day there (a due date) or refused (a time received)."""
    calendar = settings.calendar
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if not date_is_end:
                raise InvalidInput(f"{what} needs a time, not only a date")
            return calendar.end_of_day(day)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{what} is an ISO 8601 date or time (2026-12-09T17:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar.zone)
    return moment


def _account(text: str) -> NamedAccount:
    service, _sep, user_id = text.partition(":")
    if not service or not user_id:
        raise InvalidInput("--account is SERVICE:USER_ID")
    return NamedAccount(service, user_id)


def _identifier(text: str) -> NamedIdentifier:
    kind, _sep, value = text.partition(":")
    kinds = [k.value for k in IdentifierKind if k is not IdentifierKind.ACCOUNT]
    if kind not in kinds or not value:
        raise InvalidInput(f"--identifier is KIND:VALUE, KIND one of {', '.join(kinds)}")
    return NamedIdentifier(IdentifierKind(kind), value)


def _read_attachment(path: Path, settings: LegalSettings, position: int) -> AttachmentUpload:
    size = path.stat().st_size
    if size > settings.max_attachment_bytes:
        raise InvalidInput(
            f"attachment {position} is {size} bytes; attachments are at most "
            f"{settings.max_attachment_bytes} bytes"
        )
    return AttachmentUpload(path.read_bytes(), path.name)


def _line(item: LegalRequestRead, settings: LegalSettings) -> str:
    request = item.request
    upcoming = item.next_deadline
    due = f"{upcoming.kind.value} {_when(upcoming.due_at, settings)}" if upcoming else "-"
    fields = [
        str(request.id),
        request.type,
        request.status,
        _one_line(item.agency_name),
        _one_line(request.external_reference),
        f"next {due}",
        f"assignee {_one_line(request.assignee)}",
        f"flags {item.open_flags}",
    ]
    if item.overdue:
        fields.append("OVERDUE")
    return "\t".join(fields)


@click.group("legal")
def legal() -> None:
    """Legal process: agencies, officers, requests, deadlines and escalations."""


# -- agencies and officers --------------------------------------------------------------------


@legal.group("agency")
def agency() -> None:
    """Law-enforcement agencies and the email domains their officers use."""


@agency.command("add")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, required=True, help="Allowed email domain.")
@click.option("--jurisdiction", help="Country, state or authority.")
@_BY
@click.pass_obj
def agency_add(
    obj: CliContext, name: str, domains: tuple[str, ...], jurisdiction: str | None, actor: str
) -> None:
    """Register agency NAME (at least one --domain)."""
    with obj.transaction() as session:
        added = add_agency(
            session=session, name=name, domains=domains, jurisdiction=jurisdiction, actor=actor
        )
        click.echo(f"agency {added.id}: {_one_line(added.name)}")


@agency.command("list")
@click.pass_obj
def agency_list(obj: CliContext) -> None:
    """Agencies: id, name, jurisdiction, allowed domains."""
    with obj.transaction() as session:
        for row in list_agencies(session=session):
            domains = ",".join(agency_domains(session=session, agency_id=row.id))
            click.echo(f"{row.id}\t{_one_line(row.name)}\t{_one_line(row.jurisdiction)}\t{domains}")


@legal.group("officer")
def officer() -> None:
    """Officers: registered, verified by staff, revoked."""


@officer.command("add")
@click.option("--agency", "agency_id", type=int, required=True)
@click.option("--handle", required=True, help="A non-personal name: officer-0001.")
@click.option("--name", required=True)
@click.option("--email", required=True, help="At one of the agency's domains.")
@_BY
@click.pass_obj
def officer_add(
    obj: CliContext, agency_id: int, handle: str, name: str, email: str, actor: str
) -> None:
    """Register an officer (unverified until `officer verify`)."""
    with obj.transaction() as session:
        added = add_officer(
            session=session,
            agency_id=agency_id,
            handle=handle,
            name=name,
            email=email,
            actor=actor,
        )
        click.echo(f"officer {added.id}: {added.handle} (unverified)")


@officer.command("verify")
@click.argument("officer_id", type=int)
@_BY
@click.pass_obj
def officer_verify(obj: CliContext, officer_id: int, actor: str) -> None:
    """Mark OFFICER_ID verified: their requests are accepted from now on."""
    with obj.transaction() as session:
        verify_officer(session=session, officer_id=officer_id, actor=actor)
    click.echo(f"officer {officer_id}: verified")


@officer.command("revoke")
@click.argument("officer_id", type=int)
@click.option("--reason", required=True)
@_BY
@click.pass_obj
def officer_revoke(obj: CliContext, officer_id: int, reason: str, actor: str) -> None:
    """Stop accepting OFFICER_ID's requests (their open requests are flagged)."""
    with obj.transaction() as session:
        revoke_officer(session=session, officer_id=officer_id, actor=actor, reason=reason)
    click.echo(f"officer {officer_id}: revoked")


@officer.command("list")
@click.option("--agency", "agency_id", type=int)
@click.pass_obj
def officer_list(obj: CliContext, agency_id: int | None) -> None:
    """Officers: id, agency, handle, state."""
    with obj.transaction() as session:
        for row in list_officers(session=session, agency_id=agency_id):
            click.echo(f"{row.id}\t{row.agency_id}\t{row.handle}\t{row.state}")


# -- requests ---------------------------------------------------------------------------------


@legal.group("request")
def request() -> None:
    """One legal request: enter, verify, assign, note, move, renew, show."""


@request.command("add")
@click.option("--type", "kind", type=click.Choice([t.value for t in RequestType]), required=True)
@click.option("--agency", "agency_id", type=int, required=True)
@click.option("--officer", "officer_id", type=int, required=True)
@click.option("--reference", required=True, help="The agency's own reference number.")
@click.option("--basis", required=True, help="The legal basis (statute, court, docket).")
@click.option("--account", "accounts", multiple=True, metavar="SERVICE:USER_ID")
@click.option("--identifier", "identifiers", multiple=True, metavar="KIND:VALUE")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A document: PDF, PNG/JPEG scan or plain text.",
)
@click.option("--due", help="A date the process itself sets (ISO 8601; a date: end of day).")
@click.option("--received", help="When it reached the platform, if not now (ISO 8601).")
@click.option("--jurisdiction", help="Required for a foreign request.")
@_BY
@click.pass_obj
def request_add(
    obj: CliContext,
    kind: str,
    agency_id: int,
    officer_id: int,
    reference: str,
    basis: str,
    accounts: tuple[str, ...],
    identifiers: tuple[str, ...],
    attachments: tuple[Path, ...],
    due: str | None,
    received: str | None,
    jurisdiction: str | None,
    actor: str,
) -> None:
    """Enter a request received by another channel (email, mail, service of process)."""
    context = _context(obj)
    settings = context.settings
    create = LegalRequestCreate(
        type=RequestType(kind),
        agency_id=agency_id,
        officer_id=officer_id,
        external_reference=reference,
        legal_basis=basis,
        accounts=[_account(text) for text in accounts],
        identifiers=[_identifier(text) for text in identifiers],
        attachments=[
            _read_attachment(path, settings, number)
            for number, path in enumerate(attachments, start=1)
        ],
        stated_due_at=(_parse_when(due, settings, what="--due", date_is_end=True) if due else None),
        received_at=(
            _parse_when(received, settings, what="--received", date_is_end=False)
            if received
            else None
        ),
        jurisdiction=jurisdiction,
        channel=Channel.STAFF,
    )
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        added = submit_request(
            session=session, context=context, store=store, create=create, actor=actor
        )
        flags = request_detail(session=session, request_id=added.id).flags
        click.echo(
            f"request {added.id} received ({added.type}): verification due "
            f"{_when(added.verify_due_at, settings)}"
        )
        for flag in flags:
            click.echo(f"flag {flag.id}: {flag.message}")


@request.command("verify")
@click.argument("request_id", type=int)
@_BY
@click.pass_obj
def request_verify(obj: CliContext, request_id: int, actor: str) -> None:
    """Verify REQUEST_ID; a preservation request places its legal holds at once."""
    context = _context(obj)
    with obj.transaction() as session:
        transition_request(
            session=session,
            context=context,
            request_id=request_id,
            to=RequestStatus.VERIFIED,
            actor=actor,
        )
        detail = request_detail(session=session, request_id=request_id)
        upcoming = detail.summary.next_deadline
        due = (
            f"{upcoming.kind.value} due {_when(upcoming.due_at, context.settings)}"
            if upcoming
            else "-"
        )
        click.echo(f"request {request_id}: verified; next {due}")
        if detail.hold_ids:
            click.echo(f"holds: {', '.join(str(hold) for hold in detail.hold_ids)}")
        for flag in detail.flags:
            if flag.resolved_at is None:
                click.echo(f"flag {flag.id}: {flag.message}")


@request.command("assign")
@click.argument("request_id", type=int)
@click.argument("assignee", required=False)
@_BY
@click.pass_obj
def request_assign(obj: CliContext, request_id: int, assignee: str | None, actor: str) -> None:
    """Assign REQUEST_ID to ASSIGNEE (omit it to unassign)."""
    with obj.transaction() as session:
        assign_request(session=session, request_id=request_id, assignee=assignee, actor=actor)
    click.echo(f"request {request_id}: assigned to {_one_line(assignee)}")


@request.command("note")
@click.argument("request_id", type=int)
@click.argument("text")
@_BY
@click.pass_obj
def request_note(obj: CliContext, request_id: int, text: str, actor: str) -> None:
    """Add a note to REQUEST_ID."""
    with obj.transaction() as session:
        note = add_note(session=session, request_id=request_id, author=actor, body=text)
        click.echo(f"request {request_id}: note {note.id} added")


@request.command("transition")
@click.argument("request_id", type=int)
@click.argument("status", type=click.Choice([s.value for s in RequestStatus]))
@click.option("--reason", help="Required to reject or withdraw.")
@_BY
@click.pass_obj
def request_transition(
    obj: CliContext, request_id: int, status: str, reason: str | None, actor: str
) -> None:
    """Move REQUEST_ID to STATUS (withdrawn or rejected release its legal holds)."""
    with obj.transaction() as session:
        moved = transition_request(
            session=session,
            context=_context(obj),
            request_id=request_id,
            to=RequestStatus(status),
            actor=actor,
            reason=reason,
        )
        click.echo(f"request {request_id}: {moved.status}")


@request.command("renew")
@click.argument("request_id", type=int)
@_BY
@click.pass_obj
def request_renew(obj: CliContext, request_id: int, actor: str) -> None:
    """Renew preservation request REQUEST_ID (and its holds) for another period."""
    context = _context(obj)
    with obj.transaction() as session:
        renewed = renew_preservation(
            session=session, context=context, request_id=request_id, actor=actor
        )
        click.echo(
            f"request {request_id}: preserved until "
            f"{_when(renewed.preserve_until, context.settings)} "
            f"(renewals {renewed.renewals}/{renewed.max_renewals})"
        )


@request.command("resolve-flag")
@click.argument("flag_id", type=int)
@_BY
@click.pass_obj
def request_resolve_flag(obj: CliContext, flag_id: int, actor: str) -> None:
    """Mark flag FLAG_ID dealt with."""
    with obj.transaction() as session:
        flag = resolve_flag(session=session, flag_id=flag_id, actor=actor)
        click.echo(f"flag {flag_id} of request {flag.request_id}: resolved")


@request.command("show")
@click.argument("request_id", type=int)
@click.pass_obj
def request_show(obj: CliContext, request_id: int) -> None:
    """Everything about REQUEST_ID: dates, accounts, holds, attachments, flags, history."""
    settings = load_legal_settings()
    with obj.transaction() as session:
        detail = request_detail(session=session, request_id=request_id)
        item = detail.summary
        row = item.request
        upcoming = item.next_deadline
        lines = [
            f"request {row.id}\t{row.type}\t{row.status}" + ("\tOVERDUE" if item.overdue else ""),
            f"agency\t{_one_line(item.agency_name)} ({row.agency_id})",
            f"officer\t{item.officer_handle} ({row.officer_id})",
            f"reference\t{_one_line(row.external_reference)}",
            f"basis\t{_one_line(row.legal_basis)}",
            f"jurisdiction\t{_one_line(row.jurisdiction)}",
            f"received\t{_when(row.received_at, settings)} by {_one_line(row.received_by)}",
            f"verified\t{_when(row.verified_at, settings)}",
            f"assignee\t{_one_line(row.assignee)}",
            "next\t"
            + (f"{upcoming.kind.value} {_when(upcoming.due_at, settings)}" if upcoming else "-"),
        ]
        if row.preserve_until is not None:
            lines.append(
                f"preserved until\t{_when(row.preserve_until, settings)} "
                f"(renewals {row.renewals}/{row.max_renewals})"
            )
        if row.closed_at is not None:
            lines.append(f"closed\t{_when(row.closed_at, settings)} {_one_line(row.close_reason)}")
        for account in detail.accounts:
            named = (
                f"{account.service}:{account.value}"
                if account.kind == IdentifierKind.ACCOUNT
                else f"{account.kind}:{account.value}"
            )
            hold = f" (hold {account.hold_id})" if account.hold_id is not None else ""
            lines.append(f"named #{account.id}\t{_one_line(named)}\t{account.state}{hold}")
        for attachment in detail.attachments:
            lines.append(
                f"attachment #{attachment.id}\t{attachment.media_type}\t{attachment.size} bytes"
                f"\t{attachment.ref}"
            )
        for flag in detail.flags:
            state = "open" if flag.resolved_at is None else "resolved"
            lines.append(f"flag #{flag.id}\t{state}\t{flag.code}: {flag.message}")
        for escalation in detail.escalations:
            lines.append(
                f"escalation\t{_when(escalation.recorded_at, settings)}\t{escalation.name} on "
                f"{escalation.deadline} due {_when(escalation.due_at, settings)}"
            )
        for produced in list_productions(session=session, request_id=request_id):
            lines.append(_production_line(produced, settings))
        for note in detail.notes:
            lines.append(
                f"note #{note.id}\t{_when(note.at, settings)}\t{_one_line(note.author)}: "
                f"{_one_line(note.body)}"
            )
        for event in detail.events:
            moved = f"\t{event.from_status or ''}->{event.to_status}" if event.to_status else ""
            lines.append(
                f"event\t{_when(event.at, settings)}\t{event.kind}\t{_one_line(event.actor)}"
                f"{moved}\t{event.details}"
            )
    for line in lines:
        click.echo(line)


@legal.command("requests")
@click.option("--open", "open_only", is_flag=True, help="Only requests still open.")
@click.option("--overdue", "overdue_only", is_flag=True, help="Only requests past a deadline.")
@click.option("--assignee", help="Only those assigned to this person.")
@click.pass_obj
def requests(obj: CliContext, open_only: bool, overdue_only: bool, assignee: str | None) -> None:
    """Requests, emergency first, then by next deadline."""
    settings = load_legal_settings()
    with obj.transaction() as session:
        for item in list_requests(
            session=session, open_only=open_only, overdue_only=overdue_only, assignee=assignee
        ):
            click.echo(_line(item, settings))


@legal.command("escalate")
@click.pass_obj
def escalate(obj: CliContext) -> None:
    """Record due reminders and escalations, expire ended preservations (run from a timer).

    Exit status 1 while any open request is overdue.
    """
    context = _context(obj)
    with obj.transaction() as session:
        result = due_escalations(session=session, context=context)
        for escalation in result.recorded:
            paged = " (paged on-call)" if escalation.paged else ""
            click.echo(
                f"request {escalation.request_id}: {escalation.name} on its {escalation.deadline} "
                f"deadline, due {_when(escalation.due_at, context.settings)}{paged}"
            )
        for request_id in result.expired:
            click.echo(f"request {request_id}: preservation period ended without renewal")
    if result.overdue:
        listed = ", ".join(str(request_id) for request_id in result.overdue)
        click.echo(f"brightline: {len(result.overdue)} request(s) overdue: {listed}", err=True)
        sys.exit(1)


# -- accountability ---------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell, so the figures line up in a terminal."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} is a date (YYYY-MM-DD)") from None


def _figure(summary: DurationSummary | None) -> str:
    if summary is None:
        return "-"
    if not summary.count:
        return "no data"
    median, p90 = describe_duration(summary.median), describe_duration(summary.p90)
    return f"{median} / {p90} (n={summary.count})"


@legal.command("stats")
@click.option("--since", help="First day received (YYYY-MM-DD, in the legal time zone).")
@click.option("--until", help="Last day received, included (YYYY-MM-DD).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the monthly figures to this CSV file (durations in hours).",
)
@click.pass_obj
def stats(obj: CliContext, since: str | None, until: str | None, csv_path: Path | None) -> None:
    """Response times per month and type (median / 90th percentile), open and overdue work.

    Months are those the requests were received in, in BRIGHTLINE_LEGAL_TIMEZONE.
    """
    settings = load_legal_settings()
    calendar = settings.calendar
    first, last = _day(since, "--since"), _day(until, "--until")
    if first is not None and last is not None and last < first:
        raise InvalidInput("--until is before --since")
    with obj.transaction() as session:
        figures = legal_stats(
            session=session,
            since=calendar.start_of_day(first) if first is not None else None,
            until=calendar.end_of_day(last) if last is not None else None,
            zone=calendar.zone,
        )
    click.echo(f"Response times (median / 90th percentile), months in {figures.zone}:")
    if figures.months:
        rows = [
            [
                row.month,
                row.type.value,
                str(row.received),
                _figure(row.acknowledge),
                _figure(row.preserve),
                _figure(row.produce),
            ]
            for row in figures.months
        ]
        header = ["month", "type", "received", "acknowledge", "preserve", "produce"]
        for line in _table(header, rows):
            click.echo(line)
    else:
        click.echo("no data: no request was received in this range")
    click.echo("")
    click.echo(f"Open now: {figures.open_count}, overdue: {figures.overdue_count}")
    counts = [
        [kind.value, str(figures.open_by_type[kind]), str(figures.overdue_by_type[kind])]
        for kind in RequestType
        if figures.open_by_type[kind]
    ]
    if counts:
        for line in _table(["type", "open", "overdue"], counts):
            click.echo(line)
        click.echo("")
        click.echo("Waiting longest:")
        waiting = [
            [
                str(item.request_id),
                item.type.value,
                item.status.value,
                _one_line(item.agency_name),
                _one_line(item.reference),
                describe_duration(item.waiting),
                f"{item.next_due_kind.value} {_when(item.next_due_at, settings)}"
                if item.next_due_kind is not None
                else "-",
                "OVERDUE" if item.overdue else "",
            ]
            for item in figures.slowest_open
        ]
        header = ["id", "type", "status", "agency", "reference", "waiting", "next deadline", ""]
        for line in _table(header, waiting):
            click.echo(line)
    if csv_path is not None:
        with csv_path.open("w", encoding="utf-8", newline="") as out:
            written = write_stats_csv(figures, out)
        click.echo(f"wrote {written} row(s) to {_one_line(str(csv_path))}")


@legal.command("transparency")
@click.option("--period", required=True, help="A year (2026), half (2026-H2) or quarter (2026-Q3).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the report to this CSV file.",
)
@click.pass_obj
def transparency(obj: CliContext, period: str, csv_path: Path | None) -> None:
    """Requests received in a period by type and outcome, as a transparency report publishes.

    Outcomes are as of now: a request still being worked on is counted as open.
    """
    settings = load_legal_settings()
    chosen = parse_period(period)
    with obj.transaction() as session:
        report = transparency_report(session=session, period=chosen, zone=settings.calendar.zone)
    click.echo(
        f"Legal process received in {chosen.label} ({chosen.first_day} to {chosen.last_day}, "
        f"{report.zone}), outcomes as of {_when(report.generated_at, settings)}:"
    )
    rows = [
        [
            row.type.value if row.type is not None else "total",
            *(str(row.outcomes[outcome]) for outcome in OUTCOMES),
            str(row.total),
            f"{row.produced_share:.0%}" if row.produced_share is not None else "no data",
        ]
        for row in [*report.rows, report.totals]
    ]
    for line in _table(["type", *OUTCOMES, "total", "some data produced"], rows):
        click.echo(line)
    if csv_path is not None:
        with csv_path.open("w", encoding="utf-8", newline="") as out:
            written = write_transparency_csv(report, out)
        click.echo(f"wrote {written} row(s) to {_one_line(str(csv_path))}")


# -- productions ------------------------------------------------------------------------------


@legal.group("production")
def production() -> None:
    """Productions: packages of vault evidence and platform exports answering a request."""


def _production_line(item: ProductionRead, settings: LegalSettings) -> str:
    state = "complete" if item.complete else "partial"
    return (
        f"production {item.id} of request {item.request_id}: {item.status.value}, {state}, "
        f"{item.vault_members} vault + {item.platform_members} platform file(s), export "
        f"{item.export.value}, built {_when(item.built_at, settings)}, delivered "
        f"{_when(item.delivered_at, settings)}, {item.downloads} download(s), manifest "
        f"{item.manifest_sha256}"
    )


@production.command("build")
@click.argument("request_id", type=int)
@_BY
@click.pass_obj
def production_build(obj: CliContext, request_id: int, actor: str) -> None:
    """Build a production for REQUEST_ID (a verified request moves to in_progress)."""
    context = _context(obj)
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        built = build_production(
            session=session, context=context, store=store, request_id=request_id, actor=actor
        )
        click.echo(_production_line(built, context.settings))


@production.command("deliver")
@click.argument("production_id", type=int)
@click.option(
    "--rolling",
    is_flag=True,
    help="More productions will follow: keep the request open (default: close it as produced "
    "or partially_produced).",
)
@_BY
@click.pass_obj
def production_deliver(obj: CliContext, production_id: int, rolling: bool, actor: str) -> None:
    """Make PRODUCTION_ID available to the requesting agency in the portal."""
    context = _context(obj)
    with obj.transaction() as session:
        delivered = deliver_production(
            session=session,
            context=context,
            production_id=production_id,
            actor=actor,
            final=not rolling,
        )
        status = get_request(session=session, request_id=delivered.request_id).status
        click.echo(f"{_production_line(delivered, context.settings)}; request {status}")


@production.command("list")
@click.argument("request_id", type=int)
@click.pass_obj
def production_list(obj: CliContext, request_id: int) -> None:
    """The productions of REQUEST_ID, oldest first."""
    settings = load_legal_settings()
    with obj.transaction() as session:
        found = list_productions(session=session, request_id=request_id)
    if not found:
        click.echo(f"request {request_id}: no productions")
    for item in found:
        click.echo(_production_line(item, settings))


@production.command("download")
@click.argument("production_id", type=int)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the package (a new file, owner-only).",
)
@_BY
@click.pass_obj
def production_download(obj: CliContext, production_id: int, out: Path, actor: str) -> None:
    """Write PRODUCTION_ID's package to --out (recorded in the chain of custody)."""
    if out.exists():
        raise InvalidInput(f"{_one_line(str(out))} already exists")
    context = _context(obj)
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        _name, data = open_production_for_download(
            session=session,
            context=context,
            store=store,
            production_id=production_id,
            agency_id=None,
            officer_id=None,
            actor=actor,
        )
        write_private_file(out, lambda: [data])
    click.echo(f"production {production_id}: {len(data)} bytes written to {_one_line(str(out))}")
