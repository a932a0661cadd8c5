"""Health, auth, banks and hash matching through the HTTP API, in-process."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from brightline.access import Role
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
