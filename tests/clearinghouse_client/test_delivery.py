"""The outbox's step machine against the lifecycle server, on SQLite and PostgreSQL.

The kill tests stop a worker at every point where a real crash could happen (before, during and
after each remote call and its recording) by raising a ``BaseException`` from the checkpoint
hook, then resume with a fresh pass once the lease has run out. Each time, the server must end
with exactly one finished report, carrying every file with its details.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.delivery import (
    RetryPolicy,
    SubmissionPassReport,
    _claim,
    deliver_due_reports,
)
from brightline.clearinghouse_client.models import (
    ReportSubmission,
    SubmissionFile,
    SubmissionStatus,
)
from brightline.clearinghouse_client.outbox import (
    case_receipts,
    enqueue_report,
    failed_case_ids,
    pending_submissions,
    retry_submission,
    submission_counts,
)
from brightline.cli.main import cli
from brightline.errors import Conflict
from brightline.evidence.store import EvidenceStore
from brightline.reports.models import Report, ReportItem
from tests.clearinghouse_client.conftest import INVALID_REPORT, T0, BuiltFixture, make_report
from tests.clearinghouse_client.lifecycle_server import Fault, RemoteReport, ServerState

POLICY = RetryPolicy(max_attempts=5, base_seconds=10, cap_seconds=60, lease_seconds=300)
LATER = timedelta(seconds=POLICY.lease_seconds + 1)


class Killed(BaseException):
    """A simulated kill -9: nothing in the code under test may catch it."""


def _queue(
    sessions: sessionmaker[Session], store: EvidenceStore, **kwargs: object
) -> tuple[BuiltFixture, int]:
    with sessions.begin() as session:
        built = make_report(session, store, **kwargs)  # type: ignore[arg-type]
        submission = enqueue_report(session=session, report_id=built.report_id, now=T0)
        return built, submission.id


def _deliver(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    now: object = T0,
    **kwargs: object,
) -> SubmissionPassReport:
    return deliver_due_reports(sessions, client, store, now, policy=POLICY, **kwargs)  # type: ignore[arg-type]


def _submission(sessions: sessionmaker[Session], submission_id: int) -> ReportSubmission:
    with sessions() as session:
        row = session.get(ReportSubmission, submission_id)
        assert row is not None
        session.expunge(row)
        return row


def _assert_one_finished_report(
    server: ServerState, sessions: sessionmaker[Session], submission_id: int, md5s: tuple[str, ...]
) -> RemoteReport:
    finished = server.finished_reports()
    assert len(finished) == 1
    remote = finished[0]
    described = sorted(f.md5 for f in remote.files.values() if f.details is not None)
    assert described == sorted(md5s)
    row = _submission(sessions, submission_id)
    assert row.status == SubmissionStatus.FINISHED.value
    assert server.reports[row.clearinghouse_report_id or 0] is remote
    with sessions() as session:
        files = session.scalars(
            select(SubmissionFile).where(SubmissionFile.submission_id == submission_id)
        ).all()
        assert {f.file_id for f in files} <= set(remote.files)
        assert all(remote.files[f.file_id or ""].details is not None for f in files)
        report = session.get(Report, row.report_id)
        assert report is not None
        assert report.status == "finished"
        assert report.clearinghouse_report_id == row.clearinghouse_report_id
        assert report.finished_at is not None
    return remote


def test_a_report_goes_through_the_whole_lifecycle(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    built, submission_id = _queue(sessions, store, files=3)
    result = _deliver(sessions, client, store)
    assert (result.finished, result.retrying, result.failed) == (1, 0, 0)
    _assert_one_finished_report(server, sessions, submission_id, built.md5s)
    assert server.calls == ["submit"] + ["upload", "fileinfo"] * 3 + ["finish"]
    with sessions() as session:
        (receipt,) = case_receipts(session=session, case_id=built.case_id)
        assert receipt.status == "finished"
        assert receipt.clearinghouse_report_id is not None
        assert receipt.finished_at is not None
        assert all(f.file_id and f.received_md5 for f in receipt.files)
        assert submission_counts(session=session)["finished"] == 1
        assert pending_submissions(session=session) == []
    assert _deliver(sessions, client, store, T0 + LATER).attempted == 0


def test_a_report_without_files_is_finished(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    _, submission_id = _queue(sessions, store, files=0)
    assert _deliver(sessions, client, store).finished == 1
    _assert_one_finished_report(server, sessions, submission_id, ())


def test_a_report_is_queued_once(sessions: sessionmaker[Session], store: EvidenceStore) -> None:
    built, _ = _queue(sessions, store)
    with sessions.begin() as session, pytest.raises(Conflict):
        enqueue_report(session=session, report_id=built.report_id)


def _checkpoints(
    sessions: sessionmaker[Session], client: CyberTiplineClient, store: EvidenceStore
) -> list[str]:
    seen: list[str] = []
    _queue(sessions, store, files=2)
    _deliver(sessions, client, store, checkpoint=seen.append)
    return seen


def test_killed_at_every_step_resumes_to_exactly_one_finished_report(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    steps = _checkpoints(sessions, client, store)
    assert len(steps) == 3 + 2 * 6 + 3
    for kill_at in range(len(steps)):
        server.reset()
        built, submission_id = _queue(sessions, store, files=2)
        reached = 0

        def killer(step: str, kill_at: int = kill_at) -> None:
            nonlocal reached
            if reached == kill_at:
                raise Killed(step)
            reached += 1

        with pytest.raises(Killed):
            _deliver(sessions, client, store, checkpoint=killer)
        # Nobody takes a leased submission over before its lease runs out...
        assert _deliver(sessions, client, store, T0 + timedelta(seconds=1)).attempted == 0
        # ...and then a fresh worker (a fresh client, as after a restart) finishes it.
        with CyberTiplineClient(client.base_url, *_credentials(), timeout=10) as fresh:
            result = _deliver(sessions, fresh, store, T0 + LATER)
        # Killed after the last recording, there is nothing left to do.
        assert result.finished == (0 if steps[kill_at] == "finish:recorded" else 1), kill_at
        _assert_one_finished_report(server, sessions, submission_id, built.md5s)


def _credentials() -> tuple[str, str]:
    from tests.clearinghouse_client.lifecycle_server import PASSWORD, USERNAME

    return USERNAME, PASSWORD


def test_killed_twice_in_a_row_still_one_finished_report(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    built, submission_id = _queue(sessions, store, files=2)

    def kill_on(name: str):  # type: ignore[no-untyped-def]
        def hook(step: str) -> None:
            if step == name:
                raise Killed(step)

        return hook

    with pytest.raises(Killed):
        _deliver(sessions, client, store, checkpoint=kill_on("submit:answered"))
    with pytest.raises(Killed):
        _deliver(sessions, client, store, T0 + LATER, checkpoint=kill_on("finish:answered"))
    assert _deliver(sessions, client, store, T0 + 2 * LATER).finished == 1
    _assert_one_finished_report(server, sessions, submission_id, built.md5s)
    assert _submission(sessions, submission_id).submits_started == 2
    assert len(server.reports) == 2  # one orphan, never finished


def test_transient_errors_are_retried_with_backoff(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    built, submission_id = _queue(sessions, store, files=2)
    server.faults["upload"] = [Fault(code=1000), Fault(http_status=503, raw_body=b"busy")]
    first = _deliver(sessions, client, store)
    assert (first.finished, first.retrying) == (0, 1)
    row = _submission(sessions, submission_id)
    assert row.attempts == 1
    assert row.next_attempt_at > T0
    assert row.lease_until is None
    assert row.last_error is not None
    assert "1000" in row.last_error
    # Not due yet at the same moment.
    assert _deliver(sessions, client, store).attempted == 0
    second = _deliver(sessions, client, store, row.next_attempt_at)
    assert second.retrying == 1
    after = _submission(sessions, submission_id)
    assert after.attempts == 2
    assert after.next_attempt_at > row.next_attempt_at
    assert _deliver(sessions, client, store, T0 + timedelta(days=1)).finished == 1
    _assert_one_finished_report(server, sessions, submission_id, built.md5s)
    assert server.calls.count("submit") == 1


def test_md5_mismatch_is_uploaded_again(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    built, submission_id = _queue(sessions, store, files=1)
    server.faults["upload"] = [Fault(corrupt_md5=True)]
    assert _deliver(sessions, client, store).retrying == 1
    assert "UploadCorrupted" in (_submission(sessions, submission_id).last_error or "")
    assert _deliver(sessions, client, store, T0 + timedelta(hours=1)).finished == 1
    remote = _assert_one_finished_report(server, sessions, submission_id, built.md5s)
    assert len(remote.files) == 2  # the damaged copy stays, never described
    with sessions() as session:
        row = session.scalars(
            select(SubmissionFile).where(SubmissionFile.submission_id == submission_id)
        ).one()
        assert row.uploads_started == 2
        assert row.received_md5 == built.md5s[0]


def test_too_many_transient_failures_fail_loudly(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    _, submission_id = _queue(sessions, store, files=1)
    server.faults["submit"] = [Fault(code=1000) for _ in range(POLICY.max_attempts)]
    now = T0
    outcomes = []
    for _ in range(POLICY.max_attempts):
        outcomes.append(_deliver(sessions, client, store, now))
        now += timedelta(days=1)
    assert outcomes[-1].failed == 1
    assert all(o.retrying == 1 for o in outcomes[:-1])
    assert _submission(sessions, submission_id).status == "failed"


def test_a_rejected_report_fails_loudly_with_the_server_description(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
    database_url: str,
    tmp_path: object,
) -> None:
    built, submission_id = _queue(sessions, store, files=1, xml=INVALID_REPORT)
    result = _deliver(sessions, client, store)
    assert result.failed == 1
    row = _submission(sessions, submission_id)
    assert row.status == "failed"
    assert row.last_error is not None
    assert "ReportRejected" in row.last_error
    assert "incidentType" in row.last_error  # the server's own description
    assert server.reports == {}
    with sessions() as session:
        report = session.get(Report, built.report_id)
        assert report is not None
        assert report.status == "failed"
        assert report.error is not None
        assert "incidentType" in report.error
        assert failed_case_ids(session=session) == [built.case_id]
        assert submission_counts(session=session)["failed"] == 1
    # Loud: `brightline reports pending` lists it and exits 1.
    env = {"BRIGHTLINE_DATABASE_URL": database_url, "BRIGHTLINE_HOME": str(tmp_path)}
    outcome = CliRunner().invoke(cli, ["reports", "pending"], env=env)
    assert outcome.exit_code == 1
    assert f"{submission_id}\treport={built.report_id}\tfailed" in outcome.stdout
    assert "failed" in outcome.stderr


def test_a_failure_after_submit_retracts_the_remote_report(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    built, submission_id = _queue(sessions, store, files=2)
    server.faults["fileinfo"] = [Fault(code=4100, description="Validation failed: fileName")]
    assert _deliver(sessions, client, store).failed == 1
    row = _submission(sessions, submission_id)
    assert row.status == "failed"
    assert row.retracted_at is not None
    assert "fileName" in (row.last_error or "")
    (remote,) = server.reports.values()
    assert remote.retracted
    assert not remote.finished
    # A person re-queues it: it starts over with a new remote report and finishes once.
    with sessions.begin() as session:
        retry_submission(session=session, submission_id=submission_id, now=T0)
    assert _deliver(sessions, client, store).finished == 1
    _assert_one_finished_report(server, sessions, submission_id, built.md5s)
    assert len(server.reports) == 2


def test_wrong_credentials_fail_at_once(
    sessions: sessionmaker[Session],
    lifecycle: tuple[str, ServerState],
    store: EvidenceStore,
) -> None:
    _, submission_id = _queue(sessions, store, files=1)
    with CyberTiplineClient(lifecycle[0], "esp-test", "wrong", timeout=5) as wrong:
        assert _deliver(sessions, wrong, store).failed == 1
    row = _submission(sessions, submission_id)
    assert row.status == "failed"
    assert "AuthenticationFailed" in (row.last_error or "")


def test_retry_needs_a_failed_submission(
    sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    _, submission_id = _queue(sessions, store)
    with sessions.begin() as session, pytest.raises(Conflict):
        retry_submission(session=session, submission_id=submission_id)


def test_retry_refuses_items_already_in_another_report(
    sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    built, submission_id = _queue(sessions, store, files=2)
    with sessions.begin() as session:
        session.execute(
            update(ReportSubmission)
            .where(ReportSubmission.id == submission_id)
            .values(status="failed")
        )
        session.execute(update(Report).where(Report.id == built.report_id).values(status="failed"))
        first = session.get(Report, built.report_id)
        assert first is not None
        item_id = session.scalars(
            select(ReportItem.item_id).where(ReportItem.report_id == built.report_id)
        ).first()
        assert item_id is not None
        # The case was filed again meanwhile: a new draft report took one of the items.
        again = Report(
            subject_id=first.subject_id,
            case_id=first.case_id,
            status="draft",
            incident_type=first.incident_type,
            built_at=T0,
            xml=first.xml,
        )
        session.add(again)
        session.flush()
        session.add(
            ReportItem(
                report_id=again.id,
                item_id=item_id,
                file_details_xml="<fileDetails/>",
                media_ref="sha256:" + "0" * 64,
                md5="0" * 32,
                sha1="0" * 40,
            )
        )
    with sessions.begin() as session, pytest.raises(Conflict, match="already in another report"):
        retry_submission(session=session, submission_id=submission_id)


def test_a_claim_is_exclusive_and_a_stale_worker_cannot_record(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    built, submission_id = _queue(sessions, store, files=1)
    lease = timedelta(seconds=POLICY.lease_seconds)
    assert _claim(sessions, submission_id, T0, lease) is not None
    assert _claim(sessions, submission_id, T0, lease) is None
    # A stalled worker's lease ran out and a second worker took over: its writes must not land.
    stale = _claim(sessions, submission_id, T0 + LATER, lease)
    assert stale is not None
    with sessions.begin() as session:
        session.execute(
            update(ReportSubmission)
            .where(ReportSubmission.id == submission_id)
            .values(lease_token="someone-else")  # noqa: S106  (a lease token, not a secret)
        )
    assert _deliver(sessions, client, store, T0 + LATER).attempted == 0
    # Once that lease runs out too, the submission is carried to the end exactly once.
    assert _deliver(sessions, client, store, T0 + 3 * LATER).finished == 1
    _assert_one_finished_report(server, sessions, submission_id, built.md5s)


def test_tampered_evidence_fails_loudly_and_retracts(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: EvidenceStore,
    server: ServerState,
) -> None:
    _, submission_id = _queue(sessions, store, files=1)
    (stored,) = [p for p in (store.directory / "objects").rglob("*") if p.is_file()]
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0x01
    stored.write_bytes(bytes(data))
    assert _deliver(sessions, client, store).failed == 1
    row = _submission(sessions, submission_id)
    assert row.status == "failed"
    assert "EvidenceUnreadable" in (row.last_error or "")
    assert row.retracted_at is not None
    assert all(remote.retracted for remote in server.reports.values())
    assert server.finished_reports() == []
