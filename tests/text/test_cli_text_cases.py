"""``brightline text open-cases``: posts with findings become review items, idempotently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from brightline.cli.main import cli
from brightline.evidence import EvidenceStore
from brightline.review import Item, Job
from brightline.review.text_cases import TextDocument
from brightline.settings import load_settings
from brightline.storage import create_engine_for, session_factory

POSTS = [
    {"id": "p-1", "account": "a-1", "text": "new z0rbl@x drop, dm me"},
    {"id": "p-2", "account": "a-1", "text": "an ordinary post"},
    {"id": 3, "account": 7, "text": "see hxxps://example[.]org/x"},
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={"BRIGHTLINE_HOME": str(home)}, catch_exceptions=False
    )


def write(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def terms(tmp_path: Path) -> Path:
    path = tmp_path / "coded.txt"
    path.write_text("zorblax\n", encoding="utf-8")
    return path


def outcomes(result: Result) -> list[tuple[str, str, str]]:
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return [(line["id"], line["account"], line["outcome"]) for line in lines]


def test_posts_with_findings_open_cases_once(home: Path, tmp_path: Path) -> None:
    args = ["text", "open-cases", str(write(tmp_path, POSTS)), "--service", "example-service"]
    args += ["--terms", str(terms(tmp_path))]
    first = run(home, *args)
    assert first.exit_code == 0, first.output
    assert outcomes(first) == [("p-1", "a-1", "opened"), ("3", "7", "opened")]
    again = run(home, *args)
    assert outcomes(again) == [("p-1", "a-1", "unchanged"), ("3", "7", "unchanged")]
    assert "z0rbl" not in first.stdout + again.stdout  # ids and outcomes only

    # Scored: the account's score and its explanation go with the item.
    scored = run(home, *args, "--min-probability", "0")
    assert outcomes(scored) == [("p-1", "a-1", "updated"), ("3", "7", "updated")]
    settings = load_settings({"BRIGHTLINE_HOME": str(home)})
    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert len(items) == 2
        assert all(item.decision is None for item in items)
        assert {job.status for job in session.scalars(select(Job))} == {"open"}
        document = TextDocument.from_bytes(
            EvidenceStore.from_settings(settings).read(items[0].media_ref or "")
        )
    engine.dispose()
    assert document.text == POSTS[0]["text"]
    assert document.hits[0].term == "zorblax"
    assert document.account_score is not None
    assert {"score", "probability", "contributions"} <= set(document.account_score)

    nobody = run(home, *args, "--min-probability", "1")
    assert nobody.exit_code == 0
    assert nobody.stdout == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"id": "p", "text": "zorblax"}',
            'posts line 2: "account" must be a string or an integer',
        ),
        ('{"id": "p", "account": "a", "text": "zorblax \\ud800"}', "unpaired surrogate"),
        ("not json", "posts line 2: not valid JSON"),
    ],
)
def test_a_bad_line_exits_2_and_opens_nothing(
    home: Path, tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps(POSTS[0]) + "\n" + line + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["text", "open-cases", str(path), "--service", "example-service"],
        env={"BRIGHTLINE_HOME": str(home)},
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "zorblax" not in result.output
    assert result.stdout.count("\n") <= 1
    assert "opened" not in result.stdout
