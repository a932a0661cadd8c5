"""Entry point and error mapping for the ``brightline`` command.

Exit codes: 0 done; 1 matches found (only with ``--fail-on-match``); 2 usage error (bad
arguments, bad input, unknown bank); 3 I/O or storage error. Errors are one line on stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from brightline import __version__
from brightline.cli.context import CliContext
from brightline.errors import BrightlineError, StorageError, UpstreamError
from brightline.settings import load_settings

EXIT_OK = 0
EXIT_MATCHES = 1
EXIT_USAGE = 2
EXIT_IO = 3


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, StorageError | UpstreamError | OSError | SQLAlchemyError):
        return EXIT_IO
    return EXIT_USAGE


class BrightlineGroup(click.Group):
    """Maps errors once, for every subcommand."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (BrightlineError, OSError, SQLAlchemyError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, OSError) and exc.filename is not None:
                message = f"{exc.strerror or type(exc).__name__}: {exc.filename}"
            click.echo(f"brightline: error: {message}", err=True)
            sys.exit(exit_code_for(exc))


@click.group(cls=BrightlineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="brightline")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Brightline: match content against banks of known-abuse hashes.

    Data lives under BRIGHTLINE_HOME (default: $XDG_DATA_HOME/brightline); set
    BRIGHTLINE_DATABASE_URL to use PostgreSQL instead of the embedded SQLite database.
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except BrightlineError as exc:
        click.echo(f"brightline: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    ctx.obj = CliContext(settings=settings)
    ctx.call_on_close(ctx.obj.close)


def _register_commands() -> None:
    from brightline.cli import (
        account_commands,
        apikey_commands,
        bank_commands,
        clearinghouse_commands,
        custody_commands,
        db_commands,
        demo,
        evidence_commands,
        hash_commands,
        legal_commands,
        quarantine_commands,
        report_commands,
        scan,
        serve,
        synth_commands,
        text_commands,
        webhook_commands,
    )

    cli.add_command(db_commands.db)
    cli.add_command(bank_commands.bank)
    cli.add_command(hash_commands.hash_command)
    cli.add_command(hash_commands.match_command)
    cli.add_command(scan.scan)
    cli.add_command(demo.demo)
    cli.add_command(serve.serve)
    cli.add_command(apikey_commands.apikey)
    cli.add_command(account_commands.account)
    cli.add_command(webhook_commands.webhook)
    cli.add_command(report_commands.reports)
    cli.add_command(custody_commands.custody)
    cli.add_command(evidence_commands.evidence)
    cli.add_command(evidence_commands.keys)
    cli.add_command(legal_commands.legal)
    from brightline.cli import portal_commands  # `brightline legal portal …` (its own module)

    legal_commands.legal.add_command(portal_commands.portal)
    cli.add_command(text_commands.text)
    cli.add_command(synth_commands.synth)
    cli.add_command(clearinghouse_commands.clearinghouse)
    # The flood guard's review commands belong with the other bank commands.
    bank_commands.bank.add_command(quarantine_commands.quarantined)
    bank_commands.bank.add_command(quarantine_commands.release)


_register_commands()


def main() -> None:
    cli(prog_name="brightline")
