"""``brightline clearinghouse replay``: what new triage weights would move over the finished
reports, explained per report, with nothing stored; bad weight files refused in one line."""

from __future__ import annotations

import base64
import secrets
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import AnalysisResult, AnalysisRunRecord
from brightline.cli.main import cli
from tests.clearinghouse_analysis.conftest import AS_OF, Planted


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def _weights(tmp_path: Path, linked_reports: int, version: str) -> Path:
    shipped = resources.files("brightline.clearinghouse").joinpath("data", "triage.toml")
    text = shipped.read_text("utf-8")
    text = text.replace('version = "2026.1"', f'version = "{version}"')
    text = text.replace("linked_reports = 10 ", f"linked_reports = {linked_reports} ")
    path = tmp_path / f"{version}.toml"
    path.write_text(text)
    return path


def test_replay_lists_what_moves_and_stores_nothing(
    env: dict[str, str], tmp_path: Path, sessions: sessionmaker[Session], planted: Planted
) -> None:
    runner = CliRunner()
    new = _weights(tmp_path, 50, "test.2")
    args = ["clearinghouse", "replay", "--weights", str(new), "--as-of", AS_OF.isoformat()]
    shown = runner.invoke(cli, args, env=env)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == "weights 2026.1 -> test.2: 4 reports, 2 scores changed, 1 change tier"
    assert "normal\thigh\t1" in lines
    assert "immediate\timmediate\t1" in lines
    moved = [line for line in lines if line.startswith(f"{planted.linked}\t")]
    assert len(moved) == 1
    assert moved[0].split("\t")[1:] == ["normal -> high", "13 -> 53", "linked_reports +10 -> +50"]
    same = runner.invoke(cli, [*args[:3], str(new), "--against", str(new)], env=env)
    assert same.exit_code == 0
    assert "0 scores changed, 0 change tier" in same.stdout
    none_listed = runner.invoke(cli, [*args, "--limit", "0"], env=env)
    assert "... and 1 more (--limit)" in none_listed.stdout
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AnalysisRunRecord)) == 0
        assert session.scalar(select(func.count()).select_from(AnalysisResult)) == 0


def test_bad_weights_are_refused_in_one_line(
    env: dict[str, str], tmp_path: Path, planted: Planted
) -> None:
    runner = CliRunner()
    broken = tmp_path / "broken.toml"
    broken.write_text('version = "x"\n[weights]\ninfant = "many"\n')
    for args, reason in (
        (["--weights", str(broken)], "infant"),
        (["--weights", str(tmp_path / "missing.toml")], "does not exist"),
        (
            ["--weights", str(_weights(tmp_path, 50, "ok")), "--known-bank", "no-such-bank"],
            "no-such-bank",
        ),
    ):
        refused = runner.invoke(cli, ["clearinghouse", "replay", *args], env=env)
        assert refused.exit_code == 2, refused.output
        assert "Traceback" not in refused.output
        assert reason in refused.stderr.strip().splitlines()[-1]
