"""``GET /v1/text/lists`` and ``POST /v1/text/match`` naming term banks in the database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from brightline.access import Role
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from brightline.text.term_banks import add_term, create_list
from tests.http.conftest import auth

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The service tests cover both databases; these check the routes."""


def _change(settings: Settings, *terms: str, create: bool = False) -> None:
    engine = create_engine_for(settings.database_url)
    try:
        with session_factory(engine).begin() as session:
            if create:
                create_list(session=session, name="coded", description="placeholders",
                            actor="test")  # fmt: skip
            for term in terms:
                add_term(session=session, list_name="coded", text=term, weight=2, actor="test")
    finally:
        engine.dispose()


def test_lists_and_matching_against_a_database_list(
    client: TestClient, settings: Settings, keys: dict[Role, str]
) -> None:
    matcher = auth(keys[Role.MATCHER])
    assert client.get("/v1/text/lists", headers=matcher).json() == {"lists": []}
    _change(settings, create=True)
    empty = client.post("/v1/text/match", json={"texts": ["x"], "lists": ["coded"]},
                        headers=matcher)  # fmt: skip
    assert empty.status_code == 400
    assert "lists[0]: the term list has no terms" in empty.text
    _change(settings, "zorblax")
    listed = client.get("/v1/text/lists", headers=auth(keys[Role.CURATOR])).json()
    assert listed == {
        "lists": [{"name": "coded", "version": "v1", "terms": 1, "description": "placeholders"}]
    }
    body = {"texts": ["a z0rbl@x and quenvik"], "lists": ["coded", "coded"], "extract": False}
    answer = client.post("/v1/text/match", json=body, headers=matcher)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["term_lists"] == [{"name": "coded", "version": "v1", "terms": 1}]
    hits = result["results"][0]["terms"]
    assert [(hit["term"], hit["list_version"], hit["weight"]) for hit in hits] == [
        ("zorblax", "v1", 2.0)
    ]
    # A change to the list is used by the next request (a new version, a new matcher).
    _change(settings, "quenvik")
    again = client.post("/v1/text/match", json=body, headers=matcher).json()
    assert [hit["term"] for hit in again["results"][0]["terms"]] == ["zorblax", "quenvik"]
    assert again["term_lists"][0]["version"] == "v2"

    missing = client.post("/v1/text/match", json={"texts": ["x"], "lists": ["coded", "nope"]},
                          headers=matcher)  # fmt: skip
    assert missing.status_code == 400
    assert "lists[1]: no term list with that name" in missing.text
    nul = client.post("/v1/text/match", json={"texts": ["x"], "lists": ["co\x00ded"]},
                      headers=matcher)  # fmt: skip
    assert nul.status_code == 400  # PostgreSQL cannot hold NUL: refused before any query
    assert client.get("/v1/text/lists").status_code == 401


def test_account_scores_use_the_named_database_lists(
    client: TestClient, settings: Settings, keys: dict[Role, str]
) -> None:
    reader = auth(keys[Role.MATCHER])
    _change(settings, "zorblax", create=True)
    posts = [{"account": "user-1", "text": "a z0rbl@x here"}, {"account": "user-2", "text": "hi"}]

    def contributions(body: dict[str, object]) -> dict[str, float]:
        answer = client.post("/v1/text/accounts/score", json=body, headers=reader)
        assert answer.status_code == 200, answer.text
        first = answer.json()["accounts"][0]
        assert first["account"] == "user-1"
        return {c["feature"]: c["value"] for c in first["contributions"]}

    without = contributions({"posts": posts})
    with_list = contributions({"posts": posts, "lists": ["coded"]})
    gained = {name for name, value in with_list.items() if value > without.get(name, 0.0)}
    assert gained, with_list  # the listed term counts only when its list is named
    missing = client.post("/v1/text/accounts/score", json={"posts": posts, "lists": ["nope"]},
                          headers=reader)  # fmt: skip
    assert missing.status_code == 400
    assert "lists[0]: no term list with that name" in missing.text
