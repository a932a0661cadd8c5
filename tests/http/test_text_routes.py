"""``POST /v1/text/match`` and ``POST /v1/text/accounts/score`` over the in-process app."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from brightline.access import Role
from brightline.errors import InvalidInput
from brightline.http import create_app
from brightline.settings import Settings, TextSettings, load_text_settings
from tests.http.conftest import auth

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The routes touch the database only to check keys: one engine is enough."""

WALLET = "0x52908400098527886e0f7030069857d2e4169ee7"


@pytest.fixture
def text_settings(tmp_path: Path, settings: Settings) -> Settings:
    terms = tmp_path / "coded.csv"
    terms.write_text("term,mode,weight\nzorblax,token,2\nquenvik,hashtag,\n", encoding="utf-8")
    text = TextSettings(term_lists=(terms,), max_text_chars=200, max_posts=5)
    return dataclasses.replace(settings, text=text)


@pytest.fixture
def text_client(text_settings: Settings, keys: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(create_app(text_settings)) as test_client:
        yield test_client


@SQLITE
def test_match_reports_term_hits_and_signals(
    text_client: TestClient, keys: dict[Role, str]
) -> None:
    texts = ["a z0rbl@x here: hxxps://example[.]org/x", "#QuenvikVorp", "nothing"]
    response = text_client.post(
        "/v1/text/match", json={"texts": texts}, headers=auth(keys[Role.MATCHER])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["term_lists"][0]["name"] == "coded"
    assert body["term_lists"][0]["terms"] == 2
    first, second, third = body["results"]
    hit = first["terms"][0]
    assert (hit["list"], hit["term"], hit["match"], hit["weight"]) == (
        "coded",
        "zorblax",
        "leet",
        2.0,
    )
    assert texts[0][hit["start"] : hit["end"]] == "z0rbl@x"
    assert first["signals"][0]["kind"] == "url"
    assert first["signals"][0]["value"] == "https://example.org/x"
    assert second["terms"][0]["hashtag"] is True
    assert third == {"index": 2, "terms": [], "signals": []}


@SQLITE
def test_match_without_extraction(text_client: TestClient, keys: dict[Role, str]) -> None:
    response = text_client.post(
        "/v1/text/match",
        json={"texts": ["zorblax https://example.org"], "extract": False},
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["signals"] == []


@SQLITE
def test_match_without_term_lists_still_finds_signals(
    client: TestClient, keys: dict[Role, str]
) -> None:
    response = client.post(
        "/v1/text/match", json={"texts": [f"tips {WALLET}"]}, headers=auth(keys[Role.MATCHER])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["term_lists"] == []
    assert body["results"][0]["signals"][0]["kind"] == "crypto_address"


@SQLITE
@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"texts": ["x"] * 11}, 400, "invalid_input"),  # over max_batch_size (10)
        ({"texts": ["x" * 201]}, 400, "invalid_input"),  # over max_text_chars
        ({"texts": []}, 422, "invalid_request"),
        ({"texts": "zorblax"}, 422, "invalid_request"),
        ({"texts": ["x"], "other": 1}, 422, "invalid_request"),
    ],
)
def test_match_refuses_bad_requests(
    text_client: TestClient, keys: dict[Role, str], body: object, status: int, error: str
) -> None:
    response = text_client.post("/v1/text/match", json=body, headers=auth(keys[Role.MATCHER]))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert "zorblax" not in response.json()["detail"]


@SQLITE
def test_lone_surrogate_is_refused_not_a_server_error(
    text_client: TestClient, keys: dict[Role, str]
) -> None:
    response = text_client.post(
        "/v1/text/match",
        content=b'{"texts": ["a \\ud800 b"]}',
        headers={**auth(keys[Role.MATCHER]), "content-type": "application/json"},
    )
    assert response.status_code in {400, 422}  # a 4xx with a reason, never a 500
    assert response.json()["detail"]


@SQLITE
def test_oversized_body_is_refused_by_its_length(
    text_client: TestClient, keys: dict[Role, str]
) -> None:
    response = text_client.post(
        "/v1/text/match",
        content=b"{}",
        headers={
            **auth(keys[Role.MATCHER]),
            "content-type": "application/json",
            "content-length": str(17 * 1024 * 1024),
        },
    )
    assert response.status_code == 413


@SQLITE
def test_roles(text_client: TestClient, keys: dict[Role, str]) -> None:
    match = {"texts": ["x"]}
    score = {"posts": [{"account": "a", "text": "x"}]}
    assert text_client.post("/v1/text/match", json=match).status_code == 401
    assert (
        text_client.post("/v1/text/match", json=match, headers=auth(keys[Role.CURATOR])).status_code
        == 403
    )
    for role, status in ((Role.REVIEWER, 200), (Role.MATCHER, 200), (Role.AUDITOR, 403)):
        response = text_client.post("/v1/text/accounts/score", json=score, headers=auth(keys[role]))
        assert response.status_code == status, role


@SQLITE
def test_score_accounts_with_contributions(text_client: TestClient, keys: dict[Role, str]) -> None:
    body = {
        "posts": [
            {"account": "known", "text": f"send to {WALLET}"},
            {"account": "a", "text": f"z0rbl@x tips {WALLET}"},
            {"account": "a", "text": "hello"},
            {"account": "b", "text": "lunch", "hashtags": ["#picnic"]},
        ],
        "confirmed": ["known"],
    }
    response = text_client.post(
        "/v1/text/accounts/score", json=body, headers=auth(keys[Role.REVIEWER])
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["calibrated"] is False
    accounts = result["accounts"]
    assert [item["account"] for item in accounts] == ["a", "known", "b"]
    top = accounts[0]
    assert top["posts"] == 2
    assert top["shared_with"] == ["known"]
    amounts = [item["amount"] for item in top["contributions"]]
    assert math.isclose(math.fsum(amounts), top["score"])
    assert {"terms_leet", "shared_identifiers", "hit_post_share"} <= {
        item["feature"] for item in top["contributions"]
    }


@SQLITE
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"posts": [{"account": "a", "text": "x"}] * 6}, 400),  # over max_posts (5)
        ({"posts": [{"account": "a", "text": "x" * 201}]}, 400),
        ({"posts": [{"account": " ", "text": "x"}]}, 422),
        ({"posts": [{"account": "a"}]}, 422),
        ({"posts": []}, 422),
        ({"posts": [{"account": "a", "text": "x"}], "top": 0}, 422),
    ],
)
def test_score_accounts_refuses_bad_requests(
    text_client: TestClient, keys: dict[Role, str], body: object, status: int
) -> None:
    response = text_client.post(
        "/v1/text/accounts/score", json=body, headers=auth(keys[Role.MATCHER])
    )
    assert response.status_code == status
    assert set(response.json()) >= {"error", "detail"}


def test_term_lists_setting_is_parsed(tmp_path: Path) -> None:
    env = {
        "BRIGHTLINE_TEXT_TERM_LISTS": f"{tmp_path / 'a.txt'}:{tmp_path / 'b.csv'}:",
        "BRIGHTLINE_TEXT_MAX_CHARS": "500",
    }
    text = load_text_settings(env)
    assert text.term_lists == (tmp_path / "a.txt", tmp_path / "b.csv")
    assert text.max_text_chars == 500
    with pytest.raises(InvalidInput):
        load_text_settings({"BRIGHTLINE_TEXT_MAX_POSTS": "0"})


@SQLITE
def test_a_bad_term_list_stops_the_app_from_starting(settings: Settings, tmp_path: Path) -> None:
    terms = tmp_path / "bad.csv"
    terms.write_text("zorblax,nonsense,1\n", encoding="utf-8")
    broken = dataclasses.replace(settings, text=TextSettings(term_lists=(terms,)))
    with pytest.raises(InvalidInput, match=r"bad\.csv:1"):
        create_app(broken)
