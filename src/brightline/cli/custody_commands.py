"""``brightline custody``: verify the chain of custody and list its entries.

``verify`` exits 0 when the log is intact and 1 when verification failed (one line per problem on
stdout); bad arguments are exit 2 and an unreachable database exit 3, as everywhere.
"""

from __future__ import annotations

import json
import sys

import click

from brightline.cli.context import CliContext
from brightline.custody import (
    CustodyEntry,
    custody_entries,
    custody_key,
    parse_anchor,
    verify_custody,
)
from brightline.errors import InvalidInput

EXIT_VERIFICATION_FAILED = 1


def _anchor(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[int, str] | None:
    return None if value is None else parse_anchor(value)


def _positive_id(_ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    # Parsed here rather than by click.INT so that a bad value is one line, like other errors.
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) < 2**63:
        raise InvalidInput(f"--{param.name} takes a positive integer id")
    return int(value)


def _one_line(text: str) -> str:
    """Text as one line: anything unprintable (line breaks, tabs, bidi controls) escaped."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _row(entry: CustodyEntry) -> str:
    ids = " ".join(
        f"{name}={value}"
        for name, value in (
            ("report", entry.report_id),
            ("case", entry.case_id),
            ("hold", entry.hold_id),
        )
        if value is not None
    )
    details = " ".join(f"{key}={value}" for key, value in sorted(entry.details.items()))
    return "\t".join(
        (
            str(entry.seq),
            entry.at.isoformat(timespec="seconds"),
            entry.event.value,
            entry.object_ref or "-",
            ids or "-",
            _one_line(entry.actor),
            _one_line(entry.reason) if entry.reason else "-",
            _one_line(details) or "-",
        )
    )


@click.group("custody")
def custody() -> None:
    """The chain of custody of preserved evidence (docs/custody.md)."""


@custody.command("verify")
@click.option(
    "--anchor",
    metavar="SEQ:HASH",
    callback=_anchor,
    help="A head printed by an earlier verify: also catches entries removed from the end.",
)
@click.pass_obj
def verify(obj: CliContext, anchor: tuple[int, str] | None) -> None:
    """Check every entry's hash, MAC, position and link. Exit status 1 if any check fails.

    On success, prints the head (SEQ HASH): record it outside the database (a ticket, the
    production package's cover note) and pass it as --anchor next time, since a log cut short
    at its end can only be told from an intact one by an anchor.
    """
    key = custody_key(obj.settings)
    with obj.transaction() as session:
        result = verify_custody(session=session, key=key, anchor=anchor)
    if result.ok:
        head = (
            f"head {result.head_seq} {result.head_hash}"
            if result.head_seq is not None
            else "no head yet"
        )
        click.echo(f"custody log verified: {result.checked} entries, {head}")
        return
    for problem in result.problems:
        click.echo(f"seq {problem.seq}: {problem.kind}: {problem.message}")
    click.echo(
        f"brightline: custody log verification failed: {len(result.problems)} problem(s) in "
        f"{result.checked} entries",
        err=True,
    )
    sys.exit(EXIT_VERIFICATION_FAILED)


@custody.command("show")
@click.option("--object", "object_ref", metavar="REF", help="Entries about this vault object.")
@click.option("--report", metavar="ID", callback=_positive_id, help="Entries about this report.")
@click.option("--hold", metavar="ID", callback=_positive_id, help="Entries about this legal hold.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (as in packages).")
@click.pass_obj
def show(
    obj: CliContext,
    object_ref: str | None,
    report: int | None,
    hold: int | None,
    as_json: bool,
) -> None:
    """List entries in log order: all of them, or those matching any of the filters.

    One line each: seq, time, event, object, ids, actor, reason, details. The entries are shown
    as stored: `brightline custody verify` says whether they are intact.
    """
    with obj.transaction() as session:
        entries = custody_entries(
            session=session,
            object_refs=[object_ref] if object_ref is not None else None,
            report_id=report,
            hold_id=hold,
        )
    for entry in entries:
        click.echo(json.dumps(entry.to_json(), sort_keys=True) if as_json else _row(entry))
    if not entries:
        click.echo("no custody entries", err=True)
