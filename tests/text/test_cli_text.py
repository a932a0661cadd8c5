"""``brightline text scan`` end to end: JSON lines in, JSON lines out, errors by line number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BRIGHTLINE_HOME": str(tmp_path / "home")}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def posts_file(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def records(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_scan_writes_term_hits_and_extractions(env: dict[str, str], tmp_path: Path) -> None:
    terms = tmp_path / "coded.txt"
    terms.write_text("zorblax\n#quenvik\n", encoding="utf-8")
    posts = posts_file(
        tmp_path,
        [
            {"id": 7, "text": "a z0rbl@x here: hxxps://example[.]org/x"},
            {"id": "p-2", "text": "#QuenvikVorp"},
            {"id": 9, "text": "nothing to see"},
        ],
    )
    result = run(env, "text", "scan", str(posts), "--terms", str(terms), "--list-name", "demo")
    assert result.exit_code == 0, result.output
    out = records(result)
    version = out[0]["list_version"]
    assert version.startswith("sha256:")
    assert out == [
        {
            "id": 7,
            "type": "term",
            "list": "demo",
            "list_version": version,
            "term": "zorblax",
            "mode": "token",
            "match": "leet",
            "start": 2,
            "end": 9,
            "weight": 1.0,
            "hashtag": False,
        },
        {
            "id": 7,
            "type": "extraction",
            "kind": "url",
            "value": "https://example.org/x",
            "start": 16,
            "end": 39,
            "confidence": 0.95,
            "detail": "defanged",
        },
        {
            "id": "p-2",
            "type": "term",
            "list": "demo",
            "list_version": version,
            "term": "quenvik",
            "mode": "hashtag",
            "match": "exact",
            "start": 1,
            "end": 8,
            "weight": 1.0,
            "hashtag": True,
        },
    ]


def test_output_holds_nothing_of_the_post_text_but_values(
    env: dict[str, str], tmp_path: Path
) -> None:
    terms = tmp_path / "coded.csv"
    terms.write_text("term,mode,weight\nzorblax,compact,3\n", encoding="utf-8")
    private = "privatewordxyz"
    posts = posts_file(tmp_path, [{"id": 1, "text": f"{private} xxzorblaxyy {private}"}])
    result = run(env, "text", "scan", str(posts), "--terms", str(terms))
    assert result.exit_code == 0, result.output
    assert private not in result.stdout
    [hit] = records(result)
    assert (hit["term"], hit["mode"], hit["weight"], hit["list"]) == (
        "zorblax",
        "compact",
        3.0,
        "coded",
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"id": 1}', '"text" must be a string'),
        ('{"id": true, "text": "zorblax secret"}', '"id" must be a string or an integer'),
        ('{"id": 1.5, "text": "zorblax secret"}', '"id" must be a string or an integer'),
        ('{"id": 1, "text": ["zorblax secret"]}', '"text" must be a string'),
    ],
)
def test_a_bad_line_exits_2_naming_the_line_not_the_content(
    env: dict[str, str], tmp_path: Path, line: str, problem: str
) -> None:
    terms = tmp_path / "t.txt"
    terms.write_text("zorblax\n", encoding="utf-8")
    posts = posts_file(tmp_path, [{"id": 1, "text": "fine zorblax"}, "", line])
    result = run(env, "text", "scan", str(posts), "--terms", str(terms))
    assert result.exit_code == 2
    assert f"posts line 3: {problem}" in result.stderr
    assert "secret" not in result.stderr
    assert [record["id"] for record in records(result)] == [1]  # the posts before it


def test_bad_utf8_line(env: dict[str, str], tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b'{"id": 1, "text": "ok"}\n{"id": 2, "text": "\xff"}\n')
    result = run(env, "text", "scan", str(posts))
    assert result.exit_code == 2
    assert "posts line 2: not valid UTF-8" in result.stderr


def test_bad_term_list_exits_2_naming_its_line(env: dict[str, str], tmp_path: Path) -> None:
    terms = tmp_path / "t.csv"
    terms.write_text("zorblax,sideways\n", encoding="utf-8")
    posts = posts_file(tmp_path, [{"id": 1, "text": "x"}])
    result = run(env, "text", "scan", str(posts), "--terms", str(terms))
    assert result.exit_code == 2
    assert "t.csv:1: unknown match mode" in result.stderr


def test_operator_tables_extend_or_replace(env: dict[str, str], tmp_path: Path) -> None:
    tables = tmp_path / "tables.json"
    tables.write_text(
        json.dumps(
            {
                "format": "brightline-migration-tables",
                "version": 1,
                "services": [
                    {
                        "name": "examplebox",
                        "category": "cloud_storage",
                        "domains": ["box.example.com"],
                        "folder_urls": ["/folder/"],
                    }
                ],
                "bare_domain_suffixes": ["com"],
                "solicitation_phrases": [],
                "price_menu": {"currency_symbols": "$", "currency_words": [], "item_words": []},
            }
        ),
        encoding="utf-8",
    )
    posts = posts_file(tmp_path, [{"id": 1, "text": "box.example.com/folder/1 dm me"}])
    extended = records(run(env, "text", "scan", str(posts), "--tables", str(tables)))
    assert [(r["kind"], r.get("service")) for r in extended] == [
        ("cloud_folder", "examplebox"),
        ("solicitation", None),
    ]
    replaced = records(
        run(env, "text", "scan", str(posts), "--tables", str(tables), "--replace-tables")
    )
    assert [r["kind"] for r in replaced] == ["cloud_folder"]


def test_nothing_to_do_is_a_usage_error(env: dict[str, str], tmp_path: Path) -> None:
    posts = posts_file(tmp_path, [{"id": 1, "text": "x"}])
    result = run(env, "text", "scan", str(posts), "--no-extract")
    assert result.exit_code == 2
    assert "nothing to do" in result.stderr


def test_many_posts_are_batched_without_mixing_them_up(env: dict[str, str], tmp_path: Path) -> None:
    terms = tmp_path / "t.txt"
    terms.write_text("zorblax\n", encoding="utf-8")
    lines = [{"id": n, "text": "zorb" if n % 2 else "lax zorblax"} for n in range(5001)]
    posts = posts_file(tmp_path, lines)
    result = run(env, "text", "scan", str(posts), "--terms", str(terms), "--no-extract")
    assert result.exit_code == 0
    assert [(r["id"], r["start"]) for r in records(result)] == [(n, 4) for n in range(0, 5001, 2)]
