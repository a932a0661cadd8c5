"""The demo end to end, small: everything altered is found, nothing unrelated is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from brightline.demo.runner import VIDEO_ALTERATIONS, run_demo
from brightline.settings import load_settings
from brightline.signals import default_registry


def test_demo_finds_every_altered_copy(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    report = run_demo(
        workdir=tmp_path / "demo",
        sessions=sessions,
        registry=default_registry(),
        settings=load_settings({"BRIGHTLINE_HOME": str(tmp_path)}),
        banked=2,
        decoys=3,
        videos=1,
        video_decoys=1,
    )
    assert report.recall == 1.0
    assert report.false_matches == 0
    assert report.video_false_matches == 0
    kinds = {
        a: [d.kind if d else None for d in report.per_video_alteration[a]]
        for a in VIDEO_ALTERATIONS
    }
    assert kinds == {
        "reencode_150k": ["full"],
        "resize_50": ["full"],
        "clip_5s": ["clip"],
        "fps_15": ["full"],
        "letterbox": ["full"],
    }
