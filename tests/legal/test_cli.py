"""``brightline legal`` end to end: a real database, vault and custody log (both databases)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli
from brightline.evidence.store import EvidenceStore
from brightline.settings import load_settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.evidence.helpers import FinishedReport, make_finished_report
from tests.legal.helpers import PDF, PNG


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_LEGAL_TIMEZONE": "America/New_York",
    }


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["legal", *args], env=env, catch_exceptions=False)


def _finished_report(env: dict[str, str]) -> FinishedReport:
    """A reviewed account with a finished report, ready for `brightline evidence preserve`."""
    settings = load_settings(env)
    engine = create_engine_for(settings.database_url)
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            return make_finished_report(session, EvidenceStore.from_settings(settings))
    finally:
        engine.dispose()


def _refused(result: Result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("brightline: error: ")
    assert message in result.output


def _files(tmp_path: Path) -> dict[str, Path]:
    paths = {"pdf": PDF, "png": PNG, "zip": b"PK\x03\x04" + b"\x00" * 40}
    written = {}
    for name, data in paths.items():
        path = tmp_path / f"synthetic.{name}"
        path.write_bytes(data)
        written[name] = path
    return written


def test_enter_verify_preserve_renew_withdraw(env: dict[str, str], tmp_path: Path) -> None:
    made = _finished_report(env)
    runner = CliRunner()
    assert runner.invoke(cli, ["evidence", "preserve"], env=env).exit_code == 0
    files = _files(tmp_path)

    added = _run(env, "agency", "add", "Example County Sheriff", "--domain",
                 "county-sheriff.example", "--jurisdiction", "Example County")  # fmt: skip
    assert added.output == "agency 1: Example County Sheriff\n"
    officer = _run(env, "officer", "add", "--agency", "1", "--handle", "officer-0001",
                   "--name", "Placeholder Officer", "--email",
                   "officer-0001@county-sheriff.example")  # fmt: skip
    assert officer.output == "officer 1: officer-0001 (unverified)\n"
    request = [
        "request", "add", "--type", "preservation", "--agency", "1", "--officer", "1",
        "--reference", "ECSO-2026-0001", "--basis", "18 U.S.C. 2703(f) (synthetic)",
        "--account", f"{made.service}:{made.platform_user_id}",
        "--account", "example:user-never-seen", "--attach", str(files["pdf"]),
    ]  # fmt: skip
    _refused(_run(env, *request), 2, "not verified")
    assert _run(env, "officer", "verify", "1").exit_code == 0
    assert "verified" in _run(env, "officer", "list").output

    received = _run(env, *request)
    assert received.exit_code == 0, received.output
    assert received.output.startswith("request 1 received (preservation): verification due ")
    assert "not known to Brightline review" in received.output
    _refused(_run(env, *request), 2, "duplicate submission: request 1 from this agency")
    bad = [*request[:9], "ECSO-2026-0002", *request[10:-1], str(files["zip"])]
    _refused(_run(env, *bad), 2, "attachment 1 is not a document")
    small = {**env, "BRIGHTLINE_LEGAL_MAX_ATTACHMENT_BYTES": "10"}
    _refused(_run(small, *bad[:-1], str(files["png"])), 2, "attachments are at most 10 bytes")

    verified = _run(env, "request", "verify", "1", "--by", "staff-0001")
    assert verified.exit_code == 0, verified.output
    assert "verified; next preservation_ends due " in verified.output
    hold_id = re.search(r"holds: (\d+)", verified.output)
    assert hold_id is not None
    listed = _run(env, "requests", "--open")
    assert listed.output.startswith("1\tpreservation\tverified\tExample County Sheriff\t")
    assert _run(env, "request", "assign", "1", "staff-0002").exit_code == 0
    assert _run(env, "request", "note", "1", "Agency called\nto confirm").exit_code == 0
    shown = _run(env, "request", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert f"held (hold {hold_id.group(1)})" in shown.output
    assert "Agency called\\nto confirm" in shown.output  # escaped: one line per item
    assert "assignee\tstaff-0002" in shown.output
    assert "\tunknown" in shown.output
    assert re.search(r"received\t\S+-0[45]:00 by ", shown.output)  # in New York time

    renewed = _run(env, "request", "renew", "1")
    assert renewed.exit_code == 0, renewed.output
    assert "(renewals 1/1)" in renewed.output
    _refused(_run(env, "request", "renew", "1"), 2, "already renewed 1 time")
    _refused(_run(env, "request", "transition", "1", "withdrawn"), 2, "only with a reason")
    _refused(_run(env, "request", "transition", "1", "produced"), 2, "cannot become produced")
    withdrawn = _run(env, "request", "transition", "1", "withdrawn", "--reason",
                     "agency letter (synthetic)")  # fmt: skip
    assert withdrawn.output == "request 1: withdrawn\n"
    custody = runner.invoke(cli, ["custody", "show", "--hold", hold_id.group(1)], env=env)
    assert "hold_released" in custody.output
    assert runner.invoke(cli, ["custody", "verify"], env=env).exit_code == 0


def test_escalate_exits_1_while_a_request_is_overdue(env: dict[str, str]) -> None:
    assert _run(env, "agency", "add", "Example Police Department", "--domain",
                "police.example").exit_code == 0  # fmt: skip
    assert _run(env, "officer", "add", "--agency", "1", "--handle", "officer-0002", "--name",
                "P", "--email", "o2@police.example").exit_code == 0  # fmt: skip
    assert _run(env, "officer", "verify", "1").exit_code == 0
    quiet = _run(env, "escalate")
    assert (quiet.exit_code, quiet.output) == (0, "")
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    added = _run(env, "request", "add", "--type", "emergency", "--agency", "1", "--officer",
                 "1", "--reference", "EPD-0001", "--basis", "imminent danger (synthetic)",
                 "--account", "example:user-0001", "--received", two_hours_ago)  # fmt: skip
    assert added.exit_code == 0, added.output
    escalated = _run(env, "escalate")
    assert escalated.exit_code == 1
    assert "request 1: overdue on its verify deadline" in escalated.output
    assert "(paged on-call)" in escalated.output
    assert "1 request(s) overdue: 1" in escalated.output
    assert "OVERDUE" in _run(env, "requests", "--overdue").output
    assert _run(env, "escalate").exit_code == 1  # still overdue, nothing new recorded


def test_bad_arguments_are_one_line_errors(env: dict[str, str]) -> None:
    _refused(_run(env, "request", "show", "999"), 2, "no legal request with id 999")
    _refused(_run(env, "officer", "verify", "7"), 2, "no officer with id 7")
    _refused(
        _run(env, "agency", "add", "Example Agency", "--domain", "not a domain"), 2, "DNS name"
    )
    _refused(_run({**env, "BRIGHTLINE_LEGAL_TIMEZONE": "Mars/Olympus"}, "escalate"), 2, "IANA")
    _refused(
        _run(env, "request", "add", "--type", "subpoena", "--agency", "1", "--officer", "1",
             "--reference", "R", "--basis", "B", "--account", "nobody"),
        2, "SERVICE:USER_ID",
    )  # fmt: skip
    _refused(
        _run(env, "request", "add", "--type", "subpoena", "--agency", "1", "--officer", "1",
             "--reference", "R", "--basis", "B", "--account", "example:u", "--due", "soon"),
        2, "ISO 8601",
    )  # fmt: skip
    usage = _run(env, "request", "transition", "1", "finished")
    assert usage.exit_code == 2


def test_every_legal_command_has_help_text() -> None:
    group = cli.commands["legal"]
    assert isinstance(group, click.Group)
    paths: list[list[str]] = []
    for name, command in group.commands.items():
        paths.append([name])
        if isinstance(command, click.Group):
            paths += [[name, sub] for sub in command.commands]
    assert ["request", "transition"] in paths
    assert ["escalate"] in paths
    for path in paths:
        result = CliRunner().invoke(cli, ["legal", *path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output
