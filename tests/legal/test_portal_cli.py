"""``brightline legal portal sessions|sign-out`` over a real database (both databases)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from brightline.cli.main import cli
from brightline.legal.portal import PortalSettings, start_portal_session
from brightline.storage import create_engine_for, session_factory
from tests.legal.helpers import make_sender


def test_staff_list_and_end_an_officers_portal_sessions(database_url: str, tmp_path: Path) -> None:
    engine = create_engine_for(database_url)
    with session_factory(engine).begin() as session:
        officer_id = make_sender(session).officer.id
        for _ in range(2):
            start_portal_session(session=session, settings=PortalSettings(), officer_id=officer_id)
    engine.dispose()
    env = {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["legal", "portal", *args], env=env)
        return result.exit_code, result.output

    code, output = run("sessions", "--officer", str(officer_id))
    assert code == 0
    assert output.count("started ") == 2
    assert run("sign-out", "--officer", str(officer_id)) == (
        0,
        f"officer {officer_id}: 2 portal session(s) ended\n",
    )
    assert run("sessions", "--officer", str(officer_id)) == (
        0,
        f"officer {officer_id}: no portal sessions\n",
    )
    code, output = run("sign-out", "--officer", "999999")
    assert code == 2
    assert output.count("\n") == 1
    assert "no officer with id 999999" in output
