"""Segmenting a post for display: hits, hidden characters and mixed-script words.

Placeholder terms only (``zorblax``); the Cyrillic and Greek letters are look-alikes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.text.highlight import (
    Span,
    badge,
    is_hidden,
    mixed_script_words,
    script_of,
    segment_text,
    visible,
)

# Cyrillic o (U+043E) and a (U+0430) inside a Latin word; an RTL override; a zero-width
# space; a tag; U+2800.
TRICKY = "say z\u043erbl\u0430x \u202eteg\u202c now\u200b ok \U000e0041 \u2800!"


def test_hits_hidden_characters_and_mixed_words_become_runs() -> None:
    result = segment_text(TRICKY, [Span(4, 11), Span(6, 9)])
    assert "".join(s.text for s in result.segments) == TRICKY
    assert [(w.start, w.end, w.scripts) for w in result.mixed_words] == [
        (4, 11, ("Latin", "Cyrillic"))
    ]
    letters = {s.text: s.script for s in result.segments if s.script is not None}
    assert letters["\u043e"] == "Cyrillic"
    assert letters["z"] == "Latin"
    badges = [(s.hidden, s.hidden_name) for s in result.segments if s.hidden]
    assert badges == [
        ("U+202E", "RIGHT-TO-LEFT OVERRIDE"),
        ("U+202C", "POP DIRECTIONAL FORMATTING"),
        ("U+200B", "ZERO WIDTH SPACE"),
        ("U+E0041", "TAG LATIN CAPITAL LETTER A"),
        ("U+2800", "BRAILLE PATTERN BLANK"),
    ]
    overlapped = [s.text for s in result.segments if s.hits == (0, 1)]
    assert "".join(overlapped) == "rbl"


def test_ordinary_text_is_one_run_and_allowed_mixes_are_not_flagged() -> None:
    result = segment_text("plain words, 42 of them\n", [])
    assert len(result.segments) == 1
    assert not result.segments[0].hidden
    # Japanese mixes Han, Hiragana, Katakana and Latin; digits and leet are not scripts.
    assert mixed_script_words("Tシャツを買った z0rbl@x") == []
    assert [w.scripts for w in mixed_script_words("z\u03bfrblax")] == [("Latin", "Greek")]
    assert script_of("1") is None
    assert script_of("\uff41") == "Latin"  # fullwidth a


def test_hidden_characters_are_badged_and_spans_are_clipped() -> None:
    assert is_hidden("\u200d")
    assert is_hidden("\ud800")
    assert is_hidden("\x1b")
    assert is_hidden("\ufffe")
    assert is_hidden("\u2029")
    assert not is_hidden("\n")
    assert not is_hidden("a")
    assert not is_hidden(" ")
    assert badge("\u200b") == "U+200B"
    assert visible("a\u202eb") == "a\u27e8U+202E\u27e9b"
    result = segment_text("abc", [Span(-5, 2), Span(2, 99), Span(3, 1)])
    assert [(s.start, s.end, s.hits) for s in result.segments] == [(0, 2, (0,)), (2, 3, (1,))]


@st.composite
def texts_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    alphabet = st.one_of(
        st.characters(codec=None),  # anything, lone surrogates included
        st.sampled_from("zorblax \u043e\u0430\u03bf\u200b\u202e\u2066\U000e0041\u2800\n"),
    )
    text = draw(st.text(alphabet, max_size=40))
    bound = st.integers(min_value=-2, max_value=len(text) + 2)
    spans = draw(st.lists(st.builds(Span, bound, bound), max_size=6))
    return text, spans


@settings(max_examples=150, deadline=None)
@given(texts_and_spans())
def test_segments_rebuild_the_text_and_cover_every_hit_exactly(
    case: tuple[str, list[Span]],
) -> None:
    text, spans = case
    result = segment_text(text, spans)
    assert "".join(s.text for s in result.segments) == text
    position = 0
    for segment in result.segments:
        assert segment.start == position < segment.end
        position = segment.end
        if segment.hidden is not None or segment.script is not None:
            assert segment.end - segment.start == 1
        # Nothing that cannot be shown as itself is left in an ordinary run.
        if segment.hidden is None:
            assert not any(is_hidden(c) for c in segment.text)
    assert position == len(text)
    for number, span in enumerate(spans):
        start, end = max(0, min(span.start, len(text))), max(0, min(span.end, len(text)))
        covered = {i for s in result.segments if number in s.hits for i in range(s.start, s.end)}
        assert covered == set(range(start, end))
    # What a renderer sends for hidden runs is their badge: always encodable.
    shown = "".join(s.hidden or s.text for s in result.segments)
    shown.encode("utf-8")
