"""A console reveal of media that is also preserved evidence is recorded in the chain of custody."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from brightline.accounts import AccountRole
from brightline.custody import CustodyEvent, custody_entries, custody_key, verify_custody
from brightline.evidence.models import EvidenceObject
from brightline.review import Item
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from brightline.storage.base import utcnow
from tests.web.conftest import NAMES, hidden_fields, login, seed_jobs

REVIEWER = NAMES[AccountRole.REVIEWER]


def _claimed_items(client: TestClient) -> tuple[str, list[int]]:
    queues = client.get("/console/queues")
    token = hidden_fields(queues.text)["csrf_token"]
    claimed = client.post("/console/queues/default/claim", data={"csrf_token": token})
    page = client.get(claimed.headers["location"].removeprefix("http://testserver")).text
    return page, [int(found) for found in re.findall(r'id="item-(\d+)"', page)]


def test_reveals_of_preserved_media_are_custody_accesses(
    client: TestClient, accounts: dict[AccountRole, str], settings: Settings
) -> None:
    seed_jobs(settings, count=2, grouped=True)  # one job, two items
    login(client, REVIEWER)
    page, item_ids = _claimed_items(client)
    assert len(item_ids) >= 2  # one preserved, the others not
    engine = create_engine_for(settings.database_url)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            item = session.get(Item, item_ids[0])
            assert item is not None
            assert item.media_ref is not None
            preserved_ref = item.media_ref
            # The same bytes were reported and preserved earlier.
            now = utcnow()
            session.add(EvidenceObject(ref=preserved_ref, first_preserved_at=now, retain_until=now))
        for item_id in item_ids:
            revealed = client.post(
                f"/console/items/{item_id}/reveal",
                data={"csrf_token": hidden_fields(page)["csrf_token"]},
                headers={"Accept": "application/json"},
            )
            assert revealed.status_code == 200
        with sessions() as session:
            entries = custody_entries(session=session)
            assert [(e.event, e.object_ref, e.actor) for e in entries] == [
                (CustodyEvent.ACCESSED, preserved_ref, f"console:{REVIEWER}")
            ]
            assert entries[0].reason == "reviewer reveal"
            assert verify_custody(session=session, key=custody_key(settings)).ok
    finally:
        engine.dispose()
