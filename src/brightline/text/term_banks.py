"""Term banks: term lists kept in the database, versioned, with provenance; and the review queue
of the variants discovery proposes for them.

Why in the database and not only files: a list that moderators grow from reviewed discovery
candidates needs to say, for each term, who added it, from what and when, and a hit reported
yesterday must stay explainable after the list changed. So every change bumps the list's
``version`` by one, terms are never deleted (a removal is stamped with the version it happened
in), and :func:`terms_at` rebuilds the list at any earlier version.

Plain functions with a keyword-only ``session``; none commits: the caller owns the transaction,
so an import that fails on its last line leaves nothing behind. Errors name lists, line numbers
and ids, never a term (term lists are sensitive).
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.storage.base import utcnow
from brightline.text.models import (
    ACTOR_LENGTH,
    NAME_LENGTH,
    TERM_LENGTH,
    CandidateStatus,
    TermBank,
    TermBankTerm,
    TermSource,
    VariantCandidate,
)
from brightline.text.terms import (
    MatchMode,
    Term,
    TermList,
    content_version,
    decode_terms,
    parse_csv,
    parse_plain,
)

if TYPE_CHECKING:
    from brightline.text.discovery import Candidate

MAX_WEIGHT = 1_000_000.0
MAX_NOTE_LENGTH = 1000
CSV_COLUMNS = (
    "term",
    "mode",
    "weight",
    "note",
    "source",
    "source_ref",
    "added_by",
    "added_at",
    "added_version",
)
"""Export columns: ``term,mode,weight,note`` are read back by an import (and by
:meth:`TermList.load`); the provenance columns after them are for people and are ignored."""


class ExportFormat(StrEnum):
    PLAIN = "plain"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class BankSummary:
    name: str
    description: str | None
    version: int
    terms: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ImportResult:
    list_name: str
    version: int
    added: int
    already_listed: int
    """Terms (text and mode) already current on the list: left as they are."""
    repeated: int
    """Lines repeating a term earlier in the same file."""


@dataclass(frozen=True, slots=True)
class QueueResult:
    list_name: str
    queued: int
    refreshed: int
    """Pending candidates ranked again: their score and evidence are the latest run's."""
    already_rejected: int
    already_decided: int
    """Accepted earlier (the term may since have been removed: not proposed again either)."""
    already_listed: int


# --- lists ------------------------------------------------------------------------------------


def term_key(text: str) -> str:
    """A term's identity on its list: NFKC and case folded. ``ZORBLAX`` and its fullwidth
    form are one term; leetspeak and look-alikes stay distinct spellings (the matcher folds
    those)."""
    return unicodedata.normalize("NFKC", text).casefold()


def _check_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > ACTOR_LENGTH:
        raise InvalidInput(f"the actor must be 1 to {ACTOR_LENGTH} characters")
    return actor


def _check_name(name: str) -> str:
    if not name or len(name) > NAME_LENGTH or not name.isprintable() or name != name.strip():
        raise InvalidInput(
            f"a term list name is 1 to {NAME_LENGTH} printable characters, "
            "without leading or trailing spaces"
        )
    return name


def create_list(
    *,
    session: Session,
    name: str,
    actor: str,
    description: str | None = None,
    now: datetime | None = None,
) -> TermBank:
    """A new, empty term list at version 0."""
    _check_name(name)
    actor = _check_actor(actor)
    if session.scalar(select(TermBank.id).where(TermBank.name == name)) is not None:
        raise Conflict(f"term list {name} already exists")
    moment = now or utcnow()
    bank = TermBank(
        name=name,
        description=description or None,
        version=0,
        created_at=moment,
        created_by=actor,
        updated_at=moment,
    )
    session.add(bank)
    session.flush()
    return bank


def get_list(*, session: Session, name: str, for_update: bool = False) -> TermBank:
    """The list named ``name``; ``for_update`` locks its row (PostgreSQL) so that two writers
    bump its version one after the other instead of both to the same number."""
    query = select(TermBank).where(TermBank.name == name)
    if for_update:
        query = query.with_for_update()
    bank = session.scalar(query)
    if bank is None:
        raise NotFound(f"no term list named {name}")
    return bank


def list_lists(*, session: Session) -> list[BankSummary]:
    """Every list with its current version and number of current terms, by name."""
    # Not dict(result): a Result has .keys() (its columns), so dict() would take it for a mapping.
    counts: dict[int, int] = {  # noqa: C416
        list_id: count
        for list_id, count in session.execute(
            select(TermBankTerm.list_id, func.count())
            .where(TermBankTerm.removed_version.is_(None))
            .group_by(TermBankTerm.list_id)
        )
    }
    return [
        BankSummary(
            name=bank.name,
            description=bank.description,
            version=bank.version,
            terms=counts.get(bank.id, 0),
            updated_at=bank.updated_at,
        )
        for bank in session.scalars(select(TermBank).order_by(TermBank.name))
    ]


def _bump(bank: TermBank, moment: datetime) -> int:
    bank.version += 1
    bank.updated_at = moment
    return bank.version


# --- terms ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    text: str
    key: str
    mode: MatchMode
    weight: float
    note: str | None


def _check_term(
    text: str, mode: MatchMode | str, weight: float, note: str | None, where: str
) -> _Checked:
    """Validate one term; ``where`` prefixes the message (``terms.csv:12: ``)."""
    text = text.strip()
    if not text:
        raise InvalidInput(f"{where}empty term")
    if len(text) > TERM_LENGTH:
        raise InvalidInput(f"{where}term longer than {TERM_LENGTH} characters")
    if not text.isprintable():
        raise InvalidInput(f"{where}a term is printable text on one line")
    if text.startswith("#"):
        raise InvalidInput(f"{where}write a hashtag term without its # and in mode hashtag")
    try:
        checked_mode = MatchMode(mode.strip().lower() if isinstance(mode, str) else mode)
    except ValueError:
        raise InvalidInput(
            f"{where}unknown match mode (expected token, compact or hashtag)"
        ) from None
    if isinstance(weight, bool) or not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
        raise InvalidInput(f"{where}weight must be a number from 0 to {MAX_WEIGHT:g}")
    note = note.strip() if note is not None else None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"{where}note longer than {MAX_NOTE_LENGTH} characters")
    if not _matchable(text):
        raise InvalidInput(
            f"{where}nothing is left of the term after normalisation (no letters, digits or emoji)"
        )
    return _Checked(text, term_key(text), checked_mode, float(weight), note or None)


def _matchable(text: str) -> bool:
    """Whether the matcher can compile the term (it refuses one that folds to nothing)."""
    if any(char.isalnum() for char in text) and text.isascii():
        return True  # an ASCII letter or digit always survives the fold
    from brightline.text.normalise import default_normaliser

    return bool(default_normaliser().normalise(text).token.strip(" "))


def _current(session: Session, bank: TermBank) -> list[TermBankTerm]:
    return list(
        session.scalars(
            select(TermBankTerm)
            .where(TermBankTerm.list_id == bank.id, TermBankTerm.removed_version.is_(None))
            .order_by(TermBankTerm.id)
        )
    )


def add_term(
    *,
    session: Session,
    list_name: str,
    text: str,
    actor: str,
    mode: MatchMode | str = MatchMode.TOKEN,
    weight: float = 1.0,
    note: str | None = None,
    source: TermSource = TermSource.MANUAL,
    source_ref: str | None = None,
    now: datetime | None = None,
) -> TermBankTerm:
    """Add one term (a new version of the list). The same text and mode already current on
    the list is a :class:`Conflict`."""
    checked = _check_term(text, mode, weight, note, "")
    actor = _check_actor(actor)
    bank = get_list(session=session, name=list_name, for_update=True)
    existing = session.scalar(
        select(TermBankTerm.id).where(
            TermBankTerm.list_id == bank.id,
            TermBankTerm.key == checked.key,
            TermBankTerm.mode == checked.mode.value,
            TermBankTerm.removed_version.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(
            f"term list {list_name} already has that term in mode {checked.mode.value} "
            f"(term {existing})"
        )
    moment = now or utcnow()
    version = _bump(bank, moment)
    row = _row(bank, checked, actor, source, source_ref, version, moment)
    session.add(row)
    session.flush()
    return row


def _row(
    bank: TermBank,
    checked: _Checked,
    actor: str,
    source: TermSource,
    source_ref: str | None,
    version: int,
    moment: datetime,
) -> TermBankTerm:
    return TermBankTerm(
        list_id=bank.id,
        text=checked.text,
        key=checked.key,
        mode=checked.mode.value,
        weight=checked.weight,
        note=checked.note,
        source=source.value,
        source_ref=source_ref,
        added_by=actor,
        added_at=moment,
        added_version=version,
    )


def remove_term(
    *,
    session: Session,
    list_name: str,
    text: str,
    actor: str,
    mode: MatchMode | str | None = None,
    now: datetime | None = None,
) -> list[TermBankTerm]:
    """Take a term off the list (a new version); its row stays, stamped with that version.
    Without ``mode``, every mode of the term is removed."""
    actor = _check_actor(actor)
    bank = get_list(session=session, name=list_name, for_update=True)
    key = term_key(text.strip())
    query = select(TermBankTerm).where(
        TermBankTerm.list_id == bank.id,
        TermBankTerm.key == key,
        TermBankTerm.removed_version.is_(None),
    )
    if mode is not None:
        try:
            query = query.where(TermBankTerm.mode == MatchMode(mode).value)
        except ValueError:
            raise InvalidInput("unknown match mode (expected token, compact or hashtag)") from None
    rows = list(session.scalars(query))
    if not rows:
        raise NotFound(f"term list {list_name} has no such term")
    moment = now or utcnow()
    version = _bump(bank, moment)
    for row in rows:
        row.removed_version = version
        row.removed_by = actor
        row.removed_at = moment
    session.flush()
    return rows


def terms_at(
    *, session: Session, list_name: str, version: int | None = None
) -> tuple[TermBank, list[TermBankTerm]]:
    """The list and its terms as they stood at ``version`` (default: the current one), in the
    order they were added."""
    bank = get_list(session=session, name=list_name)
    if version is None or version == bank.version:
        return bank, _current(session, bank)
    if not 0 <= version <= bank.version:
        raise NotFound(
            f"term list {list_name} has no version {version} (versions 0 to {bank.version})"
        )
    rows = session.scalars(
        select(TermBankTerm)
        .where(
            TermBankTerm.list_id == bank.id,
            TermBankTerm.added_version <= version,
            (TermBankTerm.removed_version.is_(None)) | (TermBankTerm.removed_version > version),
        )
        .order_by(TermBankTerm.id)
    )
    return bank, list(rows)


def version_label(version: int) -> str:
    """How a term bank's version appears in hits (``list_version``): ``v3``."""
    return f"v{version}"


def load_term_list(*, session: Session, name: str, version: int | None = None) -> TermList:
    """A database list as the matcher's :class:`TermList` (version ``v3``), current or earlier.

    An empty list is an :class:`InvalidInput`: matching against nothing is a mistake to report,
    as an empty file is.
    """
    bank, rows = terms_at(session=session, list_name=name, version=version)
    if not rows:
        raise InvalidInput(f"term list {name} has no terms")
    shown = bank.version if version is None else version
    return TermList(
        name=bank.name,
        version=version_label(shown),
        terms=tuple(
            Term(text=row.text, mode=MatchMode(row.mode), weight=row.weight, note=row.note)
            for row in rows
        ),
    )


# --- import and export -------------------------------------------------------------------------


def import_terms(
    *,
    session: Session,
    list_name: str,
    data: bytes,
    format: ExportFormat | str,
    actor: str,
    source_name: str = "<terms>",
    now: datetime | None = None,
) -> ImportResult:
    """Add the terms of a plain text or CSV file (the formats of :mod:`brightline.text.terms`;
    CSV may add a ``note`` column) as one new version, all or nothing.

    Every line is checked before anything is written; the first bad one raises
    ``source_name:LINE: reason``. Terms already current on the list (same text and mode) are
    left as they are and counted; an import that adds nothing leaves the version alone. The
    provenance of each added term is the file's digest.
    """
    actor = _check_actor(actor)
    try:
        chosen = ExportFormat(format)
    except ValueError:
        raise InvalidInput("the format is plain or csv") from None
    text = decode_terms(data, source_name)
    parsed = (
        parse_csv(text, source=source_name)
        if chosen is ExportFormat.CSV
        else parse_plain(text, source=source_name)
    )
    checked = [
        _check_term(term.text, term.mode, term.weight, term.note, f"{source_name}:{term.line}: ")
        for term in parsed
    ]
    bank = get_list(session=session, name=list_name, for_update=True)
    current = {(row.key, row.mode) for row in _current(session, bank)}
    fresh: list[_Checked] = []
    seen: set[tuple[str, str]] = set()
    already = repeated = 0
    for term in checked:
        identity = (term.key, term.mode.value)
        if identity in current:
            already += 1
        elif identity in seen:
            repeated += 1
        else:
            seen.add(identity)
            fresh.append(term)
    if fresh:
        moment = now or utcnow()
        version = _bump(bank, moment)
        digest = content_version(data)
        session.add_all(
            _row(bank, term, actor, TermSource.IMPORT, digest, version, moment) for term in fresh
        )
        session.flush()
    return ImportResult(
        list_name=bank.name,
        version=bank.version,
        added=len(fresh),
        already_listed=already,
        repeated=repeated,
    )


def export_terms(
    *,
    session: Session,
    list_name: str,
    format: ExportFormat | str,
    version: int | None = None,
) -> str:
    """The list (current, or as it stood at ``version``) as plain text or CSV.

    Plain text holds a term per line (``#term`` for hashtag mode) after a comment line naming
    the list and version; it cannot carry the compact mode or weights, so a list that has them
    must be exported as CSV (refused, rather than silently changing what the list matches).
    CSV holds ``term,mode,weight,note`` and then the provenance columns.
    """
    try:
        chosen = ExportFormat(format)
    except ValueError:
        raise InvalidInput("the format is plain or csv") from None
    bank, rows = terms_at(session=session, list_name=list_name, version=version)
    shown = bank.version if version is None else version
    if chosen is ExportFormat.PLAIN:
        return _plain(bank.name, shown, rows)
    return _csv(rows)


def _plain(name: str, version: int, rows: Sequence[TermBankTerm]) -> str:
    lossy = [row.id for row in rows if row.mode == MatchMode.COMPACT.value or row.weight != 1.0]
    if lossy:
        raise InvalidInput(
            f"term list {name} has compact terms or weights other than 1, which plain text "
            f"cannot hold ({len(lossy)} terms): export it as CSV"
        )
    lines = [f"# term list {_one_line(name)}, version {version}"]
    for row in rows:
        lines.append(f"#{row.text}" if row.mode == MatchMode.HASHTAG.value else row.text)
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return "".join(char if char.isprintable() else "?" for char in text)


def _csv(rows: Iterable[TermBankTerm]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.text,
                row.mode,
                repr(row.weight),
                row.note or "",
                row.source,
                row.source_ref or "",
                row.added_by,
                row.added_at.isoformat(timespec="seconds"),
                row.added_version,
            )
        )
    return out.getvalue()


# --- the review queue of discovery candidates -----------------------------------------------


def queue_candidates(
    *,
    session: Session,
    list_name: str,
    candidates: Sequence[Candidate],
    now: datetime | None = None,
) -> QueueResult:
    """Put discovery's candidates for ``list_name`` in the review queue.

    A tag already current on the list is not queued; one rejected (or accepted) before is
    remembered and never queued again; one still pending gets the latest run's score, ranks and
    evidence. Tags are compared by :func:`~brightline.text.discovery.tag_key`.
    """
    from brightline.text.discovery import tag_key

    bank = get_list(session=session, name=list_name)
    listed = {tag_key(row.text) for row in _current(session, bank)}
    known = {
        row.key: row
        for row in session.scalars(
            select(VariantCandidate).where(VariantCandidate.list_id == bank.id)
        )
    }
    moment = now or utcnow()
    queued = refreshed = rejected = decided = in_list = 0
    for candidate in candidates:
        key = tag_key(candidate.tag)
        if not key or len(candidate.tag) > TERM_LENGTH:
            continue
        ranks = json.dumps(
            {method.value: rank for method, rank in sorted(candidate.ranks.items())},
            sort_keys=True,
        )
        evidence = json.dumps(dict(candidate.evidence), sort_keys=True, ensure_ascii=False)
        earlier = known.get(key)
        if earlier is not None and earlier.status == CandidateStatus.REJECTED.value:
            rejected += 1
        elif earlier is not None and earlier.status == CandidateStatus.ACCEPTED.value:
            decided += 1
        elif key in listed:
            in_list += 1
        elif earlier is not None:
            earlier.score, earlier.ranks, earlier.evidence = candidate.score, ranks, evidence
            earlier.last_seen_at = moment
            refreshed += 1
        else:
            row = VariantCandidate(
                list_id=bank.id,
                tag=candidate.tag,
                key=key,
                score=candidate.score,
                ranks=ranks,
                evidence=evidence,
                discovered_at=moment,
                last_seen_at=moment,
                status=CandidateStatus.PENDING.value,
            )
            session.add(row)
            known[key] = row
            queued += 1
    session.flush()
    return QueueResult(bank.name, queued, refreshed, rejected, decided, in_list)


def decided_tags(*, session: Session, list_name: str) -> list[str]:
    """The tags already accepted or rejected for the list: discovery leaves them out, so that
    they take no place among the top candidates."""
    bank = get_list(session=session, name=list_name)
    return list(
        session.scalars(
            select(VariantCandidate.tag).where(
                VariantCandidate.list_id == bank.id,
                VariantCandidate.status != CandidateStatus.PENDING.value,
            )
        )
    )


@dataclass(frozen=True, slots=True)
class CandidateRead:
    id: int
    list_name: str
    tag: str
    score: float
    ranks: dict[str, int]
    evidence: dict[str, str | int | float | bool]
    status: CandidateStatus
    discovered_at: datetime
    last_seen_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    term_id: int | None


def _read(row: VariantCandidate, list_name: str) -> CandidateRead:
    return CandidateRead(
        id=row.id,
        list_name=list_name,
        tag=row.tag,
        score=row.score,
        ranks=json.loads(row.ranks),
        evidence=json.loads(row.evidence),
        status=CandidateStatus(row.status),
        discovered_at=row.discovered_at,
        last_seen_at=row.last_seen_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        term_id=row.term_id,
    )


def list_candidates(
    *,
    session: Session,
    list_name: str | None = None,
    status: CandidateStatus | None = CandidateStatus.PENDING,
    limit: int = 200,
) -> list[CandidateRead]:
    """Candidates (pending by default), per list by name, best score first."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    query = select(VariantCandidate, TermBank.name).join(
        TermBank, TermBank.id == VariantCandidate.list_id
    )
    if list_name is not None:
        query = query.where(TermBank.name == get_list(session=session, name=list_name).name)
    if status is not None:
        query = query.where(VariantCandidate.status == status.value)
    query = query.order_by(TermBank.name, VariantCandidate.score.desc(), VariantCandidate.id).limit(
        limit
    )
    return [_read(row, name) for row, name in session.execute(query)]


def _pending(session: Session, candidate_id: int) -> tuple[VariantCandidate, TermBank]:
    row = session.get(VariantCandidate, candidate_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no variant candidate {candidate_id}")
    if row.status != CandidateStatus.PENDING.value:
        raise Conflict(f"variant candidate {candidate_id} was already {row.status}")
    bank = session.get(TermBank, row.list_id)
    if bank is None:  # the foreign key makes this impossible; keeps the types honest
        raise NotFound(f"no term list for variant candidate {candidate_id}")
    return row, bank


def accept_candidate(
    *,
    session: Session,
    candidate_id: int,
    actor: str,
    reason: str | None = None,
    mode: MatchMode | str = MatchMode.HASHTAG,
    weight: float = 1.0,
    now: datetime | None = None,
) -> CandidateRead:
    """Accept a pending candidate: its tag joins the list (a new version) in ``mode`` (default
    hashtag: it was found as one), with the candidate as its provenance."""
    actor = _check_actor(actor)
    row, bank = _pending(session, candidate_id)
    moment = now or utcnow()
    term = add_term(
        session=session,
        list_name=bank.name,
        text=row.tag.lstrip("#\uff03\ufe5f"),
        actor=actor,
        mode=mode,
        weight=weight,
        source=TermSource.DISCOVERY,
        source_ref=f"candidate:{row.id}",
        now=moment,
    )
    row.status = CandidateStatus.ACCEPTED.value
    row.decided_by, row.decided_at, row.reason = actor, moment, (reason or "").strip() or None
    row.term_id = term.id
    session.flush()
    return _read(row, bank.name)


def reject_candidate(
    *,
    session: Session,
    candidate_id: int,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> CandidateRead:
    """Reject a pending candidate; it is remembered, so later runs never queue it again."""
    actor = _check_actor(actor)
    row, bank = _pending(session, candidate_id)
    row.status = CandidateStatus.REJECTED.value
    row.decided_by, row.decided_at = actor, now or utcnow()
    row.reason = (reason or "").strip() or None
    session.flush()
    return _read(row, bank.name)
