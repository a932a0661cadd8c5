from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.banks import service
from brightline.banks.models import BankEntry, EntryChange
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import Conflict, ImportFailed, InvalidInput, NotFound
from brightline.signals import default_registry
from tests.factories import random_pdq

REGISTRY = default_registry()


def _records(count: int, seed: int = 1) -> list[EntryRecord]:
    rng = random.Random(seed)
    return [
        EntryRecord("pdq", random_pdq(rng), classification="A2", external_id=f"x{n}", line=n)
        for n in range(1, count + 1)
    ]


def _import(
    session: Session, records: list[EntryRecord | InvalidRecord], **kwargs: object
) -> service.ImportReport:
    return service.import_records(
        session=session,
        bank_name="B",
        records=records,
        registry=REGISTRY,
        source="list.csv",
        **kwargs,  # type: ignore[arg-type]
    )


def _entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(BankEntry)) or 0


def test_bank_lifecycle(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        service.create_bank(session=session, name="Known A", pdq_threshold=20)
        with pytest.raises(Conflict):
            service.create_bank(session=session, name="Known A")
        with pytest.raises(InvalidInput):
            service.create_bank(session=session, name="  bad")
        with pytest.raises(InvalidInput):
            service.create_bank(session=session, name="ok", pdq_threshold=64)
    with sessions.begin() as session:
        service.rename_bank(session=session, name="Known A", new_name="Known-B")
        service.update_bank(session=session, name="Known-B", enabled=False)
        [bank] = service.list_banks(session=session)
        assert (bank.name, bank.enabled, bank.pdq_threshold) == ("Known-B", False, 20)
        with pytest.raises(NotFound):
            service.get_bank(session=session, name="Known A")


def test_import_is_idempotent(sessions: sessionmaker[Session]) -> None:
    records = _records(5000)
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        first = _import(session, list(records))
    assert (first.added, first.unchanged) == (5000, 0)
    with sessions.begin() as session:
        again = _import(session, list(records))
        assert (again.added, again.unchanged) == (0, 5000)
        assert _entry_count(session) == 5000


def test_duplicates_inside_one_file_count_once(sessions: sessionmaker[Session]) -> None:
    record = _records(1)[0]
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        report = _import(session, [record, record])
    assert (report.added, report.unchanged) == (1, 1)


def test_bad_record_aborts_and_keeps_what_was_stored(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        _import(session, list(_records(10, seed=1)))
    bad = [*_records(3000, seed=2), EntryRecord("pdq", "nothex", line=3001), *_records(5, seed=3)]
    with pytest.raises(ImportFailed) as caught, sessions.begin() as session:
        _import(session, bad)
    assert caught.value.source == "list.csv"
    assert caught.value.line == 3001
    assert "list.csv:3001" in str(caught.value)
    with sessions() as session:
        assert _entry_count(session) == 10  # nothing half-imported, nothing lost


def test_parser_errors_abort_with_their_line(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
    with (
        pytest.raises(ImportFailed, match=r"list.csv:7: missing column"),
        sessions.begin() as session,
    ):
        _import(session, [*_records(2), InvalidRecord(line=7, reason="missing column")])


def test_skip_invalid_reports_every_skipped_record(sessions: sessionmaker[Session]) -> None:
    records: list[EntryRecord | InvalidRecord] = [
        *_records(3),
        EntryRecord("pdq", "zz", line=4),
        EntryRecord("nosuchtype", "aa", line=5),
        EntryRecord("md5", "d41d8cd98f00b204e9800998ecf8427e", classification="Q9", line=6),
        InvalidRecord(line=7, reason="broken row"),
    ]
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        report = _import(session, records, skip_invalid=True)
    assert report.added == 3
    assert [s.line for s in report.skipped] == [4, 5, 6, 7]
    assert "unknown signal type" in report.skipped[1].reason
    assert "classification" in report.skipped[2].reason


def test_values_are_normalised(sessions: sessionmaker[Session]) -> None:
    upper = random_pdq(random.Random(5)).upper()
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        _import(session, [EntryRecord("PDQ", f"  {upper} ", classification="a1")])
        entry = session.scalars(select(BankEntry)).one()
    assert (entry.signal_type, entry.value, entry.classification) == ("pdq", upper.lower(), "A1")
    assert entry.signal_version == REGISTRY.get("pdq").version


def test_withdrawals_disable_entries_and_log_changes(sessions: sessionmaker[Session]) -> None:
    records = _records(4)
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        report = _import(
            session,
            [
                *records,
                EntryRecord("", "", external_id="x2", delete=True),
                EntryRecord("pdq", records[2].value, delete=True),
            ],
        )
    assert (report.added, report.disabled) == (4, 2)
    with sessions() as session:
        disabled = set(session.scalars(select(BankEntry.external_id).where(~BankEntry.enabled)))
        assert disabled == {"x2", "x3"}
        assert session.scalar(select(func.count()).select_from(EntryChange)) == 2


def test_export_streams_enabled_entries(sessions: sessionmaker[Session]) -> None:
    records = _records(7)
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        _import(session, list(records))
        service.set_entries_enabled(
            session=session, bank_name="B", enabled=False, registry=REGISTRY, external_id="x1"
        )
    with sessions() as session:
        exported = list(service.iter_entries(session=session, bank_name="B"))
        everything = list(
            service.iter_entries(session=session, bank_name="B", include_disabled=True)
        )
        with pytest.raises(NotFound):
            service.iter_entries(session=session, bank_name="nope")
    assert [r.value for r in exported] == [r.value for r in records[1:]]
    assert len(everything) == 7
    assert exported[0].classification == "A2"


def test_stats_and_delete(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        service.create_bank(session=session, name="B")
        _import(session, [*_records(3), EntryRecord("md5", "d41d8cd98f00b204e9800998ecf8427e")])
        service.set_entries_enabled(
            session=session, bank_name="B", enabled=False, registry=REGISTRY, external_id="x3"
        )
    with sessions.begin() as session:
        stats = service.bank_stats(session=session, bank_name="B")
        assert stats.by_signal_type == {"pdq": (2, 1), "md5": (1, 0)}
        assert stats.by_classification == {"A2": 2, "unclassified": 1}
        assert stats.total == 4
        assert service.delete_bank(session=session, name="B") == 4
    with sessions() as session:
        assert _entry_count(session) == 0
        assert service.list_banks(session=session) == []
