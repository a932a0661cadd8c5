"""``brightline db``: schema management."""

from __future__ import annotations

import click

from brightline.cli.context import CliContext
from brightline.storage import upgrade_database


@click.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.pass_obj
def upgrade(obj: CliContext) -> None:
    """Apply pending migrations (creates the database if it does not exist)."""
    upgrade_database(obj.engine)
    click.echo("database schema is up to date")
