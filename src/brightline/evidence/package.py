"""Production packages: a report's preserved evidence, as law enforcement receives it.

A zip with the report XML, the case record, the files, ``manifest.json`` (SHA-256 and size of
every member) and ``custody.jsonl`` (the chain-of-custody entries of everything in it,
including this export). Anyone can check a package offline with :func:`verify_package`: the
members against the manifest, every media file against the digest that names it, and every
custody entry against its own hash; the export entries name the manifest's SHA-256, which ties
the extract to this manifest. The platform can also confirm the extract against its log
(:func:`brightline.custody.verify_custody` authenticates entries with a key only it holds).

Exporting reads evidence, so it is authorised by the caller and recorded (``exported``, with
who and why) before any byte is written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.custody import (
    CustodyEntry,
    CustodyEvent,
    custody_entries,
    entry_hash_of,
    record_custody,
    verify_custody,
)
from brightline.errors import InvalidInput, NotFound
from brightline.evidence.models import EvidenceObject, Preservation, PreservedObject
from brightline.evidence.store import EvidenceStore
from brightline.reports.models import Report
from brightline.storage.base import utcnow

PACKAGE_FORMAT = "brightline.production-package/1"
MANIFEST = "manifest.json"
CUSTODY = "custody.jsonl"
_MEMBER = re.compile(r"(report\.xml|case-record\.json|files/item-[0-9]+-[0-9a-f]{64}\.bin)")
LEGAL_PACKAGE_FORMAT = "brightline.legal-production/1"
"""A legal request's production (:mod:`brightline.legal.productions`): several accounts, each
with its reports' preserved evidence and what the platform exported; same manifest, same
custody extract, same verification."""
_LEGAL_MEMBER = re.compile(
    r"accounts/[0-9]+/(reports/[0-9]+/(report\.xml|case-record\.json"
    r"|files/item-[0-9]+-[0-9a-f]{64}\.bin)|platform/[a-z0-9_]{1,40}-[0-9a-f]{64}\.(bin|json|txt|csv))"
)
_MEMBER_NAMES = {PACKAGE_FORMAT: _MEMBER, LEGAL_PACKAGE_FORMAT: _LEGAL_MEMBER}
_NAMED_DIGEST = re.compile(r"-([0-9a-f]{64})\.[a-z]+")
_MAX_MEMBERS = 100_000


@dataclass(frozen=True, slots=True)
class PackageSummary:
    path: Path
    report_id: int
    files: int
    manifest_sha256: str
    custody_entries: int


def _iter_hashed(
    chunks: Iterator[bytes], digest: hashlib._Hash, sizes: list[int]
) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        sizes[0] += len(chunk)
        yield chunk


def build_package(
    *,
    session: Session,
    store: EvidenceStore,
    custody_key: bytes,
    report_id: int,
    actor: str,
    reason: str,
    out: Path,
    now: datetime | None = None,
) -> PackageSummary:
    """Write the production package of a preserved report to ``out`` (owner-only, 0600).

    The caller commits afterwards: the ``exported`` entries are in its transaction, so a failed
    export that is rolled back leaves no claim that anything left the vault.
    """
    if not reason.strip():
        raise InvalidInput("an export needs a reason (e.g. the legal process it answers)")
    preservation = session.scalar(select(Preservation).where(Preservation.report_id == report_id))
    report = session.get(Report, report_id)
    if preservation is None or report is None:
        raise NotFound(f"report {report_id} has no preserved evidence")
    rows = list(
        session.execute(
            select(
                PreservedObject.ref,
                PreservedObject.role,
                PreservedObject.item_id,
                EvidenceObject.purged_at,
            )
            .join(EvidenceObject, EvidenceObject.ref == PreservedObject.ref)
            .where(PreservedObject.preservation_id == preservation.id)
            .order_by(PreservedObject.role, PreservedObject.item_id)
        )
    )
    if any(purged is not None for *_rest, purged in rows):
        raise NotFound(f"report {report_id}: some of its evidence was purged after retention")
    when = now or utcnow()
    members: list[dict[str, object]] = []
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw, zipfile.ZipFile(raw, "w") as package:
            for ref, role, item_id, _purged in rows:
                digest = ref.removeprefix("sha256:")
                name = {
                    "report_xml": "report.xml",
                    "case_record": "case-record.json",
                }.get(role, f"files/item-{item_id}-{digest}.bin")
                sha256, size = add_vault_member(
                    package, store, ref, name, when=when, stored=role == "media"
                )
                members.append(
                    {"path": name, "sha256": sha256, "size": size, "ref": ref, "role": role}
                )
            manifest = json.dumps(
                {
                    "format": PACKAGE_FORMAT,
                    "created_at": when.isoformat(),
                    "report_id": report_id,
                    "clearinghouse_report_id": report.clearinghouse_report_id,
                    "members": members,
                },
                sort_keys=True,
                indent=2,
            ).encode("utf-8")
            manifest_sha256 = hashlib.sha256(manifest).hexdigest()
            for entry in members:
                record_custody(
                    session=session,
                    key=custody_key,
                    event=CustodyEvent.EXPORTED,
                    actor=actor,
                    object_ref=str(entry["ref"]),
                    report_id=report_id,
                    case_id=preservation.case_id,
                    reason=reason,
                    details={"manifest_sha256": manifest_sha256, "path": str(entry["path"])},
                    now=when,
                )
            extract = write_manifest_and_extract(
                session, package, manifest, [str(m["ref"]) for m in members]
            )
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return PackageSummary(
        out, report_id, sum(m["role"] == "media" for m in members), manifest_sha256, len(extract)
    )


def add_vault_member(
    package: zipfile.ZipFile,
    store: EvidenceStore,
    ref: str,
    name: str,
    *,
    when: datetime,
    stored: bool,
) -> tuple[str, int]:
    """Stream one vault object into the zip as ``name``; its SHA-256 and size as written.

    ``stored`` members (media) are not compressed: they rarely shrink and stay seekable.
    """
    seen = hashlib.sha256()
    size = [0]
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with package.open(info, "w", force_zip64=True) as member:
        for chunk in _iter_hashed(store.iter_chunks(ref), seen, size):
            member.write(chunk)
    return seen.hexdigest(), size[0]


def write_manifest_and_extract(
    session: Session, package: zipfile.ZipFile, manifest: bytes, refs: list[str]
) -> list[CustodyEntry]:
    """Write ``manifest.json`` and the custody extract of ``refs`` (after the caller recorded
    the ``exported`` entries naming the manifest's SHA-256); the entries written."""
    session.flush()
    extract = custody_entries(session=session, object_refs=refs)
    package.writestr(MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
    package.writestr(
        CUSTODY,
        "".join(json.dumps(e.to_json(), sort_keys=True) + "\n" for e in extract),
        compress_type=zipfile.ZIP_DEFLATED,
    )
    return extract


# -- verification ----------------------------------------------------------------------------


@dataclass(slots=True)
class PackageCheck:
    ok: bool = True
    members: int = 0
    custody_entries: int = 0
    manifest_sha256: str | None = None
    problems: list[str] = field(default_factory=list)
    entries: list[CustodyEntry] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_package(path: Path) -> PackageCheck:
    """Check a production package offline; every problem found is listed, none is fatal."""
    check = PackageCheck()
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"not a readable production package: {exc}") from None
    with package:
        names = package.namelist()
        if len(names) > _MAX_MEMBERS or MANIFEST not in names or CUSTODY not in names:
            raise InvalidInput("not a production package: manifest.json or custody.jsonl missing")
        manifest_bytes = package.read(MANIFEST)
        check.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        try:
            manifest = json.loads(manifest_bytes)
            listed = {str(m["path"]): m for m in manifest["members"]}
            member_names = _MEMBER_NAMES.get(manifest.get("format"), _MEMBER)
            if manifest.get("format") not in _MEMBER_NAMES:
                check.fail(f"unknown package format {manifest.get('format')!r}")
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("the package's manifest.json is malformed") from None
        for name in names:
            if name in (MANIFEST, CUSTODY):
                continue
            if name not in listed:
                check.fail(f"{name}: not in the manifest")
        for name, entry in sorted(listed.items()):
            check.members += 1
            if not member_names.fullmatch(name) or name not in names:
                check.fail(f"{name}: listed in the manifest but missing")
                continue
            seen = hashlib.sha256()
            size = 0
            with package.open(name) as member:
                while block := member.read(1024 * 1024):
                    seen.update(block)
                    size += len(block)
            if not hmac.compare_digest(
                seen.hexdigest(), str(entry.get("sha256"))
            ) or size != entry.get("size"):
                check.fail(f"{name}: does not match its manifest digest")
            named = _NAMED_DIGEST.search(name)
            if named is not None and named.group(1) != seen.hexdigest():
                check.fail(f"{name}: content does not match the digest in its name")
        _check_custody(package.read(CUSTODY), listed, check)
    return check


def _check_custody(raw: bytes, listed: dict[str, dict[str, object]], check: PackageCheck) -> None:
    exported: set[str] = set()
    preserved: set[str] = set()
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        try:
            entry = CustodyEntry.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError, InvalidInput):
            check.fail(f"custody.jsonl line {number}: malformed")
            continue
        check.custody_entries += 1
        check.entries.append(entry)
        if not hmac.compare_digest(entry_hash_of(entry), entry.entry_hash):
            check.fail(f"custody entry seq {entry.seq}: edited (its hash does not match)")
            continue
        if entry.object_ref is None:
            continue
        if entry.event is CustodyEvent.PRESERVED:
            preserved.add(entry.object_ref)
        if (
            entry.event is CustodyEvent.EXPORTED
            and entry.details.get("manifest_sha256") == check.manifest_sha256
        ):
            exported.add(entry.object_ref)
    for name, member in sorted(listed.items()):
        ref = str(member.get("ref"))
        if ref not in preserved:
            check.fail(f"{name}: no 'preserved' entry in the custody extract")
        if ref not in exported:
            check.fail(f"{name}: no 'exported' entry for this manifest in the custody extract")


def confirm_extract(
    *, session: Session, custody_key: bytes, entries: list[CustodyEntry]
) -> list[str]:
    """On the platform: problems found comparing a package's custody extract with the log.

    Each entry must be in the log exactly as given, and the log must verify under the
    platform's custody key, so an extract (and the manifest its export entries name) cannot
    have been made up by whoever holds the package.
    """
    if not entries:
        return ["the package has no custody entries"]
    refs = {entry.object_ref for entry in entries if entry.object_ref is not None}
    stored = {entry.seq: entry for entry in custody_entries(session=session, object_refs=refs)}
    problems = [
        f"custody entry seq {entry.seq}: not in this platform's log as given"
        for entry in entries
        if entry.seq not in stored or stored[entry.seq].entry_hash != entry.entry_hash
    ]
    verification = verify_custody(session=session, key=custody_key)
    problems.extend(
        f"custody log seq {p.seq}: {p.kind}: {p.message}" for p in verification.problems
    )
    return problems
