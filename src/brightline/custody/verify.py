"""Verifying the chain of custody: every entry, in ``seq`` order, and where each problem is.

For each entry the walk checks that its fields still hash to its ``entry_hash`` (else it was
edited, or moved: the hash covers ``seq``), that its MAC matches under the custody key (else its
hash was recomputed by someone without the key), that ``seq`` continues without a gap (else
entries were deleted) and that its ``prev_hash`` is the previous entry's hash (else the chain was
re-linked). A problem is reported once, where it is: the entries after an edited or forged one
are not blamed for it.

What no walk can see is a log cut short at its end: the remaining entries are all intact. An
*anchor* (a ``seq`` and its hash, recorded earlier from a verification's head) closes that gap:
the anchored entry must still be there with the same hash.
"""

from __future__ import annotations

import enum
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.custody.entries import GENESIS_HASH, format_at, hash_fields, mac_of
from brightline.custody.log import stored_at, stored_columns
from brightline.custody.models import CustodyRecord
from brightline.errors import InvalidInput

log = logging.getLogger(__name__)

_PAGE = 1_000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NEARBY = 8
"""How far from its place a moved entry is looked for (beyond its neighbours' positions)."""
_SEARCH_BUDGET = 100_000
"""Most extra hash computations and lookups spent explaining entries that do not hash: bounds
the time a log rewritten wholesale takes to verify (what is left over is reported as edited)."""


class ProblemKind(enum.StrEnum):
    EDITED = "edited"
    """The entry's fields no longer hash to its ``entry_hash``."""
    REORDERED = "reordered"
    """An intact, authentic entry sits at another ``seq`` than the one it was written at."""
    BAD_MAC = "bad_mac"
    """The fields hash correctly but the MAC does not match: rewritten without the key."""
    WRONG_KEY = "wrong_key"
    """No entry's MAC matches: the key is not the log's (or everything was rewritten)."""
    DELETED = "deleted"
    """A gap in ``seq``: entries are missing."""
    BROKEN_LINK = "broken_link"
    """An intact entry whose ``prev_hash`` is not its predecessor's hash."""
    TRUNCATED = "truncated"
    """The log ends before the anchored entry."""
    REPLACED = "replaced"
    """The anchored entry is missing or has another hash."""


@dataclass(frozen=True, slots=True)
class CustodyProblem:
    seq: int
    """Where: the entry concerned (for a deletion, the first missing ``seq``)."""
    kind: str
    """A :class:`ProblemKind` value."""
    message: str


@dataclass(frozen=True, slots=True)
class CustodyVerification:
    ok: bool
    checked: int
    """How many entries were read."""
    head_seq: int | None
    """The last entry (None for an empty log): record it with its hash as the next anchor."""
    head_hash: str | None
    problems: list[CustodyProblem] = field(default_factory=list)


def verify_custody(
    *, session: Session, key: bytes, anchor: tuple[int, str] | None = None
) -> CustodyVerification:
    """Walk the whole log in ``seq`` order and report every problem, each with its ``seq``.

    ``anchor`` is ``(seq, entry_hash)`` of an entry recorded earlier (a previous verification's
    head): its absence or a different hash shows a log cut short or rewritten. Read-only.
    """
    if not isinstance(key, bytes) or len(key) != 32:
        raise InvalidInput("the custody key is 32 bytes")
    if anchor is not None:
        anchor = parse_anchor_parts(anchor)
    walk = _Walk(session, key, anchor)
    after: int | None = None
    while True:
        query = stored_columns().order_by(CustodyRecord.seq).limit(_PAGE)
        if after is not None:
            query = query.where(CustodyRecord.seq > after)
        rows = session.execute(query).all()
        for row in rows:
            walk.check(row)
        if len(rows) < _PAGE:
            break
        after = rows[-1].seq
    result = walk.finish()
    if result.ok:
        log.info("custody log verified: %d entries", result.checked)
    else:
        log.warning(
            "custody log verification failed: %d problems in %d entries",
            len(result.problems),
            result.checked,
        )
    return result


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` (as printed by ``brightline custody verify``) as an anchor."""
    seq, separator, digest = text.strip().partition(":")
    if not separator or not (seq.isascii() and seq.isdigit()):
        raise InvalidInput("an anchor is SEQ:HASH, e.g. 12:<64 hex characters>")
    return parse_anchor_parts((int(seq), digest))


def parse_anchor_parts(anchor: tuple[int, str]) -> tuple[int, str]:
    seq, digest = anchor
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise InvalidInput("an anchor's seq is a positive integer")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest.lower()):
        raise InvalidInput("an anchor's hash is 64 hex characters")
    return seq, digest.lower()


def _recompute(row: Any, seq: int) -> str | None:
    """What the row's fields hash to when written at ``seq``; None if a field is malformed."""
    try:
        fields = {
            "seq": seq,
            "at": format_at(stored_at(row.at)),
            "event": row.event,
            "object_ref": row.object_ref,
            "report_id": row.report_id,
            "case_id": row.case_id,
            "hold_id": row.hold_id,
            "actor": row.actor,
            "reason": row.reason,
            "details": json.loads(row.details),
            "prev_hash": row.prev_hash,
        }
        return hash_fields(fields)
    except (ValueError, TypeError, InvalidInput):
        return None


class _Walk:
    """The state of one verification, fed the rows in ``seq`` order."""

    def __init__(self, session: Session, key: bytes, anchor: tuple[int, str] | None) -> None:
        self.session = session
        self.key = key
        self.anchor = anchor
        self.anchor_hash: str | None = None
        self.problems: list[CustodyProblem] = []
        self.unauthenticated: list[int] = []
        self.authentic = 0
        self.checked = 0
        self.head: tuple[int, str] | None = None
        self.expected_seq = 1
        self.expected_prev = GENESIS_HASH
        self.prev_trusted = True
        """Whether the previous entry's stored hash is genuine and in its place, so that a link
        to it can be checked (else its own problem already explains a broken link)."""
        self.budget = _SEARCH_BUDGET

    def problem(self, seq: int, kind: ProblemKind, message: str) -> None:
        self.problems.append(CustodyProblem(seq, kind.value, message))

    def check(self, row: Any) -> None:
        seq: int = row.seq
        stored_hash = str(row.entry_hash)
        self.checked += 1
        self.head = (seq, stored_hash)
        if self.anchor is not None and seq == self.anchor[0]:
            self.anchor_hash = stored_hash
        if seq < self.expected_seq:  # only possible below 1: the walk is in seq order
            self.problem(seq, ProblemKind.EDITED, "its seq is not a position in the log")
            return
        gap = seq > self.expected_seq
        if gap:
            first, last = self.expected_seq, seq - 1
            missing = f"entry {first} is" if first == last else f"entries {first} to {last} are"
            self.problem(first, ProblemKind.DELETED, f"{missing} missing")
        computed = _recompute(row, seq)
        mac_ok = hmac.compare_digest(mac_of(self.key, stored_hash), str(row.mac))
        if mac_ok:
            self.authentic += 1
        moved = False
        if computed != stored_hash:
            original = self._written_at(row, stored_hash) if mac_ok else None
            moved = original is not None
            if original is not None:
                self.problem(
                    seq, ProblemKind.REORDERED, f"this entry was written as seq {original}"
                )
            else:
                malformed = " (a field is malformed)" if computed is None else ""
                self.problem(
                    seq, ProblemKind.EDITED, f"its fields no longer match its hash{malformed}"
                )
        elif not mac_ok:
            self.unauthenticated.append(seq)
        elif row.prev_hash != self.expected_prev and not gap and self.prev_trusted:
            after = "the start of the log" if seq == 1 else f"seq {seq - 1}"
            self.problem(
                seq,
                ProblemKind.BROKEN_LINK,
                f"its prev_hash is not the hash of {after}: the chain was re-linked here",
            )
        self.expected_seq = seq + 1
        self.expected_prev = stored_hash
        self.prev_trusted = mac_ok and not moved

    def _written_at(self, row: Any, stored_hash: str) -> int | None:
        """The ``seq`` an authentic entry was written at, if it was moved and not edited.

        Tried: after its predecessor, before its successor (both found by their hashes), and
        nearby places; the hash covers every field, so a match is proof.
        """
        candidates: list[int] = []
        if self.budget > 2:
            self.budget -= 2
            if row.prev_hash == GENESIS_HASH:
                candidates.append(1)
            else:
                before = self.session.scalar(
                    select(CustodyRecord.seq).where(CustodyRecord.entry_hash == row.prev_hash)
                )
                if before is not None:
                    candidates.append(before + 1)
            following = self.session.scalar(
                select(CustodyRecord.seq).where(CustodyRecord.prev_hash == stored_hash)
            )
            if following is not None:
                candidates.append(following - 1)
        for distance in range(1, _NEARBY + 1):
            candidates.extend((row.seq - distance, row.seq + distance))
        tried = {row.seq}
        for candidate in candidates:
            if candidate < 1 or candidate in tried or self.budget <= 0:
                continue
            tried.add(candidate)
            self.budget -= 1
            if _recompute(row, candidate) == stored_hash:
                return candidate
        return None

    def finish(self) -> CustodyVerification:
        if self.unauthenticated and not self.authentic:
            self.problem(
                self.unauthenticated[0],
                ProblemKind.WRONG_KEY,
                f"no entry's MAC matches this custody key ({len(self.unauthenticated)} "
                "entries): it is not the key this log was written with, or the whole log was "
                "rewritten without it",
            )
        else:
            for seq in self.unauthenticated:
                self.problem(
                    seq,
                    ProblemKind.BAD_MAC,
                    "its fields match its hash but its MAC does not: rewritten without the "
                    "custody key",
                )
        if self.anchor is not None:
            self._check_anchor(*self.anchor)
        self.problems.sort(key=lambda problem: problem.seq)
        return CustodyVerification(
            ok=not self.problems,
            checked=self.checked,
            head_seq=self.head[0] if self.head else None,
            head_hash=self.head[1] if self.head else None,
            problems=self.problems,
        )

    def _check_anchor(self, seq: int, digest: str) -> None:
        head = self.head[0] if self.head else 0
        if head < seq:
            self.problem(
                seq,
                ProblemKind.TRUNCATED,
                f"the log ends at seq {head}, but seq {seq} was recorded as its head: "
                "entries were removed from its end",
            )
        elif self.anchor_hash is None:
            self.problem(seq, ProblemKind.REPLACED, "the anchored entry is missing")
        elif self.anchor_hash != digest:
            self.problem(
                seq,
                ProblemKind.REPLACED,
                "its hash is not the anchored one: the history up to here was rewritten",
            )
