"""Videos through the command line: recognised, streamed, vPDQ-hashed, banked and matched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli
from brightline.signals import HashingLimits, hash_file
from brightline.signals.video import decode_video_hash
from tests.video_factories import synthetic_frames, write_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    return write_video(path, synthetic_frames(7, 160, 120, fps=15, seconds=6), fps=15)


def _run(tmp_path: Path, *args: str) -> Result:
    env = {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": ""}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_hash_file_streams_videos_into_vpdq(video: Path) -> None:
    content = hash_file(video, limits=HashingLimits())
    assert content.video is not None
    assert content.unhashable is None
    assert content.media_type == "video"
    assert [f.timestamp for f in content.video.frames][:3] == [0.0, 1.0, 2.0]
    assert {s.signal_type for s in content.signals} == {"md5", "sha1", "sha256"}
    assert content.signal("pdq") is None


def test_video_over_its_cap_is_too_large(video: Path) -> None:
    content = hash_file(video, limits=HashingLimits(max_video_bytes=100))
    assert content.unhashable is not None
    assert content.unhashable.reason == "too_large"


def test_hash_command_prints_the_video_hash(video: Path, tmp_path: Path) -> None:
    record = json.loads(_run(tmp_path, "hash", str(video)).output)
    assert record["video"]["frames"] == 6
    assert len(decode_video_hash(record["video"]["vpdq"]).frames) == 6


def test_banked_video_matches_by_digest_in_a_scan(video: Path, tmp_path: Path) -> None:
    assert _run(tmp_path, "bank", "create", "V").exit_code == 0
    added = _run(tmp_path, "bank", "add", "V", str(video))
    assert "4 added" in added.output  # md5, sha1, sha256 and the vPDQ frame hashes
    out = tmp_path / "scan.jsonl"
    assert (
        _run(tmp_path, "scan", str(video.parent), "-o", str(out), "--workers", "1").exit_code == 0
    )
    [line] = [json.loads(row) for row in out.read_text().splitlines()]
    assert line["status"] == "match"
    assert {m["signal_type"] for m in line["matches"]} == {"md5", "sha1", "sha256", "vpdq"}
    [video_match] = [m for m in line["matches"] if m["signal_type"] == "vpdq"]
    assert video_match["video"]["kind"] == "full"
    assert video_match["video"]["query_coverage"] == 1.0
    assert "vpdq" not in line["video"]  # scans report a summary, not the whole frame list


def test_video_hashes_move_to_and_from_hma_in_threatexchange_form(
    video: Path, tmp_path: Path
) -> None:
    assert _run(tmp_path, "bank", "create", "V").exit_code == 0
    assert _run(tmp_path, "bank", "add", "V", str(video)).exit_code == 0
    exported = tmp_path / "v.hma"
    result = _run(tmp_path, "bank", "export", "V", "--format", "hma", "-o", str(exported))
    assert result.exit_code == 0, result.output
    [vpdq_line] = [line for line in exported.read_text().splitlines() if line.startswith("vpdq ")]
    frames = json.loads(vpdq_line.removeprefix("vpdq "))
    assert len(frames) == 6
    pdq, quality, seconds = frames[1].split(",")
    assert (len(pdq), 0 <= int(quality) <= 100, float(seconds)) == (64, True, 1.0)

    # python-threatexchange writes json.dumps' default ", " separators: read that too.
    spaced = tmp_path / "spaced.hma"
    spaced.write_text("vpdq " + json.dumps(frames) + "\n")
    assert _run(tmp_path, "bank", "create", "W").exit_code == 0
    imported = _run(tmp_path, "bank", "import", "W", str(spaced), "--format", "hma")
    assert imported.exit_code == 0, imported.output
    assert "1 added" in imported.output
    again = tmp_path / "again.hma"
    _run(tmp_path, "bank", "export", "W", "--format", "hma", "-o", str(again))
    assert again.read_text().strip() == vpdq_line

    broken = tmp_path / "broken.hma"
    broken.write_text('vpdq ["' + "a" * 64 + ',101,0.0"]\n')
    refused = _run(tmp_path, "bank", "import", "W", str(broken), "--format", "hma")
    assert refused.exit_code == 2
    assert "quality is outside 0-100" in refused.output
