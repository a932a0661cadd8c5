"""Seeding a text review case for the console tests (placeholder terms, example.org links)."""

from __future__ import annotations

from brightline.evidence import EvidenceStore
from brightline.review import SubjectRef
from brightline.review.text_cases import (
    TextDocument,
    TextHitRecord,
    TextSignalRecord,
    open_text_case,
)
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.web.conftest import Seeded

# A Latin word with Cyrillic o and a (U+043E, U+0430), an RTL override reversing a
# placeholder, a zero-width space, a tag character, markup that must stay text, and a defanged link.
POST = (
    "new z\u043erbl\u0430x drop \u202exalbroz\u202c\u200b <b>quenvik</b> "
    "hxxps://example[.]org/x \U000e0041"
)


def post_document() -> TextDocument:
    start = POST.index("z")
    return TextDocument(
        post_id="p-42",
        text=POST,
        hits=(
            TextHitRecord(
                "coded", "v1", "zorblax", "token", "homoglyph", start, start + 7, 2.0, False
            ),
            # Overlapping the first: a compact-mode term inside it.
            TextHitRecord(
                "coded", "v1", "orbl", "compact", "homoglyph", start + 1, start + 5, 1.0, False
            ),
            TextHitRecord(
                "coded",
                "v1",
                "quenvik",
                "token",
                "exact",
                POST.index("quenvik"),
                POST.index("quenvik") + 7,
                1.5,
                False,
            ),
        ),
        signals=(
            TextSignalRecord(
                "url",
                "https://example.org/x",
                POST.index("hxxps"),
                POST.index("/x ") + 2,
                0.9,
                None,
                "defanged",
            ),
        ),
    )


def seed_text_case(settings: Settings) -> Seeded:
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    store = EvidenceStore.from_settings(settings)
    with session_factory(engine).begin() as session:
        opened = open_text_case(
            session=session,
            store=store,
            subject=SubjectRef(service="example-service", platform_user_id="user-text-1"),
            document=post_document(),
        )
        assert opened.job_id is not None
        assert opened.item_id is not None
        session.flush()
        seeded = Seeded([opened.job_id], [opened.item_id], 0)
    engine.dispose()
    return seeded
