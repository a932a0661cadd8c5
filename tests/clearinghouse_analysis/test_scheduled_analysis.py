"""The analysis inside the clearinghouse service (``..._ANALYSE_EVERY_SECONDS``): it runs on its
own while the intake serves, skips when nothing finished since, picks up newly finished reports,
refuses bad settings at start, and takes turns across workers."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.analysis_models import (
    AnalysisResult,
    AnalysisRunRecord,
    Referral,
    RunTrigger,
)
from brightline.clearinghouse.intake import finish_report
from brightline.clearinghouse.models import IntakeProvider
from brightline.clearinghouse.scheduled_analysis import load_analysis_plan, run_analysis
from brightline.cli.main import cli
from brightline.errors import InvalidInput
from brightline.http.clearinghouse_routes import (
    SCHEMA_ENV,
    create_combined_app,
    create_intake_app_from_settings,
)
from brightline.settings import load_clearinghouse_settings, load_settings
from tests.clearinghouse_analysis.conftest import Planted

EVERY = "BRIGHTLINE_CLEARINGHOUSE_ANALYSE_EVERY_SECONDS"


@pytest.fixture
def env(database_url: str, tmp_path: Path, schema_path: Path) -> dict[str, str]:
    return {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        SCHEMA_ENV: str(schema_path),
        EVERY: "1",
    }


def _runs(sessions: sessionmaker[Session]) -> list[AnalysisRunRecord]:
    with sessions() as session:
        return list(session.scalars(select(AnalysisRunRecord).order_by(AnalysisRunRecord.id)))


def _wait_for(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the scheduled analysis did not run in time")
        time.sleep(0.1)


def test_the_service_analyses_on_its_schedule(
    env: dict[str, str], sessions: sessionmaker[Session], planted: Planted
) -> None:
    app = create_intake_app_from_settings(load_settings(env), env)
    with TestClient(app):
        _wait_for(lambda: len(_runs(sessions)) >= 1)
        first = _runs(sessions)[0]
        assert (first.trigger, first.triggered_by, first.reports) == (
            RunTrigger.SCHEDULE.value,
            "service",
            4,
        )
        with sessions() as session:
            analysed = set(session.scalars(select(AnalysisResult.report_id)))
            referred = session.scalar(select(func.count()).select_from(Referral))
        assert analysed == planted.finished
        assert referred  # routed through the demo agencies
        time.sleep(2.5)  # two more ticks with nothing new: skipped, not re-run
        assert len(_runs(sessions)) == 1
        with sessions.begin() as session:
            provider = session.scalars(
                select(IntakeProvider).where(IntakeProvider.name == "esp-one")
            ).one()
            finish_report(session=session, provider=provider, report_id=planted.unfinished)
        _wait_for(lambda: len(_runs(sessions)) == 2)
        assert _runs(sessions)[1].reports == 5


def test_the_combined_service_runs_it_too(
    env: dict[str, str], sessions: sessionmaker[Session], planted: Planted
) -> None:
    with TestClient(create_combined_app(load_settings(env), env)) as http:
        assert http.get("/health").status_code == 200
        _wait_for(lambda: len(_runs(sessions)) >= 1)


def test_without_the_setting_nothing_runs(
    env: dict[str, str], sessions: sessionmaker[Session], planted: Planted
) -> None:
    quiet = {**env, EVERY: ""}
    with TestClient(create_intake_app_from_settings(load_settings(quiet), quiet)):
        time.sleep(1.5)
    assert _runs(sessions) == []


def test_bad_settings_are_refused_at_start(env: dict[str, str], tmp_path: Path) -> None:
    for value in ("0", "soon", str(8 * 86_400)):
        with pytest.raises(InvalidInput, match=EVERY):
            load_clearinghouse_settings({EVERY: value})
    with pytest.raises(InvalidInput, match="BRIGHTLINE_CLEARINGHOUSE_ROUTING"):
        load_clearinghouse_settings({"BRIGHTLINE_CLEARINGHOUSE_ROUTING": str(tmp_path / "none")})
    with pytest.raises(InvalidInput, match="BRIGHTLINE_CLEARINGHOUSE_KNOWN_LISTS"):
        load_clearinghouse_settings(
            {"BRIGHTLINE_CLEARINGHOUSE_KNOWN_LISTS": f"{tmp_path / 'none.csv'}"}
        )
    broken = tmp_path / "routing.toml"
    broken.write_text("this is = not [toml\n")
    bad = {**env, "BRIGHTLINE_CLEARINGHOUSE_ROUTING": str(broken)}
    with pytest.raises(InvalidInput):
        create_intake_app_from_settings(load_settings(bad), bad)
    served = CliRunner().invoke(cli, ["serve", "--role", "clearinghouse"], env=bad)
    assert served.exit_code == 2
    assert "Traceback" not in served.output
    regions_alone = tmp_path / "regions.csv"
    regions_alone.write_text("network,region\n")
    alone = {**env, "BRIGHTLINE_CLEARINGHOUSE_IP_REGIONS": str(regions_alone)}
    with pytest.raises(InvalidInput, match="need a routing"):
        create_intake_app_from_settings(load_settings(alone), alone)


def test_workers_take_turns_on_postgresql(
    sessions: sessionmaker[Session], planted: Planted, database_url: str
) -> None:
    """While one worker's scheduled run holds the turn, another's skips; a forced run (the
    command) does not wait for a turn."""
    plan = load_analysis_plan()
    with sessions.begin() as first:
        ran = run_analysis(
            session=first, plan=plan, trigger=RunTrigger.SCHEDULE, triggered_by="a", force=False
        )
        assert ran is not None
        if database_url.startswith("postgresql"):
            with sessions.begin() as second:
                skipped = run_analysis(
                    session=second,
                    plan=plan,
                    trigger=RunTrigger.SCHEDULE,
                    triggered_by="b",
                    force=False,
                )
                assert skipped is None
    with sessions.begin() as session:
        assert (
            run_analysis(
                session=session, plan=plan, trigger=RunTrigger.SCHEDULE, triggered_by="c",
                force=False,
            )
            is None
        )  # fmt: skip
        forced = run_analysis(
            session=session, plan=plan, trigger=RunTrigger.COMMAND, triggered_by="d"
        )
        assert forced is not None
        assert forced.reports == 4
