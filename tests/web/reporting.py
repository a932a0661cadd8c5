"""Console report tests' helpers: settings that can report, and reportable synthetic items.

Images are generated noise (``synthetic_png``); users are placeholders; the enrichment plugin
answers synthetic context (``tests.reports.plugins``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from brightline.clearinghouse_client.models import ReportSubmission
from brightline.evidence import EvidenceStore
from brightline.reports import Report
from brightline.review import ContentFacts, FlagMatch, SubjectRef, flag_content
from brightline.review.models import Item
from brightline.settings import EnrichmentSettings, ServiceSettings, Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.reports.helpers import REPORTER, settle
from tests.web.conftest import Seeded, synthetic_png

PLUGIN = "tests.reports.plugins:Enricher"
UPLOADED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def reporting_settings(
    tmp_path: Path, database_url: str, *, plugin: str | None = PLUGIN
) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        service=ServiceSettings(index_sync_seconds=0.5, auth_cache_seconds=0.0),
        reporter=REPORTER,
        enrichment=EnrichmentSettings(plugin=plugin),
    )


def seed_reportable(
    settings: Settings, count: int = 2, *, platform_user: str = "user-0003"
) -> Seeded:
    """``count`` flagged images of one placeholder user, each its own job, with every fact a
    report needs (digests of the bytes, upload time, media in the vault); not decided yet."""
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    store = EvidenceStore.from_settings(settings)
    job_ids, item_ids, subject_id = [], [], 0
    with session_factory(engine).begin() as session:
        for index in range(count):
            data = synthetic_png(100 + index)
            flagged = flag_content(
                session=session,
                subject=SubjectRef(service="example-service", platform_user_id=platform_user),
                content=ContentFacts(
                    sha256=hashlib.sha256(data).hexdigest(),
                    md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                    sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                    media_type="image/png",
                    pdq=secrets.token_hex(32),
                    media_ref=store.put(data),
                    uploaded_at=UPLOADED,
                ),
                matches=[
                    FlagMatch(
                        signal_type="pdq",
                        bank_id=1,
                        bank_name="test-bank",
                        entry_id=500 + index,
                        distance=2,
                        classification="A1",
                    )
                ],
                source="upload",
            )
            job_ids.append(flagged.job.id)
            item_ids.append(flagged.item.id)
            subject_id = flagged.case.subject_id
    engine.dispose()
    return Seeded(job_ids=job_ids, item_ids=item_ids, subject_id=subject_id)


def case_id_of(settings: Settings, item_id: int) -> int:
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        item = session.get(Item, item_id)
        assert item is not None
        case_id = item.case_id
    engine.dispose()
    return case_id


def confirm(settings: Settings, seeded: Seeded, reviewer: str = "test-reviewer") -> None:
    """Confirm every job of ``seeded`` through the review core (as the console would)."""
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        for job_id in seeded.job_ids:
            settle(session, job_id, classification="A1", reviewer=reviewer)
    engine.dispose()


def unset_media(settings: Settings, item_id: int) -> None:
    """Point an item at an object the vault does not hold (its media went missing)."""
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        session.execute(
            update(Item).where(Item.id == item_id).values(media_ref="sha256:" + "0" * 64)
        )
    engine.dispose()


def fail_submission(settings: Settings, report_id: int) -> None:
    """What the worker does when a submission fails for good (simulated in the database)."""
    engine = create_engine_for(settings.database_url)
    with session_factory(engine).begin() as session:
        session.execute(
            update(ReportSubmission)
            .where(ReportSubmission.report_id == report_id)
            .values(
                status="failed",
                attempts=20,
                failed_at=datetime.now(UTC),
                last_error="AuthenticationFailed: 2000 authentication required",
            )
        )
        session.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(status="failed", error="AuthenticationFailed: 2000")
        )
    engine.dispose()
