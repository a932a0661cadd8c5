"""Bulk intake (``brightline clearinghouse import``): the directory layout, the same checks as
the API, one outcome per report, and nothing stored for a refused report.

Documents name placeholder people at ``example.org``; files are random bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse import bulk
from brightline.clearinghouse.bulk import import_directory
from brightline.clearinghouse.bulk_layout import FILEINFO_SUFFIX, write_report_entry
from brightline.clearinghouse.intake import ResponseCode, report_files
from brightline.clearinghouse.models import IntakeFile, IntakeReport
from brightline.cli.main import cli
from brightline.errors import InvalidInput, NotFound
from brightline.evidence.store import EvidenceStore
from tests.clearinghouse_intake.conftest import INVALID_REPORT, PROVIDER, VALID_REPORT
from tests.clearinghouse_intake.test_intake_http import BILLION_LAUGHS

DETAILS = (
    b"<fileDetails><reportId>999</reportId><fileId>provider-own-id</fileId>"
    b"<fileViewedByEsp>false</fileViewedByEsp></fileDetails>"
)
# incidentDateTime before incidentType: the schema's sequence is strict.
OUT_OF_ORDER = VALID_REPORT.replace(
    b"<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>"
    b"<incidentDateTime>2026-11-30T10:00:00Z</incidentDateTime>",
    b"<incidentDateTime>2026-11-30T10:00:00Z</incidentDateTime>"
    b"<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>",
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    b"<report>&x;</report>"
)
CAP = 5_000


def _layout(directory: Path) -> dict[str, bytes]:
    """Good and bad reports side by side; returns the good files' bytes by report name."""
    files = {"a-two": os.urandom(1000), "a-two-b": os.urandom(2000), "b-one": os.urandom(10)}
    write_report_entry(
        directory,
        "a-two",
        VALID_REPORT,
        [("x.bin", files["a-two"], DETAILS), ("y.bin", files["a-two-b"], None)],
    )
    write_report_entry(directory, "b-one", VALID_REPORT, [("photo.bin", files["b-one"], DETAILS)])
    write_report_entry(directory, "c-none", VALID_REPORT)
    write_report_entry(directory, "d-malformed", b"<report><incidentSummary>")
    write_report_entry(directory, "e-bomb", BILLION_LAUGHS)
    write_report_entry(directory, "f-entity", EXTERNAL_ENTITY)
    write_report_entry(directory, "g-invalid", INVALID_REPORT)
    write_report_entry(directory, "h-order", OUT_OF_ORDER)
    write_report_entry(
        directory,
        "i-oversized",
        VALID_REPORT,
        [("a.bin", b"ok", None), ("b.bin", b"x" * 6000, None)],
    )
    write_report_entry(directory, "j-empty", VALID_REPORT, [("a.bin", b"", None)])
    bad_details = b"<fileDetails><fileViewedByEsp>maybe</fileViewedByEsp></fileDetails>"
    write_report_entry(directory, "k-details", VALID_REPORT, [("a.bin", b"data", bad_details)])
    (directory / "l-orphan").mkdir()
    (directory / "l-orphan" / "a.bin").write_bytes(b"data")
    (directory / "m-notes.txt").write_text("not a report")
    write_report_entry(directory, "n-stray-details", VALID_REPORT, [("a.bin", b"data", None)])
    (directory / "n-stray-details" / f"gone.bin{FILEINFO_SUFFIX}").write_bytes(DETAILS)
    return files


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        reports = session.scalar(select(func.count()).select_from(IntakeReport))
        files = session.scalar(select(func.count()).select_from(IntakeFile))
    return int(reports or 0), int(files or 0)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_directory_is_imported_with_one_outcome_per_report(
    sessions: sessionmaker[Session],
    store: EvidenceStore,
    schema_path: Path,
    providers: dict[str, int],
    tmp_path: Path,
    workers: int,
) -> None:
    directory = tmp_path / "incoming"
    files = _layout(directory)
    summary = import_directory(
        sessions=sessions,
        directory=directory,
        provider=PROVIDER,
        store=store,
        schema_path=schema_path,
        max_upload_bytes=CAP,
        batch_size=3,  # several batches, with refusals inside them
        workers=workers,  # one thread, or several preparing reports at once: the same result
    )
    outcomes = {outcome.name: outcome for outcome in summary.outcomes}
    assert [o.name for o in summary.outcomes] == sorted(outcomes)
    assert {name for name, o in outcomes.items() if o.accepted} == {"a-two", "b-one", "c-none"}
    assert (summary.accepted, summary.refused, summary.files) == (3, 11, 3)
    refused = {
        name: (int(o.code), o.reason or "") for name, o in outcomes.items() if not o.accepted
    }
    assert refused["d-malformed"] == (4000, "not well-formed XML (line 1)")
    assert "DTD" in refused["e-bomb"][1]
    assert "DTD" in refused["f-entity"][1]
    assert refused["g-invalid"][0] == 4100
    assert "incidentType" in refused["g-invalid"][1]
    assert "Not A Known" not in refused["g-invalid"][1]  # the element, never its value
    assert refused["h-order"][0] == 4100
    assert "incidentDateTime" in refused["h-order"][1]
    assert refused["i-oversized"] == (4000, f"file 2: the file is larger than {CAP} bytes")
    assert refused["j-empty"] == (4000, "file 1: the file is empty")
    assert refused["k-details"][0] == 4100
    assert "file 1" in refused["k-details"][1]
    assert "fileViewedByEsp" in refused["k-details"][1]
    assert refused["l-orphan"][0] == 4000
    assert refused["m-notes.txt"][0] == 4000
    assert "details without a file" in refused["n-stray-details"][1]

    # Only the accepted reports are stored, finished, with their own files and real ids.
    assert _counts(sessions) == (3, 3)
    with sessions() as session:
        for name, expected in (("a-two", [files["a-two"], files["a-two-b"]]), ("b-one", [])):
            report_id = outcomes[name].report_id
            assert report_id is not None
            report = session.get(IntakeReport, report_id)
            assert report is not None
            assert report.status == "finished"
            assert report.provider_id == providers[PROVIDER]
            stored = report_files(session=session, report_id=report_id)
            for row, data in zip(stored, expected, strict=False):
                assert row.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
                assert row.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
                assert row.size == len(data)
                assert store.read(row.vault_ref) == data
            first = stored[0]
            assert first.details is not None
            assert f"<reportId>{report_id}</reportId><fileId>{first.file_id}</fileId>" in (
                first.details
            )
            assert "provider-own-id" not in first.details
    # The refused report's first file was never sealed: checks come before storage.
    ok_ref = "sha256:" + hashlib.sha256(b"ok").hexdigest()
    assert not store.exists(ok_ref)


def test_an_unknown_provider_or_directory_is_refused_whole(
    sessions: sessionmaker[Session], store: EvidenceStore, schema_path: Path, tmp_path: Path
) -> None:
    write_report_entry(tmp_path / "in", "one", VALID_REPORT)
    with pytest.raises(NotFound, match="no provider called nobody"):
        import_directory(
            sessions=sessions,
            directory=tmp_path / "in",
            provider="nobody",
            store=store,
            schema_path=schema_path,
            max_upload_bytes=CAP,
        )
    assert _counts(sessions) == (0, 0)


def test_a_failure_while_preparing_stores_nothing_of_its_batch(
    sessions: sessionmaker[Session],
    store: EvidenceStore,
    schema_path: Path,
    providers: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server-side failure in one thread's report (not a refusal) ends the import; the
    batch's other reports, sealed by other threads meanwhile, are neither recorded nor left
    in the vault: their writes were still pending when the batch was abandoned."""
    directory = tmp_path / "incoming"
    for number in range(8):
        write_report_entry(
            directory, f"r{number}", VALID_REPORT, [("a.bin", os.urandom(100), None)]
        )
    prepare = bulk._prepare

    def failing(entry: bulk._Entry, **kwargs: Any) -> bulk._Prepared:
        if entry.name == "r5":
            raise RuntimeError("the disk went away")
        return prepare(entry, **kwargs)

    monkeypatch.setattr(bulk, "_prepare", failing)
    with pytest.raises(RuntimeError, match="the disk went away"):
        import_directory(
            sessions=sessions,
            directory=directory,
            provider=PROVIDER,
            store=store,
            schema_path=schema_path,
            max_upload_bytes=CAP,
            workers=3,
        )
    assert _counts(sessions) == (0, 0)
    assert list(store.refs()) == []
    assert not list(store.directory.rglob(".tmp-*"))


def test_at_least_one_preparing_thread_is_needed(
    sessions: sessionmaker[Session], store: EvidenceStore, schema_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        import_directory(
            sessions=sessions,
            directory=tmp_path,
            provider=PROVIDER,
            store=store,
            schema_path=schema_path,
            max_upload_bytes=CAP,
            workers=0,
        )


def test_the_command_prints_outcomes_and_exits_1_on_a_refusal(
    database_url: str, schema_path: Path, tmp_path: Path
) -> None:
    env = {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path / "home"),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH": str(schema_path),
    }
    runner = CliRunner()
    add = ["clearinghouse", "provider", "add", "esp-bulk", "--password-stdin"]
    assert runner.invoke(cli, add, input="placeholder password 1\n", env=env).exit_code == 0
    directory = tmp_path / "in"
    write_report_entry(directory, "one", VALID_REPORT, [("a.bin", b"data", DETAILS)])
    imported = runner.invoke(
        cli, ["clearinghouse", "import", str(directory), "--provider", "esp-bulk"], env=env
    )
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("accepted\tone\t")
    assert "imported 1 reports with 1 files, refused 0" in imported.stdout
    write_report_entry(directory, "two", INVALID_REPORT)
    again = runner.invoke(
        cli,
        [
            *("clearinghouse", "import", str(directory), "--provider", "esp-bulk"),
            *("--quiet", "--workers", "2"),
        ],
        env=env,
    )
    assert again.exit_code == 1
    lines = again.stdout.splitlines()
    assert lines[0].startswith(f"refused\ttwo\t{int(ResponseCode.VALIDATION_FAILED)}\t")
    assert "imported 1 reports with 1 files, refused 1" in lines[-1]
    bad = {**env, "BRIGHTLINE_CLEARINGHOUSE_IMPORT_BATCH": "0"}
    refused = runner.invoke(
        cli, ["clearinghouse", "import", str(directory), "--provider", "x"], env=bad
    )
    assert refused.exit_code == 2
    assert "BRIGHTLINE_CLEARINGHOUSE_IMPORT_BATCH must be between 1 and 100000" in refused.stderr
