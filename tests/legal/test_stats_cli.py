"""``brightline legal stats`` and ``brightline legal transparency`` (both databases)."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from brightline.cli.main import cli
from brightline.evidence.store import EvidenceStore
from brightline.legal import RequestStatus, RequestType, transition_request
from brightline.settings import load_settings
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.legal.helpers import T0, context, make_sender, new_request, submit

CTX = context()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_LEGAL_TIMEZONE": "America/New_York",
    }


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["legal", *args], env=env, catch_exceptions=False)


def _refused(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("brightline: error: ")
    assert message in result.output


def _seed(env: dict[str, str], tmp_path: Path) -> None:
    """A produced subpoena and an open emergency request received on 1 December 2026, and a
    withdrawn court order received in October."""
    engine = create_engine_for(load_settings(env).database_url)
    store = EvidenceStore(tmp_path / "vault", secrets.token_bytes(32), chunk_size=1024)
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            sender = make_sender(session, name="Example County Sheriff")
            produced = submit(
                session,
                CTX,
                store,
                new_request(sender, kind=RequestType.SUBPOENA, reference="ECSO-0001"),
            )
            for to, hours in (("verified", 2), ("in_progress", 3), ("produced", 50)):
                transition_request(
                    session=session, context=CTX, request_id=produced.id,
                    to=RequestStatus(to), actor="staff-0002", now=T0 + timedelta(hours=hours),
                )  # fmt: skip
            submit(
                session, CTX, store,
                new_request(sender, kind=RequestType.EMERGENCY, reference="ECSO-0002"),
            )  # fmt: skip
            october = T0 - timedelta(days=45)
            withdrawn = submit(
                session, CTX, store,
                new_request(sender, kind=RequestType.COURT_ORDER, reference="ECSO-0003"),
                now=october,
            )  # fmt: skip
            transition_request(
                session=session, context=CTX, request_id=withdrawn.id,
                to=RequestStatus.WITHDRAWN, actor="staff-0002", reason="synthetic",
                now=october + timedelta(hours=1),
            )  # fmt: skip
    finally:
        engine.dispose()


def test_stats_on_an_empty_database_say_no_data(env: dict[str, str]) -> None:
    result = _run(env, "stats")
    assert result.exit_code == 0, result.output
    assert "no data: no request was received in this range" in result.output
    assert "Open now: 0, overdue: 0" in result.output


def test_stats_print_months_open_work_and_a_csv(env: dict[str, str], tmp_path: Path) -> None:
    _seed(env, tmp_path)
    out = tmp_path / "stats.csv"
    result = _run(env, "stats", "--csv", str(out))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "months in America/New_York" in lines[0]
    subpoena = next(line for line in lines if line.startswith("2026-12  subpoena"))
    assert "2h 00m / 2h 00m (n=1)" in subpoena
    assert "2d 0h / 2d 0h (n=1)" in subpoena
    assert any(line.startswith("2026-10  court_order") for line in lines)
    assert "Open now: 1" in result.output
    assert "ECSO-0002" in result.output
    assert "Example County Sheriff" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(row["month"], row["type"]) for row in rows] == [
        ("2026-10", "court_order"),
        ("2026-12", "subpoena"),
        ("2026-12", "emergency"),
    ]
    assert rows[1]["produce_median_hours"] == "48.00"
    assert rows[2]["acknowledge_median_hours"] == ""


def test_stats_since_and_until_are_days_in_the_legal_zone(
    env: dict[str, str], tmp_path: Path
) -> None:
    _seed(env, tmp_path)
    result = _run(env, "stats", "--since", "2026-12-01", "--until", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "court_order" not in result.output.split("Open now")[0]
    assert "2026-12  subpoena" in result.output
    october = _run(env, "stats", "--until", "2026-11-30")
    assert "subpoena" not in october.output.split("Open now")[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "--since is a date (YYYY-MM-DD)"),
        (("--until", "2026-13-01"), "--until is a date (YYYY-MM-DD)"),
        (("--since", "2026-12-02", "--until", "2026-12-01"), "--until is before --since"),
    ],
)
def test_stats_refuse_bad_dates_with_one_line(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    _refused(_run(env, "stats", *args), message)


def test_transparency_report_table_and_csv(env: dict[str, str], tmp_path: Path) -> None:
    _seed(env, tmp_path)
    out = tmp_path / "transparency.csv"
    result = _run(env, "transparency", "--period", "2026-H2", "--csv", str(out))
    assert result.exit_code == 0, result.output
    assert "received in 2026-H2 (2026-07-01 to 2026-12-31" in result.output
    reader = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    rows = {row["type"]: row for row in reader}
    assert rows["subpoena"]["produced"] == "1"
    assert rows["emergency"]["open"] == "1"
    assert rows["court_order"]["withdrawn"] == "1"
    assert rows["total"]["total"] == "3"
    quarter = _run(env, "transparency", "--period", "2026-Q4")
    total = next(line for line in quarter.output.splitlines() if line.startswith("total"))
    assert total.split()[-2:] == ["3", "33%"]
    empty = _run(env, "transparency", "--period", "2025")
    assert "no data" in empty.output


@pytest.mark.parametrize("period", ["2026-H3", "H2", "2026-07"])
def test_transparency_refuses_a_bad_period_with_one_line(env: dict[str, str], period: str) -> None:
    _refused(_run(env, "transparency", "--period", period), "a period is a year (2026)")
