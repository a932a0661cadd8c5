"""Production packages: built from preserved evidence, verified offline, tampering detected."""

from __future__ import annotations

import dataclasses
import json
import secrets
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from brightline.custody import CustodyEvent, custody_entries, verify_custody
from brightline.errors import InvalidInput, NotFound
from brightline.evidence.package import build_package, confirm_extract, verify_package
from brightline.evidence.preservation import preserve_report
from brightline.evidence.retention import purge_expired
from brightline.evidence.store import EvidenceStore
from brightline.settings import PreservationSettings
from tests.evidence.helpers import T0, make_finished_report

KEY = secrets.token_bytes(32)


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "vault", secrets.token_bytes(32), chunk_size=1024)


def _packaged(session: Session, store: EvidenceStore, out: Path) -> int:
    made = make_finished_report(session, store, files=2)
    preserve_report(
        session=session,
        report_id=made.report_id,
        store=store,
        custody_key=KEY,
        settings=PreservationSettings(),
        now=T0,
    )
    build_package(
        session=session,
        store=store,
        custody_key=KEY,
        report_id=made.report_id,
        actor="staff-1",
        reason="placeholder warrant W-1",
        out=out,
        now=T0,
    )
    return made.report_id


def _rewrite(source: Path, target: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, change.get(name, old.read(name)))


def test_a_package_verifies_and_records_the_export(
    session: Session, store: EvidenceStore, tmp_path: Path
) -> None:
    out = tmp_path / "package.zip"
    report_id = _packaged(session, store, out)
    assert out.stat().st_mode & 0o077 == 0
    check = verify_package(out)
    assert check.ok, check.problems
    assert check.members == 4
    names = zipfile.ZipFile(out).namelist()
    assert {"report.xml", "case-record.json", "manifest.json", "custody.jsonl"} <= set(names)
    exported = [
        entry
        for entry in custody_entries(session=session, report_id=report_id)
        if entry.event is CustodyEvent.EXPORTED
    ]
    assert len(exported) == 4
    assert {entry.actor for entry in exported} == {"staff-1"}
    assert {entry.details["manifest_sha256"] for entry in exported} == {check.manifest_sha256}
    assert confirm_extract(session=session, custody_key=KEY, entries=check.entries) == []
    assert verify_custody(session=session, key=KEY).ok


@pytest.mark.parametrize("target", ["file", "manifest", "custody", "extra"])
def test_tampered_packages_are_caught(
    session: Session, store: EvidenceStore, tmp_path: Path, target: str
) -> None:
    out = tmp_path / "package.zip"
    _packaged(session, store, out)
    with zipfile.ZipFile(out) as package:
        media = next(name for name in package.namelist() if name.startswith("files/"))
        manifest = json.loads(package.read("manifest.json"))
        custody = package.read("custody.jsonl").decode().splitlines()
    change: dict[str, bytes] = {}
    if target == "file":
        change[media] = b"replaced bytes"
    elif target == "manifest":
        manifest["members"][0]["sha256"] = "0" * 64
        change["manifest.json"] = json.dumps(manifest).encode()
    elif target == "custody":
        first = json.loads(custody[0])
        first["actor"] = "someone-else"
        change["custody.jsonl"] = "\n".join([json.dumps(first), *custody[1:]]).encode()
    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, change)
    if target == "extra":
        with zipfile.ZipFile(tampered, "a") as package:
            package.writestr("files/unlisted.bin", b"synthetic")
    check = verify_package(tampered)
    assert not check.ok
    assert check.problems


def test_a_made_up_extract_is_not_confirmed_by_the_platform(
    session: Session, store: EvidenceStore, tmp_path: Path
) -> None:
    out = tmp_path / "package.zip"
    _packaged(session, store, out)
    check = verify_package(out)
    forged = [dataclasses.replace(check.entries[0], actor="someone-else", entry_hash="f" * 64)]
    problems = confirm_extract(session=session, custody_key=KEY, entries=forged)
    assert len(problems) == 1
    assert "not in this platform's log" in problems[0]
    assert confirm_extract(session=session, custody_key=KEY, entries=[]) != []


def test_packages_need_a_reason_and_preserved_evidence(
    session: Session, store: EvidenceStore, tmp_path: Path
) -> None:
    made = make_finished_report(session, store, files=1)
    out = tmp_path / "package.zip"
    with pytest.raises(NotFound, match="no preserved evidence"):
        build_package(
            session=session,
            store=store,
            custody_key=KEY,
            report_id=made.report_id,
            actor="staff-1",
            reason="placeholder",
            out=out,
        )
    with pytest.raises(InvalidInput, match="reason"):
        build_package(
            session=session,
            store=store,
            custody_key=KEY,
            report_id=made.report_id,
            actor="staff-1",
            reason="  ",
            out=out,
        )
    assert not out.exists()


def test_purged_evidence_cannot_be_packaged(
    session: Session, store: EvidenceStore, tmp_path: Path
) -> None:
    out = tmp_path / "package.zip"
    report_id = _packaged(session, store, out)
    purge_expired(session=session, store=store, custody_key=KEY, now=T0 + timedelta(days=400))
    with pytest.raises(NotFound, match="purged"):
        build_package(
            session=session,
            store=store,
            custody_key=KEY,
            report_id=report_id,
            actor="staff-1",
            reason="placeholder",
            out=tmp_path / "again.zip",
        )


def test_not_a_package_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match="not a readable production package"):
        verify_package(junk)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as package:
        package.writestr("readme.txt", "synthetic")
    with pytest.raises(InvalidInput, match=r"manifest\.json or custody\.jsonl missing"):
        verify_package(empty)
