"""``brightline bank``: create, fill, inspect and retire hash banks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

import click

from brightline.banks import service
from brightline.banks.formats import FORMATS, SNIFF_BYTES, get_format, guess_format
from brightline.banks.records import EntryRecord
from brightline.cli.context import CliContext
from brightline.errors import InvalidInput
from brightline.signals import HashingLimits, hash_file
from brightline.signals.video import encode_video_hash

CLASSIFICATION = click.Choice(["A1", "A2", "B1", "B2"], case_sensitive=False)


@click.group()
def bank() -> None:
    """Manage banks: named lists of hashes that share labels."""


@bank.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the bank holds and where it comes from.")
@click.option(
    "--threshold",
    "pdq_threshold",
    type=click.IntRange(0, 63),
    default=31,
    show_default=True,
    help="PDQ match threshold (Hamming distance) for this bank.",
)
@click.pass_obj
def create(obj: CliContext, name: str, description: str, pdq_threshold: int) -> None:
    """Create an empty bank called NAME."""
    with obj.transaction() as session:
        service.create_bank(
            session=session, name=name, description=description, pdq_threshold=pdq_threshold
        )
    click.echo(f"created bank {name}")


@bank.command("list")
@click.pass_obj
def list_(obj: CliContext) -> None:
    """List banks with their state and PDQ threshold."""
    with obj.transaction() as session:
        banks = service.list_banks(session=session)
        for item in banks:
            state = "enabled" if item.enabled else "disabled"
            click.echo(f"{item.name}\t{state}\tthreshold={item.pdq_threshold}\t{item.description}")
        if not banks:
            click.echo("no banks yet: create one with `brightline bank create NAME`", err=True)


@bank.command("rename")
@click.argument("name")
@click.argument("new_name")
@click.pass_obj
def rename(obj: CliContext, name: str, new_name: str) -> None:
    """Rename bank NAME to NEW_NAME."""
    with obj.transaction() as session:
        service.rename_bank(session=session, name=name, new_name=new_name)
    click.echo(f"renamed bank {name} to {new_name}")


@bank.command("set")
@click.argument("name")
@click.option("--threshold", "pdq_threshold", type=click.IntRange(0, 63), default=None)
@click.option("--description", default=None)
@click.pass_obj
def set_(obj: CliContext, name: str, pdq_threshold: int | None, description: str | None) -> None:
    """Change a bank's PDQ threshold or description."""
    with obj.transaction() as session:
        service.update_bank(
            session=session, name=name, pdq_threshold=pdq_threshold, description=description
        )
    click.echo(f"updated bank {name}")


def _entry_selector(
    signal_type: str | None, value: str | None, external_id: str | None
) -> dict[str, str | None]:
    if value is not None and external_id is not None:
        raise InvalidInput("give either --value or --external-id, not both")
    return {"signal_type": signal_type, "value": value, "external_id": external_id}


@bank.command("disable")
@click.argument("name")
@click.option("--value", default=None, help="Disable only the entry with this hash value.")
@click.option("--signal-type", default=None, help="Signal type of --value (e.g. pdq, md5).")
@click.option("--external-id", default=None, help="Disable only entries with this external id.")
@click.pass_obj
def disable(
    obj: CliContext, name: str, value: str | None, signal_type: str | None, external_id: str | None
) -> None:
    """Disable a bank (or some of its entries): it stops matching at once; nothing is deleted."""
    _toggle(obj, name, False, _entry_selector(signal_type, value, external_id))


@bank.command("enable")
@click.argument("name")
@click.option("--value", default=None, help="Enable only the entry with this hash value.")
@click.option("--signal-type", default=None, help="Signal type of --value (e.g. pdq, md5).")
@click.option("--external-id", default=None, help="Enable only entries with this external id.")
@click.pass_obj
def enable(
    obj: CliContext, name: str, value: str | None, signal_type: str | None, external_id: str | None
) -> None:
    """Enable a disabled bank (or some of its entries) again."""
    _toggle(obj, name, True, _entry_selector(signal_type, value, external_id))


def _toggle(obj: CliContext, name: str, enabled: bool, selector: dict[str, str | None]) -> None:
    word = "enabled" if enabled else "disabled"
    with obj.transaction() as session:
        if selector["value"] is None and selector["external_id"] is None:
            service.update_bank(session=session, name=name, enabled=enabled)
            click.echo(f"{word} bank {name}")
            return
        count = service.set_entries_enabled(
            session=session, bank_name=name, enabled=enabled, registry=obj.registry, **selector
        )
    click.echo(f"{word} {count} entries in bank {name}")


@bank.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@click.pass_obj
def delete(obj: CliContext, name: str, yes: bool) -> None:
    """Delete bank NAME and all its entries (disable it instead to keep them)."""
    if not yes and not click.confirm(f"delete bank {name} and all its entries?"):
        raise click.Abort
    with obj.transaction() as session:
        count = service.delete_bank(session=session, name=name)
    click.echo(f"deleted bank {name} ({count} entries)")


@bank.command("stats")
@click.argument("name")
@click.pass_obj
def stats(obj: CliContext, name: str) -> None:
    """Entry counts of bank NAME by signal type and classification."""
    with obj.transaction() as session:
        result = service.bank_stats(session=session, bank_name=name)
    state = "enabled" if result.enabled else "disabled"
    click.echo(f"bank {result.name}: {state}, PDQ threshold {result.pdq_threshold}")
    click.echo(f"entries: {result.total}")
    for signal_type, (on, off) in sorted(result.by_signal_type.items()):
        click.echo(f"  {signal_type:10} {on:>10} enabled {off:>10} disabled")
    for classification, count in sorted(result.by_classification.items()):
        click.echo(f"  class {classification:14} {count:>10}")


@bank.command("add")
@click.argument("name")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--classification", type=CLASSIFICATION, default=None)
@click.option("--series", default=None, help="Series name to record with the entries.")
@click.option("--note", default=None, help="A note to record with the entries.")
@click.pass_obj
def add(
    obj: CliContext,
    name: str,
    files: tuple[Path, ...],
    classification: str | None,
    series: str | None,
    note: str | None,
) -> None:
    """Hash media FILES and add their signals to bank NAME.

    Every exact hash is added; the PDQ hash only when its quality is high enough, since a weak
    hash would match unrelated content.
    """
    limits = HashingLimits.from_settings(obj.settings)
    records: list[EntryRecord] = []
    for number, path in enumerate(files, start=1):
        content = hash_file(path, limits=limits, dihedral=False)
        for signal in content.signals:
            weak = (
                signal.quality is not None and signal.quality < obj.settings.pdq_quality_threshold
            )
            if weak:
                click.echo(f"{path}: PDQ quality {signal.quality} too low, not added", err=True)
                continue
            records.append(
                EntryRecord(
                    signal_type=signal.signal_type,
                    value=signal.value,
                    classification=classification.upper() if classification else None,
                    series=series,
                    note=note,
                    line=number,
                )
            )
        if content.video is not None:
            records.append(
                EntryRecord(
                    signal_type="vpdq",
                    value=encode_video_hash(content.video),
                    classification=classification.upper() if classification else None,
                    series=series,
                    note=note,
                    line=number,
                )
            )
        elif content.unhashable is not None:
            click.echo(f"{path}: no perceptual hash ({content.unhashable.reason})", err=True)
    with obj.transaction() as session:
        report = service.add_signals(
            session=session, bank_name=name, records=records, registry=obj.registry
        )
    click.echo(f"bank {name}: {report.added} added, {report.unchanged} already present")


def _open_input(path: str) -> tuple[BinaryIO, str]:
    if path == "-":
        return sys.stdin.buffer, "<stdin>"
    return open(path, "rb"), Path(path).name


@bank.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(FORMATS)),
    default=None,
    help="List format (default: guessed from the file).",
)
@click.option("--signal-type", default=None, help="Signal type of a plain list (e.g. pdq, md5).")
@click.option(
    "--vics-scheme",
    type=click.Choice(["us", "legacy"]),
    default=None,
    help="Category numbering of a VICS file (default: us).",
)
@click.option(
    "--vics-skip",
    default=None,
    help="VICS categories not to import, comma-separated, or 'none' "
    "(default: non_pertinent,comparison,uncategorised).",
)
@click.option("--list-name", default=None, help="Provenance to record: the list's name.")
@click.option("--skip-invalid", is_flag=True, help="Skip bad records (each is reported).")
@click.option("--create", is_flag=True, help="Create the bank if it does not exist.")
@click.pass_obj
def import_(
    obj: CliContext,
    name: str,
    file: str,
    format_name: str | None,
    signal_type: str | None,
    vics_scheme: str | None,
    vics_skip: str | None,
    list_name: str | None,
    skip_invalid: bool,
    create: bool,
) -> None:
    """Import a hash list FILE ('-' for stdin) into bank NAME.

    Idempotent (re-importing adds nothing) and all-or-nothing: a malformed record aborts the
    import naming the line, unless --skip-invalid, which reports every skipped record.
    """
    stream, source = _open_input(file)
    try:
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(stream, "peek") else b""
        chosen = format_name or guess_format(source, head)
        options: dict[str, str] = {}
        if signal_type:
            if chosen != "plain":
                raise InvalidInput("--signal-type applies only to the plain format")
            options["signal_type"] = signal_type
        if vics_scheme or vics_skip:
            if chosen != "vics":
                raise InvalidInput("--vics-scheme and --vics-skip apply only to the vics format")
            options |= {"scheme": vics_scheme or "us"} | ({"skip": vics_skip} if vics_skip else {})
        records = get_format(chosen, **options).read(stream)
        with obj.transaction() as session:
            if create and not service.bank_exists(session=session, name=name):
                service.create_bank(session=session, name=name)
            report = service.import_records(
                session=session,
                bank_name=name,
                records=records,
                registry=obj.registry,
                source=source,
                skip_invalid=skip_invalid,
                list_name=list_name,
            )
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    for skipped in report.skipped:
        click.echo(f"skipped {source}:{skipped.line}: {skipped.reason}", err=True)
    for reason, count in sorted(records.skipped.items()):
        click.echo(f"left out {count} records: {reason}", err=True)
    click.echo(
        f"bank {name}: {report.added} added, {report.unchanged} already present, "
        f"{report.disabled} withdrawn, {len(report.skipped)} skipped ({chosen} format)"
    )


@bank.command("export")
@click.argument("name")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(FORMATS)),
    default="csv",
    show_default=True,
)
@click.option("--signal-type", default=None, help="Only this signal type (required for plain).")
@click.option("--include-disabled", is_flag=True, help="Also export disabled entries.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Output file (default: stdout).",
)
@click.pass_obj
def export(
    obj: CliContext,
    name: str,
    format_name: str,
    signal_type: str | None,
    include_disabled: bool,
    output: str,
) -> None:
    """Export bank NAME as a hash list (streamed)."""
    if format_name == "plain" and signal_type is None:
        raise InvalidInput("the plain format holds one signal type: give --signal-type")
    writer = get_format(format_name)
    with obj.transaction() as session:
        records = service.iter_entries(
            session=session,
            bank_name=name,
            signal_type=signal_type,
            include_disabled=include_disabled,
        )
        if output == "-":
            writer.write(records, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            # Write beside the target and rename on success: a failed export (a record the
            # format cannot express) never leaves a truncated list behind.
            target = Path(output)
            partial = target.with_name(target.name + ".partial")
            try:
                with partial.open("wb") as stream:
                    writer.write(records, stream)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
