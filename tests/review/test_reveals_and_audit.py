"""Reveals (viewed flag, exposure counts, the daily cap) and the append-only audit log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput, NotFound
from brightline.review import (
    AuditAction,
    ExposureCapReached,
    audit,
    export_audit_csv,
    exposure,
    query_audit,
    record_download,
    record_reveal,
)
from brightline.review.models import Item
from tests.review.helpers import NOW, flag


def test_a_reveal_marks_the_item_viewed_and_counts_exposure(session: Session) -> None:
    first = flag(session, 1, 1)
    second = flag(session, 1, 2)
    assert record_reveal(session=session, item_id=first.item.id, reviewer="alice", now=NOW) == 1
    later = NOW + timedelta(minutes=5)
    count = record_reveal(
        session=session,
        item_id=first.item.id,
        reviewer="bob",
        full_resolution=True,
        reason="detail needed for classification",
        now=later,
    )
    assert count == 1
    item = session.get(Item, first.item.id)
    assert item is not None
    assert (item.viewed_by_person, item.first_viewed_by, item.first_viewed_at) == (
        True,
        "alice",
        NOW,
    )
    untouched = session.get(Item, second.item.id)
    assert untouched is not None
    assert not untouched.viewed_by_person
    bob = exposure(session=session, reviewer="bob", day=NOW.date())
    assert bob is not None
    assert (bob.reveals, bob.full_resolution) == (1, 1)
    reveals = query_audit(session=session, action=AuditAction.REVEAL)
    assert [(r.actor, r.reason) for r in reveals] == [
        ("alice", None),
        ("bob", "detail needed for classification"),
    ]


def test_full_resolution_needs_a_reason(session: Session) -> None:
    flagged = flag(session, 1, 1)
    with pytest.raises(InvalidInput, match="reason"):
        record_reveal(session=session, item_id=flagged.item.id, reviewer="a", full_resolution=True)
    with pytest.raises(NotFound):
        record_reveal(session=session, item_id=flagged.item.id + 100, reviewer="a")
    assert not flagged.item.viewed_by_person


def test_the_daily_cap_refuses_the_reveal_over_it(session: Session) -> None:
    items = [flag(session, 1, n).item.id for n in range(3)]
    for n, item_id in enumerate(items[:2], start=1):
        assert (
            record_reveal(session=session, item_id=item_id, reviewer="a", daily_cap=2, now=NOW) == n
        )
    with pytest.raises(ExposureCapReached, match="limit of 2"):
        record_reveal(session=session, item_id=items[2], reviewer="a", daily_cap=2, now=NOW)
    refused = session.get(Item, items[2])
    assert refused is not None
    assert not refused.viewed_by_person
    tomorrow = NOW + timedelta(days=1)
    record_reveal(session=session, item_id=items[2], reviewer="a", daily_cap=2, now=tomorrow)
    capped = exposure(session=session, reviewer="a", day=NOW.date())
    assert capped is not None
    assert capped.reveals == 2


@pytest.mark.parametrize(
    "statement", ["UPDATE review_audit_log SET actor = 'x'", "DELETE FROM review_audit_log"]
)
def test_the_audit_log_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        session = Session(bind=connection)
        audit(
            session=session,
            actor="alice",
            action=AuditAction.SETTING_CHANGE,
            object_type="queue",
            object_id=1,
            detail={"setting": "queue_created"},
        )
        session.flush()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT actor FROM review_audit_log")).scalars().all() == [
            "alice"
        ]


def test_audit_detail_refuses_free_text(session: Session) -> None:
    with pytest.raises(InvalidInput, match="free text"):
        audit(
            session=session,
            actor="alice",
            action=AuditAction.DECIDE,
            object_type="job",
            object_id=1,
            detail={"note": "a sentence with spaces"},
        )
    with pytest.raises(InvalidInput, match="actor"):
        audit(session=session, actor=" ", action=AuditAction.DECIDE, object_type="j", object_id=1)


def test_audit_filters_and_csv_export(session: Session) -> None:
    flagged = flag(session, 1, 1, now=NOW)
    record_reveal(session=session, item_id=flagged.item.id, reviewer="alice", now=NOW)
    record_download(
        session=session,
        item_id=flagged.item.id,
        actor="=auditor",
        reason="-evidence for counsel",
        now=NOW + timedelta(hours=1),
    )
    assert [r.action for r in query_audit(session=session, object_type="item")] == [
        "flag",
        "reveal",
        "download",
    ]
    assert [r.action for r in query_audit(session=session, actor="alice")] == ["reveal"]
    window = query_audit(
        session=session, since=NOW + timedelta(minutes=1), until=NOW + timedelta(hours=2)
    )
    assert [r.action for r in window] == ["download"]
    assert query_audit(session=session, object_type="item", object_id="999") == []
    with pytest.raises(InvalidInput, match="limit"):
        query_audit(session=session, limit=0)

    stream = io.StringIO()
    rows = query_audit(session=session, object_type="item")
    assert export_audit_csv(rows, stream) == 3
    parsed = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert [row["action"] for row in parsed] == ["flag", "reveal", "download"]
    assert parsed[1]["at"] == "2026-12-01T08:00:00Z"
    assert parsed[2]["actor"] == "'=auditor"  # no formula injection into spreadsheets
    assert parsed[2]["reason"] == "'-evidence for counsel"
    assert "placeholder1" not in stream.getvalue()  # subjects appear by id only
