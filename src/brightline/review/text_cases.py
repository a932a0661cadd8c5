"""Text review cases: a post's term hits and migration signals put in front of a reviewer.

Text alone never triggers enforcement (DOMAIN.md §6): what the text core finds only opens (or
updates) a review case for the account, through the same subjects, cases, items and jobs as
flagged media. Nothing here decides, confirms or reports; the trusted-bank policy never applies
(text matches name no bank), and the report builder leaves text items out of reports.

The post text is user text of the worst kind, so it is stored the way the review core stores
content: in the encrypted evidence vault, behind the item's ``media_ref``, together with the hits
and extractor findings as one JSON document (:data:`TEXT_MEDIA_TYPE`). The database keeps only
the text's SHA-256 and, per term list and signal kind, an item match row (list or kind name, no
text), which routing rules can use (``signal_type`` ``text_term`` / ``text_signal``). Nothing is
logged but ids and counts.

Idempotent: the item is keyed by the SHA-256 of the text within the account's open case. The
same post with the same findings changes nothing; with new findings (another term list, another
score) the document is replaced and the item's match rows with it, until the item is decided.
A post whose identical document was already decided for the account is not opened again.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, insert, select

from brightline.errors import InvalidInput, NotFound
from brightline.review.audit import AuditAction, audit
from brightline.review.flagging import (
    SYSTEM_ACTOR,
    ContentFacts,
    SubjectRef,
    find_subject,
    flag_content,
    open_case_for,
)
from brightline.review.models import Case, Item, ItemMatch, Job
from brightline.review.policy import FlagMatch
from brightline.storage.base import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from brightline.text.matching import TermHit
    from brightline.text.migration import Extraction

log = logging.getLogger(__name__)

TEXT_MEDIA_TYPE = "application/vnd.brightline.text+json"
"""The ``media_type`` of a text item: its ``media_ref`` is a :class:`TextDocument` in the vault."""
TEXT_SOURCE = "text"
TERM_SIGNAL = "text_term"
MIGRATION_SIGNAL = "text_signal"
TEXT_SIGNAL_TYPES = (TERM_SIGNAL, MIGRATION_SIGNAL)
DOCUMENT_FORMAT = "brightline-text-item"
DOCUMENT_VERSION = 1
MAX_TEXT_CHARS = 100_000
MAX_POST_ID = 200
MAX_FINDINGS = 1000


class DocumentStore(Protocol):
    """Where the document goes: the evidence vault (:class:`~brightline.evidence.EvidenceStore`)."""

    def put(self, data: bytes) -> str: ...


class TextCaseOutcome(enum.StrEnum):
    OPENED = "opened"
    """A new item (and a new case, or the account's open one)."""
    UPDATED = "updated"
    """The undecided item of the same text got new findings."""
    UNCHANGED = "unchanged"
    """The same text with the same findings is already waiting for review."""
    ALREADY_DECIDED = "already_decided"
    """A reviewer decided this text with these findings already; nothing was opened."""
    NOTHING_FOUND = "nothing_found"
    """No hits and no signals: nothing for a reviewer."""


@dataclass(frozen=True, slots=True)
class TextHitRecord:
    """A term hit as stored: the term comes from an operator's list, the span from the text."""

    list_name: str
    list_version: str
    term: str
    mode: str
    match_type: str
    start: int
    end: int
    weight: float
    in_hashtag: bool


@dataclass(frozen=True, slots=True)
class TextSignalRecord:
    """A migration signal (extractor finding) as stored."""

    kind: str
    value: str
    start: int
    end: int
    confidence: float
    service: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class TextDocument:
    """What a text item's ``media_ref`` holds: the post text as written and what was found."""

    post_id: str
    text: str
    hits: tuple[TextHitRecord, ...]
    signals: tuple[TextSignalRecord, ...]
    account_score: Mapping[str, Any] | None = field(default=None)
    """The account's risk score when the case was opened from scoring: score, probability and
    contributions (feature names, numbers and counts; never text)."""

    def to_bytes(self) -> bytes:
        """Canonical JSON, ASCII only: equal documents are equal bytes (one vault object), and
        lone surrogates in the text survive as ``\\ud800`` escapes."""
        document = {
            "format": DOCUMENT_FORMAT,
            "version": DOCUMENT_VERSION,
            "post_id": self.post_id,
            "text": self.text,
            "hits": [_hit_json(hit) for hit in self.hits],
            "signals": [_signal_json(signal) for signal in self.signals],
            "account_score": dict(self.account_score) if self.account_score else None,
        }
        try:
            encoded = json.dumps(
                document, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False
            )
        except ValueError:
            raise InvalidInput("a text item's numbers must be finite") from None
        return encoded.encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> TextDocument:
        """Parse a stored document; InvalidInput (never the content) if it is not one."""
        try:
            raw = json.loads(data.decode("ascii"))
            if raw.get("format") != DOCUMENT_FORMAT or raw.get("version") != DOCUMENT_VERSION:
                raise InvalidInput("not a text item document of a known version")
            document = cls(
                post_id=str(raw["post_id"]),
                text=str(raw["text"]),
                hits=tuple(
                    TextHitRecord(
                        list_name=str(h["list"]),
                        list_version=str(h["list_version"]),
                        term=str(h["term"]),
                        mode=str(h["mode"]),
                        match_type=str(h["match"]),
                        start=int(h["start"]),
                        end=int(h["end"]),
                        weight=float(h["weight"]),
                        in_hashtag=bool(h["hashtag"]),
                    )
                    for h in raw["hits"]
                ),
                signals=tuple(
                    TextSignalRecord(
                        kind=str(s["kind"]),
                        value=str(s["value"]),
                        start=int(s["start"]),
                        end=int(s["end"]),
                        confidence=float(s["confidence"]),
                        service=None if s.get("service") is None else str(s["service"]),
                        detail=None if s.get("detail") is None else str(s["detail"]),
                    )
                    for s in raw["signals"]
                ),
                account_score=raw.get("account_score") or None,
            )
        except InvalidInput:
            raise
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput("not a readable text item document") from None
        return document


@dataclass(frozen=True, slots=True)
class TextCase:
    """What :func:`open_text_case` did; ids are None when nothing was opened."""

    outcome: TextCaseOutcome
    case_id: int | None = None
    item_id: int | None = None
    job_id: int | None = None


def _hit_json(hit: TextHitRecord) -> dict[str, Any]:
    return {
        "list": hit.list_name,
        "list_version": hit.list_version,
        "term": hit.term,
        "mode": hit.mode,
        "match": hit.match_type,
        "start": hit.start,
        "end": hit.end,
        "weight": hit.weight,
        "hashtag": hit.in_hashtag,
    }


def _signal_json(signal: TextSignalRecord) -> dict[str, Any]:
    return {
        "kind": signal.kind,
        "value": signal.value,
        "start": signal.start,
        "end": signal.end,
        "confidence": signal.confidence,
        "service": signal.service,
        "detail": signal.detail,
    }


def hit_records(hits: Sequence[TermHit]) -> tuple[TextHitRecord, ...]:
    """The text core's hits as stored records."""
    return tuple(
        TextHitRecord(
            list_name=hit.list_name,
            list_version=hit.list_version,
            term=hit.term,
            mode=hit.mode.value,
            match_type=hit.match_type.value,
            start=hit.start,
            end=hit.end,
            weight=hit.weight,
            in_hashtag=hit.in_hashtag,
        )
        for hit in hits
    )


def signal_records(signals: Sequence[Extraction]) -> tuple[TextSignalRecord, ...]:
    """The migration extractor's findings as stored records."""
    return tuple(
        TextSignalRecord(
            kind=signal.kind.value,
            value=signal.value,
            start=signal.start,
            end=signal.end,
            confidence=signal.confidence,
            service=signal.service,
            detail=signal.detail,
        )
        for signal in signals
    )


def _check_document(document: TextDocument) -> None:
    if not document.post_id.strip() or len(document.post_id) > MAX_POST_ID:
        raise InvalidInput(f"a post id is 1 to {MAX_POST_ID} characters")
    if len(document.text) > MAX_TEXT_CHARS:
        raise InvalidInput(f"a post text is at most {MAX_TEXT_CHARS} characters")
    if len(document.hits) + len(document.signals) > MAX_FINDINGS:
        raise InvalidInput(f"at most {MAX_FINDINGS} hits and signals per post")
    spans = [("hit", n, h.start, h.end) for n, h in enumerate(document.hits)]
    spans += [("signal", n, s.start, s.end) for n, s in enumerate(document.signals)]
    for what, number, start, end in spans:
        if not 0 <= start < end <= len(document.text):
            raise InvalidInput(f"{what} {number}: span [{start}, {end}) is outside the text")
    numbers = [h.weight for h in document.hits] + [s.confidence for s in document.signals]
    if not all(math.isfinite(number) for number in numbers):
        raise InvalidInput("hit weights and signal confidences must be finite numbers")


def _flag_matches(document: TextDocument) -> list[FlagMatch]:
    """One match row per term list and per signal kind: names only, for display and routing."""
    lists = dict.fromkeys(hit.list_name[:200] for hit in document.hits)
    kinds = dict.fromkeys(signal.kind[:200] for signal in document.signals)
    return [FlagMatch(signal_type=TERM_SIGNAL, bank_name=name) for name in lists] + [
        FlagMatch(signal_type=MIGRATION_SIGNAL, bank_name=kind) for kind in kinds
    ]


def text_sha256(text: str) -> str:
    """SHA-256 of the text as UTF-8 (lone surrogates encoded as such rather than refused)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _decided_before(session: Session, subject: SubjectRef, sha256: str, ref: str) -> bool:
    try:
        subject_id = find_subject(
            session=session, service=subject.service, platform_user_id=subject.platform_user_id
        ).id
    except NotFound:  # a new account has decided nothing
        return False
    found = session.scalar(
        select(Item.id)
        .join(Case, Case.id == Item.case_id)
        .where(
            Case.subject_id == subject_id,
            Item.sha256 == sha256,
            Item.media_ref == ref,
            Item.decision.is_not(None),
        )
        .limit(1)
    )
    return found is not None


def _open_item(session: Session, subject: SubjectRef, sha256: str) -> Item | None:
    try:
        subject_id = find_subject(
            session=session, service=subject.service, platform_user_id=subject.platform_user_id
        ).id
    except NotFound:
        return None
    case = open_case_for(session=session, subject_id=subject_id)
    if case is None:
        return None
    return session.scalar(select(Item).where(Item.case_id == case.id, Item.sha256 == sha256))


def open_text_case(
    *,
    session: Session,
    store: DocumentStore,
    subject: SubjectRef,
    document: TextDocument,
    priority: int = 0,
    now: datetime | None = None,
) -> TextCase:
    """Open (or update) the review case of ``subject`` for one post's findings.

    Never decides anything: the item waits in its queue for a person (routing rules see
    ``source`` ``text`` and the signal types ``text_term``/``text_signal`` with the term list
    or signal kind as the bank name). See the module docstring for idempotency.
    """
    _check_document(document)
    if not document.hits and not document.signals:
        return TextCase(TextCaseOutcome.NOTHING_FOUND)
    now = now or utcnow()
    data = document.to_bytes()
    sha256 = text_sha256(document.text)
    ref = "sha256:" + hashlib.sha256(data).hexdigest()  # the vault's content address

    existing = _open_item(session, subject, sha256)
    if existing is not None:
        outcome = _update(session, store, existing, document, data, ref, priority, now)
        return TextCase(outcome, existing.case_id, existing.id, existing.job_id)
    if _decided_before(session, subject, sha256, ref):
        return TextCase(TextCaseOutcome.ALREADY_DECIDED)

    stored = store.put(data)
    flagged = flag_content(
        session=session,
        subject=subject,
        content=ContentFacts(sha256=sha256, media_type=TEXT_MEDIA_TYPE, media_ref=stored),
        matches=_flag_matches(document),
        source=TEXT_SOURCE,
        priority=priority,
        now=now,
    )
    log.info(
        "text case: item %d in case %d (job %d): %d hits, %d signals",
        flagged.item.id,
        flagged.case.id,
        flagged.job.id,
        len(document.hits),
        len(document.signals),
    )
    return TextCase(TextCaseOutcome.OPENED, flagged.case.id, flagged.item.id, flagged.job.id)


def _update(
    session: Session,
    store: DocumentStore,
    item: Item,
    document: TextDocument,
    data: bytes,
    ref: str,
    priority: int,
    now: datetime,
) -> TextCaseOutcome:
    if item.decision is not None:
        # The reviewer decided on what they were shown; new findings do not rewrite that.
        return TextCaseOutcome.ALREADY_DECIDED
    if item.media_ref == ref:
        return TextCaseOutcome.UNCHANGED
    item.media_ref = store.put(data)
    session.execute(
        delete(ItemMatch).where(
            ItemMatch.item_id == item.id, ItemMatch.signal_type.in_(TEXT_SIGNAL_TYPES)
        )
    )
    matches = _flag_matches(document)
    session.execute(
        insert(ItemMatch),
        [
            {"item_id": item.id, "signal_type": m.signal_type, "bank_name": m.bank_name}
            for m in matches
        ],
    )
    if priority > item.priority:
        item.priority = priority
        job = session.get(Job, item.job_id)
        if job is not None and job.priority < priority:
            job.priority = priority
    audit(
        session=session,
        actor=SYSTEM_ACTOR,
        action=AuditAction.FLAG,
        object_type="item",
        object_id=item.id,
        detail={
            "case_id": item.case_id,
            "job_id": item.job_id,
            "source": TEXT_SOURCE,
            "grouped": True,
            "updated": True,
            "hits": len(document.hits),
            "signals": len(document.signals),
        },
        at=now,
    )
    session.flush()
    return TextCaseOutcome.UPDATED


def read_document(data: bytes) -> TextDocument:
    """A text item's stored document (for the console)."""
    return TextDocument.from_bytes(data)


def is_text_item(item: Item) -> bool:
    return item.media_type == TEXT_MEDIA_TYPE
