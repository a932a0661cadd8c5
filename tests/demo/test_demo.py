"""The demo end to end, small: everything altered is found, nothing unrelated is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.demo.console_seed import seed_console
from brightline.demo.runner import VIDEO_ALTERATIONS, run_demo
from brightline.evidence import EvidenceStore
from brightline.review.models import Case, Item
from brightline.settings import load_settings
from brightline.signals import default_registry


def test_demo_finds_every_altered_copy(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    settings = load_settings({"BRIGHTLINE_HOME": str(tmp_path)})
    report = run_demo(
        workdir=tmp_path / "demo",
        sessions=sessions,
        registry=default_registry(),
        settings=settings,
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

    # The console's sample cases: matched uploads of synthetic users, media in the vault.
    uploads = sorted((tmp_path / "demo" / "to-scan").glob("standin-*.jpg"))
    seed = seed_console(
        sessions=sessions, settings=settings, registry=default_registry(), uploads=uploads, users=2
    )
    assert seed.flagged == len(uploads)
    assert seed.cases == 2
    assert set(seed.passwords) == {"demo-admin", "demo-lead", "demo-reviewer", "demo-auditor"}
    assert seed.accounts_file is not None
    assert seed.accounts_file.stat().st_mode & 0o077 == 0
    with sessions.begin() as session:
        items = session.scalars(select(Item)).all()
        assert len(items) == len(uploads)
        assert not any(item.viewed_by_person for item in items)  # nobody has looked yet
        store = EvidenceStore.from_settings(settings)
        assert all(item.media_ref and store.exists(item.media_ref) for item in items)
        assert session.scalar(select(func.count()).select_from(Case)) == 2

    again = seed_console(
        sessions=sessions, settings=settings, registry=default_registry(), uploads=uploads
    )
    assert again.cases == -1  # an earlier run's cases are kept, not duplicated
    assert again.passwords["demo-reviewer"] != seed.passwords["demo-reviewer"]
