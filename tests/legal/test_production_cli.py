"""``brightline legal production`` end to end: build, deliver, list, download (both databases),
with a plugin exporter configured from the environment and one-line errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from brightline.cli.main import cli
from brightline.evidence.package import verify_package
from tests.legal.test_cli import _finished_report, _refused


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["legal", *args], env=env, catch_exceptions=False)


def test_build_deliver_list_download(database_url: str, tmp_path: Path) -> None:
    env = {
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_LEGAL_EXPORT_PLUGIN": "tests.legal.plugins:Platform",
    }
    made = _finished_report(env)
    assert CliRunner().invoke(cli, ["evidence", "preserve"], env=env).exit_code == 0
    letter = tmp_path / "letter.txt"
    letter.write_bytes(b"Synthetic placeholder subpoena for tests.\n")
    for args in (
        ["agency", "add", "Example County Sheriff", "--domain", "county-sheriff.example"],
        ["officer", "add", "--agency", "1", "--handle", "officer-0001", "--name", "Placeholder",
         "--email", "officer-0001@county-sheriff.example"],
        ["officer", "verify", "1"],
        ["request", "add", "--type", "subpoena", "--agency", "1", "--officer", "1",
         "--reference", "ECSO-2026-0002", "--basis", "synthetic subpoena",
         "--account", f"{made.service}:{made.platform_user_id}", "--attach", str(letter)],
    ):  # fmt: skip
        assert _run(env, *args).exit_code == 0
    _refused(_run(env, "production", "build", "1"), 2, "verify it before producing")
    assert _run(env, "request", "verify", "1").exit_code == 0

    built = _run(env, "production", "build", "1", "--by", "staff-0002")
    assert built.exit_code == 0, built.output
    assert built.output.startswith("production 1 of request 1: built, complete, 4 vault + 1 ")
    delivered = _run(env, "production", "deliver", "1")
    assert delivered.exit_code == 0
    assert delivered.output.endswith("; request produced\n")
    _refused(_run(env, "production", "deliver", "1"), 2, "already delivered")

    out = tmp_path / "production.zip"
    downloaded = _run(env, "production", "download", "1", "--out", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    assert verify_package(out).ok
    checked = CliRunner().invoke(
        cli, ["evidence", "verify-package", str(out), "--against-log"], env=env
    )
    assert checked.exit_code == 0, checked.output
    _refused(_run(env, "production", "download", "1", "--out", str(out)), 2, "already exists")
    _refused(_run(env, "production", "download", "9", "--out", str(tmp_path / "x")), 2, "no prod")

    listed = _run(env, "production", "list", "1")
    assert "delivered, complete" in listed.output
    assert "1 download(s)" in listed.output
    assert CliRunner().invoke(cli, ["custody", "verify"], env=env).exit_code == 0
    assert "production 1 of request 1: delivered" in _run(env, "request", "show", "1").output
    _refused(_run(env, "production", "list", "7"), 2, "no legal request with id 7")
