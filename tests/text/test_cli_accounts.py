"""``brightline text score-accounts`` and ``brightline text calibrate`` end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli
from brightline.text.account_risk import RiskWeights

WALLET = "0x52908400098527886e0f7030069857d2e4169ee7"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BRIGHTLINE_HOME": str(tmp_path / "home")}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def terms(tmp_path: Path) -> Path:
    path = tmp_path / "coded.txt"
    path.write_text("zorblax\nquenvik\n", encoding="utf-8")
    return path


def labelled_posts() -> list[dict[str, Any]]:
    posts = []
    for n in range(12):
        risky = n % 3 == 0
        text = f"z0rbl@x {WALLET}" if risky else "a walk in the park"
        posts.append({"account": f"u-{n}", "text": text, "label": int(risky)})
        posts.append({"account": f"u-{n}", "text": "hello", "label": risky})
    return posts


def test_score_accounts_writes_sorted_explained_scores(
    env: dict[str, str], tmp_path: Path, terms: Path
) -> None:
    posts = write_lines(
        tmp_path / "posts.jsonl",
        [
            {"account": "known", "text": f"send to {WALLET}"},
            {"account": "a", "text": f"z0rbl@x, tips {WALLET}"},
            {"account": 7, "text": "nothing here"},
            "",
        ],
    )
    confirmed = tmp_path / "confirmed.txt"
    confirmed.write_text("# reviewed\nknown\n", encoding="utf-8")
    result = run(
        env,
        "text",
        "score-accounts",
        str(posts),
        "--terms",
        str(terms),
        "--confirmed",
        str(confirmed),
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["account"] for record in out] == ["a", "known", "7"]
    top = out[0]
    assert top["shared_with"] == ["known"]
    features = [c["feature"] for c in top["contributions"]]
    assert {"terms_leet", "wallet_addresses", "shared_identifiers", "bias"} <= set(features)
    amounts = [abs(c["amount"]) for c in top["contributions"]]
    assert amounts == sorted(amounts, reverse=True)
    assert math.isclose(sum(c["amount"] for c in top["contributions"]), top["score"], abs_tol=1e-5)
    assert "z0rbl" not in result.stdout


def test_score_accounts_top_and_weights(env: dict[str, str], tmp_path: Path) -> None:
    posts = write_lines(
        tmp_path / "posts.jsonl",
        [{"account": f"u-{n}", "text": f"dm me {n}"} for n in range(5)],
    )
    weights = tmp_path / "weights.json"
    RiskWeights(bias=1.5, weights={}).save(weights)
    result = run(env, "text", "score-accounts", str(posts), "--weights", str(weights), "--top", "2")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 2
    assert out[0]["score"] == 1.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "posts line 2: not valid JSON"),
        ("[1]", "posts line 2: expected a JSON object"),
        ('{"account": true, "text": "x"}', 'posts line 2: "account"'),
        ('{"account": "a", "text": 3}', 'posts line 2: "text"'),
        ('{"account": "a", "text": "x", "hashtags": "zorblax"}', 'posts line 2: "hashtags"'),
    ],
)
def test_score_accounts_names_the_bad_line_not_its_content(
    env: dict[str, str], tmp_path: Path, line: str, message: str
) -> None:
    posts = write_lines(tmp_path / "posts.jsonl", [{"account": "a", "text": "ok"}, line])
    result = CliRunner().invoke(cli, ["text", "score-accounts", str(posts)], env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert "zorblax" not in result.output
    assert result.stdout.count("\n") <= 1  # only the error line


def test_score_accounts_refuses_a_bad_weights_file(env: dict[str, str], tmp_path: Path) -> None:
    posts = write_lines(tmp_path / "posts.jsonl", [{"account": "a", "text": "ok"}])
    weights = tmp_path / "weights.json"
    weights.write_text('{"format": "other"}', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["text", "score-accounts", str(posts), "--weights", str(weights)], env=env
    )
    assert result.exit_code == 2
    assert "weights.json" in result.output


def test_calibrate_writes_weights_that_score_accounts_reads(
    env: dict[str, str], tmp_path: Path, terms: Path
) -> None:
    labelled = write_lines(tmp_path / "labelled.jsonl", labelled_posts())
    out_path = tmp_path / "weights.json"
    result = run(
        env, "text", "calibrate", str(labelled), "--terms", str(terms), "--out", str(out_path)
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["accounts"] == 12
    assert summary["positives"] == 4
    assert summary["training_auc"] == 1.0
    weights = RiskWeights.load(out_path)
    assert weights.calibration is not None
    scored = run(
        env, "text", "score-accounts", str(labelled), "--terms", str(terms),
        "--weights", str(out_path), "--top", "4",
    )  # fmt: skip
    top = {json.loads(line)["account"] for line in scored.stdout.splitlines()}
    assert top == {"u-0", "u-3", "u-6", "u-9"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"account": "u-0", "text": "x", "label": 0}, "posts line 25: the label differs"),
        ({"account": "u-99", "text": "x", "label": 2}, 'posts line 25: "label"'),
        ({"account": "u-99", "text": "x"}, 'posts line 25: "label"'),
    ],
)
def test_calibrate_names_the_bad_label_line(
    env: dict[str, str], tmp_path: Path, extra: dict[str, Any], message: str
) -> None:
    labelled = write_lines(tmp_path / "labelled.jsonl", [*labelled_posts(), extra])
    result = CliRunner().invoke(
        cli, ["text", "calibrate", str(labelled), "--out", str(tmp_path / "w.json")], env=env
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "w.json").exists()


def test_calibrate_needs_both_classes(env: dict[str, str], tmp_path: Path) -> None:
    labelled = write_lines(tmp_path / "labelled.jsonl", [{"account": "a", "text": "x", "label": 1}])
    result = CliRunner().invoke(
        cli, ["text", "calibrate", str(labelled), "--out", str(tmp_path / "w.json")], env=env
    )
    assert result.exit_code == 2
    assert "both positive and negative" in result.output
