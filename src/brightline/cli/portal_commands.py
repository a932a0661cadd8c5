"""``brightline legal portal``: staff look at and end officers' portal sessions.

Approving officers is ``brightline legal officer verify`` and revoking them ``… revoke`` (which
ends their sessions at once); this is for the rest: a lost laptop, a shared screen, a check of
who is signed in. Sessions are shown by their times only: the token is never stored, and no
address or name is printed.
"""

from __future__ import annotations

from datetime import datetime

import click

from brightline.cli.context import CliContext
from brightline.legal.officers import get_officer
from brightline.legal.portal import end_officer_sessions, list_portal_sessions


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@click.group("portal")
def portal() -> None:
    """The law-enforcement portal (see docs/legal-portal.md): officers' sessions."""


@portal.command("sessions")
@click.option("--officer", "officer_id", type=int, required=True, help="The officer's id.")
@click.pass_obj
def sessions(obj: CliContext, officer_id: int) -> None:
    """An officer's portal sessions: started, last seen, ends (UTC)."""
    with obj.transaction() as session:
        get_officer(session=session, officer_id=officer_id)
        rows = list_portal_sessions(session=session, officer_id=officer_id)
        for row in rows:
            click.echo(
                f"started {_when(row.created_at)}\tlast seen {_when(row.last_seen_at)}\t"
                f"ends {_when(row.expires_at)}"
            )
    if not rows:
        click.echo(f"officer {officer_id}: no portal sessions")


@portal.command("sign-out")
@click.option("--officer", "officer_id", type=int, required=True, help="The officer's id.")
@click.pass_obj
def sign_out(obj: CliContext, officer_id: int) -> None:
    """End all of an officer's portal sessions and unused sign-in codes."""
    with obj.transaction() as session:
        get_officer(session=session, officer_id=officer_id)
        ended = end_officer_sessions(session=session, officer_id=officer_id)
    click.echo(f"officer {officer_id}: {ended} portal session(s) ended")
