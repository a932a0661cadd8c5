"""Term lists: named, versioned lists of terms, each with a match mode and a weight.

Term banks in the database come later; for now a :class:`TermList` is loaded from a file:

* plain text (``.txt``): one term per line; blank lines and lines starting with ``# `` (hash and
  space) are skipped; a line ``#word`` is the hashtag-mode term ``word``;
* CSV (``.csv``): ``term,mode,weight`` with an optional header row; ``mode`` is ``token``,
  ``compact`` or ``hashtag`` (empty: ``token``) and ``weight`` a non-negative number (empty: 1).

Errors name the file and the line, never the term: term lists are sensitive.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from brightline.errors import InvalidInput


class MatchMode(StrEnum):
    """Where a term may match.

    ``token``: as whole words (after normalisation), in running text and in hashtags;
    ``compact``: also inside longer words (``xxzorblaxyy``), for distinctive terms;
    ``hashtag``: only inside hashtags, as any part of one (``#myzorblax``).
    """

    TOKEN = "token"  # noqa: S105 - a match mode, not a credential
    COMPACT = "compact"
    HASHTAG = "hashtag"


@dataclass(frozen=True, slots=True)
class Term:
    """One term. ``line`` is where it came from in its file (0 when built in code)."""

    text: str
    mode: MatchMode = MatchMode.TOKEN
    weight: float = 1.0
    line: int = 0


@dataclass(frozen=True, slots=True)
class TermList:
    """A named, versioned list of terms.

    The version of a list loaded from a file is, unless given, ``sha256:`` and the first 16 hex
    digits of the file's digest: two loads of the same file agree, and any edit changes it.
    """

    name: str
    version: str
    terms: tuple[Term, ...]

    @classmethod
    def load(cls, path: Path, *, name: str | None = None, version: str | None = None) -> TermList:
        """Read ``path`` as plain text or CSV, chosen by its suffix (``.csv`` → CSV)."""
        data = path.read_bytes()
        source = path.name
        text = _decode(data, source)
        if path.suffix.lower() == ".csv":
            terms = parse_csv(text, source=source)
        else:
            terms = parse_plain(text, source=source)
        return cls(
            name=name if name is not None else path.stem,
            version=version if version is not None else content_version(data),
            terms=terms,
        )


def content_version(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(f"{source}:{line}: not valid UTF-8") from None


def parse_plain(text: str, *, source: str = "<terms>") -> tuple[Term, ...]:
    """Terms from plain text, one per line (see the module docstring for the format)."""
    terms: list[Term] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line == "#" or line.startswith("# "):
            continue
        if line.startswith("#"):
            terms.append(Term(text=line[1:], mode=MatchMode.HASHTAG, line=number))
        else:
            terms.append(Term(text=line, line=number))
    if not terms:
        raise InvalidInput(f"{source}: no terms")
    return tuple(terms)


def parse_csv(text: str, *, source: str = "<terms>") -> tuple[Term, ...]:
    """Terms from CSV rows ``term,mode,weight`` (see the module docstring for the format)."""
    terms: list[Term] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            number = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if not terms and number == 1 and row[0].strip().lower() == "term":
                continue
            terms.append(_csv_term(row, number, source))
    except csv.Error as exc:
        raise InvalidInput(f"{source}:{reader.line_num}: bad CSV ({exc})") from None
    if not terms:
        raise InvalidInput(f"{source}: no terms")
    return tuple(terms)


def _csv_term(row: list[str], number: int, source: str) -> Term:
    if len(row) > 3:
        raise InvalidInput(f"{source}:{number}: expected term,mode,weight (got {len(row)} fields)")
    term = row[0].strip()
    if not term:
        raise InvalidInput(f"{source}:{number}: empty term")
    mode_text = row[1].strip().lower() if len(row) > 1 else ""
    try:
        mode = MatchMode(mode_text) if mode_text else MatchMode.TOKEN
    except ValueError:
        raise InvalidInput(
            f"{source}:{number}: unknown match mode (expected token, compact or hashtag)"
        ) from None
    weight_text = row[2].strip() if len(row) > 2 else ""
    try:
        weight = float(weight_text) if weight_text else 1.0
    except ValueError:
        raise InvalidInput(f"{source}:{number}: weight is not a number") from None
    if not math.isfinite(weight) or weight < 0:
        raise InvalidInput(f"{source}:{number}: weight must be a finite number ≥ 0")
    return Term(text=term, mode=mode, weight=weight, line=number)
