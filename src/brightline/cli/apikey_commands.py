"""``brightline apikey create|list|revoke``: keys for the HTTP service."""

from __future__ import annotations

import click

from brightline.access import Role, create_api_key, list_api_keys, parse_roles, revoke_api_key
from brightline.cli.context import CliContext

ROLE_HELP = ", ".join(role.value for role in Role)


@click.group()
def apikey() -> None:
    """Create, list and revoke API keys (stored hashed; a key is shown once)."""


@apikey.command("create")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help=f"Repeat or comma-separate: {ROLE_HELP}.",
)
@click.pass_obj
def create(obj: CliContext, name: str, roles: tuple[str, ...]) -> None:
    """Create a key called NAME and print it (the only time it is shown)."""
    role_set = parse_roles(roles)
    with obj.transaction() as session:
        key, secret = create_api_key(session=session, name=name, roles=role_set)
        key_id = key.id
    click.echo(secret)
    click.echo(
        f"key {key_id} ({','.join(sorted(role_set))}): store it now, it is not shown again",
        err=True,
    )


@apikey.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.pass_obj
def list_keys(obj: CliContext, include_revoked: bool) -> None:
    """One line per key: id, prefix, roles, created, revoked, name."""
    with obj.transaction() as session:
        for key in list_api_keys(session=session, include_revoked=include_revoked):
            revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
            created = key.created_at.isoformat(timespec="seconds")
            click.echo(f"{key.id}\t{key.prefix}…\t{key.roles}\t{created}\t{revoked}\t{key.name}")


@apikey.command("revoke")
@click.argument("key_id", type=int)
@click.pass_obj
def revoke(obj: CliContext, key_id: int) -> None:
    """Revoke key KEY_ID (the service stops accepting it within a few seconds)."""
    with obj.transaction() as session:
        revoke_api_key(session=session, key_id=key_id)
    click.echo(f"revoked key {key_id}")
