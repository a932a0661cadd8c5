"""``brightline bank quarantined|release``: entries the flood guard disabled, and their review."""

from __future__ import annotations

import click

from brightline.cli.context import CliContext
from brightline.events import list_quarantined, release_entry


@click.command("quarantined")
@click.option("--all", "include_released", is_flag=True, help="Include released entries.")
@click.pass_obj
def quarantined(obj: CliContext, include_released: bool) -> None:
    """Entries the flood guard disabled: entry id, bank, signal type, value, when, why."""
    with obj.transaction() as session:
        rows = list_quarantined(session=session, include_released=include_released)
        for row in rows:
            held = row.quarantine
            released = (
                f"released {held.released_at.isoformat(timespec='seconds')}"
                if held.released_at
                else "quarantined"
            )
            click.echo(
                f"{row.entry.id}\t{row.bank.name}\t{row.entry.signal_type}\t{row.entry.value}\t"
                f"{held.quarantined_at.isoformat(timespec='seconds')}\t{released}\t{held.reason}"
            )
    if not rows:
        click.echo("no quarantined entries", err=True)


@click.command("release")
@click.argument("entry_id", type=int)
@click.pass_obj
def release(obj: CliContext, entry_id: int) -> None:
    """Enable quarantined entry ENTRY_ID again after review (it matches within seconds)."""
    with obj.transaction() as session:
        release_entry(session=session, entry_id=entry_id)
    click.echo(f"released entry {entry_id}")
