"""Analysis runs are recorded (and skipped when nothing finished), known material comes from
local banks and CSV lists, and ``analyse --every`` stops cleanly on SIGTERM.

Every hash here is of random bytes or random bits: nothing resembles real material.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from brightline.banks.records import EntryRecord
from brightline.banks.service import add_signals, create_bank, update_bank
from brightline.clearinghouse.analysis_models import AnalysisResult, RunTrigger
from brightline.clearinghouse.analysis_store import analyse_intake, analysis_due, analysis_runs
from brightline.clearinghouse.known_sources import bank_lookup, load_known_list
from brightline.clearinghouse.model import ReportedFile
from brightline.cli import clearinghouse_commands
from brightline.cli.main import cli
from brightline.errors import InvalidInput, NotFound
from brightline.evidence.store import EvidenceStore
from brightline.signals import default_registry
from tests.clearinghouse_analysis.conftest import AS_OF, Planted, _report, submit


def _pdq_at(value: str, distance: int) -> str:
    """``value`` with its first ``distance`` bits flipped."""
    bits = int(value, 16) ^ ((1 << 256) - (1 << (256 - distance)))
    return f"{bits:064x}"


def test_runs_are_recorded_and_due_only_when_reports_finish(
    sessions: sessionmaker[Session], planted: Planted, store: EvidenceStore, schema_path: Path
) -> None:
    with sessions.begin() as session:
        assert analysis_due(session=session)
        first = analyse_intake(
            session=session, as_of=AS_OF, trigger=RunTrigger.SCHEDULE, triggered_by="ops-1"
        )
        assert not analysis_due(session=session)
    with sessions.begin() as session:
        (run,) = analysis_runs(session=session)
        assert run.id == first.run_id
        assert (run.trigger, run.triggered_by, run.reports, run.refused) == (
            "schedule",
            "ops-1",
            4,
            0,
        )
        assert (run.immediate, run.informational, run.known_sources) == (1, 1, 0)
        assert (run.files_known, run.files_new, run.files_unchecked) == (0, 0, 3)
        assert run.finished_reports == 4
        assert run.started_at <= run.finished_at
    submit(sessions, store, schema_path, _report("esp-one"), finish=False)
    with sessions.begin() as session:
        assert not analysis_due(session=session)  # an unfinished report changes nothing
    submit(sessions, store, schema_path, _report("esp-two"))
    with sessions.begin() as session:
        assert analysis_due(session=session)
        analyse_intake(session=session, as_of=AS_OF)
        runs = analysis_runs(session=session)
        assert [r.reports for r in runs] == [5, 4]
        assert runs[0].trigger == "api"
        with pytest.raises(InvalidInput):
            analysis_runs(session=session, limit=0)


def test_a_bank_is_a_known_material_lookup(sessions: sessionmaker[Session]) -> None:
    pdq = secrets.token_hex(32)
    md5 = secrets.token_hex(16)
    with sessions.begin() as session:
        create_bank(session=session, name="known-series", pdq_threshold=10)
        add_signals(
            session=session,
            bank_name="known-series",
            records=[EntryRecord("pdq", pdq), EntryRecord("md5", md5)],
            registry=default_registry(),
        )
        lookup = bank_lookup(session=session, name="known-series")
        assert lookup(ReportedFile(file_id="a", pdq=_pdq_at(pdq, 10)))
        assert not lookup(ReportedFile(file_id="b", pdq=_pdq_at(pdq, 11)))
        assert lookup(ReportedFile(file_id="c", md5=md5))
        assert not lookup(ReportedFile(file_id="d", md5=secrets.token_hex(16)))
        with pytest.raises(NotFound):
            bank_lookup(session=session, name="no-such-bank")
        update_bank(session=session, name="known-series", enabled=False)
        with pytest.raises(InvalidInput, match="disabled"):
            bank_lookup(session=session, name="known-series")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("series\nx\n", "header must name"),
        ("md5,colour\n", "unknown column"),
        ("md5,series\nabc,s\n", "list.csv:2: md5 is not 32 hex digits"),
        ("md5,series\n,s\n", "no md5, sha1 or pdq"),
        ("md5\n" + "a" * 32 + ",extra\n", "more fields"),
    ],
)
def test_bad_known_lists_are_refused_naming_the_line(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=error):
        load_known_list(path)


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def test_analyse_with_known_banks_and_lists_then_runs(
    database_url: str, tmp_path: Path, sessions: sessionmaker[Session], planted: Planted
) -> None:
    env = _env(database_url, tmp_path)
    known_list = tmp_path / "known.csv"
    ordinary_md5 = planted.file_md5[planted.ordinary][0]
    known_list.write_text(f"md5,sha1,pdq,series\n{ordinary_md5},,,series-placeholder-1\n")
    with sessions.begin() as session:
        create_bank(session=session, name="local-known")
        add_signals(
            session=session,
            bank_name="local-known",
            records=[EntryRecord("md5", planted.file_md5[planted.urgent][0])],
            registry=default_registry(),
        )
    runner = CliRunner()
    args = ["clearinghouse", "analyse", "--as-of", AS_OF.isoformat(), "--by", "ops-2"]
    done = runner.invoke(
        cli, [*args, "--known-list", str(known_list), "--known-bank", "local-known"], env=env
    )
    assert done.exit_code == 0, done.output
    assert "files known\t2" in done.output
    assert "files new\t1" in done.output
    novelty = {}
    with sessions.begin() as session:
        for report_id in (planted.ordinary, planted.urgent, planted.linked):
            stored = session.get(AnalysisResult, report_id)
            assert stored is not None
            novelty[report_id] = [f["novelty"] for f in json.loads(stored.files)]
    assert novelty == {
        planted.ordinary: ["known"],
        planted.urgent: ["known"],
        planted.linked: ["new"],
    }
    for bad in (["--known-bank", "no-such-bank"], ["--every", "5", "--as-of", AS_OF.isoformat()]):
        refused = runner.invoke(cli, ["clearinghouse", "analyse", *bad], env=env)
        assert refused.exit_code == 2, bad
        assert len(refused.output.strip().splitlines()) == 1
    runs = runner.invoke(cli, ["clearinghouse", "runs"], env=env)
    assert runs.exit_code == 0, runs.output
    (line,) = runs.output.splitlines()
    fields = line.split("\t")
    assert fields[2:8] == ["command", "ops-2", "4", "0", "1/0/2/1", "2/1/0"]


def test_analyse_every_skips_when_nothing_finished_and_stops_on_sigterm(
    database_url: str,
    tmp_path: Path,
    sessions: sessionmaker[Session],
    planted: Planted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three passes (a run, then two skips), then SIGTERM: the loop exits 0 and the previous
    signal handler is back."""
    passes: list[float] = []

    def fake_sleep(seconds: float, stop: object) -> None:
        passes.append(seconds)
        if len(passes) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(clearinghouse_commands, "_sleep", fake_sleep)
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(
        cli, ["clearinghouse", "analyse", "--every", "60"], env=_env(database_url, tmp_path)
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("analysed 4 reports")
    assert sum("nothing new: skipped" in line for line in lines) == 2
    assert lines[-1] == "stopped"
    assert signal.getsignal(signal.SIGTERM) == before
    with sessions.begin() as session:
        assert [run.trigger for run in analysis_runs(session=session)] == ["schedule"]


def test_the_wait_ends_when_a_stop_is_requested() -> None:
    stop = clearinghouse_commands._Stop()
    clearinghouse_commands._sleep(0.01, stop)
    stop(signal.SIGTERM, None)
    clearinghouse_commands._sleep(3600, stop)  # returns at once
    assert stop.requested
