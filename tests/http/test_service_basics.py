"""Health, auth, banks and hash matching through the HTTP API, in-process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from brightline.access import Role
from brightline.http import app as app_module
from brightline.http import metrics
from tests.http.conftest import auth

PDQ = "f" * 64
NEAR = "0" + "f" * 63  # 4 bits away


def test_health_is_public_and_ready_checks_the_database(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


def test_missing_wrong_and_underpowered_keys(client: TestClient, keys: dict[Role, str]) -> None:
    missing = client.get("/v1/banks")
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthenticated"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/banks", headers=auth("bl_nope")).status_code == 401
    assert client.get("/v1/banks", headers={"Authorization": "Basic abc"}).status_code == 401
    forbidden = client.post("/v1/banks", json={"name": "b"}, headers=auth(keys[Role.MATCHER]))
    assert forbidden.status_code == 403
    assert "curator" in forbidden.json()["detail"]
    assert client.get("/v1/banks", headers={"X-API-Key": keys[Role.CURATOR]}).status_code == 200


def test_added_hash_matches_within_seconds_and_disable_stops_it(
    client: TestClient, keys: dict[Role, str]
) -> None:
    curator, matcher = auth(keys[Role.CURATOR]), auth(keys[Role.MATCHER])
    assert client.post("/v1/banks", json={"name": "known"}, headers=curator).status_code == 201
    added = client.post(
        "/v1/banks/known/entries",
        json={"entries": [{"signal_type": "pdq", "value": PDQ, "classification": "A1"}]},
        headers=curator,
    )
    assert added.json() == {"added": 1, "unchanged": 0, "disabled": 0, "skipped": 0}

    def lookup() -> dict[str, object]:
        response = client.get(
            "/v1/match/hash", params={"signal_type": "pdq", "value": NEAR}, headers=matcher
        )
        assert response.status_code == 200
        return dict(response.json())

    deadline = time.monotonic() + 5
    while lookup()["status"] != "match":
        assert time.monotonic() < deadline, "the new entry never reached the index"
        time.sleep(0.1)
    match = lookup()["matches"][0]  # type: ignore[index]
    assert (match["bank"], match["distance"], match["classification"]) == ("known", 4, "A1")

    disabled = client.post(
        "/v1/banks/known/entries/disable",
        json={"signal_type": "pdq", "value": PDQ},
        headers=curator,
    )
    assert disabled.json() == {"changed": 1}
    assert lookup()["status"] == "no_match"  # checked against the database, not only the index

    events = client.get("/v1/match-events", headers=auth(keys[Role.AUDITOR])).json()["events"]
    assert len(events) == 2
    assert {event["source"] for event in events} == {"hash"}


def test_bad_hashes_and_batches_get_precise_4xx(client: TestClient, keys: dict[Role, str]) -> None:
    matcher = auth(keys[Role.MATCHER])
    bad = client.get(
        "/v1/match/hash", params={"signal_type": "pdq", "value": "xyz"}, headers=matcher
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_input"
    unknown = client.get(
        "/v1/match/hash", params={"signal_type": "nope", "value": "ab"}, headers=matcher
    )
    assert unknown.status_code in {400, 404}
    too_many = client.post(
        "/v1/match/hashes",
        json={"hashes": [{"signal_type": "md5", "value": "0" * 32}] * 11},
        headers=matcher,
    )
    assert too_many.status_code == 400
    assert "at most 10" in too_many.json()["detail"]
    mixed = client.post(
        "/v1/match/hashes",
        json={
            "hashes": [
                {"signal_type": "md5", "value": "0" * 32},
                {"signal_type": "pdq", "value": "1"},
            ]
        },
        headers=matcher,
    ).json()["results"]
    assert [item["status"] for item in mixed] == ["no_match", "error"]
    malformed = client.post(
        "/v1/match/hashes",
        content=b"{not json",
        headers=matcher | {"content-type": "application/json"},
    )
    assert malformed.status_code == 422


def test_the_index_sync_loop_survives_an_error_that_is_not_the_databases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unexpected error in one sync (a malformed stored hash, say) must not end the loop:
    the worker would serve a stale index forever while reporting ready."""
    results: list[bool] = []
    synced_again = threading.Event()

    def flaky_sync(state: Any) -> None:
        results.append(state.ready)
        if len(results) == 1:
            raise ValueError("a malformed stored hash")
        state.ready = True
        synced_again.set()

    monkeypatch.setattr(app_module, "_sync_once", flaky_sync)
    state = SimpleNamespace(
        settings=SimpleNamespace(service=SimpleNamespace(index_sync_seconds=0)), ready=True
    )

    async def run() -> bool:
        loop = asyncio.create_task(app_module._keep_indexes_synced(cast(Any, state)))
        while not synced_again.is_set() and not loop.done():
            await asyncio.sleep(0.01)
        survived = not loop.done()
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        return survived

    assert asyncio.run(run())
    assert results[:2] == [True, False]  # the failure was reported as not ready
    assert state.ready


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_match_log_time_at_the_edge_of_the_calendar_is_a_400(
    client: TestClient, keys: dict[Role, str], since: str
) -> None:
    """It overflows when converted to UTC: the caller's mistake, never a 503."""
    answer = client.get(
        "/v1/match-events", params={"since": since}, headers=auth(keys[Role.AUDITOR])
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_input"


def test_request_metrics_do_not_grow_a_series_per_made_up_method(client: TestClient) -> None:
    assert client.request("BRIGHTLINEPROBE", "/health").status_code == 405
    methods = {
        sample.labels["method"]
        for family in metrics.REQUEST_SECONDS.collect()
        for sample in family.samples
    }
    assert "BRIGHTLINEPROBE" not in methods
    assert "other" in methods


def test_queue_depth_reports_the_newest_reading_across_worker_processes() -> None:
    """Only the worker answering a scrape sets it, so the maximum over workers would be stale."""
    assert metrics.QUEUE_DEPTH._multiprocess_mode in {"mostrecent", "livemostrecent"}


def test_a_lookup_holds_no_database_connection_while_it_waits_for_the_index(
    client: TestClient, keys: dict[Role, str]
) -> None:
    """A lookup that waited for the read lock while holding a pooled connection could stall a
    sync that holds the write lock and waits for a connection (once the pool is used up)."""
    state = client.app.state.brightline  # type: ignore[attr-defined]
    held: dict[int, int] = {}
    at_read: list[int] = []

    def checked_out(*_: object) -> None:
        held[threading.get_ident()] = held.get(threading.get_ident(), 0) + 1

    def checked_in(*_: object) -> None:
        held[threading.get_ident()] = held.get(threading.get_ident(), 0) - 1

    class WatchedIndexes:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def read(self, use: Any) -> Any:
            at_read.append(held.get(threading.get_ident(), 0))
            return self.inner.read(use)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    event.listen(state.engine, "checkout", checked_out)
    event.listen(state.engine, "checkin", checked_in)
    state.indexes = WatchedIndexes(state.indexes)
    state._distance = None  # stale: the lookup must read the query distance
    try:
        answer = client.get(
            "/v1/match/hash",
            params={"signal_type": "pdq", "value": PDQ},
            headers=auth(keys[Role.MATCHER]),
        )
    finally:
        state.indexes = state.indexes.inner
        event.remove(state.engine, "checkout", checked_out)
        event.remove(state.engine, "checkin", checked_in)
    assert answer.status_code == 200
    assert at_read == [0]
