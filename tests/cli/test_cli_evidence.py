"""``brightline evidence`` and ``brightline keys`` end to end, with a real database and vault."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli
from brightline.evidence.store import EvidenceStore
from brightline.settings import load_settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.evidence.helpers import FinishedReport, make_finished_report


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _finished_report(env: dict[str, str]) -> FinishedReport:
    settings = load_settings(env)
    engine = create_engine_for(settings.database_url)
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            return make_finished_report(session, EvidenceStore.from_settings(settings))
    finally:
        engine.dispose()


def test_preserve_hold_package_verify_and_custody(env: dict[str, str], tmp_path: Path) -> None:
    made = _finished_report(env)
    report_id = made.report_id
    pending = _run(env, "evidence", "pending")
    assert pending.exit_code == 1
    assert f"report {report_id}" in pending.output

    preserved = _run(env, "evidence", "preserve")
    assert preserved.exit_code == 0, preserved.output
    assert f"report {report_id}: preserved 4 object(s)" in preserved.output
    assert _run(env, "evidence", "pending").exit_code == 0

    placed = _run(
        env, "evidence", "hold", "place", "--report", str(report_id),
        "--reference", "AGENCY-0001", "--by", "staff-1",
    )  # fmt: skip
    assert placed.exit_code == 0, placed.output
    assert "4 object(s) held until" in placed.output
    hold_id = placed.output.split()[1].rstrip(":")
    assert "renewals 0/1" in _run(env, "evidence", "holds").output
    assert _run(env, "evidence", "hold", "renew", hold_id).exit_code == 0
    again = _run(env, "evidence", "hold", "renew", hold_id)
    assert again.exit_code == 2
    assert "already renewed" in again.output

    package = tmp_path / "package.zip"
    built = _run(
        env, "evidence", "package", str(report_id), "--out", str(package),
        "--reason", "placeholder warrant",
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    verified = _run(env, "evidence", "verify-package", str(package), "--against-log")
    assert verified.exit_code == 0, verified.output
    assert "package verified: 4 member(s)" in verified.output

    opened = tmp_path / "opened.bin"
    extracted = _run(
        env, "evidence", "extract", made.media_refs[0], "--out", str(opened),
        "--reason", "second review requested by counsel",
    )  # fmt: skip
    assert extracted.exit_code == 0, extracted.output
    assert hashlib.sha256(opened.read_bytes()).hexdigest() == made.media_refs[0][7:]
    assert opened.stat().st_mode & 0o077 == 0
    again = _run(
        env, "evidence", "extract", made.media_refs[0], "--out", str(opened), "--reason", "r"
    )
    assert again.exit_code == 2
    assert "already exists" in again.output
    unknown = _run(
        env, "evidence", "extract", "sha256:" + "0" * 64, "--out", str(tmp_path / "x"),
        "--reason", "r",
    )  # fmt: skip
    assert unknown.exit_code == 2
    assert not (tmp_path / "x").exists()
    shown = _run(env, "custody", "show", "--object", made.media_refs[0])
    assert "accessed" in shown.output

    released = _run(env, "evidence", "hold", "release", hold_id, "--reason", "request withdrawn")
    assert released.exit_code == 0
    dry = _run(env, "evidence", "purge", "--dry-run")
    assert "would destroy 0 object(s)" in dry.output

    custody = _run(env, "custody", "verify")
    assert custody.exit_code == 0, custody.output


def test_bad_evidence_arguments_are_one_line_errors(env: dict[str, str], tmp_path: Path) -> None:
    both = _run(
        env, "evidence", "hold", "place", "--report", "1", "--case", "1", "--reference", "R"
    )
    assert both.exit_code == 2
    assert "exactly one of" in both.output
    account = _run(env, "evidence", "hold", "place", "--account", "nobody", "--reference", "R")
    assert account.exit_code == 2
    assert "SERVICE:USER_ID" in account.output
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"synthetic, not a zip")
    broken = _run(env, "evidence", "verify-package", str(junk))
    assert broken.exit_code == 2
    assert broken.output.count("\n") == 1
    missing = _run(
        env, "evidence", "package", "999", "--out", str(tmp_path / "p.zip"), "--reason", "r"
    )
    assert missing.exit_code == 2
    assert "no preserved evidence" in missing.output


def test_key_rotation_commands(env: dict[str, str]) -> None:
    assert _finished_report(env).report_id
    status = _run(env, "keys", "status")
    assert status.exit_code == 0
    assert status.output.count("objects\t") == 1
    rotated = _run(env, "keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "2 re-wrapped" in rotated.output
    assert "old\t" in _run(env, "keys", "status").output
    retired = _run(env, "keys", "retire")
    assert retired.exit_code == 0, retired.output
    assert "old\t" not in _run(env, "keys", "status").output
    assert _run(env, "evidence", "preserve").exit_code == 0  # still readable after the rotation


def test_environment_keys_are_not_rotated_by_the_cli(env: dict[str, str]) -> None:
    env = {**env, "BRIGHTLINE_EVIDENCE_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
    result = _run(env, "keys", "rotate")
    assert result.exit_code == 2
    assert "BRIGHTLINE_EVIDENCE_KEY" in result.output
    assert _run(env, "keys", "rewrap").exit_code == 0
