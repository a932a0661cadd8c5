"""The command line, run in-process with a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from brightline.cli.main import cli
from tests.factories import random_pdq, write_standin


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    invoke.env = env  # type: ignore[attr-defined]
    return invoke


def test_bank_commands_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    hashes = [random_pdq(rng) for _ in range(5)]
    listing = tmp_path / "list.csv"
    listing.write_text(
        "signal_type,signal,classification,external_id,note\n"
        + "".join(f"pdq,{h},A1,id-{n},\n" for n, h in enumerate(hashes))
    )
    assert run("bank", "create", "Known").exit_code == 0
    result = run("bank", "import", "Known", str(listing), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "5 added" in result.output
    assert "0 added, 5 already present" in run("bank", "import", "Known", str(listing)).output
    exported = run("bank", "export", "Known", "--format", "csv")
    assert exported.exit_code == 0
    assert all(h in exported.output for h in hashes)
    plain = run("bank", "export", "Known", "--format", "plain", "--signal-type", "pdq")
    assert plain.output.split() == hashes
    assert "Known\tenabled\tthreshold=31" in run("bank", "list").output
    assert "pdq" in run("bank", "stats", "Known").output
    assert run("bank", "disable", "Known").exit_code == 0
    assert "disabled" in run("bank", "list").output
    assert run("bank", "rename", "Known", "Old").exit_code == 0
    assert "deleted bank Old (5 entries)" in run("bank", "delete", "Old", "--yes").output


def test_bad_list_names_file_and_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    listing = tmp_path / "bad.csv"
    good = random_pdq(random.Random(1))
    listing.write_text(
        f"signal_type,signal,classification,external_id,note\npdq,{good},,,\npdq,xyz,,,\n"
    )
    run("bank", "create", "K")
    result = run("bank", "import", "K", str(listing))
    assert result.exit_code == 2
    assert "bad.csv:3" in result.output
    assert "entries: 0" in run("bank", "stats", "K").output
    skipped = run("bank", "import", "K", str(listing), "--skip-invalid")
    assert skipped.exit_code == 0
    assert "1 added" in skipped.output
    assert "skipped bad.csv:3" in skipped.output


def test_usage_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    result = run("bank", "stats", "missing")
    assert result.exit_code == 2
    assert result.output.strip() == "brightline: error: no bank named 'missing'"
    assert run("bank", "create", "bad\nname").exit_code == 2


def _scan_tree(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    write_standin(root / "banked.jpg", 11)
    image = Image.open(root / "banked.jpg")
    image.resize((320, 240)).save(root / "sub" / "resized.jpg", quality=50)
    image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(root / "sub" / "flipped.png")
    write_standin(root / "sub" / "decoy.jpg", 12)
    (root / "sub" / "broken.jpg").write_bytes((root / "banked.jpg").read_bytes()[:300])
    (root / "notes.txt").write_text("hello")


def test_scan_reports_every_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "tree"
    _scan_tree(tree)
    outside = write_standin(tmp_path / "outside.jpg", 13)
    os.symlink(outside, tree / "link-out.jpg")
    os.symlink(tree / "banked.jpg", tree / "sub" / "link-in.jpg")
    run("bank", "create", "K")
    assert (
        run("bank", "add", "K", str(tree / "banked.jpg"), "--classification", "a2").exit_code == 0
    )
    out = tmp_path / "out.jsonl"
    result = run("scan", str(tree), "--output", str(out), "--workers", "2", "--fail-on-match")
    assert result.exit_code == 3, result.output  # the outside link is an error, and wins
    lines = {Path(o["path"]).name: o for o in map(json.loads, out.read_text().splitlines())}
    assert lines["banked.jpg"]["status"] == "match"
    assert lines["resized.jpg"]["status"] == "match"
    assert lines["flipped.png"]["status"] == "match"
    assert lines["flipped.png"]["matches"][0]["transform"] == "flip_y"  # mirrored left-right
    assert lines["decoy.jpg"]["status"] == "no_match"
    assert lines["broken.jpg"]["status"] == "unhashable"
    assert lines["notes.txt"]["unhashable"]["reason"] == "not_an_image"
    assert lines["link-out.jpg"]["unhashable"]["reason"] == "outside_roots"
    assert "link-in.jpg" not in lines  # same file as banked.jpg: scanned once
    assert "scan summary" in result.output


def test_scan_exit_codes_and_csv(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "tree"
    _scan_tree(tree)
    run("bank", "create", "K")
    run("bank", "add", "K", str(tree / "banked.jpg"))
    assert run("scan", str(tree), "--workers", "1").exit_code == 0
    assert run("scan", str(tree), "--workers", "1", "--fail-on-match").exit_code == 1
    assert run("scan", str(tree / "sub" / "decoy.jpg"), "--fail-on-match").exit_code == 0
    assert run("scan", str(tmp_path / "nowhere")).exit_code == 3
    assert run("scan", str(tree), "--bank", "missing").exit_code == 2
    csv_out = tmp_path / "out.csv"
    assert (
        run("scan", str(tree), "--format", "csv", "-o", str(csv_out), "--workers", "1").exit_code
        == 0
    )
    header, *rows = csv_out.read_text().splitlines()
    assert header.startswith("path,status,reason,bank")
    assert sum(",match," in row for row in rows) >= 2


def test_scan_resume_skips_done_files(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "tree"
    _scan_tree(tree)
    out = tmp_path / "out.jsonl"
    run("scan", str(tree), "-o", str(out), "--workers", "1")
    complete = out.read_text().splitlines()
    out.write_text("\n".join(complete[:2]) + "\n" + complete[2][:10])  # an interrupted run
    result = run("scan", str(tree), "-o", str(out), "--resume", "--workers", "1")
    assert result.exit_code == 0
    resumed = out.read_text().splitlines()
    assert sorted(json.loads(line)["path"] for line in resumed) == sorted(
        json.loads(line)["path"] for line in complete
    )


def test_hash_prints_json_lines(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    image = write_standin(tmp_path / "a.jpg", 21)
    result = run("hash", str(image), "--dihedral")
    record = json.loads(result.output)
    assert len(record["signals"]["pdq"]["value"]) == 64
    assert record["signals"]["pdq"]["quality"] >= 50
    assert len(record["pdq_dihedral"]) == 8
    assert run("hash", str(tmp_path / "missing.jpg")).exit_code == 3


def test_match_command(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    image = write_standin(tmp_path / "a.jpg", 31)
    run("bank", "create", "K")
    run("bank", "add", "K", str(image))
    result = run("match", str(image), "--fail-on-match")
    assert result.exit_code == 1
    assert json.loads(result.output)["status"] == "match"


def test_real_process_exit_codes(tmp_path: Path) -> None:
    """The installed entry point, as a shell would run it (SQLite only)."""
    env = os.environ | {"BRIGHTLINE_HOME": str(tmp_path)}
    env.pop("BRIGHTLINE_DATABASE_URL", None)
    command = [sys.executable, "-m", "brightline", "bank", "stats", "nope"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == "brightline: error: no bank named 'nope'"
    assert (
        "Usage"
        in subprocess.run(
            [sys.executable, "-m", "brightline", "scan"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stderr
    )


def test_import_can_create_the_bank(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    listing = tmp_path / "hashes.txt"
    listing.write_text(random_pdq(random.Random(8)) + "\n")
    args = ("bank", "import", "New", str(listing), "--format", "plain", "--signal-type", "pdq")
    assert run(*args).exit_code == 2  # no such bank
    assert "1 added" in run(*args, "--create").output
    assert "0 added, 1 already present" in run(*args, "--create").output
    assert run(*args[:4], "--format", "csv", "--signal-type", "pdq").exit_code == 2
