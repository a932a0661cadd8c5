"""Legal requests for the console tests: a preservation request naming a preserved account, an
emergency request and an overdue subpoena; or only a preserved account, for a request sent
through the portal. Written with the app's own vault and custody key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from brightline.custody import custody_key
from brightline.evidence.store import EvidenceStore
from brightline.legal import LegalContext, LegalSettings, RequestType
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.evidence.helpers import FinishedReport
from tests.legal.helpers import make_sender, new_request, preserved_account, submit


@dataclass(frozen=True)
class Seeded:
    preservation: int
    emergency: int
    overdue: int


def seed_requests(settings: Settings) -> Seeded:
    """A preservation request naming a preserved account, an emergency request, and an overdue
    subpoena (received long ago), all with the app's own vault and custody key."""
    engine = create_engine_for(settings.database_url)
    store = EvidenceStore.from_settings(settings)
    ctx = LegalContext(settings=LegalSettings(), custody_key=custody_key(settings))
    now = datetime.now(UTC)
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            made = preserved_account(
                session, store, files=1, custody_key=ctx.custody_key,
                preserved_at=now - timedelta(days=3),
            )  # fmt: skip
            sender = make_sender(session)
            overdue = submit(
                session, ctx, store,
                new_request(sender, kind=RequestType.SUBPOENA, reference="ECSO-OLD"),
                now=now - timedelta(days=20),
            )  # fmt: skip
            preservation = submit(
                session, ctx, store,
                new_request(sender, reference="ECSO-PRES",
                            accounts=[(made.service, made.platform_user_id)]),
                now=now - timedelta(hours=1),
            )  # fmt: skip
            emergency = submit(
                session, ctx, store,
                new_request(sender, kind=RequestType.EMERGENCY, reference="ECSO-EMER"),
                now=now - timedelta(minutes=5),
            )  # fmt: skip
            return Seeded(preservation.id, emergency.id, overdue.id)
    finally:
        engine.dispose()


def seed_preserved_account(settings: Settings) -> FinishedReport:
    """A placeholder account whose one finished report is preserved in the app's vault under
    the app's custody key, and that no request names yet."""
    engine = create_engine_for(settings.database_url)
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            return preserved_account(
                session,
                EvidenceStore.from_settings(settings),
                files=1,
                custody_key=custody_key(settings),
                preserved_at=datetime.now(UTC) - timedelta(days=3),
            )
    finally:
        engine.dispose()
