"""``brightline clearinghouse analyse|queue|feedback`` over the planted intake reports."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import Referral
from brightline.cli.main import cli
from tests.clearinghouse_analysis.conftest import AS_OF, Planted


def test_analyse_queue_and_feedback(
    database_url: str, tmp_path: Path, sessions: sessionmaker[Session], planted: Planted
) -> None:
    env = {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    runner = CliRunner()
    analysed = runner.invoke(
        cli, ["clearinghouse", "analyse", "--as-of", AS_OF.isoformat()], env=env
    )
    assert analysed.exit_code == 0, analysed.output
    assert "analysed 4 reports" in analysed.output
    assert "immediate\t1" in analysed.output
    assert "informational\t1" in analysed.output

    queue = runner.invoke(cli, ["clearinghouse", "queue", "--limit", "2"], env=env)
    assert queue.exit_code == 0, queue.output
    lines = queue.output.splitlines()
    assert len(lines) == 2
    tier, score, report_id, reasons = lines[0].split("\t")
    assert (tier, int(report_id)) == ("immediate", planted.urgent)
    assert int(score) >= 100
    assert "escalated" in reasons
    west = runner.invoke(cli, ["clearinghouse", "queue", "--agency", "example-icac-west"], env=env)
    assert [line.split("\t")[2] for line in west.output.splitlines()] == [str(planted.urgent)]

    with sessions.begin() as session:
        referral_id = session.scalars(
            select(Referral.id).where(Referral.report_id == planted.urgent)
        ).one()
    base = ["clearinghouse", "feedback", str(referral_id)]
    for bad in (
        ["--status", "solved"],
        ["--status", "closed"],
        ["--status", "new", "--reason", "x"],
    ):
        refused = runner.invoke(cli, [*base, *bad], env=env)
        assert refused.exit_code == 2, bad
        assert len(refused.output.strip().splitlines()) == 1
        assert refused.output.startswith("brightline: error:")
    missing = runner.invoke(
        cli, ["clearinghouse", "feedback", "999999", "--status", "new"], env=env
    )
    assert missing.exit_code == 2
    done = runner.invoke(
        cli,
        [*base, "--status", "closed", "--reason", "unable_to_locate", "--by", "agent-9"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"recorded referral {referral_id} closed unable_to_locate"
    with sessions.begin() as session:
        stored = session.get(Referral, referral_id)
        assert stored is not None
        assert stored.feedback_by == "agent-9"
