"""Productions: what a platform hands law enforcement in answer to a legal request.

:func:`build_production` packages, for every account the request names, the evidence the vault
holds for it (each finished report's files, XML and case record, as preserved) and what the
platform's :class:`~brightline.legal.hooks.AccountExporter` returns for it, into one zip with
``manifest.json`` (SHA-256 and size of every member) and ``custody.jsonl`` (the chain-of-custody
entries of everything in it): the same format family as :mod:`brightline.evidence.package`, so
:func:`brightline.evidence.package.verify_package` checks it offline. The zip itself is sealed
in the encrypted vault (never written in the clear on disk); the platform's exports are put in
the vault and recorded ``preserved`` first, and every member ``exported`` under the manifest's
digest, all in the caller's transaction.

Why the zip is built in memory: it must not exist unencrypted on disk, and the vault's
:meth:`~brightline.evidence.store.EvidenceStore.put` takes bytes. A production is documents and
a few reports' files; ``max_bytes`` caps it (a larger one is refused, and should be split).

Delivery (:func:`deliver_production`) makes a production visible to the requesting agency. A
*final* delivery (the default) also closes the request: ``produced`` when the production is
complete, ``partially_produced`` when something asked for could not be produced (an account
Brightline does not know, purged evidence, no export hook, or one that failed). Staff deliver
rolling productions with ``final=False`` and close the request with the last one. Closing by
delivery makes "time to produce" (:mod:`brightline.legal.accountability`) the time the agency
could first download the answer.

Building moves a ``verified`` request to ``in_progress`` (work has started); requests that are
only received, or rejected, withdrawn, expired or already answered, are refused.
:func:`open_production_for_download` serves a delivered production to its own agency only
(anything else is "not found") and writes each download to the chain of custody (who, when, the
package and manifest digests) before a byte is returned.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brightline.custody import CustodyEvent, record_custody
from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.evidence.models import EvidenceObject, Preservation, PreservedObject
from brightline.evidence.package import (
    LEGAL_PACKAGE_FORMAT,
    add_vault_member,
    write_manifest_and_extract,
)
from brightline.evidence.store import EvidenceStore
from brightline.legal.deadlines import as_utc
from brightline.legal.hooks import ExportedRecord, LegalContext
from brightline.legal.models import (
    EventKind,
    FlagCode,
    IdentifierKind,
    LegalRequest,
    Officer,
    RequestAccount,
    RequestStatus,
)
from brightline.legal.production_models import (
    ExportOutcome,
    MemberSource,
    Production,
    ProductionDownload,
    ProductionMember,
    ProductionStatus,
)
from brightline.legal.records import load_request, raise_flag, record_event, required_text
from brightline.legal.requests import get_request
from brightline.legal.workflow import transition_request
from brightline.review.models import Subject
from brightline.storage.base import utcnow

logger = logging.getLogger(__name__)

S = RequestStatus
MAX_PRODUCTION_BYTES = 512 * 1024 * 1024
"""The default cap on one production's total size (its members, uncompressed)."""
_ROLE_NAMES = {"report_xml": "report.xml", "case_record": "case-record.json"}


@dataclass(frozen=True, slots=True)
class ProductionRead:
    """A production as staff and the portal see it (no content)."""

    id: int
    request_id: int
    agency_id: int
    status: ProductionStatus
    package_ref: str
    manifest_sha256: str
    size: int
    vault_members: int
    platform_members: int
    export: ExportOutcome
    complete: bool
    built_at: datetime
    built_by: str
    delivered_at: datetime | None
    delivered_by: str | None
    downloads: int = 0

    @property
    def package_sha256(self) -> str:
        return self.package_ref.removeprefix("sha256:")

    @property
    def filename(self) -> str:
        return f"brightline-production-{self.request_id}-{self.id}.zip"

    @property
    def delivered(self) -> bool:
        return self.status is ProductionStatus.DELIVERED


def _read(production: Production, downloads: int = 0) -> ProductionRead:
    return ProductionRead(
        id=production.id,
        request_id=production.request_id,
        agency_id=production.agency_id,
        status=ProductionStatus(production.status),
        package_ref=production.package_ref,
        manifest_sha256=production.manifest_sha256,
        size=production.size,
        vault_members=production.vault_members,
        platform_members=production.platform_members,
        export=ExportOutcome(production.export),
        complete=production.complete,
        built_at=production.built_at,
        built_by=production.built_by,
        delivered_at=production.delivered_at,
        delivered_by=production.delivered_by,
        downloads=downloads,
    )


@dataclass(slots=True)
class _Member:
    path: str
    ref: str
    source: MemberSource
    role: str
    account_id: int
    report_id: int | None = None
    case_id: int | None = None
    data: bytes | None = field(default=None, repr=False)
    """Platform exports only: the bytes as the hook gave them (already put in the vault)."""
    sha256: str = ""
    size: int = 0


@dataclass(slots=True)
class _Gathered:
    members: list[_Member] = field(default_factory=list)
    accounts: list[dict[str, object]] = field(default_factory=list)
    complete: bool = True
    export: ExportOutcome = ExportOutcome.EXPORTED
    total: int = 0


def _vault_members(session: Session, account: RequestAccount) -> tuple[list[_Member], int]:
    """The account's preserved evidence (every finished report of it), and how many objects
    were purged (so cannot be produced)."""
    subject_id = session.scalar(
        select(Subject.id).where(
            Subject.service == account.service, Subject.platform_user_id == account.value
        )
    )
    if subject_id is None:
        return [], 0
    rows = session.execute(
        select(
            PreservedObject.ref,
            PreservedObject.role,
            PreservedObject.item_id,
            Preservation.report_id,
            Preservation.case_id,
            EvidenceObject.purged_at,
        )
        .join(Preservation, Preservation.id == PreservedObject.preservation_id)
        .join(EvidenceObject, EvidenceObject.ref == PreservedObject.ref)
        .where(Preservation.subject_id == subject_id)
        .order_by(Preservation.report_id, PreservedObject.role, PreservedObject.item_id)
    ).all()
    members, purged = [], 0
    for ref, role, item_id, report_id, case_id, purged_at in rows:
        if purged_at is not None:
            purged += 1
            continue
        name = _ROLE_NAMES.get(role, f"files/item-{item_id}-{ref.removeprefix('sha256:')}.bin")
        members.append(
            _Member(
                path=f"accounts/{account.id}/reports/{report_id}/{name}",
                ref=ref,
                source=MemberSource.VAULT,
                role=role,
                account_id=account.id,
                report_id=report_id,
                case_id=case_id,
            )
        )
    return members, purged


def _exported(
    session: Session,
    context: LegalContext,
    request: LegalRequest,
    account: RequestAccount,
    *,
    actor: str,
    at: datetime,
) -> list[ExportedRecord] | None:
    """What the export hook returns for ``account``; None (and a flag) when it failed."""
    try:
        records = list(
            context.exporter.export(
                request_id=request.id, service=account.service, platform_user_id=account.value
            )
        )
        for record in records:
            if not isinstance(record, ExportedRecord):
                raise InvalidInput("an exporter returns ExportedRecord values")
    except Exception as exc:  # a plugin may raise anything; the production goes on, partial
        logger.warning(
            "export hook failed for legal request %d, account %d: %s",
            request.id,
            account.id,
            type(exc).__name__,
        )
        raise_flag(
            session,
            request,
            FlagCode.EXPORT_FAILED,
            f"the platform export of named account #{account.id} failed while building a "
            "production: export it by hand and build again",
            at=at,
            actor=actor,
            account_id=account.id,
        )
        return None
    return records


def _gather(
    session: Session,
    context: LegalContext,
    store: EvidenceStore,
    request: LegalRequest,
    *,
    actor: str,
    at: datetime,
    max_bytes: int,
) -> _Gathered:
    gathered = _Gathered()
    configured = getattr(context.exporter, "configured", True) is not False
    if not configured:
        gathered.export = ExportOutcome.NOT_CONFIGURED
        gathered.complete = False
    named = session.scalars(
        select(RequestAccount)
        .where(RequestAccount.request_id == request.id)
        .order_by(RequestAccount.id)
    ).all()
    for account in named:
        if account.kind != IdentifierKind.ACCOUNT:
            gathered.complete = False  # an identifier (email, phone) staff must resolve first
            gathered.accounts.append({"account": account.id, "kind": account.kind})
            continue
        vault, purged = _vault_members(session, account)
        if purged or not vault:
            gathered.complete = False
        outcome = ExportOutcome.NOT_CONFIGURED
        platform: list[_Member] = []
        if configured:
            records = _exported(session, context, request, account, actor=actor, at=at)
            if records is None:
                outcome = ExportOutcome.FAILED
                gathered.export = ExportOutcome.FAILED
                gathered.complete = False
            else:
                outcome = ExportOutcome.EXPORTED
                for record in records:
                    digest = hashlib.sha256(record.data).hexdigest()
                    platform.append(
                        _Member(
                            path=(
                                f"accounts/{account.id}/platform/{record.kind}-{digest}."
                                f"{record.extension}"
                            ),
                            ref=f"sha256:{digest}",
                            source=MemberSource.PLATFORM,
                            role=record.kind,
                            account_id=account.id,
                            data=record.data,
                        )
                    )
        gathered.accounts.append(
            {
                "account": account.id,
                "kind": account.kind,
                "service": account.service,
                "platform_user_id": account.value,
                "vault_members": len(vault),
                "purged": purged,
                "platform_members": len(platform),
                "export": outcome.value,
            }
        )
        gathered.members.extend(vault)
        gathered.members.extend(platform)
    seen: set[str] = set()
    unique = []
    for member in gathered.members:
        if member.path not in seen:
            seen.add(member.path)
            unique.append(member)
    gathered.members = unique
    gathered.total = sum(len(m.data) for m in unique if m.data is not None)
    if gathered.total > max_bytes:
        raise InvalidInput(
            f"the platform export for request {request.id} is over {max_bytes} bytes: "
            "split the production"
        )
    for member in unique:  # into the vault, and on record, before it goes into a package
        if member.data is None:
            continue
        stored = store.put(member.data)
        if stored != member.ref:  # pragma: no cover - the vault names objects by their digest
            raise InvalidInput("the vault stored an export under another digest")
        record_custody(
            session=session,
            key=context.custody_key,
            event=CustodyEvent.PRESERVED,
            actor=actor,
            object_ref=member.ref,
            reason=f"platform export for legal request {request.id}",
            details={
                "legal_request": request.id,
                "account": member.account_id,
                "kind": member.role,
            },
            now=at,
        )
    return gathered


def _check_producible(request: LegalRequest) -> None:
    status = RequestStatus(request.status)
    if status is S.RECEIVED:
        raise Conflict(f"request {request.id} is received: verify it before producing anything")
    if status not in (S.VERIFIED, S.IN_PROGRESS):
        raise Conflict(f"request {request.id} is {status.value}: nothing more is produced for it")


def _package(
    session: Session,
    context: LegalContext,
    store: EvidenceStore,
    request: LegalRequest,
    gathered: _Gathered,
    *,
    actor: str,
    at: datetime,
    max_bytes: int,
) -> tuple[bytes, str]:
    """The zip (members, manifest, custody extract) and its manifest's SHA-256; every member is
    recorded ``exported`` under that digest first, so the extract inside carries the entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        size = 0
        for member in gathered.members:
            if member.data is None:
                member.sha256, member.size = add_vault_member(
                    package,
                    store,
                    member.ref,
                    member.path,
                    when=at,
                    stored=member.role == "media",
                )
            else:
                info = zipfile.ZipInfo(member.path, date_time=at.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, member.data)
                member.sha256, member.size = member.ref.removeprefix("sha256:"), len(member.data)
            size += member.size
            if size > max_bytes:
                raise InvalidInput(
                    f"the production for request {request.id} is over {max_bytes} bytes: split it"
                )
        manifest = json.dumps(
            {
                "format": LEGAL_PACKAGE_FORMAT,
                "created_at": at.isoformat(),
                "legal_request_id": request.id,
                "agency_id": request.agency_id,
                "external_reference": request.external_reference,
                "complete": gathered.complete,
                "export": gathered.export.value,
                "accounts": gathered.accounts,
                "members": [
                    {
                        "path": m.path,
                        "sha256": m.sha256,
                        "size": m.size,
                        "ref": m.ref,
                        "role": m.role,
                        "source": m.source.value,
                    }
                    for m in gathered.members
                ],
            },
            sort_keys=True,
            indent=2,
        ).encode("utf-8")
        manifest_sha256 = hashlib.sha256(manifest).hexdigest()
        for member in gathered.members:
            record_custody(
                session=session,
                key=context.custody_key,
                event=CustodyEvent.EXPORTED,
                actor=actor,
                object_ref=member.ref,
                report_id=member.report_id,
                case_id=member.case_id,
                reason=f"production for legal request {request.id}",
                details={
                    "manifest_sha256": manifest_sha256,
                    "path": member.path,
                    "legal_request": request.id,
                },
                now=at,
            )
        write_manifest_and_extract(session, package, manifest, [m.ref for m in gathered.members])
    return buffer.getvalue(), manifest_sha256


def build_production(
    *,
    session: Session,
    context: LegalContext,
    store: EvidenceStore,
    request_id: int,
    actor: str,
    now: datetime | None = None,
    max_bytes: int = MAX_PRODUCTION_BYTES,
) -> ProductionRead:
    """Package what the vault and the platform hold for the request's accounts, seal it in the
    vault and record it (see the module docstring). Never commits."""
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    request = load_request(session, request_id, for_update=True)
    _check_producible(request)
    if request.status == S.VERIFIED:
        transition_request(
            session=session,
            context=context,
            request_id=request.id,
            to=S.IN_PROGRESS,
            actor=clean_actor,
            now=when,
        )
    gathered = _gather(
        session, context, store, request, actor=clean_actor, at=when, max_bytes=max_bytes
    )
    data, manifest_sha256 = _package(
        session, context, store, request, gathered, actor=clean_actor, at=when, max_bytes=max_bytes
    )
    package_ref = store.put(data)
    production = Production(
        request_id=request.id,
        agency_id=request.agency_id,
        status=ProductionStatus.BUILT.value,
        package_ref=package_ref,
        manifest_sha256=manifest_sha256,
        size=len(data),
        vault_members=sum(m.source is MemberSource.VAULT for m in gathered.members),
        platform_members=sum(m.source is MemberSource.PLATFORM for m in gathered.members),
        export=gathered.export.value,
        complete=gathered.complete,
        built_at=when,
        built_by=clean_actor,
    )
    session.add(production)
    session.flush()
    session.add_all(
        ProductionMember(
            production_id=production.id,
            path=m.path,
            ref=m.ref,
            source=m.source.value,
            role=m.role,
            account_id=m.account_id,
            report_id=m.report_id,
            sha256=m.sha256,
            size=m.size,
        )
        for m in gathered.members
    )
    record_custody(
        session=session,
        key=context.custody_key,
        event=CustodyEvent.PRESERVED,
        actor=clean_actor,
        object_ref=package_ref,
        reason=f"production package {production.id} for legal request {request.id}",
        details={
            "legal_request": request.id,
            "production": production.id,
            "manifest_sha256": manifest_sha256,
            "members": len(gathered.members),
        },
        now=when,
    )
    record_event(
        session,
        request,
        EventKind.PRODUCTION_BUILT,
        actor=clean_actor,
        at=when,
        details={
            "production": production.id,
            "vault_members": production.vault_members,
            "platform_members": production.platform_members,
            "export": production.export,
            "complete": production.complete,
            "manifest_sha256": manifest_sha256,
        },
    )
    session.flush()
    logger.info(
        "legal request %d: production %d built (%d members, complete=%s)",
        request.id,
        production.id,
        len(gathered.members),
        gathered.complete,
    )
    return _read(production)


def _load(session: Session, production_id: int, *, for_update: bool = False) -> Production:
    production = session.get(Production, production_id, with_for_update=for_update)
    if production is None:
        raise NotFound(f"no production with id {production_id}")
    return production


def deliver_production(
    *,
    session: Session,
    context: LegalContext,
    production_id: int,
    actor: str,
    now: datetime | None = None,
    final: bool = True,
) -> ProductionRead:
    """Make a built production available to the requesting agency; a final delivery closes an
    open request as ``produced`` (complete) or ``partially_produced``. Never commits."""
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    production = _load(session, production_id, for_update=True)
    if production.status == ProductionStatus.DELIVERED:
        raise Conflict(f"production {production_id} was already delivered")
    request = load_request(session, production.request_id, for_update=True)
    status = RequestStatus(request.status)
    if status not in (S.VERIFIED, S.IN_PROGRESS, S.PRODUCED, S.PARTIALLY_PRODUCED):
        raise Conflict(f"request {request.id} is {status.value}: its productions are not delivered")
    production.status = ProductionStatus.DELIVERED.value
    production.delivered_at = when
    production.delivered_by = clean_actor
    record_event(
        session,
        request,
        EventKind.PRODUCTION_DELIVERED,
        actor=clean_actor,
        at=when,
        details={"production": production.id, "final": final, "complete": production.complete},
    )
    session.flush()
    if final and request.is_open:
        if status is S.VERIFIED:
            transition_request(
                session=session,
                context=context,
                request_id=request.id,
                to=S.IN_PROGRESS,
                actor=clean_actor,
                now=when,
            )
        transition_request(
            session=session,
            context=context,
            request_id=request.id,
            to=S.PRODUCED if production.complete else S.PARTIALLY_PRODUCED,
            actor=clean_actor,
            now=when,
        )
    logger.info("production %d of legal request %d delivered", production.id, request.id)
    return _read(production, _download_count(session, production.id))


def _download_count(session: Session, production_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ProductionDownload)
            .where(ProductionDownload.production_id == production_id)
        )
        or 0
    )


def list_productions(
    *, session: Session, request_id: int, agency_id: int | None = None
) -> list[ProductionRead]:
    """A request's productions, oldest first. With ``agency_id`` (the portal): delivered ones
    only, and another agency's request is "not found"."""
    get_request(session=session, request_id=request_id, agency_id=agency_id)
    query = select(Production).where(Production.request_id == request_id)
    if agency_id is not None:
        query = query.where(Production.status == ProductionStatus.DELIVERED.value)
    productions = session.scalars(query.order_by(Production.id)).all()
    counts = dict(
        session.execute(
            select(ProductionDownload.production_id, func.count())
            .where(ProductionDownload.production_id.in_([p.id for p in productions]))
            .group_by(ProductionDownload.production_id)
        ).all()
    )
    return [_read(p, int(counts.get(p.id, 0))) for p in productions]


def get_production(
    *, session: Session, production_id: int, agency_id: int | None = None
) -> ProductionRead:
    """One production; for an agency, only a delivered one of its own (else "not found")."""
    production = session.get(Production, production_id)
    if production is None or (
        agency_id is not None
        and (
            production.agency_id != agency_id
            or production.status != ProductionStatus.DELIVERED.value
        )
    ):
        raise NotFound(f"no production with id {production_id}")
    return _read(production, _download_count(session, production.id))


def open_production_for_download(
    *,
    session: Session,
    context: LegalContext,
    store: EvidenceStore,
    production_id: int,
    agency_id: int | None,
    officer_id: int | None,
    actor: str,
    now: datetime | None = None,
) -> tuple[str, bytes]:
    """The file name and bytes of a production, recorded in the chain of custody first.

    With ``agency_id`` (an officer in the portal) only a delivered production of that agency is
    served, to one of its officers; anything else is NotFound, never "forbidden", so ids cannot
    be probed. Without (staff) any production is served. The vault verifies the bytes against
    their digest on the way out.
    """
    when = as_utc(now) if now is not None else utcnow()
    clean_actor = required_text("actor", actor, 200)
    read = get_production(session=session, production_id=production_id, agency_id=agency_id)
    if officer_id is not None:
        officer = session.get(Officer, officer_id)
        if officer is None or agency_id is None or officer.agency_id != agency_id:
            raise NotFound(f"no production with id {production_id}")
    entry = record_custody(
        session=session,
        key=context.custody_key,
        event=CustodyEvent.EXPORTED,
        actor=clean_actor,
        object_ref=read.package_ref,
        reason=f"production {read.id} of legal request {read.request_id} downloaded",
        details={
            "production": read.id,
            "legal_request": read.request_id,
            "agency": agency_id,
            "officer": officer_id,
            "package_sha256": read.package_sha256,
            "manifest_sha256": read.manifest_sha256,
        },
        now=when,
    )
    session.add(
        ProductionDownload(
            production_id=read.id,
            at=when,
            actor=clean_actor,
            agency_id=agency_id,
            officer_id=officer_id,
            custody_seq=entry.seq,
        )
    )
    record_event(
        session,
        load_request(session, read.request_id),
        EventKind.PRODUCTION_DOWNLOADED,
        actor=clean_actor,
        at=when,
        details={
            "production": read.id,
            "agency": agency_id,
            "officer": officer_id,
            "custody_seq": entry.seq,
        },
    )
    session.flush()
    data = store.read(read.package_ref)
    logger.info("production %d downloaded (custody entry %d)", read.id, entry.seq)
    return read.filename, data


def production_members(*, session: Session, production_id: int) -> Sequence[ProductionMember]:
    """What a production holds, by path (for staff)."""
    _load(session, production_id)
    return session.scalars(
        select(ProductionMember)
        .where(ProductionMember.production_id == production_id)
        .order_by(ProductionMember.path)
    ).all()
