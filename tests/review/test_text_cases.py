"""Text review cases on both databases: opened, updated idempotently, never enforced.

Placeholder terms (``zorblax``, ``quenvik``) and example.org links only.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.evidence import EvidenceStore
from brightline.evidence.keyring import KEY_BYTES
from brightline.reports.builder import reportable_items
from brightline.review import (
    AuditEntry,
    DecisionKind,
    Item,
    Job,
    claim_job,
    close_case,
    decide,
)
from brightline.review.models import ItemMatch
from brightline.review.text_cases import (
    TEXT_MEDIA_TYPE,
    TextCaseOutcome,
    TextDocument,
    hit_records,
    open_text_case,
    signal_records,
    text_sha256,
)
from brightline.text import MigrationExtractor, Term, TermList, TermMatcher
from tests.review.helpers import NOW, user

POST = "get z\u043erbl\u0430x here \u200b hxxps://example[.]org/x"


@pytest.fixture(scope="module")
def matcher() -> TermMatcher:
    terms = TermList(name="coded", version="v1", terms=(Term("zorblax"), Term("quenvik")))
    return TermMatcher([terms])


@pytest.fixture(scope="module")
def extractor() -> MigrationExtractor:
    return MigrationExtractor()


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "vault", secrets.token_bytes(KEY_BYTES))


def _document(
    text: str, matcher: TermMatcher, extractor: MigrationExtractor, post_id: str = "p-1"
) -> TextDocument:
    return TextDocument(
        post_id=post_id,
        text=text,
        hits=hit_records(matcher.match(text)),
        signals=signal_records(extractor.extract(text)),
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_post_opens_a_case_and_the_same_post_again_changes_nothing(
    session: Session, store: EvidenceStore, matcher: TermMatcher, extractor: MigrationExtractor
) -> None:
    document = _document(POST, matcher, extractor)
    assert document.hits
    assert document.signals
    opened = open_text_case(
        session=session, store=store, subject=user(1), document=document, now=NOW
    )
    assert opened.outcome is TextCaseOutcome.OPENED
    item = session.get(Item, opened.item_id)
    assert item is not None
    assert item.media_type == TEXT_MEDIA_TYPE
    assert item.sha256 == text_sha256(POST)
    assert item.decision is None
    assert item.source == "text"
    stored = TextDocument.from_bytes(store.read(item.media_ref or ""))
    assert stored == document
    kinds = {(m.signal_type, m.bank_name) for m in session.scalars(select(ItemMatch))}
    assert kinds == {("text_term", "coded"), ("text_signal", "url")}
    job = session.get(Job, opened.job_id)
    assert job is not None
    assert job.status == "open"

    rows = (_count(session, Item), _count(session, ItemMatch), _count(session, AuditEntry))
    again = open_text_case(session=session, store=store, subject=user(1), document=document)
    assert again.outcome is TextCaseOutcome.UNCHANGED
    assert again.item_id == opened.item_id
    assert (_count(session, Item), _count(session, ItemMatch), _count(session, AuditEntry)) == rows


def test_new_findings_update_the_waiting_item(
    session: Session, store: EvidenceStore, matcher: TermMatcher, extractor: MigrationExtractor
) -> None:
    terms_only = TextDocument(
        post_id="p-1", text=POST, hits=hit_records(matcher.match(POST)), signals=()
    )
    first = open_text_case(session=session, store=store, subject=user(2), document=terms_only)
    updated = open_text_case(
        session=session,
        store=store,
        subject=user(2),
        document=_document(POST, matcher, extractor),
        priority=5,
    )
    assert updated.outcome is TextCaseOutcome.UPDATED
    assert updated.item_id == first.item_id
    item = session.get(Item, first.item_id)
    assert item is not None
    assert item.priority == 5
    assert TextDocument.from_bytes(store.read(item.media_ref or "")).signals
    names = sorted(m.bank_name or "" for m in session.scalars(select(ItemMatch)))
    assert names == ["coded", "url"]


def test_decided_text_is_not_reopened_and_never_reportable(
    session: Session, store: EvidenceStore, matcher: TermMatcher, extractor: MigrationExtractor
) -> None:
    document = _document(POST, matcher, extractor)
    opened = open_text_case(session=session, store=store, subject=user(3), document=document)
    assert opened.job_id is not None
    assert opened.case_id is not None
    claim = claim_job(session=session, job_id=opened.job_id, reviewer="alice")
    decide(
        session=session,
        job_id=opened.job_id,
        reviewer="alice",
        lock_token=claim.token,
        kind=DecisionKind.CONFIRM,
        idempotency_key="k-text-1",
        classification="B2",
    )
    # Text alone is never filed: a confirmed text item is not a file of any report.
    assert reportable_items(session=session, case_id=opened.case_id) == []
    again = open_text_case(session=session, store=store, subject=user(3), document=document)
    assert again.outcome is TextCaseOutcome.ALREADY_DECIDED
    close_case(session=session, case_id=opened.case_id, actor="alice")
    after_close = open_text_case(session=session, store=store, subject=user(3), document=document)
    assert after_close.outcome is TextCaseOutcome.ALREADY_DECIDED
    assert _count(session, Item) == 1


def test_nothing_found_opens_nothing_and_bad_documents_are_refused(
    session: Session, store: EvidenceStore, matcher: TermMatcher, extractor: MigrationExtractor
) -> None:
    quiet = _document("an ordinary post", matcher, extractor)
    outcome = open_text_case(session=session, store=store, subject=user(4), document=quiet)
    assert outcome.outcome is TextCaseOutcome.NOTHING_FOUND
    assert outcome.case_id is None
    document = _document(POST, matcher, extractor)
    bad = TextDocument(post_id="p", text="short", hits=document.hits, signals=())
    with pytest.raises(InvalidInput, match=r"hit 0: span .* outside the text"):
        open_text_case(session=session, store=store, subject=user(4), document=bad)
    assert _count(session, Item) == 0


def test_lone_surrogates_are_stored_and_read_back(
    session: Session, store: EvidenceStore, matcher: TermMatcher, extractor: MigrationExtractor
) -> None:
    # Lone surrogates arrive through JSON escapes; the document keeps them as escapes too.
    text = "zorblax \ud800 \U000e0041"
    hit = hit_records(matcher.match("zorblax"))
    document = TextDocument(post_id="p-9", text=text, hits=hit, signals=())
    opened = open_text_case(session=session, store=store, subject=user(5), document=document)
    item = session.get(Item, opened.item_id)
    assert item is not None
    assert TextDocument.from_bytes(store.read(item.media_ref or "")).text == text
    with pytest.raises(InvalidInput, match="not a readable text item document"):
        TextDocument.from_bytes(b"\xff{")
