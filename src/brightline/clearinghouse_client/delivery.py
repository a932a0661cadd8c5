"""Send due report submissions through the API lifecycle: a resumable, leased step machine.

One pass claims due submissions one at a time with a conditional UPDATE (as the webhook outbox
does, see :mod:`brightline.events.delivery`), so several worker processes never work on the same
submission at once. A claimed submission is carried as far as it goes::

    queued ─submit─▶ submitting ─(id recorded)─▶ submitted ─▶ uploading
        (per file: upload started ─▶ file id + MD5 recorded ─▶ fileinfo sent)
    ─▶ finishing ─finish─▶ finished          any permanent error ─▶ failed (+ retract)

Each remote call is bracketed by two committed writes: *started* before it, *result* after it.
A worker killed anywhere leaves one of three situations, each resumed safely:

* killed before a call, or during it before the answer was recorded: the step is repeated.
  ``submit`` repeated may leave an orphan report at the clearinghouse that is never finished
  (the API cannot list or delete it; unfinished reports are never processed); ``upload``
  repeated may leave an orphan copy that no ``fileinfo`` or ``finish`` refers to; ``fileinfo``
  repeated re-sends the same details for the same file id.
* killed after ``finish`` succeeded but before it was recorded: ``finish`` is sent again and the
  server's "already finished" (5102) is taken as the success it reports.
* killed after a result was recorded: the next step starts from the recorded state.

Exactly one report is ever *finished* per submission, because ``finish`` is only ever sent for
the one recorded report id, and only after every file has a recorded id and sent details.
Every write is conditional on this worker's lease token, so a worker that stalled past its lease
and was overtaken cannot record anything over the newer worker's progress.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.clearinghouse_client.errors import (
    AlreadyFinished,
    AlreadyRetracted,
    CyberTiplineError,
    PermanentError,
    TransientError,
)
from brightline.clearinghouse_client.models import (
    ACTIVE_STATUSES,
    ReportSubmission,
    SubmissionFile,
    SubmissionStatus,
)
from brightline.errors import StorageError
from brightline.events.delivery import RetryPolicy as RetryPolicy  # shared with webhooks
from brightline.reports import ReportFile, load_built_report
from brightline.reports.models import Report, ReportStatus
from brightline.settings import CyberTiplineSettings
from brightline.storage.base import utcnow

log = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]
"""Called with a step name (``"submit:answered"``, ...) at every point a crash could happen;
tests raise from it to simulate a worker killed there."""


class MediaSource(Protocol):
    """Where the bytes of a reported file come from (``EvidenceStore`` in production)."""

    def iter_chunks(self, ref: str) -> Iterator[bytes]: ...


@dataclass(slots=True)
class SubmissionPassReport:
    """What one pass did, in submissions."""

    finished: int = 0
    retrying: int = 0
    failed: int = 0
    finished_ids: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.finished + self.retrying + self.failed


class _LeaseLost(Exception):
    """Another worker took this submission over (our lease ran out): stop touching it."""


@dataclass(frozen=True, slots=True)
class _File:
    """A file row's progress, with the builder's :class:`ReportFile` it sends."""

    id: int
    file_id: str | None
    fileinfo_sent: bool
    built: ReportFile


@dataclass(frozen=True, slots=True)
class _State:
    report_id: int
    remote_id: int | None
    report_xml: bytes
    files: tuple[_File, ...]


def _due_ids(session: Session, now: datetime, batch: int) -> list[int]:
    query = (
        select(ReportSubmission.id)
        .where(
            ReportSubmission.status.in_([s.value for s in ACTIVE_STATUSES]),
            ReportSubmission.next_attempt_at <= now,
            or_(ReportSubmission.lease_until.is_(None), ReportSubmission.lease_until < now),
        )
        .order_by(ReportSubmission.next_attempt_at, ReportSubmission.id)
        .limit(batch)
    )
    return [int(i) for i in session.scalars(query)]


def _claim(
    sessions: sessionmaker[Session], submission_id: int, now: datetime, lease: timedelta
) -> str | None:
    """Lease one submission; its token, or None when another worker got it first."""
    token = secrets.token_hex(16)
    with sessions.begin() as session:
        result = session.execute(
            update(ReportSubmission)
            .where(
                ReportSubmission.id == submission_id,
                ReportSubmission.status.in_([s.value for s in ACTIVE_STATUSES]),
                ReportSubmission.next_attempt_at <= now,
                or_(ReportSubmission.lease_until.is_(None), ReportSubmission.lease_until < now),
            )
            .values(lease_until=now + lease, lease_token=token)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
    return token


class _Run:
    """One worker carrying one claimed submission as far as it goes."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        client: CyberTiplineClient,
        store: MediaSource,
        submission_id: int,
        token: str,
        clock: Callable[[], datetime],
        policy: RetryPolicy,
        rng: random.Random,
        checkpoint: Checkpoint,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.store = store
        self.id = submission_id
        self.token = token
        self.clock = clock
        self.policy = policy
        self.rng = rng
        self.checkpoint = checkpoint

    # -- recording ---------------------------------------------------------------------------

    def _own(self, session: Session, **values: object) -> None:
        """Update our submission (renewing the lease) only while we still hold it."""
        renewed = self.clock() + timedelta(seconds=self.policy.lease_seconds)
        result = session.execute(
            update(ReportSubmission)
            .where(ReportSubmission.id == self.id, ReportSubmission.lease_token == self.token)
            .values({"lease_until": renewed, **values})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise _LeaseLost

    def _record(
        self,
        values: dict[str, object],
        *,
        file_row: int | None = None,
        file_values: dict[str, object] | None = None,
        report_values: dict[str, object] | None = None,
        report_id: int | None = None,
    ) -> None:
        """One committed transaction: the submission, and optionally a file and the report."""
        with self.sessions.begin() as session:
            self._own(session, **values)
            if file_row is not None and file_values:
                session.execute(
                    update(SubmissionFile)
                    .where(SubmissionFile.id == file_row)
                    .values(**file_values)
                    .execution_options(synchronize_session=False)
                )
            if report_id is not None and report_values:
                session.execute(
                    update(Report)
                    .where(Report.id == report_id)
                    .values(**report_values)
                    .execution_options(synchronize_session=False)
                )

    def _load(self) -> _State:
        with self.sessions() as session:
            submission = session.get(ReportSubmission, self.id)
            if submission is None or submission.lease_token != self.token:
                raise _LeaseLost
            built = load_built_report(session=session, report_id=submission.report_id)
            by_item = {file.item_id: file for file in built.files}
            files = []
            for row in session.scalars(
                select(SubmissionFile)
                .where(SubmissionFile.submission_id == self.id)
                .order_by(SubmissionFile.item_id)
            ):
                if row.item_id not in by_item:
                    raise StorageError(f"submission {self.id}: a report item is missing")
                files.append(
                    _File(
                        id=row.id,
                        file_id=row.file_id,
                        fileinfo_sent=row.fileinfo_sent_at is not None,
                        built=by_item[row.item_id],
                    )
                )
            return _State(
                report_id=submission.report_id,
                remote_id=submission.clearinghouse_report_id,
                report_xml=built.xml,
                files=tuple(files),
            )

    # -- the lifecycle -----------------------------------------------------------------------

    def run(self) -> SubmissionStatus:
        try:
            self._advance(self._load())
        except PermanentError as exc:
            return self._fail(exc)
        except (TransientError, OSError) as exc:
            return self._retry(exc)
        except StorageError as exc:
            # Evidence that cannot be read and verified will not become readable by waiting.
            return self._fail(exc)
        except (SQLAlchemyError, _LeaseLost):
            raise
        except Exception as exc:
            # A bug or an unforeseen answer: retried with backoff, so it ends loud, not looping.
            return self._retry(exc)
        return SubmissionStatus.FINISHED

    def _advance(self, state: _State) -> None:
        remote_id = state.remote_id
        if remote_id is None:
            self._record(
                {
                    "status": SubmissionStatus.SUBMITTING.value,
                    "submit_started_at": self.clock(),
                    "submits_started": ReportSubmission.submits_started + 1,
                }
            )
            self.checkpoint("submit:started")
            remote_id = self.client.submit(state.report_xml)
            self.checkpoint("submit:answered")
            self._record(
                {
                    "status": SubmissionStatus.SUBMITTED.value,
                    "clearinghouse_report_id": remote_id,
                    "submitted_at": self.clock(),
                },
                report_id=state.report_id,
                report_values={
                    "status": ReportStatus.SUBMITTED.value,
                    "clearinghouse_report_id": remote_id,
                },
            )
            self.checkpoint("submit:recorded")
        for file in state.files:
            self._send_file(remote_id, file)
        self._record(
            {"status": SubmissionStatus.FINISHING.value, "finish_started_at": self.clock()}
        )
        self.checkpoint("finish:started")
        try:
            self.client.finish(remote_id)
        except AlreadyFinished:
            # Our earlier finish reached the server but its answer was never recorded.
            log.info("report submission %d: finish repeated, already finished", self.id)
        self.checkpoint("finish:answered")
        now = self.clock()
        self._record(
            {
                "status": SubmissionStatus.FINISHED.value,
                "finished_at": now,
                "attempts": 0,
                "last_error": None,
                "lease_until": None,
                "lease_token": None,
            },
            report_id=state.report_id,
            report_values={
                "status": ReportStatus.FINISHED.value,
                "clearinghouse_report_id": remote_id,
                "finished_at": now,
                "error": None,
            },
        )
        self.checkpoint("finish:recorded")

    def _send_file(self, remote_id: int, file: _File) -> None:
        built = file.built
        file_id = file.file_id
        if file_id is None:
            self._record(
                {"status": SubmissionStatus.UPLOADING.value},
                file_row=file.id,
                file_values={
                    "upload_started_at": self.clock(),
                    "uploads_started": SubmissionFile.uploads_started + 1,
                },
            )
            self.checkpoint("upload:started")
            # A neutral name: the platform's file names are user text and stay with us.
            receipt = self.client.upload(
                remote_id, f"item-{built.item_id}", self.store.iter_chunks(built.media_ref)
            )
            if receipt.md5 != built.md5.lower():
                raise PermanentError(
                    f"item {built.item_id}: the stored file's MD5 differs from the report's"
                )
            self.checkpoint("upload:answered")
            file_id = receipt.file_id
            self._record(
                {},
                file_row=file.id,
                file_values={
                    "file_id": file_id,
                    "received_md5": receipt.md5,
                    "uploaded_at": self.clock(),
                },
            )
            self.checkpoint("upload:recorded")
        if file.fileinfo_sent:
            return
        details = built.file_details(remote_id, file_id)
        self.checkpoint("fileinfo:started")
        self.client.fileinfo(details)
        self.checkpoint("fileinfo:answered")
        self._record({}, file_row=file.id, file_values={"fileinfo_sent_at": self.clock()})
        self.checkpoint("fileinfo:recorded")

    # -- outcomes ----------------------------------------------------------------------------

    def _current(self) -> tuple[int, int, int | None]:
        """Our submission's report id, failed attempts so far, and remote report id."""
        with self.sessions() as session:
            submission = session.get(ReportSubmission, self.id)
            if submission is None or submission.lease_token != self.token:
                raise _LeaseLost
            return submission.report_id, submission.attempts, submission.clearinghouse_report_id

    def _retry(self, exc: Exception) -> SubmissionStatus:
        _, attempts, _ = self._current()
        attempts += 1
        reason = _describe(exc)
        if attempts >= self.policy.max_attempts:
            return self._fail(exc)
        now = self.clock()
        self._record(
            {
                "attempts": attempts,
                "last_error": reason,
                "next_attempt_at": now + self.policy.delay(attempts, self.rng),
                "lease_until": None,
                "lease_token": None,
            }
        )
        log.info("report submission %d: attempt %d failed (%s)", self.id, attempts, reason)
        return SubmissionStatus.QUEUED

    def _fail(self, exc: Exception) -> SubmissionStatus:
        """Record the failure loudly, then retract the remote report if there is one.

        The failure is committed first: if the retract (or the process) then dies, the report is
        still marked failed and the remote report is merely left unfinished, which is harmless.
        """
        report_id, attempts, remote_id = self._current()
        reason = _describe(exc)
        self._record(
            {
                "status": SubmissionStatus.FAILED.value,
                "attempts": attempts + 1,
                "last_error": reason,
                "failed_at": self.clock(),
            },
            report_id=report_id,
            report_values={"status": ReportStatus.FAILED.value, "error": reason},
        )
        log.error("report submission %d failed for good: %s", self.id, reason)
        if remote_id is not None:
            self._retract(remote_id)
        self._record({"lease_until": None, "lease_token": None})
        return SubmissionStatus.FAILED

    def _retract(self, remote_id: int) -> None:
        try:
            self.client.retract(remote_id)
        except AlreadyRetracted:
            pass
        except CyberTiplineError as exc:
            log.warning("report submission %d: retract failed (%s)", self.id, _describe(exc))
            return
        self._record({"retracted_at": self.clock()})


def _describe(exc: BaseException) -> str:
    """A short reason to store: the error class and its message (ids, codes, the server's
    description; never report or file content, which no error message here contains)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason[:500]


def deliver_due_reports(
    sessions: sessionmaker[Session],
    client: CyberTiplineClient,
    store: MediaSource,
    now: datetime | None = None,
    *,
    batch: int = 10,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
    checkpoint: Checkpoint | None = None,
) -> SubmissionPassReport:
    """Carry up to ``batch`` due submissions as far as they go, one at a time.

    ``now`` fixes the clock (tests); by default it is read at every step, so leases are renewed
    from the moment of each step. ``stop`` ends the pass between submissions (shutdown).
    Database errors propagate (the claimed row waits for its lease to run out); API and
    evidence failures never do: they are recorded on the submission.
    """
    policy = policy or RetryPolicy.from_settings(CyberTiplineSettings())
    rng = rng or random.Random()  # noqa: S311  (jitter, not security)
    lease = timedelta(seconds=policy.lease_seconds)

    def clock() -> datetime:
        return now if now is not None else utcnow()

    def no_checkpoint(_step: str) -> None:
        return None

    report = SubmissionPassReport()
    with sessions() as session:
        due = _due_ids(session, clock(), batch)
    for submission_id in due:
        if stop is not None and stop.is_set():
            break
        token = _claim(sessions, submission_id, clock(), lease)
        if token is None:
            continue
        run = _Run(
            sessions=sessions,
            client=client,
            store=store,
            submission_id=submission_id,
            token=token,
            clock=clock,
            policy=policy,
            rng=rng,
            checkpoint=checkpoint or no_checkpoint,
        )
        try:
            outcome = run.run()
        except _LeaseLost:
            log.warning("report submission %d: lease lost to another worker", submission_id)
            continue
        if outcome is SubmissionStatus.FINISHED:
            report.finished += 1
            report.finished_ids.append(submission_id)
        elif outcome is SubmissionStatus.FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    return report
