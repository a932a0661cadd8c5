"""Accounts core and the `brightline account` commands: hashing, lockout, audit of changes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from brightline.accounts import (
    Account,
    AccountRole,
    SignInRefused,
    authenticate,
    create_account,
    set_org_wellness,
    set_preferences,
    wellness_for,
)
from brightline.cli.main import cli
from brightline.errors import Conflict, InvalidInput
from brightline.review import AuditAction, query_audit
from brightline.storage.base import utcnow

PASSWORD = "a long enough password"  # noqa: S105  (a test account)


def _account(session: Session, name: str = "rev-one") -> Account:
    return create_account(
        session=session,
        username=name,
        password=PASSWORD,
        role=AccountRole.REVIEWER,
        actor="test-admin",
    )


def test_passwords_are_stored_as_argon2_hashes_only(session: Session) -> None:
    account = _account(session)
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    rows = query_audit(session=session, action=AuditAction.SETTING_CHANGE)
    assert rows[0].detail == '{"role":"reviewer","setting":"account_created"}'
    assert PASSWORD not in (rows[0].reason or "")


def test_names_roles_and_passwords_are_checked(session: Session) -> None:
    with pytest.raises(InvalidInput, match="12 to 1024"):
        create_account(
            session=session,
            username="short",
            password="short",  # noqa: S106
            role=AccountRole.REVIEWER,
            actor="t",
        )
    with pytest.raises(InvalidInput, match="username"):
        create_account(
            session=session,
            username="policy:x",
            password=PASSWORD,
            role=AccountRole.REVIEWER,
            actor="t",
        )
    _account(session)
    with pytest.raises(Conflict):
        _account(session, "REV-ONE")


def test_lockout_after_repeated_failures_then_expiry(session: Session) -> None:
    _account(session)
    now = utcnow()
    for _ in range(5):
        with pytest.raises(SignInRefused):
            authenticate(session=session, username="rev-one", password="wrong guess!", now=now)  # noqa: S106
    with pytest.raises(SignInRefused):
        authenticate(session=session, username="rev-one", password=PASSWORD, now=now)
    later = now + timedelta(minutes=16)
    assert authenticate(session=session, username="rev-one", password=PASSWORD, now=later)


@pytest.mark.parametrize("name", ["rev\x00one", "", "  ", "x" * 300])
def test_a_name_no_account_can_have_is_refused_like_an_unknown_one(
    session: Session, name: str
) -> None:
    _account(session)
    with pytest.raises(SignInRefused):
        authenticate(session=session, username=name, password=PASSWORD)


def test_a_person_may_adjust_how_they_see_but_not_the_cap(session: Session) -> None:
    account = _account(session)
    set_org_wellness(session=session, changes={"daily_cap": "50"}, actor="test-admin")
    set_preferences(session=session, account_id=account.id, changes={"greyscale": "off"})
    with pytest.raises(InvalidInput, match="unknown setting"):
        set_preferences(session=session, account_id=account.id, changes={"daily_cap": "500"})
    chosen = wellness_for(session=session, preferences={"greyscale": False})
    assert chosen.daily_cap == 50
    assert chosen.greyscale is False
    assert chosen.blur_radius == 12


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)

    return invoke


def test_the_account_commands(run) -> None:  # type: ignore[no-untyped-def]
    created = run(
        "account", "create", "lead-one", "--role", "lead", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert created.exit_code == 0, created.output
    assert "lead-one (lead)" in created.output
    assert PASSWORD not in created.output
    prompted = run(
        "account", "create", "rev-two", "--role", "reviewer", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert "\tlead-one\tlead\tactive" in run("account", "list").output
    assert run("account", "disable", "rev-two").exit_code == 0
    assert "\trev-two\treviewer\tdisabled" in run("account", "list").output
    assert run("account", "enable", "rev-two").exit_code == 0
    assert run("account", "unlock", "rev-two").exit_code == 0
    assert (
        run(
            "account", "password", "rev-two", "--password-stdin", stdin="another long password\n"
        ).exit_code
        == 0
    )
    bad = run("account", "create", "x1", "--role", "root", "--password-stdin", stdin="x\n")
    assert bad.exit_code == 2
    assert "unknown role 'root'" in bad.output
    missing = run("account", "disable", "nobody")
    assert missing.exit_code == 2
