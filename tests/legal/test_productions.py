"""Productions: built from the vault and the platform export hook, sealed, delivered, downloaded
by the right agency only, with every step in a chain of custody that still verifies (both DBs).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from brightline.custody import CustodyEvent, custody_entries, verify_custody
from brightline.errors import Conflict, NotFound
from brightline.evidence.package import confirm_extract, verify_package
from brightline.evidence.store import EvidenceStore
from brightline.legal import (
    ExportedRecord,
    ExportOutcome,
    FlagCode,
    LegalRequest,
    ProductionStatus,
    RequestStatus,
    RequestType,
    build_production,
    deliver_production,
    list_productions,
    open_production_for_download,
    production_members,
    request_detail,
    transition_request,
)
from brightline.legal.models import EventKind
from brightline.legal.production_models import ProductionDownload
from tests.legal.helpers import (
    KEY,
    T0,
    context,
    make_sender,
    new_request,
    preserved_account,
    submit,
)

S = RequestStatus
H = timedelta(hours=1)


@dataclass
class StaticExporter:
    """A stand-in platform: a small JSON profile per account, or an outage."""

    fail: bool = False
    calls: list[tuple[int, str, str]] = field(default_factory=list)

    def export(
        self, *, request_id: int, service: str, platform_user_id: str
    ) -> list[ExportedRecord]:
        if self.fail:
            raise RuntimeError("synthetic platform outage")
        self.calls.append((request_id, service, platform_user_id))
        body = b'{"profile": "synthetic placeholder", "n": %d}' % len(self.calls)
        return [ExportedRecord("profile", "application/json", body)]


def _setup(
    sessions: sessionmaker[Session],
    store: EvidenceStore,
    *,
    kind: RequestType = RequestType.SUBPOENA,
    unknown: bool = False,
) -> tuple[int, int, int]:
    """(request id, agency id, officer id) of a verified request naming a preserved account."""
    ctx = context()
    with sessions.begin() as session:
        made = preserved_account(session, store)
        sender = make_sender(session)
        accounts = [(made.service, made.platform_user_id)]
        if unknown:
            accounts.append(("example", "user-unknown-0002"))
        request = submit(session, ctx, store, new_request(sender, kind=kind, accounts=accounts))
        transition_request(
            session=session, context=ctx, request_id=request.id, to=S.VERIFIED,
            actor="staff-1", now=T0 + H,
        )  # fmt: skip
        return request.id, sender.agency.id, sender.officer.id


def _package(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "production.zip"
    path.write_bytes(data)
    return path


def test_build_deliver_download_round_trip(
    sessions: sessionmaker[Session], store: EvidenceStore, tmp_path: Path
) -> None:
    request_id, agency_id, officer_id = _setup(sessions, store)
    exporter = StaticExporter()
    ctx = context(exporter=exporter)
    with sessions.begin() as session:
        built = build_production(
            session=session, context=ctx, store=store, request_id=request_id, actor="staff-2",
            now=T0 + 2 * H,
        )  # fmt: skip
        assert built.status is ProductionStatus.BUILT
        assert built.complete
        assert built.export is ExportOutcome.EXPORTED
        assert built.vault_members == 4
        assert built.platform_members == 1
        assert session.get_one(LegalRequest, request_id).status == S.IN_PROGRESS
        # Not delivered: the agency sees nothing and cannot download it.
        assert list_productions(session=session, request_id=request_id, agency_id=agency_id) == []
        with pytest.raises(NotFound):
            open_production_for_download(
                session=session, context=ctx, store=store, production_id=built.id,
                agency_id=agency_id, officer_id=officer_id, actor="officer", now=T0 + 3 * H,
            )  # fmt: skip
    assert exporter.calls
    assert exporter.calls[0][0] == request_id
    with sessions.begin() as session:
        delivered = deliver_production(
            session=session, context=ctx, production_id=built.id, actor="staff-2",
            now=T0 + 4 * H,
        )  # fmt: skip
        assert delivered.delivered
        assert session.get_one(LegalRequest, request_id).status == S.PRODUCED
        with pytest.raises(Conflict, match="already delivered"):
            deliver_production(
                session=session, context=ctx, production_id=built.id, actor="staff-2"
            )
    with sessions.begin() as session:
        name, data = open_production_for_download(
            session=session, context=ctx, store=store, production_id=built.id,
            agency_id=agency_id, officer_id=officer_id, actor=f"officer:{officer_id}",
            now=T0 + 5 * H,
        )  # fmt: skip
        assert name == f"brightline-production-{request_id}-{built.id}.zip"
        listed = list_productions(session=session, request_id=request_id, agency_id=agency_id)
        assert [p.id for p in listed] == [built.id]
        assert listed[0].downloads == 1
        download = session.scalars(select(ProductionDownload)).one()
        entry = custody_entries(session=session, object_refs=[built.package_ref])[-1]
        assert entry.seq == download.custody_seq
        assert entry.event is CustodyEvent.EXPORTED
        assert entry.actor == f"officer:{officer_id}"
        assert entry.details["package_sha256"] == built.package_sha256
        history = [
            (e.kind, e.to_status)
            for e in request_detail(session=session, request_id=request_id).events
            if e.kind != EventKind.RECEIVED
        ]
        assert history == [
            (EventKind.STATUS, S.VERIFIED),
            (EventKind.STATUS, S.IN_PROGRESS),
            (EventKind.PRODUCTION_BUILT, None),
            (EventKind.PRODUCTION_DELIVERED, None),
            (EventKind.STATUS, S.PRODUCED),
            (EventKind.PRODUCTION_DOWNLOADED, None),
        ]
        assert {m.source for m in production_members(session=session, production_id=built.id)} == {
            "vault", "platform"
        }  # fmt: skip
    check = verify_package(_package(tmp_path, data))
    assert check.ok, check.problems
    assert check.manifest_sha256 == built.manifest_sha256
    assert check.members == 5
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = package.namelist()
    assert any("/platform/profile-" in n and n.endswith(".json") for n in names)
    with sessions.begin() as session:
        assert verify_custody(session=session, key=KEY).ok
        assert confirm_extract(session=session, custody_key=KEY, entries=check.entries) == []


def test_partial_production_and_wrong_agency_or_officer_is_not_found(
    sessions: sessionmaker[Session], store: EvidenceStore, tmp_path: Path
) -> None:
    request_id, agency_id, _officer_id = _setup(sessions, store, unknown=True)
    ctx = context()
    with sessions.begin() as session:
        other = make_sender(session)
        built = build_production(
            session=session, context=ctx, store=store, request_id=request_id, actor="staff-2"
        )
        assert built.export is ExportOutcome.NOT_CONFIGURED
        assert not built.complete
        assert built.platform_members == 0
        deliver_production(session=session, context=ctx, production_id=built.id, actor="s")
        assert session.get_one(LegalRequest, request_id).status == S.PARTIALLY_PRODUCED
        # Another agency, or another agency's officer: not found, and nothing is recorded.
        for agency, officer in ((other.agency.id, other.officer.id), (agency_id, other.officer.id)):
            with pytest.raises(NotFound):
                open_production_for_download(
                    session=session, context=ctx, store=store, production_id=built.id,
                    agency_id=agency, officer_id=officer, actor="officer",
                )  # fmt: skip
        with pytest.raises(NotFound):
            list_productions(session=session, request_id=request_id, agency_id=other.agency.id)
        assert session.scalars(select(ProductionDownload)).all() == []
        # Staff (no agency) may download it, recorded like any other.
        _name, data = open_production_for_download(
            session=session, context=ctx, store=store, production_id=built.id,
            agency_id=None, officer_id=None, actor="staff-3",
        )  # fmt: skip
    assert verify_package(_package(tmp_path, data)).ok


def test_a_failing_exporter_is_flagged_and_the_holds_stay(
    sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    request_id, _agency_id, _officer_id = _setup(sessions, store, kind=RequestType.PRESERVATION)
    ctx = context(exporter=StaticExporter(fail=True))
    with sessions.begin() as session:
        built = build_production(
            session=session, context=ctx, store=store, request_id=request_id, actor="staff-2"
        )
        assert built.export is ExportOutcome.FAILED
        assert not built.complete
        detail = request_detail(session=session, request_id=request_id)
        assert FlagCode.EXPORT_FAILED in {flag.code for flag in detail.flags}
        assert detail.hold_ids  # the preservation's holds are untouched
        # Rolling production: delivered without closing the request.
        deliver_production(
            session=session, context=ctx, production_id=built.id, actor="s", final=False
        )
        assert session.get_one(LegalRequest, request_id).status == S.IN_PROGRESS


def test_refused_for_unverified_rejected_or_withdrawn_requests(
    sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    ctx = context()
    with sessions.begin() as session:
        sender = make_sender(session)
        for status in (S.RECEIVED, S.REJECTED, S.WITHDRAWN):
            request = submit(session, ctx, store, new_request(sender, kind=RequestType.SUBPOENA))
            if status is not S.RECEIVED:
                transition_request(
                    session=session, context=ctx, request_id=request.id, to=status, actor="s",
                    reason="synthetic reason",
                )  # fmt: skip
            expected = "verify it" if status is S.RECEIVED else "nothing more is produced"
            with pytest.raises(Conflict, match=expected):
                build_production(
                    session=session, context=ctx, store=store, request_id=request.id, actor="s"
                )
        with pytest.raises(NotFound):
            build_production(session=session, context=ctx, store=store, request_id=10**9, actor="s")
