"""``brightline text bank``, ``text candidates``, ``text scan --bank`` and ``text discover --bank
--queue`` end to end, on SQLite (the service tests cover both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli
from tests.text.test_cli_discover import posts_file, world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["text", *args], env=env, catch_exceptions=False)


def refused(result: Result, message: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("brightline: error: ")
    assert message in result.output


def test_bank_create_import_edit_show_and_export(env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "coded.csv"
    csv_file.write_text("term,mode,weight,note\nzorblax,token,2,a note\nquenvik,hashtag,,\n")
    assert run(env, "bank", "create", "coded", "--description", "placeholders").exit_code == 0
    refused(run(env, "bank", "create", "coded"), "term list coded already exists")
    imported = run(env, "bank", "import", "coded", str(csv_file), "--by", "tester")
    assert imported.output == "coded v1: 2 added, 0 already listed, 0 repeated in the file\n"

    bad = tmp_path / "bad.csv"
    bad.write_text("term,mode,weight\nvorpel,token,1\nmivadu,fuzzy,1\n")
    refused(run(env, "bank", "import", "coded", str(bad)), "bad.csv:3: unknown match mode")
    refused(run(env, "bank", "import", "missing", str(csv_file)), "no term list named missing")
    plain = tmp_path / "more.txt"
    plain.write_text("vorpel\n#mivadu\n")
    created = run(env, "bank", "import", "fresh", str(plain), "--create")
    assert created.output.startswith("fresh v1: 2 added"), created.output

    assert run(env, "bank", "add", "coded", "placeholderterm", "--mode", "compact",
               "--weight", "2.5").output == "coded v2: term added\n"  # fmt: skip
    refused(run(env, "bank", "add", "coded", "ZORBLAX"), "already has that term")
    refused(run(env, "bank", "add", "coded", "vorpel", "--weight", "-1"), "weight must be")
    assert run(env, "bank", "remove", "coded", "quenvik").output == "coded v3: 1 removed\n"
    refused(run(env, "bank", "remove", "coded", "quenvik"), "has no such term")

    listed = run(env, "bank", "list").output.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["coded", "v3", "2 terms"],
        ["fresh", "v1", "2 terms"],
    ]
    shown = run(env, "bank", "show", "coded", "--version", "1").output.splitlines()
    assert shown[0] == "# coded v1: 2 terms"
    assert shown[1].split("\t")[:6] == ["zorblax", "token", "2.0", "v1", shown[1].split("\t")[4],
                                        "tester"]  # fmt: skip
    assert shown[1].split("\t")[4].startswith("import:sha256:")

    exported = run(env, "bank", "export", "coded").output.splitlines()
    assert exported[0].startswith("term,mode,weight,note,source")
    assert [line.split(",")[:3] for line in exported[1:]] == [
        ["zorblax", "token", "2.0"],
        ["placeholderterm", "compact", "2.5"],
    ]
    out = tmp_path / "v1.txt"
    refused(run(env, "bank", "export", "coded", "--format", "plain"), "export it as CSV")
    refused(run(env, "bank", "export", "coded", "--version", "7"), "no version 7")
    fresh = run(env, "bank", "export", "fresh", "--format", "plain", "--out", str(out))
    assert fresh.exit_code == 0
    assert fresh.output == ""
    assert out.read_text() == "# term list fresh, version 1\nvorpel\n#mivadu\n"


def test_scan_uses_database_lists_and_files_together(env: dict[str, str], tmp_path: Path) -> None:
    terms = tmp_path / "file.txt"
    terms.write_text("quenvik\n")
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": 1, "text": "z0rbl@x and quenvik"}) + "\n")
    run(env, "bank", "create", "coded")
    refused(run(env, "scan", str(posts), "--bank", "coded", "--no-extract"), "has no terms")
    run(env, "bank", "add", "coded", "zorblax", "--weight", "3")
    result = run(env, "scan", str(posts), "--bank", "coded", "--terms", str(terms),
                 "--no-extract")  # fmt: skip
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.output.splitlines()]
    assert [(hit["list"], hit["list_version"], hit["term"], hit["weight"]) for hit in hits] == [
        ("coded", "v1", "zorblax", 3.0),
        ("file", hits[1]["list_version"], "quenvik", 1.0),
    ]
    refused(run(env, "scan", str(posts), "--bank", "missing"), "no term list named missing")

    accounts = tmp_path / "accounts.jsonl"
    accounts.write_text(json.dumps({"account": "u-1", "text": "z0rbl@x"}) + "\n")
    scored = run(env, "score-accounts", str(accounts), "--bank", "coded")
    assert scored.exit_code == 0, scored.output
    features = {item["feature"] for item in json.loads(scored.output)["contributions"]}
    assert "terms_leet" in features


def test_discover_queues_candidates_for_review(env: dict[str, str], tmp_path: Path) -> None:
    posts = posts_file(tmp_path, world())
    refused(run(env, "discover", str(posts), "--seed", "zorblax", "--queue"), "--queue needs")
    run(env, "bank", "create", "coded")
    run(env, "bank", "add", "coded", "zorblax", "--mode", "hashtag")
    first = run(env, "discover", str(posts), "--bank", "coded", "--queue", "--top", "3")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "list": "coded", "queued": 3, "refreshed": 0, "already_rejected": 0,
        "already_decided": 0, "already_listed": 0,
    }  # fmt: skip
    pending = [json.loads(line) for line in run(env, "candidates", "list").output.splitlines()]
    assert {item["tag"] for item in pending} == {"z0rblax", "quenvik", "mivadu"}
    assert all(item["status"] == "pending" and item["ranks"] for item in pending)
    by_tag = {item["tag"]: item["id"] for item in pending}

    accepted = run(env, "candidates", "accept", str(by_tag["z0rblax"]), "--by", "lead-1")
    assert accepted.output.startswith(f"candidate {by_tag['z0rblax']} accepted: term ")
    rejected = run(env, "candidates", "reject", str(by_tag["mivadu"]), "--reason", "context")
    assert rejected.output == f"candidate {by_tag['mivadu']} rejected\n"
    refused(run(env, "candidates", "reject", str(by_tag["mivadu"])), "already rejected")
    refused(run(env, "candidates", "accept", "999"), "no variant candidate 999")

    # Run again: the decided tags are left out of discovery, the pending one is refreshed.
    second = run(env, "discover", str(posts), "--bank", "coded", "--queue", "--top", "3")
    summary = json.loads(second.output)
    assert summary["queued"] + summary["refreshed"] >= 1
    assert summary["refreshed"] == 1
    everything = run(env, "candidates", "list", "--status", "all", "--bank", "coded")
    records = [json.loads(line) for line in everything.output.splitlines()]
    statuses = {record["tag"]: record["status"] for record in records}
    assert statuses["z0rblax"] == "accepted"
    assert statuses["mivadu"] == "rejected"
    assert statuses["quenvik"] == "pending"
    shown = run(env, "bank", "show", "coded").output
    assert f"discovery:candidate:{by_tag['z0rblax']}" in shown
