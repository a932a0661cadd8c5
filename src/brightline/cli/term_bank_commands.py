"""``brightline text bank`` and ``brightline text candidates``: term banks in the database and the
review queue of discovered variants.

``bank`` creates, imports, exports, shows and edits term lists kept in the database (versioned,
with provenance per term); ``candidates`` lists the variants ``brightline text discover
--bank NAME --queue`` proposed and accepts or rejects them. Registered on the ``text`` group in
:mod:`brightline.cli.text_commands`. Terms are shown only where a person asked to see a list:
never in logs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from brightline.cli.context import CliContext, default_actor
from brightline.errors import InvalidInput, NotFound
from brightline.text.models import CandidateStatus
from brightline.text.term_banks import (
    CandidateRead,
    ExportFormat,
    accept_candidate,
    add_term,
    create_list,
    export_terms,
    get_list,
    import_terms,
    list_candidates,
    list_lists,
    reject_candidate,
    remove_term,
    terms_at,
)
from brightline.text.terms import MatchMode

_BY = click.option(
    "--by",
    "actor",
    default=default_actor,
    show_default="cli:$USER",
    help="Who is acting (recorded with the change).",
)
_MODES = click.Choice([mode.value for mode in MatchMode], case_sensitive=False)
_FORMATS = click.Choice([item.value for item in ExportFormat], case_sensitive=False)


def _one_line(text: str | None) -> str:
    """Free text on one line: control characters escaped, so nothing can forge a line."""
    if text is None:
        return "-"
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


@click.group("bank")
def bank() -> None:
    """Term lists kept in the database: versioned, with provenance for every term."""


@bank.command("list")
@click.pass_obj
def bank_list(obj: CliContext) -> None:
    """Every term list: name, version, number of terms, last change."""
    with obj.transaction() as session:
        for item in list_lists(session=session):
            click.echo(
                f"{_one_line(item.name)}\tv{item.version}\t{item.terms} terms\t"
                f"{item.updated_at.isoformat(timespec='seconds')}\t{_one_line(item.description)}"
            )


@bank.command("create")
@click.argument("name")
@click.option("--description", default=None, help="What the list is for.")
@_BY
@click.pass_obj
def bank_create(obj: CliContext, name: str, description: str | None, actor: str) -> None:
    """Create the empty term list NAME (version 0)."""
    with obj.transaction() as session:
        create_list(session=session, name=name, description=description, actor=actor)
    click.echo(f"created term list {_one_line(name)}")


@bank.command("show")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=0), default=None, help="An earlier version.")
@click.pass_obj
def bank_show(obj: CliContext, name: str, version: int | None) -> None:
    """The terms of NAME (current, or at --version) with their provenance, tab-separated."""
    with obj.transaction() as session:
        found, rows = terms_at(session=session, list_name=name, version=version)
        shown = found.version if version is None else version
        click.echo(f"# {_one_line(found.name)} v{shown}: {len(rows)} terms")
        for row in rows:
            click.echo(
                "\t".join(
                    (
                        _one_line(row.text),
                        row.mode,
                        repr(row.weight),
                        f"v{row.added_version}",
                        row.source + (f":{row.source_ref}" if row.source_ref else ""),
                        _one_line(row.added_by),
                        _one_line(row.note),
                    )
                )
            )


@bank.command("import")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=_FORMATS,
    default=None,
    help="plain or csv (default: csv for a .csv file, else plain).",
)
@click.option("--create", is_flag=True, help="Create the list first if it does not exist.")
@_BY
@click.pass_obj
def bank_import(
    obj: CliContext,
    name: str,
    path: Path,
    format_name: str | None,
    create: bool,
    actor: str,
) -> None:
    """Add the terms of PATH to the list NAME, as one new version; all or nothing.

    Plain text: one term per line, "#term" for a hashtag term. CSV: term,mode,weight and an
    optional note column. A bad line stops the import with exit code 2, naming the line;
    nothing is added. Terms already on the list are left as they are.
    """
    chosen = format_name or ("csv" if path.suffix.lower() == ".csv" else "plain")
    data = path.read_bytes()
    with obj.transaction() as session:
        if create:
            try:
                get_list(session=session, name=name)
            except NotFound:
                create_list(session=session, name=name, actor=actor)
        result = import_terms(
            session=session,
            list_name=name,
            data=data,
            format=chosen,
            actor=actor,
            source_name=path.name,
        )
    click.echo(
        f"{_one_line(result.list_name)} v{result.version}: {result.added} added, "
        f"{result.already_listed} already listed, {result.repeated} repeated in the file"
    )


@bank.command("export")
@click.argument("name")
@click.option("--format", "format_name", type=_FORMATS, default="csv", show_default=True)
@click.option("--version", type=click.IntRange(min=0), default=None, help="An earlier version.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
@click.pass_obj
def bank_export(
    obj: CliContext, name: str, format_name: str, version: int | None, out: Path | None
) -> None:
    """Write the list NAME (current, or at --version) as plain text or CSV."""
    with obj.transaction() as session:
        text = export_terms(session=session, list_name=name, format=format_name, version=version)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@bank.command("add")
@click.argument("name")
@click.argument("term")
@click.option("--mode", type=_MODES, default="token", show_default=True)
@click.option("--weight", type=float, default=1.0, show_default=True)
@click.option("--note", default=None, help="A note for the people curating the list.")
@_BY
@click.pass_obj
def bank_add(
    obj: CliContext,
    name: str,
    term: str,
    mode: str,
    weight: float,
    note: str | None,
    actor: str,
) -> None:
    """Add TERM to the list NAME (a new version)."""
    with obj.transaction() as session:
        row = add_term(
            session=session,
            list_name=name,
            text=term,
            mode=mode,
            weight=weight,
            note=note,
            actor=actor,
        )
        version = row.added_version
    click.echo(f"{_one_line(name)} v{version}: term added")


@bank.command("remove")
@click.argument("name")
@click.argument("term")
@click.option("--mode", type=_MODES, default=None, help="Only this mode (default: every mode).")
@_BY
@click.pass_obj
def bank_remove(obj: CliContext, name: str, term: str, mode: str | None, actor: str) -> None:
    """Take TERM off the list NAME (a new version; earlier versions keep it)."""
    with obj.transaction() as session:
        rows = remove_term(session=session, list_name=name, text=term, mode=mode, actor=actor)
        version = rows[0].removed_version
    click.echo(f"{_one_line(name)} v{version}: {len(rows)} removed")


@click.group("candidates")
def candidates() -> None:
    """The review queue of variants proposed by `brightline text discover --queue`."""


def candidate_json(item: CandidateRead) -> str:
    return json.dumps(
        {
            "id": item.id,
            "list": item.list_name,
            "tag": item.tag,
            "status": item.status.value,
            "score": item.score,
            "ranks": item.ranks,
            "evidence": item.evidence,
            "discovered_at": item.discovered_at.isoformat(timespec="seconds"),
            "decided_by": item.decided_by,
            "decided_at": item.decided_at.isoformat(timespec="seconds")
            if item.decided_at
            else None,
            "reason": item.reason,
            "term_id": item.term_id,
        },
        ensure_ascii=False,
    )


@candidates.command("list")
@click.option("--bank", "list_name", default=None, help="Only this term list's candidates.")
@click.option(
    "--status",
    type=click.Choice([*[item.value for item in CandidateStatus], "all"]),
    default="pending",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.pass_obj
def candidates_list(obj: CliContext, list_name: str | None, status: str, limit: int) -> None:
    """Candidates as JSON lines, per list, best score first."""
    chosen = None if status == "all" else CandidateStatus(status)
    with obj.transaction() as session:
        rows = list_candidates(session=session, list_name=list_name, status=chosen, limit=limit)
    for item in rows:
        click.echo(candidate_json(item))


@candidates.command("accept")
@click.argument("candidate_id", type=click.IntRange(min=1, max=2**63 - 1))
@click.option("--mode", type=_MODES, default="hashtag", show_default=True)
@click.option("--weight", type=float, default=1.0, show_default=True)
@click.option("--reason", default=None, help="Why (recorded with the decision).")
@_BY
@click.pass_obj
def candidates_accept(
    obj: CliContext,
    candidate_id: int,
    mode: str,
    weight: float,
    reason: str | None,
    actor: str,
) -> None:
    """Accept a candidate: its tag joins its list, with the candidate as provenance."""
    with obj.transaction() as session:
        item = accept_candidate(
            session=session,
            candidate_id=candidate_id,
            actor=actor,
            reason=reason,
            mode=mode,
            weight=weight,
        )
    click.echo(f"candidate {item.id} accepted: term {item.term_id} on {_one_line(item.list_name)}")


@candidates.command("reject")
@click.argument("candidate_id", type=click.IntRange(min=1, max=2**63 - 1))
@click.option("--reason", default=None, help="Why (recorded with the decision).")
@_BY
@click.pass_obj
def candidates_reject(obj: CliContext, candidate_id: int, reason: str | None, actor: str) -> None:
    """Reject a candidate; it is remembered and never queued again for its list."""
    if reason is not None and not reason.strip():
        raise InvalidInput("--reason must not be blank")
    with obj.transaction() as session:
        item = reject_candidate(
            session=session, candidate_id=candidate_id, actor=actor, reason=reason
        )
    click.echo(f"candidate {item.id} rejected")
