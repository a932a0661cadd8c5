"""``brightline clearinghouse`` and ``brightline serve --role``: providers added on the command
line open the intake served by the app factories the roles name."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from brightline.cli import serve as serve_module
from brightline.cli.main import cli
from brightline.http.clearinghouse_routes import (
    SCHEMA_ENV,
    create_combined_app,
    create_intake_app_from_settings,
)
from brightline.settings import load_settings
from tests.clearinghouse_intake.conftest import PASSWORD


@pytest.fixture
def env(database_url: str, tmp_path: Path, schema_path: Path) -> dict[str, str]:
    return {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        SCHEMA_ENV: str(schema_path),
    }


def test_provider_add_list_and_expire(env: dict[str, str]) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["clearinghouse", "provider", "add", "esp-cli", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert "added provider" in added.stdout
    again = runner.invoke(
        cli,
        ["clearinghouse", "provider", "add", "esp-cli", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
    )
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    listed = runner.invoke(cli, ["clearinghouse", "provider", "list"], env=env)
    assert "\tesp-cli\tactive\t" in listed.stdout
    assert PASSWORD not in listed.stdout
    expired = runner.invoke(cli, ["clearinghouse", "expire", "--older-than-hours", "1"], env=env)
    assert expired.exit_code == 0
    assert "expired 0 unfinished reports" in expired.stdout


def test_serve_role_chooses_the_app_factory(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(app: str, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    runner = CliRunner()
    served = runner.invoke(cli, ["serve", "--role", "clearinghouse"], env=env)
    assert served.exit_code == 0, served.output
    assert calls[-1]["app"] == serve_module.APP_FACTORIES["clearinghouse"]
    assert calls[-1]["factory"] is True
    without_schema = {**env, SCHEMA_ENV: ""}
    refused = runner.invoke(cli, ["serve", "--role", "clearinghouse"], env=without_schema)
    assert refused.exit_code == 2
    assert SCHEMA_ENV in refused.stderr
    assert len(calls) == 1


def test_the_standalone_intake_app_opens_its_database_and_vault(env: dict[str, str]) -> None:
    runner = CliRunner()
    add = ["clearinghouse", "provider", "add", "esp-cli", "--password-stdin"]
    assert runner.invoke(cli, add, input=PASSWORD + "\n", env=env).exit_code == 0
    app = create_intake_app_from_settings(load_settings(env), env)
    with TestClient(app, base_url="http://intake.test/ispws/") as http:
        http.auth = ("esp-cli", PASSWORD)
        assert b"<responseCode>0</responseCode>" in http.get("status").content
        upload = http.post("upload", data={"id": "1"}, files={"file": ("f", b"data")})
        assert b"<responseCode>5001</responseCode>" in upload.content


def test_the_combined_app_serves_the_intake_beside_the_platform(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    add = ["clearinghouse", "provider", "add", "esp-cli", "--password-stdin"]
    assert runner.invoke(cli, add, input=PASSWORD + "\n", env=env).exit_code == 0
    app = create_combined_app(load_settings(env), env)
    with TestClient(app) as http:
        assert http.get("/health").status_code == 200
        status = http.get("/ispws/status", auth=("esp-cli", PASSWORD))
        assert b"<responseCode>0</responseCode>" in status.content
