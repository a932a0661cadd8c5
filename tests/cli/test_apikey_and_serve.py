"""`brightline apikey` and `brightline serve`, for real: keys made on the command line open the
API of a served process over loopback, and revoking one closes it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"BRIGHTLINE_HOME": str(tmp_path / "home"), "BRIGHTLINE_DATABASE_URL": database_url}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    invoke.env = env  # type: ignore[attr-defined]
    return invoke


def test_keys_are_shown_once_listed_by_prefix_and_revocable(run) -> None:  # type: ignore[no-untyped-def]
    created = run("apikey", "create", "uploader", "--role", "matcher,reviewer")
    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert secret.startswith("bl_")
    listing = run("apikey", "list").output
    assert "matcher,reviewer" in listing
    assert secret not in listing  # only the prefix is ever shown again
    assert secret[:10] in listing
    key_id = listing.split("\t")[0]
    assert run("apikey", "revoke", key_id).exit_code == 0
    assert "uploader" not in run("apikey", "list").output
    assert "uploader" in run("apikey", "list", "--all").output


def test_bad_roles_and_unknown_keys_are_one_line_errors(run) -> None:  # type: ignore[no-untyped-def]
    bad = run("apikey", "create", "x", "--role", "root")
    assert bad.exit_code == 2
    assert "unknown role 'root'" in bad.output
    missing = run("apikey", "revoke", "999")
    assert missing.exit_code == 2
    assert "no API key with id 999" in missing.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_with_two_workers_answers_with_keys(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = run("apikey", "create", "admin", "--role", "admin").stdout.strip()
    port = _free_port()
    env = {**os.environ, **run.env, "BRIGHTLINE_INDEX_SYNC_SECONDS": "0.5"}
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "brightline", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(f"{base}/v1/banks").status_code == 401
        created = httpx.post(f"{base}/v1/banks", json={"name": "served"}, headers=headers)
        assert created.status_code == 201
        value = "a" * 64
        httpx.post(
            f"{base}/v1/banks/served/entries",
            json={"entries": [{"signal_type": "pdq", "value": value}]},
            headers=headers,
        ).raise_for_status()
        # Each request may land on either worker: every worker must see the new entry soon.
        deadline = time.monotonic() + 10
        hits = 0
        while hits < 10:
            found = httpx.get(
                f"{base}/v1/match/hash",
                params={"signal_type": "pdq", "value": value},
                headers=headers,
            ).json()
            hits = hits + 1 if found["status"] == "match" else 0
            assert time.monotonic() < deadline, "a worker never saw the new entry"
        metrics = httpx.get(f"{base}/metrics", headers=headers)
        assert 'brightline_index_entries{index="pdq"}' in metrics.text
        assert "brightline_request_seconds_bucket" in metrics.text
    finally:
        server.terminate()
        server.wait(timeout=30)
