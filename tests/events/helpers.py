"""Small helpers shared by the event tests: banks with entries, and matches against them."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks import service as banks
from brightline.banks.models import BankEntry
from brightline.banks.records import EntryRecord
from brightline.matching.service import Match
from brightline.signals import default_registry
from tests.factories import random_pdq


def make_entries(session: Session, bank: str, count: int, seed: int = 1) -> list[BankEntry]:
    """A bank with ``count`` synthetic PDQ entries (random bits, no image behind them)."""
    banks.create_bank(session=session, name=bank)
    rng = random.Random(seed)
    records = [EntryRecord(signal_type="pdq", value=random_pdq(rng), line=n) for n in range(count)]
    banks.import_records(
        session=session,
        bank_name=bank,
        records=records,
        registry=default_registry(),
        source="<test>",
    )
    return list(session.scalars(select(BankEntry).order_by(BankEntry.id)))


def match_of(entry: BankEntry, bank: str, distance: int = 0) -> Match:
    return Match(
        bank=bank,
        bank_id=entry.bank_id,
        entry_id=entry.id,
        signal_type=entry.signal_type,
        signal_version=entry.signal_version,
        value=entry.value,
        distance=distance,
        classification=None,
        category=None,
        list_name=None,
        external_id=None,
        series=None,
    )
