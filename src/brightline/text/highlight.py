"""Cutting a post's original text into runs a reviewer can be shown safely.

A reviewer must see the text *as written*, with each hit's span marked, and must also see what a
browser would hide or distort: zero-width and other invisible characters, bidirectional controls
(an RTL override can make ``xalbroz`` display as ``zorblax``, or reorder the page around it),
tag characters, the braille blank, and words that mix scripts (a Latin word with Cyrillic
letters). :func:`segment_text` cuts the text at every hit boundary, around every hidden
character and around every letter of a mixed-script word, so that a renderer can emit flat,
non-nested runs: each run is covered by the same set of hits throughout, and a hidden character
is a run of its own that is shown as a badge (``U+200B``) instead of itself.

Pure and total: any ``str`` (lone surrogates included) is segmented without raising, and the
runs' texts concatenate back to the input exactly; hit spans outside the text are clipped.
Scripts come from the characters' Unicode names (Python's ``unicodedata`` has no Script
property): close to UAX #24 for letters, which is all mixed-script detection needs.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from brightline.text.unicode_data import EXTRA_INVISIBLE, is_default_ignorable

MAX_WORD = 64
"""Longer runs of letters are not checked for mixed scripts (each letter would be a run)."""

_ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
"""Script sets that ordinary writing mixes within a word (UTS #39 "highly restrictive")."""

_SKIP_WORDS = frozenset({"FULLWIDTH", "HALFWIDTH", "MODIFIER", "LETTER", "SMALL", "CAPITAL"})
_RENAMED = {"CJK": "Han", "IDEOGRAPHIC": "Han", "CANADIAN": "Canadian Aboriginal"}
_NAMED_CONTROLS = {0x2028: "LINE SEPARATOR", 0x2029: "PARAGRAPH SEPARATOR"}


@dataclass(frozen=True, slots=True)
class Span:
    """A span to highlight, ``[start, end)`` in code points of the original text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MixedWord:
    """A word whose letters come from scripts that are not normally written together."""

    start: int
    end: int
    scripts: tuple[str, ...]
    """In order of first appearance in the word."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One run of the original text, covered by the same hits throughout.

    ``hidden`` is set for a character a browser would not show faithfully (always a run of one
    character): its code point as ``U+XXXX``; ``hidden_name`` is its Unicode name. ``script`` is
    set for a letter inside a mixed-script word (always a run of one character); ``mixed`` is
    the index of the :class:`MixedWord` the run lies in.
    """

    start: int
    end: int
    text: str
    hits: tuple[int, ...] = ()
    hidden: str | None = None
    hidden_name: str | None = None
    mixed: int | None = None
    script: str | None = None


@dataclass(frozen=True, slots=True)
class Highlighted:
    """The segments of a text and the mixed-script words found in it."""

    segments: tuple[Segment, ...]
    mixed_words: tuple[MixedWord, ...]


def is_hidden(char: str) -> bool:
    """Whether ``char`` must be shown as a badge: invisible, a control, or not encodable.

    Default-ignorables (zero-width characters, bidi marks, embeddings, overrides and isolates,
    tag characters, variation selectors, fillers) and the braille blank render as nothing or
    change how their neighbours render; controls (other than newline and tab), line and
    paragraph separators, surrogates and noncharacters cannot be shown as themselves at all.
    """
    code = ord(char)
    if is_default_ignorable(code) or code in EXTRA_INVISIBLE:
        return True
    if char in "\n\t":
        return False
    category = unicodedata.category(char)
    if category in {"Cc", "Cf", "Cs", "Zl", "Zp"}:
        return True
    return (0xFDD0 <= code <= 0xFDEF) or (code & 0xFFFE) == 0xFFFE


def badge(char: str) -> str:
    """``U+200B``: how a hidden character is shown."""
    return f"U+{ord(char):04X}"


def visible(text: str) -> str:
    """``text`` with every hidden character replaced by its badge, ``⟨U+200B⟩``."""
    return "".join(f"\u27e8{badge(c)}\u27e9" if is_hidden(c) else c for c in text)


def character_name(char: str) -> str:
    code = ord(char)
    if code in _NAMED_CONTROLS:
        return _NAMED_CONTROLS[code]
    if 0xD800 <= code <= 0xDFFF:
        return "LONE SURROGATE"
    if 0xE0020 <= code <= 0xE007F:
        return unicodedata.name(char, "TAG CHARACTER")
    return unicodedata.name(char, "") or f"{unicodedata.category(char)} CHARACTER"


@lru_cache(maxsize=8192)
def script_of(char: str) -> str | None:
    """The script of a letter (``Latin``, ``Cyrillic``, ``Han``...); None for anything else.

    Digits, marks, punctuation and symbols have no script of their own (Common or Inherited in
    UAX #24) and never make a word mixed. Mathematical alphanumerics count as their own
    ``Mathematical`` script: Unicode files them under Common, but a word mixing them with Latin
    letters is exactly the disguise a reviewer should see.
    """
    if not unicodedata.category(char).startswith("L"):
        return None
    words = unicodedata.name(char, "").split()
    for word in words:
        if word in _SKIP_WORDS:
            continue
        if word in _RENAMED:
            return _RENAMED[word]
        if len(word) > 1 and word.isalpha():
            return word.capitalize()
        return None
    return None


def _word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LMN" or (is_default_ignorable(ord(char)) and category != "Cs")


def _is_mixed(scripts: Sequence[str]) -> bool:
    distinct = frozenset(scripts)
    if len(distinct) < 2:
        return False
    return not any(distinct <= allowed for allowed in _ALLOWED_MIXES)


def mixed_script_words(text: str) -> list[MixedWord]:
    """Words (runs of letters, marks, digits and invisible characters) that mix scripts."""
    found: list[MixedWord] = []
    index, length = 0, len(text)
    while index < length:
        if not _word_char(text[index]):
            index += 1
            continue
        start = index
        while index < length and _word_char(text[index]):
            index += 1
        if index - start > MAX_WORD:
            continue
        scripts = [s for s in (script_of(c) for c in text[start:index]) if s is not None]
        if _is_mixed(scripts):
            found.append(MixedWord(start, index, tuple(dict.fromkeys(scripts))))
    return found


def segment_text(text: str, hits: Sequence[Span]) -> Highlighted:
    """Cut ``text`` into :class:`Segment` runs; ``hits[i]`` is reported as hit ``i``.

    Hits may overlap or nest: a run lists every hit that covers it. Spans are clipped to the
    text; empty ones cover nothing.
    """
    length = len(text)
    clipped = [(max(0, min(h.start, length)), max(0, min(h.end, length))) for h in hits]
    mixed = mixed_script_words(text)
    cuts = {0, length}
    for start, end in clipped:
        if start < end:
            cuts.update((start, end))
    letter_word: dict[int, int] = {}
    for number, word in enumerate(mixed):
        cuts.update((word.start, word.end))
        for position in range(word.start, word.end):
            if script_of(text[position]) is not None:
                letter_word[position] = number
                cuts.update((position, position + 1))
    hidden_at = [i for i, char in enumerate(text) if is_hidden(char)]
    for position in hidden_at:
        cuts.update((position, position + 1))
    hidden = frozenset(hidden_at)
    word_of = _WordLookup(mixed)
    starting: dict[int, list[int]] = {}
    ending: dict[int, list[int]] = {}
    for number, (start, end) in enumerate(clipped):
        if start < end:
            starting.setdefault(start, []).append(number)
            ending.setdefault(end, []).append(number)

    bounds = sorted(cuts)
    active: set[int] = set()
    segments: list[Segment] = []
    for start, end in itertools.pairwise(bounds):
        # A sweep: every hit boundary is a cut, so the active set is constant within a run.
        active.difference_update(ending.get(start, ()))
        active.update(starting.get(start, ()))
        piece = text[start:end]
        covering = tuple(sorted(active))
        char = piece if end - start == 1 else None
        is_badge = char is not None and start in hidden
        segments.append(
            Segment(
                start=start,
                end=end,
                text=piece,
                hits=covering,
                hidden=badge(piece) if is_badge else None,
                hidden_name=character_name(piece) if is_badge else None,
                mixed=word_of(start),
                script=script_of(piece) if start in letter_word and not is_badge else None,
            )
        )
    return Highlighted(segments=tuple(segments), mixed_words=tuple(mixed))


class _WordLookup:
    """Which mixed word (if any) a position lies in; words are sorted and disjoint."""

    def __init__(self, words: Sequence[MixedWord]) -> None:
        self._words = words
        self._next = 0

    def __call__(self, position: int) -> int | None:
        # Positions arrive in increasing order, so one pass over the words suffices.
        while self._next < len(self._words) and self._words[self._next].end <= position:
            self._next += 1
        if self._next < len(self._words) and self._words[self._next].start <= position:
            return self._next
        return None
