"""``brightline text discover`` end to end: JSON lines in, ranked candidates out, errors by line."""

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


def world() -> list[Any]:
    lines: list[Any] = []
    for number in range(4):
        account = f"u{number}"
        lines.append({"account": account, "time": 10, "text": "hi #zorblax #mivadu"})
        lines.append({"account": account, "time": "2026-01-02T00:00:00Z", "text": "#quenvik"})
        lines.append({"account": account, "time": 30, "hashtags": ["z0rblax", "#mivadu"]})
    lines.append("")
    for number in range(6):
        lines.append({"account": number, "text": "#zorbin #tepolu"})
    return lines


def test_discover_writes_ranked_candidates(env: dict[str, str], tmp_path: Path) -> None:
    posts = posts_file(tmp_path, world())
    result = run(env, "text", "discover", str(posts), "--seed", "#zorblax", "--top", "3")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["tag"] == "z0rblax"
    assert out[0]["rank"] == 1
    assert set(out[0]["ranks"]) == {"cooccurrence", "graph", "spelling"}
    assert out[0]["evidence"]["posts"] == 4
    assert out[0]["score"] > out[1]["score"]
    assert {record["tag"] for record in out} == {"z0rblax", "quenvik", "mivadu"}


def test_seed_list_and_known_terms(env: dict[str, str], tmp_path: Path) -> None:
    posts = posts_file(tmp_path, world())
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("# flagged\n\n#zorblax\n", encoding="utf-8")
    known = tmp_path / "known.txt"
    known.write_text("mivadu\n", encoding="utf-8")
    result = run(
        env, "text", "discover", str(posts), "--seed-list", str(seeds), "--known", str(known)
    )
    assert result.exit_code == 0, result.output
    tags = [json.loads(line)["tag"] for line in result.stdout.splitlines()]
    assert "mivadu" not in tags
    assert "zorblax" not in tags
    assert tags[0] == "z0rblax"


def test_no_seed_is_a_usage_error(env: dict[str, str], tmp_path: Path) -> None:
    posts = posts_file(tmp_path, world())
    result = run(env, "text", "discover", str(posts))
    assert result.exit_code == 2
    assert "--seed" in result.stderr


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json secret", "not valid JSON"),
        ('["secret"]', "expected a JSON object"),
        ('{"text": "#secret"}', '"account" must be a string or an integer'),
        ('{"account": "a", "text": 7}', '"text" must be a string'),
        ('{"account": "a", "hashtags": "secret"}', '"hashtags" must be a list of strings'),
        ('{"account": "a", "time": true}', '"time" must be a number or an ISO 8601 date'),
        ('{"account": "a", "time": "secret"}', "time must be a number or an ISO 8601"),
    ],
)
def test_a_bad_line_exits_2_naming_the_line_not_the_content(
    env: dict[str, str], tmp_path: Path, line: str, problem: str
) -> None:
    posts = posts_file(tmp_path, [{"account": "a", "text": "#zorblax"}, "", line])
    result = run(env, "text", "discover", str(posts), "--seed", "zorblax")
    assert result.exit_code == 2
    assert f"posts line 3: {problem}" in result.stderr
    assert "secret" not in result.stderr
    assert result.stdout == ""


def test_bad_utf8_line(env: dict[str, str], tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b'{"account": "a", "text": "ok"}\n{"account": "b", "text": "\xff"}\n')
    result = run(env, "text", "discover", str(posts), "--seed", "zorblax")
    assert result.exit_code == 2
    assert "posts line 2: not valid UTF-8" in result.stderr
