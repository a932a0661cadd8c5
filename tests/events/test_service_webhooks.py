"""End to end: a match through the HTTP API reaches a webhook receiver via the background task."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from brightline.access import Role, create_api_key
from brightline.banks import service as banks
from brightline.banks.records import EntryRecord
from brightline.events import create_webhook, verify_signature
from brightline.http import create_app
from brightline.settings import ServiceSettings, Settings, WebhookSettings
from brightline.signals import default_registry
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.events.conftest import Receiver

DIGEST = hashlib.md5(b"synthetic test bytes", usedforsecurity=False).hexdigest()


def test_a_match_is_delivered_by_the_service(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        # md5 is matched in SQL, so no index sync is needed. (A sync cancelled mid-thread at
        # shutdown can leave a PostgreSQL connection for the garbage collector: not this test's.)
        service=ServiceSettings(index_sync_seconds=3600, auth_cache_seconds=0.0),
        webhooks=dataclasses.replace(WebhookSettings(), poll_seconds=0.05),
    )
    engine = create_engine_for(database_url)
    upgrade_database(engine)
    with session_factory(engine).begin() as session:
        _, matcher = create_api_key(session=session, name="matcher", roles=[Role.MATCHER])
        _, auditor = create_api_key(session=session, name="auditor", roles=[Role.AUDITOR])
        secret = create_webhook(session=session, name="receiver", url=receiver.url).secret
        banks.create_bank(session=session, name="known")
        banks.import_records(
            session=session,
            bank_name="known",
            records=[EntryRecord(signal_type="md5", value=DIGEST, line=1)],
            registry=default_registry(),
            source="<test>",
        )
    engine.dispose()

    with TestClient(create_app(settings)) as client:
        found = client.get(
            "/v1/match/hash",
            params={"signal_type": "md5", "value": DIGEST},
            headers={"Authorization": f"Bearer {matcher}"},
        )
        assert found.json()["status"] == "match"
        deadline = time.monotonic() + 20
        while not receiver.requests:
            assert time.monotonic() < deadline, "the match was never delivered"
            time.sleep(0.05)
        scrape = client.get("/metrics", headers={"Authorization": f"Bearer {auditor}"}).text

    [request] = receiver.requests
    assert request.headers["brightline-event"] == "match"
    assert verify_signature(
        secret,
        request.headers["brightline-timestamp"],
        request.body,
        request.headers["brightline-signature"],
    )
    data = json.loads(request.body)["data"]
    assert (data["bank"], data["signal_type"], data["value"], data["source"]) == (
        "known",
        "md5",
        DIGEST,
        "hash",
    )
    assert 'brightline_queue_depth{queue="webhook_deliveries"}' in scrape
    assert 'brightline_queue_depth{queue="webhook_deliveries_failed"} 0.0' in scrape
