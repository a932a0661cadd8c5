"""Property: every obfuscation of every term matches, with a span exactly covering it.

Hypothesis builds obfuscated spellings of placeholder terms from the tricks offenders use:
leetspeak, homoglyphs taken from Unicode's confusables data, zero-width and other invisible
characters, separators between letters, repeated letters, letter case, fullwidth forms and
hashtag concatenation, in any combination. Each must be found, and the hit's span in the original
text must be exactly the obfuscated term.

The generator keeps to the documented rules, which are about precision, not evasion: symbols
(``@``, ``$``, ``!``, ``|``) stand for letters only inside a word; a term spread out by separators
must be at least ``min_compact_length`` long; a short term in a hashtag must be a whole segment;
and a spelling made only of digits never matches a word.
"""

from __future__ import annotations

import string
import unicodedata
from functools import cache
from importlib import resources

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from brightline.text.matching import TermMatcher
from brightline.text.normalise import DEFAULT_LEET_SYMBOLS, default_normaliser
from brightline.text.terms import Term, TermList
from brightline.text.unicode_data import parse_confusables

LONG_TERMS = [
    "zorblax",
    "quenvik",
    "placeholderterm",
    "fizzleblorp",
    "jumwhistle",
    "gravnoctu",
    "snorkelwup",
    "brattlequim",
    "dexyvomp",
    "kwintaraf",
    "glemmorax",
]
SHORT_TERMS = ["qix", "vorp", "zub"]

LEET_DIGITS = {"a": "4", "e": "3", "s": "5", "t": "7", "b": "8", "g": "9", "o": "0", "i": "1"}
LEET_DIGITS["l"] = "1"
LEET_SYMBOLS = {"a": "@", "s": "$", "i": "!", "l": "|", "e": "\u20ac"}
INVISIBLES = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u202a",  # left-to-right embedding
    "\u2060",  # word joiner
    "\u2062",  # invisible times
    "\ufeff",  # zero-width no-break space
    "\u00ad",  # soft hyphen
    "\u034f",  # combining grapheme joiner
    "\u180e",  # Mongolian vowel separator
    "\u3164",  # Hangul filler
    "\ufe0f",  # variation selector 16
    "\U000e0041",  # tag latin capital letter a
    "\u2800",  # braille pattern blank
]
SEPARATORS = [" ", ".", "-", "_", "*", "\u00b7", "/", "~", "+", ",", ":", "\u3000", "\u00a0", " . "]
PREFIXES = ["Vorp", "Glim", "Trux"]
SUFFIXES = ["Dub", "Hex", "Nox"]

MATCHER = TermMatcher(
    [TermList("placeholders", "test", tuple(map(Term, LONG_TERMS + SHORT_TERMS)))]
)
MIN_COMPACT = MATCHER.min_compact_length


@cache
def homoglyphs() -> dict[str, list[str]]:
    """For each letter, the single characters that Unicode's confusables data says look like it
    (the letter or its capital), visible ones only and not the context-dependent symbols."""
    data = resources.files("brightline.text").joinpath("data").joinpath("confusables.txt")
    table = parse_confusables(data.read_text("utf-8-sig").splitlines())
    by_prototype: dict[str, list[str]] = {}
    for source, prototype in table.items():
        by_prototype.setdefault(prototype, []).append(source)
    found = {}
    for letter in string.ascii_lowercase:
        prototypes = {table.get(letter, letter), table.get(letter.upper(), letter.upper())}
        found[letter] = sorted(
            source
            for prototype in prototypes
            for source in by_prototype.get(prototype, [])
            if unicodedata.category(source)[0] in "LNSP"
            and source not in DEFAULT_LEET_SYMBOLS
            and source not in (letter, letter.upper())
        )
    return found


def fullwidth(char: str) -> str:
    return chr(ord(char) - 0x21 + 0xFF01)


@st.composite
def obfuscated(draw: st.DrawFn, term: str, *, spaced: bool, hashtag: bool) -> str:
    """One obfuscated spelling of ``term`` (nothing before its first or after its last letter)."""
    pieces = []
    last = len(term) - 1
    symbol_at = set()
    for index, letter in enumerate(term):
        choices = ["plain", "upper", "fullwidth", "fullwidth-upper", "homoglyph"]
        if letter in LEET_DIGITS:
            choices.append("leet-digit")
        if letter in LEET_SYMBOLS and 0 < index < last:
            choices.append("leet-symbol")
        how = draw(st.sampled_from(choices))
        glyph = {
            "plain": letter,
            "upper": letter.upper(),
            "fullwidth": fullwidth(letter),
            "fullwidth-upper": fullwidth(letter.upper()),
            "leet-digit": LEET_DIGITS.get(letter, letter),
            "leet-symbol": LEET_SYMBOLS.get(letter, letter),
        }.get(how)
        if glyph is None:
            glyph = draw(st.sampled_from(homoglyphs()[letter]))
        if how == "leet-symbol":
            symbol_at.update({index - 1, index})  # no separator on either side of a symbol
        repeats = draw(st.integers(1, 3))
        joiner = ""
        if spaced and not hashtag and how != "leet-symbol" and 0 < index < last:
            # Repeats spread out (z.o.r.r.b): inside the term only, since "zorb b" could as
            # well be the term and a word "b".
            joiner = draw(st.sampled_from(["", "", *SEPARATORS]))
        pieces.append(joiner.join([glyph] * repeats))
    out = pieces[0]
    for index, piece in enumerate(pieces[1:]):
        gaps = [st.just(""), st.sampled_from(INVISIBLES)]
        if spaced and not hashtag and index not in symbol_at:
            gaps.append(st.sampled_from(SEPARATORS))
        out += draw(st.one_of(gaps)) + piece
    assume(any(char.isalpha() for char in out))
    return out


def assert_found(term: str, text: str, start: int, end: int) -> None:
    hits = MATCHER.match(text)
    spans = [(hit.start, hit.end) for hit in hits if hit.term == term]
    assert (start, end) in spans, f"{text!r}: wanted {text[start:end]!r}, got {spans}"


@pytest.mark.parametrize("term", LONG_TERMS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_obfuscation_of_a_long_term_matches(term: str, data: st.DataObject) -> None:
    in_hashtag = data.draw(st.booleans(), label="hashtag")
    spelling = data.draw(obfuscated(term, spaced=True, hashtag=in_hashtag), label="spelling")
    if in_hashtag:
        # A neighbour ending in the letter the term begins with would merge with it (repeated
        # letters collapse), so the span would rightly start earlier: pick one that does not.
        fold = default_normaliser().fold_char
        prefixes = [p for p in PREFIXES if fold(p[-1])[-1] != fold(term[0])[0]]
        suffixes = [s for s in SUFFIXES if fold(s[0])[0] != fold(term[-1])[-1]]
        prefix = data.draw(st.sampled_from(prefixes), label="prefix")
        suffix = data.draw(st.sampled_from(suffixes), label="suffix")
        before = f"see #{prefix}"
        text = f"{before}{spelling}{suffix} ok"
    else:
        before = "see "
        text = f"{before}{spelling} ok"
    assert_found(term, text, len(before), len(before) + len(spelling))


@pytest.mark.parametrize("term", SHORT_TERMS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_obfuscation_of_a_short_term_matches(term: str, data: st.DataObject) -> None:
    spelling = data.draw(obfuscated(term, spaced=False, hashtag=False), label="spelling")
    before = data.draw(st.sampled_from(["see ", "see #", "(", "\u201c"]), label="before")
    text = f"{before}{spelling} ok"
    assert_found(term, text, len(before), len(before) + len(spelling))


def test_separators_need_the_minimum_length() -> None:
    assert all(len(term) >= MIN_COMPACT for term in LONG_TERMS)
    assert all(len(term) < MIN_COMPACT for term in SHORT_TERMS)


def test_every_confusable_of_a_latin_letter_folds_to_that_letter() -> None:
    fold = default_normaliser().fold_char
    table = homoglyphs()
    assert sum(len(sources) for sources in table.values()) > 1000
    for letter, sources in table.items():
        for source in sources:
            assert fold(source) == fold(letter), f"U+{ord(source):04X} for {letter}"
