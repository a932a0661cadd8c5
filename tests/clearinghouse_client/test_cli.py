"""``brightline reports``: deliver, pending, retry, against the lifecycle server."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse_client.outbox import enqueue_report
from brightline.cli.main import cli
from brightline.evidence.store import EvidenceStore
from tests.clearinghouse_client.conftest import make_report
from tests.clearinghouse_client.lifecycle_server import PASSWORD, USERNAME, Fault, ServerState


def test_deliver_pending_and_retry(
    sessions: sessionmaker[Session],
    lifecycle: tuple[str, ServerState],
    database_url: str,
    tmp_path: Path,
) -> None:
    url, server = lifecycle
    key = secrets.token_bytes(32)
    store = EvidenceStore(tmp_path / "evidence", key)
    with sessions.begin() as session:
        built = make_report(session, store, files=1)
        submission_id = enqueue_report(session=session, report_id=built.report_id).id
    env = {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(key).decode(),
        "BRIGHTLINE_CYBERTIPLINE_URL": url,
        "BRIGHTLINE_CYBERTIPLINE_USERNAME": USERNAME,
        "BRIGHTLINE_CYBERTIPLINE_PASSWORD": PASSWORD,
        "BRIGHTLINE_CYBERTIPLINE_MAX_ATTEMPTS": "1",
    }
    runner = CliRunner()
    pending = runner.invoke(cli, ["reports", "pending"], env=env)
    assert pending.exit_code == 0
    assert f"{submission_id}\treport={built.report_id}\tqueued" in pending.stdout

    server.faults["submit"] = [Fault(code=1000)]
    failed = runner.invoke(cli, ["reports", "deliver"], env=env)
    assert failed.exit_code == 1
    assert "0 finished, 0 to retry, 1 failed now" in failed.stdout
    assert runner.invoke(cli, ["reports", "pending"], env=env).exit_code == 1

    retried = runner.invoke(cli, ["reports", "retry", str(submission_id)], env=env)
    assert retried.exit_code == 0
    delivered = runner.invoke(cli, ["reports", "deliver"], env=env)
    assert delivered.exit_code == 0, delivered.output
    assert "1 finished" in delivered.stdout
    assert "1 report(s) preserved" in delivered.stdout  # the finished report, kept for a year
    assert runner.invoke(cli, ["evidence", "pending"], env=env).exit_code == 0
    assert runner.invoke(cli, ["custody", "verify"], env=env).exit_code == 0
    assert len(server.finished_reports()) == 1
    after = runner.invoke(cli, ["reports", "pending"], env=env)
    assert after.exit_code == 0
    assert after.stdout == ""

    again = runner.invoke(cli, ["reports", "retry", str(submission_id)], env=env)
    assert again.exit_code == 2
    assert "not failed" in again.stderr


def test_deliver_without_credentials_is_an_external_failure(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    env = {"BRIGHTLINE_DATABASE_URL": database_url, "BRIGHTLINE_HOME": str(tmp_path)}
    outcome = CliRunner().invoke(cli, ["reports", "deliver"], env=env)
    assert outcome.exit_code == 3
    assert "BRIGHTLINE_CYBERTIPLINE_USERNAME" in outcome.stderr
