"""Text normalisation for robust term matching, with a map back to the original offsets.

Offenders defeat exact matching with spelling tricks: fullwidth or mathematical letters, Cyrillic
and Greek look-alikes, leetspeak, zero-width characters, letters spaced out with dots, repeated
letters, hashtags that glue words together. :class:`Normaliser` folds all of these away into two
*views* of a text and keeps, for every character of each view, the span of the original text it
came from, so a hit found in a view can be shown to a reviewer exactly where it is in the post.

The fold of a character is computed once per code point and cached in numpy tables indexed by
code point: the hot path is a handful of vectorised numpy operations over the text's code points
(the offset map included), with no Python loop over characters. For each code point:

1. **invisible** characters (Unicode default-ignorables: zero-width space/joiner/non-joiner, word
   joiner, bidi controls, variation selectors, tag characters, Hangul fillers, soft hyphen, plus
   the braille blank U+2800) fold to nothing;
2. the **confusables skeleton** of Unicode TR39 (Cyrillic er → ``p``, ``I`` → ``l``,
   ``m`` → ``rn``), **NFKC** (fullwidth and mathematical letters → ASCII, the ligature ``ﬁ`` →
   ``fi``), case folding and removal of combining marks (``é`` → ``e``), repeated until stable;
3. **leetspeak** (``4`` → ``a``, ``3`` → ``e``...); ``i`` and ``l`` fold to one letter, because
   ``1``, ``!`` and ``|`` stand for either;
4. classification: letters and digits are kept, emoji become a word of their own, and everything
   else (spaces, punctuation, symbols, ``#``) becomes a separator.

Then runs of the same character collapse to one (``zorrrblax`` → ``zorblax``, and runs of
separators to one space). The **token view** keeps single spaces between words (and a space at
each end, so that a pattern `` term `` only matches whole words); the **compact view** drops the
separators too, so ``z.o.r.b.l.a.x`` and ``zorb lax`` become ``zorblax``.

Three folds look at the neighbours, each vectorised too:

* leet symbols (``@`` → ``a``, ``$`` → ``s``, ``!``, ``|``) count as letters only between word
  characters (``pl@ce``), never at a word's edge (``@name``, ``wow!``);
* repeats of a letter that folds to several merge like any repeat (``mm``, ``m.m`` → ``rn``);
* emoji sequences are kept intact: a zero-width joiner, tag characters or a keycap between
  emoji are part of the emoji (a family emoji stays one word of the view, and does not match
  one of its members alone); variation selectors and skin-tone modifiers fold to nothing, so
  that an emoji matches with or without them.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from itertools import groupby
from typing import Any

import numpy as np
import numpy.typing as npt

from brightline.errors import InvalidInput
from brightline.text import unicode_data as ud

# Separates the texts of a batch (a Unicode noncharacter, "for internal use"). It survives into
# both views as a word of its own that no term can contain, so nothing matches across it. A post
# that contains it has it replaced by a zero-width space first (same length: offsets unchanged).
BARRIER = "\ufdd0"
BARRIER_STAND_IN = "\u200b"

# Leetspeak, applied after the skeleton (which already maps 0 → O and 1 → l; they are listed
# for the lighter "leet" stage, which has no skeleton).
DEFAULT_LEET: Mapping[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    # 1, ! and | stand for both i and l: one letter for both keeps every spelling matching.
    "l": "i",
}

# Symbols that stand for letters only inside a word (``pl@ce``, ``p|ace``): at a word's edge they
# are punctuation (``@name``, ``wow!``), so they fold to a separator there.
DEFAULT_LEET_SYMBOLS: Mapping[str, str] = {
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "i",
    "€": "e",
    "¡": "i",
}

# Confusable mappings that do more harm than good for matching (``%`` → ``º/₀`` would turn
# every percentage into letters).
_SKELETON_EXCLUDED = frozenset({"%"})

_WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85")
_SPACE = 0x20
_CODE_POINTS = 0x110000
_CONTEXT_RANGES = ((0x200D, 0x200D), (0x20E3, 0x20E3), (0xE0020, 0xE007F), (0x1F1E6, 0x1F1FF))
_CONTEXT = re.compile("[\u200d\u20e3\U000e0020-\U000e007f\U0001f1e6-\U0001f1ff]")
_SPACES = re.compile(" {2,}")
_HASH = re.compile("[#\uff03\ufe5f]")
_BARRIER_CODE = 0xFDD0

IntArray = npt.NDArray[np.signedinteger[Any]]
# View positions whose original span reaches further than their own character, and how far.
Reach = tuple[IntArray, IntArray]
Folded = tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8], Reach | None]


class _LazyTable(dict[int, str]):
    """A ``str.translate`` table that computes each code point's entry on first use."""

    def __init__(self, compute: Callable[[int], str]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, code: int) -> str:
        value = self._compute(code)
        self[code] = value
        return value


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The views of one text and, for each view character, the original span it came from.

    ``token_start[i]``/``token_end[i]`` are the offsets (code points, as Python indexes ``str``)
    in ``original`` where ``token[i]`` begins and ends. A run of repeated letters, or a letter
    with invisible characters folded into it, spans more than one original character.
    ``compact_first_token``/``compact_last_token`` give, for each compact character, the first
    and last token-view index it came from (its span, and word boundaries, follow from those).
    ``hashtags`` are the ``[start, end)`` token-view ranges of hashtag bodies.
    """

    original: str
    token: str
    compact: str
    token_start: IntArray
    token_end: IntArray
    compact_first_token: IntArray
    compact_last_token: IntArray
    hashtags: tuple[tuple[int, int], ...]

    def token_span(self, first: int, last: int) -> tuple[int, int]:
        """Original ``[start, end)`` of token-view characters ``first..last`` (inclusive)."""
        return self.token_start.item(first), self.token_end.item(last)

    def compact_span(self, first: int, last: int) -> tuple[int, int]:
        """Original ``[start, end)`` of compact-view characters ``first..last`` (inclusive)."""
        return (
            self.token_start.item(self.compact_first_token.item(first)),
            self.token_end.item(self.compact_last_token.item(last)),
        )


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me"))


def _collapse(text: str) -> str:
    """Runs of one character to one; a small-string twin of the numpy collapse in views."""
    return "".join(char for char, _ in groupby(text))


class Normaliser:
    """Folds text into the token and compact views; one instance serves any number of texts.

    Thread-safe: the per-code-point tables only ever gain entries, each computed from immutable
    data. Build one and share it (:func:`default_normaliser`); every table is filled lazily, so a
    new instance costs nothing until it sees text.
    """

    def __init__(
        self,
        *,
        tables: ud.UnicodeTables | None = None,
        leet: Mapping[str, str] | None = None,
        leet_symbols: Mapping[str, str] | None = None,
    ) -> None:
        self._tables = tables if tables is not None else ud.default_unicode_tables()
        self._confusables = {
            source: target
            for source, target in self._tables.confusables.items()
            if source not in _SKELETON_EXCLUDED
        }
        self._leet = dict(DEFAULT_LEET if leet is None else leet)
        symbols = DEFAULT_LEET_SYMBOLS if leet_symbols is None else leet_symbols
        self._symbols = {ord(symbol): letter for symbol, letter in symbols.items()}
        self._fold = _LazyTable(self._fold_code)
        # The same folds as numpy tables indexed by code point, filled as code points are seen:
        # view length, the view character when it is one, else a row of `_multi`.
        self._lock = threading.Lock()
        self._known = np.zeros(_CODE_POINTS, dtype=bool)
        self._length = np.zeros(_CODE_POINTS, dtype=np.uint8)
        self._single = np.zeros(_CODE_POINTS, dtype=np.uint32)
        self._multi_row = np.zeros(_CODE_POINTS, dtype=np.int32)
        self._multi_rows: list[list[int]] = []
        self._multi_row_of: dict[str, int] = {}
        self._multi_word = np.zeros(0, dtype=bool)  # per row: letters only (emoji stay apart)
        self._wordy = np.zeros(_CODE_POINTS, dtype=bool)  # folds to letters or digits
        self._separator = np.zeros(_CODE_POINTS, dtype=bool)  # folds to a space, always
        self._multi = np.zeros((0, 1), dtype=np.uint32)
        # Lighter folds, used to say which kind of obfuscation a hit needed (see `stage_form`).
        self._stages: dict[str, _LazyTable] = {
            "case": _LazyTable(lambda code: self._fold_stage(code, skeleton=False, leet=False)),
            "leet": _LazyTable(lambda code: self._fold_stage(code, skeleton=False, leet=True)),
        }
        self._emoji_sequence = _emoji_sequence_pattern(self._tables.pictographic_ranges)
        self._symbol_letters: dict[int, int] = {}
        for code, letter in self._symbols.items():
            folded = self._fold[ord(letter)] if len(letter) == 1 else ""
            if len(folded) != 1 or not folded.isalnum():
                raise InvalidInput(f"leet symbol {chr(code)!r} must stand for a single letter")
            self._symbol_letters[code] = ord(folded)
        self._symbol_chars = "".join(chr(code) for code in self._symbols)
        self._symbol_table = np.zeros(_CODE_POINTS, dtype=bool)
        self._symbol_table[list(self._symbols)] = True
        # Characters that make a fold depend on its neighbours: joiner, keycap, tags, flags.
        self._context_table = np.zeros(_CODE_POINTS, dtype=bool)
        for low, high in _CONTEXT_RANGES:
            self._context_table[low : high + 1] = True
        self._learn(np.arange(128, dtype=np.uint32))  # ASCII, so ASCII text never needs a check

    # -- per code point -------------------------------------------------------------------

    def _letters(self, text: str, *, skeleton: bool, leet: bool) -> str:
        """Skeleton, NFKC, case fold, marks removed and leet, repeated until nothing changes.

        The skeleton goes first: some look-alikes (the ogonek U+02DB for ``i``) have a
        compatibility decomposition (space and a combining mark) that would lose the letter.
        """
        for _ in range(6):
            before = text
            if skeleton:
                text = "".join(self._confusables.get(ch, ch) for ch in text)
            text = unicodedata.normalize("NFKC", text)
            text = _strip_marks(text.casefold())
            if skeleton:
                text = "".join(self._confusables.get(ch, ch) for ch in text)
                text = _strip_marks(text.casefold())
            if leet:
                text = "".join(self._leet.get(ch, ch) for ch in text)
            if text == before:
                break
        return text

    def _classify(self, text: str) -> str:
        out: list[str] = []
        for ch in text:
            category = unicodedata.category(ch)
            if ch == "#":
                out.append(" ")
            elif category[0] in "LN" or category == "Mc":
                out.append(ch)
            elif category[0] in "ZPS":
                out.append(f" {ch} " if self._tables.is_pictographic(ord(ch)) else " ")
            elif category == "Co" or ch in _WHITESPACE_CONTROLS:
                out.append(" ")
            # Cc, Cf, Cn, Cs, Mn, Me: nothing.
        return _SPACES.sub(" ", "".join(out))

    def _invisible(self, code: int) -> bool:
        return (
            ud.is_default_ignorable(code)
            or code in ud.EXTRA_INVISIBLE
            or code in ud.EMOJI_MODIFIERS
        )

    def _is_emoji(self, char: str) -> bool:
        """A pictograph kept as itself: not one that NFKC or the skeleton turns into letters
        (``™`` → ``TM``, the information source U+2139 → ``i``)."""
        if not self._tables.is_pictographic(ord(char)):
            return False
        prototype = self._confusables.get(char, "")
        return unicodedata.normalize("NFKC", char) == char and not prototype.isalnum()

    def _fold_code(self, code: int) -> str:
        char = chr(code)
        if char == BARRIER:
            return f" {BARRIER} "
        if self._invisible(code):
            return ""
        if code in self._symbols:
            return " "  # a letter only inside a word: see `_symbols_in_words`
        if code in ud.REGIONAL_INDICATORS or self._is_emoji(char):
            return f" {char} "
        return self._classify(self._letters(char, skeleton=True, leet=True))

    def _fold_stage(self, code: int, *, skeleton: bool, leet: bool) -> str:
        if self._invisible(code):
            return ""
        if leet and code in self._symbols:
            return self._classify(self._letters(self._symbols[code], skeleton=False, leet=True))
        return self._classify(self._letters(chr(code), skeleton=skeleton, leet=leet))

    def fold_char(self, char: str) -> str:
        """The view text one character folds to (``""`` for invisible, ``" "`` for separators)."""
        return self._fold[ord(char)]

    def stage_form(self, text: str, stage: str) -> str:
        """``text`` folded by one lighter stage, separators dropped and repeats collapsed.

        ``"case"``: NFKC, case and marks only; ``"leet"``: that plus leetspeak; ``"full"``: the
        compact view. Comparing a hit's original text with its term at each stage tells which
        obfuscation it needed.
        """
        if stage == "full":
            return self.normalise(text).compact
        return _collapse(text.translate(self._stages[stage]).replace(" ", ""))

    # -- whole texts ------------------------------------------------------------------------

    def _learn(self, codes: npt.NDArray[np.uint32]) -> None:
        """Fill the numpy fold tables for code points not seen before (rarely more than a few)."""
        known = np.take(self._known, codes)
        if known.all():
            return
        unseen = codes[~known]
        with self._lock:
            for code in np.unique(unseen).tolist():
                folded = self._fold[code]
                self._length[code] = len(folded)
                self._wordy[code] = folded.isalnum()
                self._separator[code] = folded == " " and code not in self._symbols
                if len(folded) == 1:
                    self._single[code] = ord(folded)
                elif folded:
                    # One row per distinct fold, so that equal folds have equal rows.
                    row = self._multi_row_of.setdefault(folded, len(self._multi_rows))
                    self._multi_row[code] = row
                    if row == len(self._multi_rows):
                        self._multi_rows.append([ord(ch) for ch in folded])
                        self._multi_word = np.append(self._multi_word, folded.isalnum())
                    width = max(len(row) for row in self._multi_rows)
                    self._multi = np.array(
                        [row + [0] * (width - len(row)) for row in self._multi_rows], np.uint32
                    )
                self._known[code] = True

    def _symbols_in_words(
        self,
        codes: npt.NDArray[np.uint32],
        lengths: npt.NDArray[np.uint8],
        single: npt.NDArray[np.uint32],
    ) -> None:
        """Turn leet symbols into letters where a run of them sits between two word characters
        (invisible characters in between do not count)."""
        symbol = np.take(self._symbol_table, codes)
        positions = np.flatnonzero(symbol)
        if len(positions) == 0:
            return
        size = len(codes)

        def neighbour(position: int, step: int) -> int:
            index = position + step
            while 0 <= index < size and (lengths[index] == 0 or symbol[index]):
                index += step
            return index

        # Mostly the neighbours are the adjacent characters: check those at once, and walk
        # past invisible characters and further symbols only where there are some.
        left = np.maximum(positions - 1, 0)
        right = np.minimum(positions + 1, size - 1)
        simple = (
            (positions > 0)
            & (positions < size - 1)
            & (lengths[left] > 0)
            & ~symbol[left]
            & (lengths[right] > 0)
            & ~symbol[right]
        )
        inside = simple & np.take(self._wordy, codes[left]) & np.take(self._wordy, codes[right])
        for position in positions[inside].tolist():
            single[position] = self._symbol_letters[int(codes[position])]
        for position in positions[~simple].tolist():
            before, after = neighbour(position, -1), neighbour(position, 1)
            if (
                before >= 0
                and after < size
                and self._wordy[codes[before]]
                and self._wordy[codes[after]]
            ):
                single[position] = self._symbol_letters[int(codes[position])]

    def _merge_repeated_units(
        self,
        codes: npt.NDArray[np.uint32],
        lengths: npt.NDArray[np.uint8],
        multi: IntArray,
    ) -> tuple[IntArray, IntArray] | None:
        """Fold a repeat of a multi-character fold into the first (``mm`` → ``rn``, not ``rnrn``).

        Repeats of one-character folds collapse later, in the views; a unit of several view
        characters (letters only: repeated emoji stay apart) has to be recognised here, per
        original character. Returns the first and last original position of each merged run.
        """
        rows = self._multi_row[codes[multi]]
        word = self._multi_word[rows]
        multi, rows = multi[word], rows[word]
        if len(multi) < 2:
            return None

        # The previous character that is neither invisible nor a separator (so that "m.m", like
        # "r.r", is one letter in the compact view): a few steps at once, then one by one.
        def passable(index: IntArray) -> npt.NDArray[np.bool_]:
            safe = np.maximum(index, 0)
            hidden: npt.NDArray[np.bool_] = lengths[safe] == 0
            hidden |= np.take(self._separator, codes[safe])
            hidden &= index >= 0
            return hidden

        previous = multi - 1
        for _ in range(4):
            behind = passable(previous)
            if not behind.any():
                break
            previous[behind] -= 1
        for index in np.flatnonzero(passable(previous)).tolist():
            back = int(previous[index])
            while back >= 0 and (lengths[back] == 0 or self._separator[codes[back]]):
                back -= 1
            previous[index] = back
        earlier = np.minimum(np.searchsorted(multi, previous), len(multi) - 1)
        same = (multi[earlier] == previous) & (rows[earlier] == rows)
        if not same.any():
            return None
        is_last = np.ones(len(multi), dtype=bool)
        is_last[:-1] = ~same[1:]
        heads, lasts = multi[~same], multi[is_last]
        merged = heads != lasts
        lengths[multi[same]] = 0
        return heads[merged], lasts[merged]

    def _fold_codes(self, codes: npt.NDArray[np.uint32], text: str) -> Folded:
        """The concatenated fold of every code point, how many view characters each gave, and
        corrections to the map back (view positions whose original span reaches further)."""
        if not text.isascii():  # ASCII is learned up front
            self._learn(codes)
        lengths = np.take(self._length, codes)
        single = np.take(self._single, codes)
        if any(symbol in text for symbol in self._symbol_chars):
            self._symbols_in_words(codes, lengths, single)
        multi = np.flatnonzero(lengths > 1)
        if len(multi) == 0:
            if np.any(lengths == 0):
                return np.repeat(single, lengths), lengths, None
            return single, lengths, None
        merged = self._merge_repeated_units(codes, lengths, multi) if len(multi) > 1 else None
        if merged is not None:
            multi = np.flatnonzero(lengths > 1)
        out = np.repeat(single, lengths)
        # Where each original character's view characters start: its index, shifted by the
        # characters that folded to more or fewer than one before it (few: a sparse sum).
        uneven = np.flatnonzero(lengths != 1)
        shift = lengths[uneven].astype(np.int64) - 1
        shift_before = np.cumsum(shift) - shift

        def view_start(positions: IntArray) -> IntArray:
            index = np.searchsorted(uneven, positions)
            return positions + shift_before[index]

        starts = view_start(multi)
        rows = self._multi_row[codes[multi]]
        widths = lengths[multi]
        table = self._multi
        for k in range(table.shape[1]):
            wide = widths > k
            out[starts[wide] + k] = table[rows[wide], k]
        if merged is None:
            return out, lengths, None
        heads, lasts = merged
        head_starts = view_start(heads)
        positions = [head_starts + k for k in range(int(lengths[heads].max()))]
        reaches = [lasts] * len(positions)
        keep = [lengths[heads] > k for k in range(len(positions))]
        return (
            out,
            lengths,
            (
                np.concatenate([p[m] for p, m in zip(positions, keep, strict=True)]),
                np.concatenate([r[m] for r, m in zip(reaches, keep, strict=True)]),
            ),
        )

    def _fold_text(self, text: str) -> Folded:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        if text.isascii() or not np.take(self._context_table, codes).any():
            return self._fold_codes(codes, text)
        # Emoji sequences: joiners, tags and keycaps are part of the emoji, not invisible.
        outs: list[npt.NDArray[np.uint32]] = []
        lengths: list[npt.NDArray[np.uint8]] = []
        positions: list[IntArray] = []
        reaches: list[IntArray] = []
        position = 0
        folded = 0

        def plain(start: int, end: int) -> None:
            nonlocal folded
            out, length, reach = self._fold_codes(codes[start:end], text[start:end])
            if reach is not None:
                positions.append(reach[0] + folded)
                reaches.append(reach[1] + start)
            outs.append(out)
            lengths.append(length)
            folded += len(out)

        for match in self._emoji_sequence.finditer(text):
            start, end = match.span()
            if _CONTEXT.search(text, start, end) is None:
                continue
            plain(position, start)
            sequence = []
            sequence_lengths = []
            for index in range(start, end):
                code = int(codes[index])
                piece = (
                    [] if code in ud.VARIATION_SELECTORS or code in ud.EMOJI_MODIFIERS else [code]
                )
                if index == start:
                    piece.insert(0, _SPACE)
                if index == end - 1:
                    piece.append(_SPACE)
                sequence += piece
                sequence_lengths.append(len(piece))
            outs.append(np.array(sequence, dtype=np.uint32))
            lengths.append(np.array(sequence_lengths, dtype=np.uint8))
            folded += len(sequence)
            position = end
        plain(position, len(text))
        reach = (np.concatenate(positions), np.concatenate(reaches)) if positions else None
        return np.concatenate(outs), np.concatenate(lengths), reach

    def normalise(self, text: str) -> NormalisedText:
        """The token and compact views of ``text`` with their maps to original offsets."""
        codes, lengths, reach = self._fold_text(text)
        offset_type = np.int32 if len(text) < 2**31 - 1 else np.int64
        # Pad with a space at each end so that " term " patterns match at the edges too.
        padded = np.empty(len(codes) + 2, dtype=np.uint32)
        padded[0] = padded[-1] = _SPACE
        padded[1:-1] = codes
        # The original character each view character came from (the pads: the first and last).
        padded_lengths = np.empty(len(lengths) + 2, dtype=np.uint8)
        padded_lengths[0] = padded_lengths[-1] = 1
        padded_lengths[1:-1] = lengths
        owner: IntArray = np.repeat(np.arange(-1, len(text) + 1, dtype=offset_type), padded_lengths)
        owner[0] = 0
        owner[-1] = max(len(text) - 1, 0)
        owner_last = owner
        if reach is not None:
            owner_last = owner.copy()
            owner_last[reach[0] + 1] = reach[1]

        # Runs of one character collapse to their first; each keeps the span of the whole run.
        starts, ends = _runs(padded)
        token_codes = padded[starts]
        token_start = owner[starts]
        token_end = owner_last[ends] + 1

        letters = np.flatnonzero(token_codes != _SPACE)
        compact_codes = token_codes[letters]
        compact_starts, compact_ends = _runs(compact_codes)
        normalised = NormalisedText(
            original=text,
            token=token_codes.tobytes().decode("utf-32-le"),
            compact=compact_codes[compact_starts].tobytes().decode("utf-32-le"),
            token_start=token_start,
            token_end=token_end,
            compact_first_token=letters[compact_starts],
            compact_last_token=letters[compact_ends],
            hashtags=(),
        )
        if "#" not in text and (text.isascii() or _HASH.search(text) is None):
            return normalised
        return replace(normalised, hashtags=_hashtags(normalised, token_codes))


@cache
def default_normaliser() -> Normaliser:
    """The process-wide normaliser with the shipped Unicode data and leet table."""
    return Normaliser()


def _runs(codes: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Masks of the first and of the last element of each run of equal values."""
    starts = np.empty(len(codes), dtype=bool)
    ends = np.empty(len(codes), dtype=bool)
    if len(codes):
        starts[0] = ends[-1] = True
        np.not_equal(codes[1:], codes[:-1], out=starts[1:])
        ends[:-1] = starts[1:]
    return starts, ends


def _hash_marks(text: str) -> list[int]:
    marks = []
    for mark in ("#", "\uff03", "\ufe5f"):
        position = text.find(mark)
        while position != -1:
            marks.append(position)
            position = text.find(mark, position + 1)
    return sorted(marks)


def _hashtags(
    normalised: NormalisedText, token_codes: npt.NDArray[np.uint32]
) -> tuple[tuple[int, int], ...]:
    """Hashtag bodies: the view word right after a ``#`` (which folds to a separator)."""
    text = normalised.original
    marks = np.array(_hash_marks(text), dtype=np.int64)
    after = np.searchsorted(normalised.token_start, marks + 1)
    inside = (after > 0) & (after < len(token_codes))
    marks, after = marks[inside], after[inside]
    body = token_codes[after]
    candidate = (token_codes[after - 1] == _SPACE) & (body != _SPACE) & (body != _BARRIER_CODE)
    marks, after = marks[candidate], after[candidate]
    # Only invisible characters may stand between the # and the body ("# alone" is no tag).
    starts = normalised.token_start[after]
    keep = starts == marks + 1
    for index in np.flatnonzero(~keep).tolist():
        between = text[int(marks[index]) + 1 : int(starts[index])]
        keep[index] = all(unicodedata.category(char)[0] in "CM" for char in between)
    after = np.unique(after[keep])
    ends = [normalised.token.index(" ", start) for start in after.tolist()]
    return tuple(zip(after.tolist(), ends, strict=True))


def _emoji_sequence_pattern(ranges: tuple[tuple[int, int], ...]) -> re.Pattern[str]:
    """Emoji sequences after UTS #51: keycaps, flags, ZWJ sequences, tag sequences."""
    pictographic = "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in ranges
    )
    element = (
        "(?:[0-9#*]\ufe0f?\u20e3"
        "|[\U0001f1e6-\U0001f1ff]{2}"
        f"|[{pictographic}][\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]*"
        "(?:[\U000e0020-\U000e007e]+\U000e007f)?)"
    )
    return re.compile(f"{element}(?:\u200d{element})*")
