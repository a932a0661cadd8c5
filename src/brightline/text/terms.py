"""Term lists: named, versioned lists of terms, each with a match mode and a weight.

A :class:`TermList` is loaded from a file, or from a term bank in the database
(:func:`brightline.text.term_banks.load_term_list`):

* plain text (``.txt``): one term per line; blank lines and lines starting with ``# `` (hash and
  space) are skipped; a line ``#word`` is the hashtag-mode term ``word``;
* CSV (``.csv``): ``term,mode,weight`` with an optional header row; ``mode`` is ``token``,
  ``compact`` or ``hashtag`` (empty: ``token``) and ``weight`` a non-negative number (empty: 1).
  With a header, columns are found by name: ``term`` first, then any of ``mode``, ``weight`` and
  ``note``; other named columns (the provenance a term bank export adds) are ignored.

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
    """One term. ``line`` is where it came from in its file (0 when built in code); ``note``
    is a CSV file's optional note column (for the people curating the list, never matched)."""

    text: str
    mode: MatchMode = MatchMode.TOKEN
    weight: float = 1.0
    line: int = 0
    note: str | None = None


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
        text = decode_terms(data, source)
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


def decode_terms(data: bytes, source: str) -> str:
    """UTF-8 (a byte order mark allowed), or an error naming the line that is not."""
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
    columns: tuple[str, ...] = _POSITIONAL
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            number = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if not terms and number == 1 and row[0].strip().lower() == "term":
                columns = tuple(cell.strip().lower() for cell in row)
                continue
            terms.append(_csv_term(_named(row, columns, number, source), number, source))
    except csv.Error as exc:
        raise InvalidInput(f"{source}:{reader.line_num}: bad CSV ({exc})") from None
    if not terms:
        raise InvalidInput(f"{source}: no terms")
    return tuple(terms)


_POSITIONAL: tuple[str, ...] = ("term", "mode", "weight")
_KNOWN_COLUMNS = frozenset({"term", "mode", "weight", "note"})


def _named(row: list[str], columns: tuple[str, ...], number: int, source: str) -> dict[str, str]:
    """A row's known cells by column name; more cells than columns is an error."""
    if len(row) > len(columns):
        expected = ",".join(columns)
        raise InvalidInput(f"{source}:{number}: expected {expected} (got {len(row)} fields)")
    return {name: cell for name, cell in zip(columns, row, strict=False) if name in _KNOWN_COLUMNS}


def _csv_term(row: dict[str, str], number: int, source: str) -> Term:
    term = row.get("term", "").strip()
    if not term:
        raise InvalidInput(f"{source}:{number}: empty term")
    mode_text = row.get("mode", "").strip().lower()
    try:
        mode = MatchMode(mode_text) if mode_text else MatchMode.TOKEN
    except ValueError:
        raise InvalidInput(
            f"{source}:{number}: unknown match mode (expected token, compact or hashtag)"
        ) from None
    weight_text = row.get("weight", "").strip()
    try:
        weight = float(weight_text) if weight_text else 1.0
    except ValueError:
        raise InvalidInput(f"{source}:{number}: weight is not a number") from None
    if not math.isfinite(weight) or weight < 0:
        raise InvalidInput(f"{source}:{number}: weight must be a finite number ≥ 0")
    note = row.get("note", "").strip() or None
    return Term(text=term, mode=mode, weight=weight, line=number, note=note)
