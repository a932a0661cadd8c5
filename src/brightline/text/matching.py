"""Multi-pattern term matching over the normalised views, with hits in original offsets.

Three Aho-Corasick automata are built once per :class:`TermMatcher`, each over one view:

* **token**: every ``token`` and ``compact`` term as `` form `` (spaces included), so only whole
  words of the token view match;
* **compact**: terms of at least ``min_compact_length`` letters or digits (as written), over the
  compact view, which catches letters split by separators (``z.o.r.b.l.a.x``, ``zorb lax``). A
  ``token`` term must still start and end on word boundaries; a ``compact`` term may sit inside
  a longer word;
* **hashtag**: every term, over each hashtag body. A body is a run of concatenated words, so a
  term matches anywhere in it when it is long enough or a ``hashtag`` term, and a shorter one
  only as a whole segment: both its ends at the body's edges, at a case change
  (``#QuenvikZorb``), a letter/digit change or next to another hit.

Short terms never match across separators or inside words outside hashtags: ``art`` is inside
too many innocent words for that.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import ahocorasick

from brightline.errors import InvalidInput
from brightline.text import unicode_data as ud
from brightline.text.normalise import (
    BARRIER,
    BARRIER_STAND_IN,
    NormalisedText,
    Normaliser,
    default_normaliser,
)
from brightline.text.terms import MatchMode, TermList

DEFAULT_MIN_COMPACT_LENGTH = 6
DEFAULT_BATCH_CHARS = 1 << 20


class MatchType(StrEnum):
    """How much folding a hit needed, strongest last; a hit reports the strongest it needed.

    ``exact``: the text is the term, up to letter case; ``normalised``: after NFKC, case,
    accents, invisible characters and repeated letters; ``leet``: also leetspeak; ``homoglyph``:
    also look-alike letters from other scripts or symbols (the TR39 skeleton); ``compact``: the
    term's letters were split by separators that the term does not have.
    """

    EXACT = "exact"
    NORMALISED = "normalised"
    LEET = "leet"
    HOMOGLYPH = "homoglyph"
    COMPACT = "compact"


@dataclass(frozen=True, slots=True)
class TermHit:
    """One term found in one text. ``start``/``end`` index the original text (code points)."""

    list_name: str
    list_version: str
    term: str
    mode: MatchMode
    match_type: MatchType
    start: int
    end: int
    weight: float
    in_hashtag: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    list_name: str
    list_version: str
    term: str
    folded_term: str  # casefolded, to recognise exact hits
    mode: MatchMode
    weight: float
    token_form: str
    compact_form: str
    case_form: str
    leet_form: str
    spaces: int
    has_letters: bool
    long: bool  # at least min_compact_length letters or digits, as written


@dataclass(slots=True)
class _RawHit:
    entry: int
    start: int
    end: int
    match_type: MatchType
    in_hashtag: bool


def _attached(char: str) -> bool:
    """Characters that belong to the one before them: marks, variation selectors, skin tones."""
    code = ord(char)
    return code >= 0x300 and (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or code in ud.VARIATION_SELECTORS
        or code in ud.EMOJI_MODIFIERS
    )


_LETTER = re.compile(r"[^\W\d_]")


def _automaton(patterns: dict[str, list[int]]) -> Any | None:
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for pattern, ids in patterns.items():
        automaton.add_word(pattern, (len(pattern), tuple(ids)))
    automaton.make_automaton()
    return automaton


class TermMatcher:
    """Finds the terms of one or more term lists in texts; build once, use for many texts."""

    def __init__(
        self,
        term_lists: Sequence[TermList],
        *,
        normaliser: Normaliser | None = None,
        min_compact_length: int = DEFAULT_MIN_COMPACT_LENGTH,
    ) -> None:
        if min_compact_length < 1:
            raise InvalidInput("min_compact_length must be at least 1")
        self.normaliser = normaliser if normaliser is not None else default_normaliser()
        self.min_compact_length = min_compact_length
        self._entries: list[_Entry] = []
        token: dict[str, list[int]] = {}
        compact: dict[str, list[int]] = {}
        hashtag: dict[str, list[int]] = {}
        for term_list in term_lists:
            seen: set[tuple[str, MatchMode]] = set()
            for index, term in enumerate(term_list.terms, start=1):
                if (term.text, term.mode) in seen:
                    continue  # listed twice: one hit is enough
                seen.add((term.text, term.mode))
                entry = self._compile(term_list, term.text, term.mode, term.weight)
                if entry is None:
                    where = f"line {term.line}" if term.line else f"term {index}"
                    raise InvalidInput(
                        f"term list {term_list.name}, {where}: nothing is left of the term after "
                        "normalisation (no letters, digits or emoji)"
                    )
                entry_id = len(self._entries)
                self._entries.append(entry)
                hashtag.setdefault(entry.compact_form, []).append(entry_id)
                if entry.mode is MatchMode.HASHTAG:
                    continue
                token.setdefault(f" {entry.token_form} ", []).append(entry_id)
                if entry.long:
                    compact.setdefault(entry.compact_form, []).append(entry_id)
        self._token = _automaton(token)
        self._compact = _automaton(compact)
        self._hashtag = _automaton(hashtag)

    def _compile(
        self, term_list: TermList, text: str, mode: MatchMode, weight: float
    ) -> _Entry | None:
        views = self.normaliser.normalise(text.replace(BARRIER, BARRIER_STAND_IN))
        token_form = views.token.strip(" ")
        if not token_form:
            return None
        return _Entry(
            list_name=term_list.name,
            list_version=term_list.version,
            term=text,
            folded_term=text.casefold(),
            mode=mode,
            weight=weight,
            token_form=token_form,
            compact_form=views.compact,
            case_form=self.normaliser.stage_form(text, "case"),
            leet_form=self.normaliser.stage_form(text, "leet"),
            spaces=token_form.count(" "),
            has_letters=any(ch.isalpha() for ch in views.compact),
            long=sum(ch.isalnum() for ch in text) >= self.min_compact_length,
        )

    @property
    def term_count(self) -> int:
        return len(self._entries)

    # -- public API --------------------------------------------------------------------------

    def match(self, text: str) -> list[TermHit]:
        """Every hit in ``text``, ordered by position."""
        return self.match_many([text])[0]

    def match_many(
        self, texts: Sequence[str], *, batch_chars: int = DEFAULT_BATCH_CHARS
    ) -> list[list[TermHit]]:
        """Hits for each of ``texts``, in order.

        Texts are joined into batches of about ``batch_chars`` characters (separated by a
        barrier no hit can cross) and normalised and matched a batch at a time: the fixed cost of
        a pass is then paid once per batch instead of once per short post.
        """
        results: list[list[TermHit]] = [[] for _ in texts]
        for first, last in _batches(texts, batch_chars):
            chunk = [
                text.replace(BARRIER, BARRIER_STAND_IN) if BARRIER in text else text
                for text in texts[first:last]
            ]
            starts = []
            position = 0
            for text in chunk:
                starts.append(position)
                position += len(text) + 1
            normalised = self.normaliser.normalise(BARRIER.join(chunk))
            for raw in self._raw_hits(normalised):
                index = bisect_right(starts, raw.start) - 1
                offset = starts[index]
                entry = self._entries[raw.entry]
                results[first + index].append(
                    TermHit(
                        list_name=entry.list_name,
                        list_version=entry.list_version,
                        term=entry.term,
                        mode=entry.mode,
                        match_type=raw.match_type,
                        start=raw.start - offset,
                        end=raw.end - offset,
                        weight=entry.weight,
                        in_hashtag=raw.in_hashtag,
                    )
                )
        for hits in results:
            hits.sort(key=lambda hit: (hit.start, hit.end, hit.list_name, hit.term))
        return results

    # -- the three passes ----------------------------------------------------------------------

    def _raw_hits(self, views: NormalisedText) -> Iterable[_RawHit]:
        found: dict[tuple[int, int, int], _RawHit] = {}
        token = views.token
        if self._token is not None:
            for end, (length, ids) in self._token.iter(token):
                # The pattern is " form ": the form runs from end - length + 2 to end - 1.
                start, stop = views.token_span(end - length + 2, end - 1)
                for entry_id in ids:
                    self._accept(found, views, entry_id, start, stop, spaced=False, hashtag=False)
        if self._compact is not None:
            self._compact_pass(found, views, self._compact)
        if self._hashtag is not None:
            for body_start, body_end in views.hashtags:
                self._hashtag_pass(found, views, self._hashtag, body_start, body_end)
        return found.values()

    def _compact_pass(
        self, found: dict[tuple[int, int, int], _RawHit], views: NormalisedText, automaton: Any
    ) -> None:
        token = views.token
        first_token = views.compact_first_token
        last_token = views.compact_last_token
        entries = self._entries
        for end, (length, ids) in automaton.iter(views.compact):
            first = end - length + 1
            token_first = first_token.item(first)
            token_last = last_token.item(end)
            # One compact character can stand for a run across a removed separator (the x of
            # "drox x.i.m..." is one): the hit may begin at its run's last token character, and
            # end at its run's first.
            if token[token_first - 1] != " " and first < end:
                later = last_token.item(first)
                if token[later - 1] == " ":
                    token_first = later
            if token[token_last + 1] != " " and first < end:
                earlier = first_token.item(end)
                if token[earlier + 1] == " ":
                    token_last = earlier
            aligned = token[token_first - 1] == " " and token[token_last + 1] == " "
            spaces = token.count(" ", token_first, token_last + 1)
            span: tuple[int, int] | None = None
            for entry_id in ids:
                entry = entries[entry_id]
                if aligned and token[token_first : token_last + 1] == entry.token_form:
                    continue  # the term's own words: the token pass has it
                if entry.mode is MatchMode.TOKEN and not aligned:
                    continue
                if span is None:
                    span = (
                        views.token_start.item(token_first),
                        views.token_end.item(token_last),
                    )
                self._accept(
                    found, views, entry_id, *span, spaced=spaces > entry.spaces, hashtag=False
                )

    def _hashtag_pass(
        self,
        found: dict[tuple[int, int, int], _RawHit],
        views: NormalisedText,
        automaton: Any,
        body_start: int,
        body_end: int,
    ) -> None:
        body = views.token[body_start:body_end]
        accepted: list[tuple[int, int, int]] = []
        short: list[tuple[int, int, int]] = []
        for end, (length, ids) in automaton.iter(body):
            for entry_id in ids:
                candidate = (entry_id, end - length + 1, end + 1)
                entry = self._entries[entry_id]
                if entry.long or entry.mode is MatchMode.HASHTAG:
                    accepted.append(candidate)
                else:
                    short.append(candidate)
        if short:
            edges = self._segment_edges(views, body_start, body_end)
            edges.update(edge for _, first, last in accepted for edge in (first, last))
            changed = True
            while changed and short:
                changed = False
                for candidate in list(short):
                    if candidate[1] in edges and candidate[2] in edges:
                        short.remove(candidate)
                        accepted.append(candidate)
                        edges.update(candidate[1:])
                        changed = True
        for entry_id, first, last in accepted:
            start, stop = views.token_span(body_start + first, body_start + last - 1)
            self._accept(found, views, entry_id, start, stop, spaced=False, hashtag=True)

    @staticmethod
    def _segment_edges(views: NormalisedText, body_start: int, body_end: int) -> set[int]:
        """Body positions where a word may begin or end: edges, case and letter/digit changes."""
        edges = {0, body_end - body_start}
        text = views.original
        for position in range(body_start + 1, body_end):
            here = text[int(views.token_start[position])]
            before = text[int(views.token_end[position - 1]) - 1]
            if (here.isupper() and before.islower()) or (here.isdigit() != before.isdigit()):
                edges.add(position - body_start)
        return edges

    def _accept(
        self,
        found: dict[tuple[int, int, int], _RawHit],
        views: NormalisedText,
        entry_id: int,
        start: int,
        stop: int,
        *,
        spaced: bool,
        hashtag: bool,
    ) -> None:
        original = views.original
        while stop < len(original) and _attached(original[stop]):
            stop += 1
        key = (entry_id, start, stop)
        known = found.get(key)
        if known is not None:
            known.in_hashtag = known.in_hashtag or hashtag
            return
        entry = self._entries[entry_id]
        span = original[start:stop]
        if entry.has_letters and _LETTER.search(span) is None:
            return  # leetspeak never turns a bare number into a word
        match_type = MatchType.COMPACT if spaced else self._classify(entry, span)
        found[key] = _RawHit(entry_id, start, stop, match_type, hashtag)

    def _classify(self, entry: _Entry, span: str) -> MatchType:
        if span.casefold() == entry.folded_term:
            return MatchType.EXACT
        if self.normaliser.stage_form(span, "case") == entry.case_form:
            return MatchType.NORMALISED
        if self.normaliser.stage_form(span, "leet") == entry.leet_form:
            return MatchType.LEET
        return MatchType.HOMOGLYPH


def _batches(texts: Sequence[str], batch_chars: int) -> Iterable[tuple[int, int]]:
    first = 0
    size = 0
    for index, text in enumerate(texts):
        if index > first and size + len(text) > batch_chars:
            yield first, index
            first, size = index, 0
        size += len(text) + 1
    if first < len(texts):
        yield first, len(texts)
