"""The HMA-compatible endpoints: HMA's paths and JSON shapes, Brightline's errors and auth.

All hashes are synthetic and all images are generated stand-ins.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from brightline.access import Role
from brightline.demo.standins import standin_image
from brightline.http import create_app
from brightline.http.auth import _in_networks
from brightline.intake.fetching import FetchLimits
from brightline.settings import Settings
from tests.http.conftest import auth, with_service

PDQ = "f" * 64
NEAR = "0" + "f" * 63  # 4 bits away
FAR = "0" * 64
MD5 = hashlib.md5(b"synthetic test content", usedforsecurity=False).hexdigest()


def _png(seed: int = 7) -> bytes:
    out = io.BytesIO()
    standin_image(seed, 320, 240).save(out, "PNG")
    return out.getvalue()


def _headers(keys: dict[Role, str], role: Role) -> dict[str, str]:
    return auth(keys[role])


def _make_bank(client: TestClient, curator: dict[str, str], name: str = "KNOWN") -> None:
    response = client.post("/c/banks", json={"name": name}, headers=curator)
    assert response.status_code == 201, response.text


def _wait_for(check: Any, what: str) -> Any:
    """Poll until ``check()`` is truthy: new PDQ entries reach the index by background sync."""
    deadline = time.monotonic() + 5
    while not (value := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return value


# --- banks -----------------------------------------------------------------------------------


def test_bank_create_list_get_update_delete(client: TestClient, keys: dict[Role, str]) -> None:
    curator = _headers(keys, Role.CURATOR)
    created = client.post("/c/banks", json={"name": "SERIES_A"}, headers=curator)
    assert created.status_code == 201
    assert created.json() == {"name": "SERIES_A", "matching_enabled_ratio": 1.0}
    off = client.post("/c/banks", json={"name": "OFF", "enabled": False}, headers=curator)
    assert off.json() == {"name": "OFF", "matching_enabled_ratio": 0.0}
    ratio_wins = client.post(
        "/c/banks", json={"name": "R", "enabled_ratio": 0.0, "enabled": True}, headers=curator
    )
    assert ratio_wins.json()["matching_enabled_ratio"] == 0.0

    listed = client.get("/c/banks", headers=curator).json()
    assert [bank["name"] for bank in listed] == ["OFF", "R", "SERIES_A"]
    assert client.get("/c/bank/SERIES_A", headers=curator).json() == created.json()

    renamed = client.put(
        "/c/bank/SERIES_A", json={"name": "SERIES_B", "enabled": False}, headers=curator
    )
    assert renamed.json() == {"name": "SERIES_B", "matching_enabled_ratio": 0.0}
    enabled = client.put("/c/bank/SERIES_B", json={"enabled_ratio": 1}, headers=curator)
    assert enabled.json()["matching_enabled_ratio"] == 1.0

    assert client.delete("/c/bank/SERIES_B", headers=curator).json() == {"message": "Done"}
    assert client.get("/c/bank/SERIES_B", headers=curator).status_code == 404


def test_bank_errors_are_precise_and_carry_hma_message(
    client: TestClient, keys: dict[Role, str]
) -> None:
    curator = _headers(keys, Role.CURATOR)
    _make_bank(client, curator)

    missing = client.get("/c/bank/NOPE", headers=curator)
    assert missing.status_code == 404
    body = missing.json()
    assert body["error"] == "not_found"
    assert body["message"] == body["detail"] == "no bank named 'NOPE'"
    assert client.put("/c/bank/NOPE", json={}, headers=curator).status_code == 404
    assert client.delete("/c/bank/NOPE", headers=curator).status_code == 404

    duplicate = client.post("/c/banks", json={"name": "KNOWN"}, headers=curator)
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.json()["message"]

    partial = client.put("/c/bank/KNOWN", json={"enabled_ratio": 0.5}, headers=curator)
    assert partial.status_code == 400
    assert "enabled_ratio 0.5" in partial.json()["message"]

    bad_name = client.post("/c/banks", json={"name": "-bad/name"}, headers=curator)
    assert bad_name.status_code == 400
    assert "bank names" in bad_name.json()["message"]

    unknown_field = client.post("/c/banks", json={"name": "X", "colour": 1}, headers=curator)
    assert unknown_field.status_code == 422
    assert unknown_field.json()["message"].startswith("body.colour")


# --- adding hashes and looking them up -------------------------------------------------------


def test_add_signal_then_lookup_raw_lookup_and_match_log(
    client: TestClient, keys: dict[Role, str]
) -> None:
    curator, matcher = _headers(keys, Role.CURATOR), _headers(keys, Role.MATCHER)
    _make_bank(client, curator)
    _make_bank(client, curator, "OTHER")

    added = client.post(
        "/c/bank/KNOWN/signal", json={"pdq": PDQ.upper(), "video_md5": MD5}, headers=curator
    )
    assert added.status_code == 200, added.text
    body = added.json()
    assert body["signals"] == {"pdq": PDQ, "md5": MD5}  # canonical form, Brightline names
    assert set(body["entry_ids"]) == {"pdq", "md5"}
    assert body["id"] == body["entry_ids"]["pdq"]
    again = client.post("/c/bank/KNOWN/signal", json={"pdq": PDQ}, headers=curator).json()
    assert again["id"] == body["id"]  # idempotent: the same entry

    def pdq_lookup() -> dict[str, Any]:
        response = client.get(
            "/m/lookup", params={"signal_type": "pdq", "signal": NEAR}, headers=matcher
        )
        assert response.status_code == 200
        return dict(response.json())

    found = _wait_for(pdq_lookup, "the new PDQ entry never reached the index")
    assert found == {"KNOWN": [{"bank_content_id": body["id"], "distance": "4"}]}

    for name in ("md5", "video_md5"):
        exact = client.get(
            "/m/lookup", params={"signal_type": name, "signal": MD5}, headers=matcher
        ).json()
        assert exact == {"KNOWN": [{"bank_content_id": body["entry_ids"]["md5"], "distance": "0"}]}
    other_only = client.get(
        "/m/lookup",
        params={"signal_type": "pdq", "signal": NEAR, "banks": "OTHER"},
        headers=matcher,
    )
    assert other_only.json() == {}
    far = client.get("/m/lookup", params={"signal_type": "pdq", "signal": FAR}, headers=matcher)
    assert far.json() == {}
    coinflip = client.get(
        "/m/lookup",
        params={"signal_type": "pdq", "signal": NEAR, "seed": "x", "bypass_coinflip": "true"},
        headers=matcher,
    )
    assert coinflip.json() == found

    raw = client.get(
        "/m/raw_lookup", params={"signal_type": "pdq", "signal": NEAR}, headers=matcher
    ).json()
    assert raw == {"matches": [body["id"]]}
    with_distance = client.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": NEAR, "include_distance": "true"},
        headers=matcher,
    ).json()
    assert with_distance == {"matches": [{"bank_content_id": body["id"], "distance": "4"}]}
    restricted = client.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": NEAR, "banks": "OTHER,NOPE"},
        headers=matcher,
    ).json()
    assert restricted == {"matches": []}

    # Disabling the bank stops matching at once (HMA: enabled_ratio 0).
    client.put("/c/bank/KNOWN", json={"enabled": False}, headers=curator)
    assert pdq_lookup() == {}

    events = client.get("/v1/match-events", headers=auth(keys[Role.AUDITOR])).json()["events"]
    assert events
    assert {event["source"] for event in events} == {"hash"}
    assert {event["bank"] for event in events} == {"KNOWN"}


def test_lookup_and_signal_errors_are_4xx_with_messages(
    client: TestClient, keys: dict[Role, str]
) -> None:
    curator, matcher = _headers(keys, Role.CURATOR), _headers(keys, Role.MATCHER)
    _make_bank(client, curator)

    def get(path: str, **params: str) -> tuple[int, dict[str, Any]]:
        response = client.get(path, params=params, headers=matcher)
        return response.status_code, response.json()

    status, body = get("/m/lookup")
    assert (status, body["message"]) == (
        400,
        "Either url or both signal and signal_type are required",
    )
    status, body = get("/m/lookup", signal_type="pdq", signal="xyz")
    assert status == 400
    assert body["message"] == "invalid signal: a pdq hash is 64 hex characters"
    status, body = get("/m/lookup", signal_type="tmk", signal="ab")
    assert status == 400
    assert body["message"].startswith("No such SignalType 'tmk'")
    status, body = get("/m/raw_lookup", signal_type="pdq")
    assert status == 422
    assert body["message"] == "query.signal: Field required"
    status, body = get("/m/raw_lookup", signal_type="pdq", signal=PDQ, include_distance="maybe")
    assert status == 422
    assert body["message"].startswith("query.include_distance")
    status, body = get("/m/lookup", signal_type="pdq", signal=PDQ, bypass_coinflip="maybe")
    assert status == 422
    status, body = get("/m/index/status", signal_type="nope")
    assert status == 400

    def post(path: str, payload: object) -> tuple[int, dict[str, Any]]:
        response = client.post(path, json=payload, headers=curator)
        return response.status_code, response.json()

    status, body = post("/c/bank/NOPE/signal", {"pdq": PDQ})
    assert (status, body["message"]) == (404, "no bank named 'NOPE'")
    status, body = post("/c/bank/KNOWN/signal", {})
    assert (status, body["message"]) == (400, "No signals given")
    status, body = post("/c/bank/KNOWN/signal", {"pdq": "xyz"})
    assert (status, body["message"]) == (400, "Invalid pdq signal: a pdq hash is 64 hex characters")
    status, body = post("/c/bank/KNOWN/signal", {"pdq": 5})
    assert status == 400
    assert "must be a string" in body["message"]
    status, body = post("/c/bank/KNOWN/signal", {"tmk": "ab"})
    assert status == 400
    status, body = post("/c/bank/KNOWN/signal", ["pdq", PDQ])
    assert status == 422
    assert body["message"].startswith("body")
    # Nothing of a rejected request was stored.
    assert client.get("/c/bank/KNOWN", headers=curator).status_code == 200
    lookup = client.get("/m/lookup", params={"signal_type": "pdq", "signal": PDQ}, headers=matcher)
    assert lookup.json() == {}


def test_compare(client: TestClient, keys: dict[Role, str]) -> None:
    matcher = _headers(keys, Role.MATCHER)
    answer = client.post(
        "/m/compare",
        json={"pdq": [PDQ, NEAR], "video_md5": [MD5, MD5], "sha256": ["a" * 64, "b" * 64]},
        headers=matcher,
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "pdq": [True, {"distance": 4}],
        "video_md5": [True, {"distance": 0}],
        "sha256": [False, {"distance": 1}],
    }
    assert client.post("/m/compare", json={"pdq": [PDQ, FAR]}, headers=matcher).json() == {
        "pdq": [False, {"distance": 256}]
    }
    assert client.post("/m/compare", json={}, headers=matcher).json() == {}

    for payload, message in [
        ({"pdq": PDQ}, "Comparison hashes for pdq was not a list"),
        ({"pdq": [PDQ]}, "Comparison hash list for pdq must have exactly 2 hashes"),
        ({"pdq": [PDQ, "xyz"]}, "Invalid pdq hash: a pdq hash is 64 hex characters"),
        ({"pdq": [PDQ, 3]}, "Invalid pdq hash: a pdq hash must be a string"),
    ]:
        response = client.post("/m/compare", json=payload, headers=matcher)
        assert (response.status_code, response.json()["message"]) == (400, message)
    unknown = client.post("/m/compare", json={"tmk": ["a", "b"]}, headers=matcher)
    assert unknown.status_code == 400
    not_object = client.post("/m/compare", json=[PDQ, NEAR], headers=matcher)
    assert not_object.status_code == 422


def test_index_status_and_status(client: TestClient, keys: dict[Role, str]) -> None:
    curator, matcher = _headers(keys, Role.CURATOR), _headers(keys, Role.MATCHER)
    empty = client.get("/m/index/status", headers=matcher).json()
    assert empty["pdq"] == {"present": True, "built_to": -1, "size": 0}
    assert set(empty) >= {"pdq", "md5", "sha1", "sha256", "vpdq"}

    _make_bank(client, curator)
    before = int(time.time()) - 1
    client.post("/c/bank/KNOWN/signal", json={"pdq": PDQ, "md5": MD5}, headers=curator)
    one = client.get("/m/index/status", params={"signal_type": "pdq"}, headers=matcher).json()
    assert list(one) == ["pdq"]
    assert one["pdq"]["size"] == 1
    assert before <= one["pdq"]["built_to"] <= time.time() + 1
    by_alias = client.get("/m/index/status", params={"signal_type": "video_md5"}, headers=matcher)
    assert by_alias.json()["md5"]["size"] == 1

    alive = client.get("/status", headers=matcher)
    assert (alive.status_code, alive.text) == (200, "I-AM-ALIVE")
    assert alive.headers["content-type"].startswith("text/plain")
    assert client.get("/status", headers=curator).status_code == 200


# --- content: uploads and URLs ---------------------------------------------------------------


def test_hash_upload_shapes_and_errors(client: TestClient, keys: dict[Role, str]) -> None:
    matcher = _headers(keys, Role.MATCHER)
    data = _png()
    hashed = client.post("/h/hash", files={"photo": ("a.png", data, "image/png")}, headers=matcher)
    assert hashed.status_code == 200, hashed.text
    body = hashed.json()
    assert set(body) == {"md5", "sha1", "sha256", "pdq"}
    assert body["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert len(body["pdq"]) == 64
    # The field name is HMA's content type; Brightline sniffs the bytes, so either works.
    as_video = client.post("/h/hash", files={"video": ("a.png", data)}, headers=matcher).json()
    assert as_video == body
    only_pdq = client.post(
        "/h/hash", params={"types": "pdq"}, files={"photo": ("a.png", data)}, headers=matcher
    )
    assert only_pdq.json() == {"pdq": body["pdq"]}

    nothing = client.post("/h/hash", headers=matcher)
    assert nothing.status_code == 400
    assert nothing.json()["message"].startswith("Missing multipart/form-data file upload")
    wrong_field = client.post("/h/hash", files={"file": ("a.png", data)}, headers=matcher)
    assert wrong_field.status_code == 400
    two = client.post(
        "/h/hash",
        files=[("photo", ("a.png", data)), ("photo", ("b.png", data))],
        headers=matcher,
    )
    assert (two.status_code, two.json()["message"]) == (400, "Only one file allowed per request")
    empty = client.post("/h/hash", files={"photo": ("a.png", b"")}, headers=matcher)
    assert (empty.status_code, empty.json()["message"]) == (400, "the uploaded file is empty")
    bad_types = client.post(
        "/h/hash", params={"types": "tmk"}, files={"photo": ("a.png", data)}, headers=matcher
    )
    assert bad_types.status_code == 400
    blank_types = client.post(
        "/h/hash", params={"types": " , "}, files={"photo": ("a.png", data)}, headers=matcher
    )
    assert (blank_types.status_code, blank_types.json()["message"]) == (
        400,
        "empty signal type selection",
    )
    # Not an image: the file digests still come back, PDQ cannot.
    text = client.post("/h/hash", files={"photo": ("a.txt", b"hello")}, headers=matcher).json()
    assert set(text) == {"md5", "sha1", "sha256"}


def test_add_content_by_upload_then_lookup_upload(
    client: TestClient, keys: dict[Role, str]
) -> None:
    curator, matcher = _headers(keys, Role.CURATOR), _headers(keys, Role.MATCHER)
    _make_bank(client, curator)
    data = _png(11)
    added = client.post(
        "/c/bank/KNOWN/content",
        files={"photo": ("a.png", data, "image/png")},
        data={"metadata": '{"content_id": "case-17", "json": {"note": "synthetic"}}'},
        headers=curator,
    )
    assert added.status_code == 200, added.text
    body = added.json()
    assert set(body["signals"]) == {"pdq", "md5", "sha1", "sha256"}
    assert body["id"] == body["entry_ids"]["pdq"]
    assert "not_added" not in body

    exported = client.get("/v1/banks/KNOWN/export", params={"format": "csv"}, headers=curator).text
    assert exported.count("case-17") == 4

    def upload_lookup() -> dict[str, Any]:
        response = client.post("/m/lookup", files={"photo": ("q.png", data)}, headers=matcher)
        assert response.status_code == 200, response.text
        result = dict(response.json())
        return result if result["pdq"] else {}

    found = _wait_for(upload_lookup, "the new PDQ entry never reached the index")
    assert set(found) == {"pdq", "md5", "sha1", "sha256"}
    assert found["pdq"] == {"KNOWN": [{"bank_content_id": body["id"], "distance": "0"}]}
    assert found["md5"] == {
        "KNOWN": [{"bank_content_id": body["entry_ids"]["md5"], "distance": "0"}]
    }
    only_md5 = client.post(
        "/m/lookup", params={"types": "video_md5"}, files={"photo": ("q", data)}, headers=matcher
    ).json()
    assert list(only_md5) == ["md5"]
    elsewhere = client.post(
        "/m/lookup", params={"banks": "OTHER"}, files={"photo": ("q", data)}, headers=matcher
    ).json()
    assert all(by_bank == {} for by_bank in elsewhere.values())

    events = client.get("/v1/match-events", headers=auth(keys[Role.AUDITOR])).json()["events"]
    assert {event["source"] for event in events} == {"upload"}


def test_add_content_errors(client: TestClient, keys: dict[Role, str]) -> None:
    curator = _headers(keys, Role.CURATOR)
    _make_bank(client, curator)
    data = _png()

    def add(path: str = "/c/bank/KNOWN/content", **kwargs: Any) -> tuple[int, str]:
        response = client.post(path, headers=curator, **kwargs)
        return response.status_code, response.json().get("message", "")

    assert add("/c/bank/NOPE/content", files={"photo": ("a.png", data)}) == (
        404,
        "no bank named 'NOPE'",
    )
    assert add() == (400, "Neither `url` nor multipart file upload was received")
    status, message = add(files={"photo": ("a.png", data)}, data={"metadata": "{nope"})
    assert (status, message) == (400, "the metadata form field is not JSON")
    status, message = add(files={"photo": ("a.png", data)}, data={"metadata": '{"x": 1}'})
    assert status == 400
    assert message.startswith("Invalid metadata: x")
    status, message = add(files={"photo": ("a.png", data)}, params={"content_type": "audio"})
    assert (status, message) == (400, "no such content_type: 'audio' (photo or video)")
    # Not an image and only PDQ asked for: nothing to add, and the reason says why.
    status, message = add(files={"photo": ("a.txt", b"hello")}, params={"types": "pdq"})
    assert status == 400
    assert message.startswith("no hash to add")
    # Not an image: its digests are banked (as `brightline bank add` does), PDQ is reported.
    text = client.post(
        "/c/bank/KNOWN/content", files={"photo": ("a.txt", b"hello")}, headers=curator
    ).json()
    assert set(text["signals"]) == {"md5", "sha1", "sha256"}
    assert set(text["not_added"]) == {"pdq"}


@pytest.fixture
def fake_fetch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Serve every URL from a generated image, recording what was fetched (no network)."""
    fetched: list[str] = []

    def fetch_to_file(url: str, *, directory: Path, limits: FetchLimits) -> Path:
        assert limits.max_bytes > 0
        fetched.append(url)
        path = directory / "fetched"
        path.write_bytes(_png(23))
        return path

    # The HMA routes fetch through the v1 routes' fetcher (one SSRF-safe path for both).
    monkeypatch.setattr("brightline.http.routes.matching.fetch_to_file", fetch_to_file)
    return fetched


def test_url_hashing_lookup_and_content(
    client: TestClient, keys: dict[Role, str], fake_fetch: list[str]
) -> None:
    curator, matcher = _headers(keys, Role.CURATOR), _headers(keys, Role.MATCHER)
    url = "https://media.example.net/upload/1.png"

    missing = client.get("/h/hash", headers=matcher)
    assert (missing.status_code, missing.json()["message"]) == (400, "url is required")
    hashed = client.get("/h/hash", params={"url": url, "content_type": "photo"}, headers=matcher)
    assert hashed.status_code == 200
    assert hashed.json()["md5"] == hashlib.md5(_png(23), usedforsecurity=False).hexdigest()
    assert fake_fetch == [url]

    _make_bank(client, curator)
    added = client.post(
        "/c/bank/KNOWN/content",
        params={"url": url},
        json={"metadata": {"content_id": "url-1", "content_uri": url}},
        headers=curator,
    )
    assert added.status_code == 200, added.text
    assert added.json()["signals"] == hashed.json()
    bad_metadata = client.post(
        "/c/bank/KNOWN/content",
        params={"url": url},
        json={"metadata": ["no"]},
        headers=curator,
    )
    assert bad_metadata.status_code == 400
    assert bad_metadata.json()["message"] == "metadata should be a json object"

    def url_lookup() -> dict[str, Any]:
        response = client.get("/m/lookup", params={"url": url}, headers=matcher)
        assert response.status_code == 200
        result = dict(response.json())
        return result if result["pdq"] else {}

    found = _wait_for(url_lookup, "the new PDQ entry never reached the index")
    assert found["pdq"] == {"KNOWN": [{"bank_content_id": added.json()["id"], "distance": "0"}]}
    elided = client.get(
        "/m/lookup", params={"url": url, "signal_type": "video_md5"}, headers=matcher
    ).json()
    assert elided == {
        "KNOWN": [{"bank_content_id": added.json()["entry_ids"]["md5"], "distance": "0"}]
    }


def test_url_fetch_failure_is_a_clean_error(client: TestClient, keys: dict[Role, str]) -> None:
    """Whatever the fetcher refuses (here: the placeholder, or an SSRF-refused address) comes
    back as a Brightline error with a message, never a 500."""
    matcher = _headers(keys, Role.MATCHER)
    response = client.get("/h/hash", params={"url": "http://127.0.0.1/x.png"}, headers=matcher)
    assert 400 <= response.status_code < 600
    assert response.status_code != 500
    assert response.json()["message"]


# --- authentication and allow-listed networks -----------------------------------------------


def test_keys_and_roles(client: TestClient, keys: dict[Role, str]) -> None:
    for method, path in [
        ("GET", "/m/lookup?signal_type=pdq&signal=" + PDQ),
        ("GET", "/c/banks"),
        ("POST", "/h/hash"),
        ("GET", "/status"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["message"] == "an API key is required"
        assert response.headers["www-authenticate"].startswith("Bearer")
    forbidden = client.get("/c/banks", headers=_headers(keys, Role.MATCHER))
    assert forbidden.status_code == 403
    assert "curator" in forbidden.json()["message"]
    assert client.get("/m/index/status", headers=_headers(keys, Role.CURATOR)).status_code == 403
    assert client.get("/status", headers=_headers(keys, Role.AUDITOR)).status_code == 403
    admin = _headers(keys, Role.ADMIN)
    assert client.get("/c/banks", headers=admin).status_code == 200
    assert client.get("/status", headers={"X-API-Key": keys[Role.MATCHER]}).status_code == 200


def test_in_networks_needs_an_ip_inside_a_listed_network() -> None:
    assert _in_networks("10.1.2.3", ("10.0.0.0/8",))
    assert _in_networks("::1", ("::1/128",))
    assert not _in_networks("192.168.1.1", ("10.0.0.0/8",))
    assert not _in_networks("testclient", ("10.0.0.0/8",))
    assert not _in_networks("10.1.2.3", ())
    # A dual-stack listener's IPv4 client, and a network written with host bits.
    assert _in_networks("::ffff:10.1.2.3", ("10.0.0.0/8",))
    assert not _in_networks("::ffff:192.168.1.1", ("10.0.0.0/8",))
    assert _in_networks("10.1.2.3", ("10.0.0.1/8",))


def test_open_network_needs_no_key_but_only_on_hma_routes(
    settings: Settings, keys: dict[Role, str]
) -> None:
    app = create_app(with_service(settings, hma_open_networks=("10.0.0.0/8",)))
    with TestClient(app, client=("10.1.2.3", 50000)) as inside:
        assert inside.post("/c/banks", json={"name": "OPEN"}).status_code == 201
        added = inside.post("/c/bank/OPEN/signal", json={"md5": MD5})
        assert added.status_code == 200
        lookup = inside.get("/m/lookup", params={"signal_type": "md5", "signal": MD5})
        assert lookup.json() == {"OPEN": [{"bank_content_id": added.json()["id"], "distance": "0"}]}
        assert inside.get("/status").text == "I-AM-ALIVE"
        # Brightline's own API still wants a key, and a wrong key is refused, not ignored.
        assert inside.get("/v1/banks").status_code == 401
        assert inside.get("/c/banks", headers=auth("bl_nope")).status_code == 401
        # The match log records the network, not a key.
        events = inside.get("/v1/match-events", headers=auth(keys[Role.AUDITOR])).json()
        assert [event["bank"] for event in events["events"]] == ["OPEN"]
    with TestClient(app, client=("192.168.1.1", 50000)) as outside:
        assert outside.get("/c/banks").status_code == 401
