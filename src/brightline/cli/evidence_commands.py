"""``brightline evidence`` and ``brightline keys``: preservation, holds, purge, packages, keys."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select

from brightline.cli.context import CliContext, default_actor
from brightline.custody import custody_key
from brightline.errors import InvalidInput
from brightline.evidence.models import HoldKind, LegalHold
from brightline.evidence.package import build_package, confirm_extract, verify_package
from brightline.evidence.preservation import pending_reports, preserve_finished_reports
from brightline.evidence.retention import (
    access_preserved,
    place_hold,
    purge_expired,
    refs_for_account,
    refs_for_case,
    refs_for_report,
    release_hold,
    renew_hold,
)
from brightline.evidence.rotation import retire_old_keys, rotate_master_key
from brightline.evidence.store import EvidenceStore, RewrapReport, write_private_file

_BY = click.option(
    "--by",
    "actor",
    default=default_actor,
    show_default="cli:$USER",
    help="Who is acting (recorded in the chain of custody).",
)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


@click.group("evidence")
def evidence() -> None:
    """Preserved evidence: preservation, legal holds, the purge, production packages."""


@evidence.command("preserve")
@click.pass_obj
def preserve(obj: CliContext) -> None:
    """Preserve every finished report not yet preserved. Exit status 1 if one could not be."""
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        done, failed = preserve_finished_reports(
            session=session,
            store=store,
            custody_key=custody_key(obj.settings),
            settings=obj.settings.preservation,
        )
    for outcome in done:
        click.echo(
            f"report {outcome.report_id}: preserved {outcome.objects} object(s), "
            f"{outcome.banked} new hash(es) in the reported bank"
        )
    for report_id, reason in failed:
        click.echo(f"brightline: report {report_id} not preserved: {reason}", err=True)
    if not done and not failed:
        click.echo("nothing to preserve", err=True)
    if failed:
        sys.exit(1)


@evidence.command("pending")
@click.pass_obj
def pending(obj: CliContext) -> None:
    """Finished reports whose evidence is not preserved yet. Exit status 1 if there are any."""
    with obj.transaction() as session:
        waiting = pending_reports(session=session)
    for report_id in waiting:
        click.echo(f"report {report_id}")
    if waiting:
        click.echo(f"brightline: {len(waiting)} finished report(s) not preserved", err=True)
        sys.exit(1)


@evidence.group("hold")
def hold() -> None:
    """Legal holds: keep evidence past its retention (e.g. a § 2703(f) request)."""


@hold.command("place")
@click.option("--report", "report_id", type=int, help="Everything preserved for this report.")
@click.option("--case", "case_id", type=int, help="Everything preserved for this case.")
@click.option(
    "--account", metavar="SERVICE:USER_ID", help="Everything preserved for a platform account."
)
@click.option("--reference", required=True, help="The request's reference (agency, number).")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in HoldKind]),
    default=HoldKind.PRESERVATION_REQUEST.value,
    show_default=True,
)
@click.option("--reason", help="Why (kept in the chain of custody).")
@_BY
@click.pass_obj
def hold_place(
    obj: CliContext,
    report_id: int | None,
    case_id: int | None,
    account: str | None,
    reference: str,
    kind: str,
    reason: str | None,
    actor: str,
) -> None:
    """Place a hold on preserved evidence (exactly one of --report, --case, --account)."""
    if sum(value is not None for value in (report_id, case_id, account)) != 1:
        raise InvalidInput("name exactly one of --report, --case and --account")
    with obj.transaction() as session:
        if report_id is not None:
            refs = refs_for_report(session=session, report_id=report_id)
        elif case_id is not None:
            refs = refs_for_case(session=session, case_id=case_id)
        else:
            service, _sep, user_id = (account or "").partition(":")
            if not service or not user_id:
                raise InvalidInput("--account is SERVICE:USER_ID")
            refs = refs_for_account(session=session, service=service, platform_user_id=user_id)
        placed = place_hold(
            session=session,
            custody_key=custody_key(obj.settings),
            refs=refs,
            kind=HoldKind(kind),
            reference=reference,
            reason=reason,
            actor=actor,
            settings=obj.settings.preservation,
        )
        click.echo(f"hold {placed.id}: {len(refs)} object(s) held until {_when(placed.expires_at)}")


@hold.command("renew")
@click.argument("hold_id", type=int)
@click.option("--reason", help="Why (kept in the chain of custody).")
@_BY
@click.pass_obj
def hold_renew(obj: CliContext, hold_id: int, reason: str | None, actor: str) -> None:
    """Extend hold HOLD_ID by another hold period (as often as settings allow)."""
    with obj.transaction() as session:
        renewed = renew_hold(
            session=session,
            custody_key=custody_key(obj.settings),
            hold_id=hold_id,
            actor=actor,
            reason=reason,
            settings=obj.settings.preservation,
        )
        click.echo(f"hold {hold_id}: held until {_when(renewed.expires_at)}")


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the chain of custody).")
@_BY
@click.pass_obj
def hold_release(obj: CliContext, hold_id: int, reason: str, actor: str) -> None:
    """End hold HOLD_ID now; its evidence falls back to its retention."""
    with obj.transaction() as session:
        release_hold(
            session=session,
            custody_key=custody_key(obj.settings),
            hold_id=hold_id,
            actor=actor,
            reason=reason,
        )
    click.echo(f"hold {hold_id}: released")


@evidence.command("holds")
@click.option("--all", "show_all", is_flag=True, help="Include ended holds.")
@click.pass_obj
def holds(obj: CliContext, show_all: bool) -> None:
    """Legal holds: id, kind, reference, expiry, renewals, state."""
    with obj.transaction() as session:
        query = select(LegalHold).order_by(LegalHold.expires_at, LegalHold.id)
        if not show_all:
            query = query.where(LegalHold.released_at.is_(None))
        for row in session.scalars(query):
            state = "active" if row.released_at is None else f"ended {_when(row.released_at)}"
            click.echo(
                f"{row.id}\t{row.kind}\t{row.reference}\tuntil {_when(row.expires_at)}\t"
                f"renewals {row.renewals}/{row.max_renewals}\t{state}"
            )


@evidence.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would be destroyed; change nothing.")
@click.pass_obj
def purge(obj: CliContext, dry_run: bool) -> None:
    """Destroy evidence past its retention that no hold or open review keeps."""
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        report = purge_expired(
            session=session,
            store=store,
            custody_key=custody_key(obj.settings),
            dry_run=dry_run,
        )
    verb = "would destroy" if dry_run else "destroyed"
    click.echo(
        f"{verb} {len(report.purged)} object(s); kept {report.held} under hold and "
        f"{report.in_review} in review; {len(report.lapsed_holds)} hold(s) lapsed"
    )


@evidence.command("package")
@click.argument("report_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--reason", required=True, help="The legal process this answers.")
@_BY
@click.pass_obj
def package(obj: CliContext, report_id: int, out: Path, reason: str, actor: str) -> None:
    """Write the production package of REPORT_ID (files in the clear: handle with care)."""
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        summary = build_package(
            session=session,
            store=store,
            custody_key=custody_key(obj.settings),
            report_id=report_id,
            actor=actor,
            reason=reason,
            out=out,
        )
    click.echo(
        f"wrote {out}: {summary.files} file(s), {summary.custody_entries} custody entries, "
        f"manifest sha256 {summary.manifest_sha256}"
    )


@evidence.command("verify-package")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--against-log",
    is_flag=True,
    help="Also confirm the custody extract against this platform's log (needs the database).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def verify_package_command(obj: CliContext, path: Path, against_log: bool, as_json: bool) -> None:
    """Check a production package. Exit status 1 if anything does not verify."""
    check = verify_package(path)
    if against_log:
        with obj.transaction() as session:
            problems = confirm_extract(
                session=session, custody_key=custody_key(obj.settings), entries=check.entries
            )
        for problem in problems:
            check.fail(problem)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": check.ok,
                    "members": check.members,
                    "custody_entries": check.custody_entries,
                    "manifest_sha256": check.manifest_sha256,
                    "problems": check.problems,
                },
                indent=2,
            )
        )
    else:
        for problem in check.problems:
            click.echo(problem)
        if check.ok:
            click.echo(
                f"package verified: {check.members} member(s), "
                f"{check.custody_entries} custody entries, manifest sha256 "
                f"{check.manifest_sha256}"
            )
    if not check.ok:
        sys.exit(1)


@evidence.command("extract")
@click.argument("ref")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--reason", required=True, help="Why it is opened (kept in the chain of custody).")
@_BY
@click.pass_obj
def extract(obj: CliContext, ref: str, out: Path, reason: str, actor: str) -> None:
    """Decrypt one preserved object REF to a new owner-only file, recorded as an access."""
    store = EvidenceStore.from_settings(obj.settings)
    with obj.transaction() as session:
        access_preserved(
            session=session,
            custody_key=custody_key(obj.settings),
            ref=ref,
            actor=actor,
            reason=reason,
        )
        write_private_file(out, lambda: store.iter_chunks(ref))
    click.echo(f"wrote {out} (recorded in the chain of custody)")


@click.group("keys")
def keys() -> None:
    """The evidence vault's master keys (envelope encryption)."""


@keys.command("status")
@click.pass_obj
def keys_status(obj: CliContext) -> None:
    """The active master key id, and how many objects are wrapped under each key."""
    store = EvidenceStore.from_settings(obj.settings)
    click.echo(f"active\t{store.keyring.active_id.hex()}")
    for old_id in store.keyring.key_ids[1:]:
        click.echo(f"old\t{old_id.hex()}")
    for kid, count in sorted(store.key_status().items()):
        click.echo(f"objects\t{kid}\t{count}")


@keys.command("rotate")
@click.pass_obj
def keys_rotate(obj: CliContext) -> None:
    """Make a new master key active and re-wrap every data key under it (content untouched)."""
    report = rotate_master_key(EvidenceStore.from_settings(obj.settings))
    _echo_rewrap(report.rewrap, f"new active key {report.active_key_id}")
    click.echo("old keys stay readable until `brightline keys retire`")


@keys.command("rewrap")
@click.pass_obj
def keys_rewrap(obj: CliContext) -> None:
    """Re-wrap every data key under the active master key (e.g. after changing the env key)."""
    store = EvidenceStore.from_settings(obj.settings)
    _echo_rewrap(store.rewrap_all(), f"active key {store.keyring.active_id.hex()}")


@keys.command("retire")
@click.pass_obj
def keys_retire(obj: CliContext) -> None:
    """Remove every master key but the active one from the key file, once none is needed."""
    report = retire_old_keys(EvidenceStore.from_settings(obj.settings))
    _echo_rewrap(report.rewrap, f"active key {report.active_key_id}")
    retired = ", ".join(report.retired_key_ids) or "none"
    click.echo(f"retired: {retired}")


def _echo_rewrap(report: RewrapReport, label: str) -> None:
    click.echo(
        f"{label}: {report.rewrapped} re-wrapped, {report.current} already current, "
        f"{report.reencrypted} version-1 object(s) re-encrypted, "
        f"{report.orphans_removed} unused data key(s) removed"
    )
    if report.failed:
        click.echo(f"brightline: {len(report.failed)} object(s) could not be re-wrapped", err=True)
        sys.exit(1)
