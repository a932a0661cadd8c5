"""``brightline clearinghouse import DIR --provider NAME``: bulk intake from a directory.

The layout is :mod:`brightline.clearinghouse.bulk_layout` (``brightline synth --cybertip-dir``
writes one); the work is :func:`brightline.clearinghouse.bulk.import_directory`. One line per
report (accepted with its id, or refused with the code and reason), a summary line, and exit
status 1 when any report was refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brightline.clearinghouse.bulk import DEFAULT_WORKERS, ImportOutcome, import_directory
from brightline.cli.context import CliContext
from brightline.evidence import EvidenceStore


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--provider", required=True, help="The registered provider the reports are from.")
@click.option(
    "--schema",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The CyberTipline XSD "
    "[BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH, BRIGHTLINE_REPORTER_SCHEMA_PATH].",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Reports per transaction and vault sync [BRIGHTLINE_CLEARINGHOUSE_IMPORT_BATCH, 500].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="Threads preparing reports (parsing, hashing, sealing into the vault); more can "
    "help when the vault's storage is slow to answer, not on a quiet local disk.",
)
@click.option("--quiet", is_flag=True, help="Print refused reports and the summary only.")
@click.pass_obj
def import_command(
    obj: CliContext,
    directory: Path,
    provider: str,
    schema: Path | None,
    batch: int | None,
    workers: int,
    quiet: bool,
) -> None:
    """Import a directory of CyberTipline reports and files as PROVIDER's finished reports.

    DIRECTORY holds NAME.xml (a <report>) and optionally NAME/ with its files, each with an
    optional FILE.fileinfo.xml (<fileDetails>). The same checks as the intake API; a refused
    report stores nothing. Exit status 1 if any report was refused.
    """
    from brightline.http.clearinghouse_routes import intake_schema_path

    settings = obj.settings
    schema_path = schema or intake_schema_path(settings)

    def show(outcome: ImportOutcome) -> None:
        if outcome.accepted:
            if not quiet:
                click.echo(f"accepted\t{outcome.name}\t{outcome.report_id}\t{outcome.files}")
        else:
            click.echo(f"refused\t{outcome.name}\t{int(outcome.code)}\t{outcome.reason}")

    summary = import_directory(
        sessions=obj.sessions,
        directory=directory,
        provider=provider,
        store=EvidenceStore.from_settings(settings),
        schema_path=schema_path,
        max_upload_bytes=settings.clearinghouse.max_upload_bytes,
        batch_size=batch or settings.clearinghouse.import_batch_size,
        workers=workers,
        on_outcome=show,
    )
    click.echo(
        f"imported {summary.accepted} reports with {summary.files} files, refused "
        f"{summary.refused}, in {summary.seconds:.2f}s ({summary.reports_per_second:.0f} reports/s)"
    )
    if summary.refused:
        sys.exit(1)
