"""Term matching: match types, modes, hashtags, spans in the original text, batching."""

from __future__ import annotations

import pytest

from brightline.errors import InvalidInput
from brightline.text.matching import MatchType, TermHit, TermMatcher
from brightline.text.normalise import BARRIER
from brightline.text.terms import MatchMode, Term, TermList


def matcher(*terms: Term, min_compact_length: int = 6) -> TermMatcher:
    return TermMatcher([TermList("coded", "v1", terms)], min_compact_length=min_compact_length)


def found(hits: list[TermHit], text: str) -> list[tuple[str, str, str]]:
    return [(hit.term, hit.match_type.value, text[hit.start : hit.end]) for hit in hits]


PLAIN = matcher(Term("zorblax"), Term("quenvik vorp"), Term("qix"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a zorblax b", ("zorblax", "exact", "zorblax")),
        ("a ZorBlax b", ("zorblax", "exact", "ZorBlax")),
        ("a zo\u200brbbblax! b", ("zorblax", "normalised", "zo\u200brbbblax")),
        ("a \uff5aorblax b", ("zorblax", "normalised", "\uff5aorblax")),
        ("a z0rb1ax b", ("zorblax", "leet", "z0rb1ax")),
        ("a zorbl@x b", ("zorblax", "leet", "zorbl@x")),
        ("a z\u043erbl\u0430x b", ("zorblax", "homoglyph", "z\u043erbl\u0430x")),
        ("a z.o.r.b.l.a.x b", ("zorblax", "compact", "z.o.r.b.l.a.x")),
        ("a zorb lax b", ("zorblax", "compact", "zorb lax")),
        ("a quenvik-vorp b", ("quenvik vorp", "normalised", "quenvik-vorp")),
        ("a quenvikvorp b", ("quenvik vorp", "normalised", "quenvikvorp")),
        ("a QIX b", ("qix", "exact", "QIX")),
    ],
)
def test_match_types(text: str, expected: tuple[str, str, str]) -> None:
    assert found(PLAIN.match(text), text) == [expected]


def test_hit_reports_list_mode_weight_and_offsets() -> None:
    weighted = TermMatcher([TermList("coded", "v7", (Term("zorblax", weight=2.5),))])
    [hit] = weighted.match("x zorblax")
    assert hit == TermHit(
        list_name="coded",
        list_version="v7",
        term="zorblax",
        mode=MatchMode.TOKEN,
        match_type=MatchType.EXACT,
        start=2,
        end=9,
        weight=2.5,
        in_hashtag=False,
    )


@pytest.mark.parametrize(
    "text",
    [
        "azorblax",  # inside a longer word
        "zorblaxes",
        "q i x",  # a short term spread out: too many innocent phrases look like this
        "quixotic",
        "a #partyqixed b",  # a short term inside a hashtag, not a segment of it
    ],
)
def test_token_terms_do_not_match_inside_words(text: str) -> None:
    assert PLAIN.match(text) == []


def test_short_terms_spread_out_match_when_the_minimum_allows() -> None:
    loose = matcher(Term("qix"), min_compact_length=3)
    assert found(loose.match("q i x"), "q i x") == [("qix", "compact", "q i x")]


def test_spread_out_term_next_to_a_word_that_ends_in_its_first_letter() -> None:
    # In the compact view the z of "haz" and the z of the term are one run of z.
    text = "haz z.o.r.b.l.a.x xyz"
    assert found(PLAIN.match(text), text) == [("zorblax", "compact", "z.o.r.b.l.a.x")]


def test_repeats_of_a_letter_that_folds_to_several_when_spelled_out() -> None:
    glem = matcher(Term("glemmorax"))
    for text in ("glemmorax", "g.l.e.m.m.o.r.a.x", "g l e m.m o r a x", "glem morax"):
        assert [hit.term for hit in glem.match(text)] == ["glemmorax"], text


def test_minimum_length_counts_the_letters_as_written() -> None:
    # "zebbul" folds to five characters (the b's collapse) but has six letters.
    zebbul = matcher(Term("zebbul"))
    assert found(zebbul.match("z.e.b.b.u.l"), "z.e.b.b.u.l") == [
        ("zebbul", "compact", "z.e.b.b.u.l")
    ]


def test_compact_mode_matches_inside_words() -> None:
    compact = matcher(Term("fizzleblorp", MatchMode.COMPACT), Term("qix", MatchMode.COMPACT))
    text = "xxfizzleblorpyy qix quixotic xqixx"
    assert found(compact.match(text), text) == [
        ("fizzleblorp", "exact", "fizzleblorp"),
        ("qix", "exact", "qix"),
    ]


def test_hashtags_are_segmented() -> None:
    text = "#QuenvikVorp #xxzorblaxyy #QixLover #qix4ever #iloveqix"
    hits = PLAIN.match(text)
    assert found(hits, text) == [
        ("quenvik vorp", "normalised", "QuenvikVorp"),
        ("zorblax", "exact", "zorblax"),
        ("qix", "exact", "Qix"),
        ("qix", "exact", "qix"),
    ]
    assert all(hit.in_hashtag for hit in hits)


def test_hashtag_mode_matches_only_in_hashtags_but_anywhere_in_them() -> None:
    tags = matcher(Term("vorp", MatchMode.HASHTAG))
    text = "vorp #vorp #myvorptag"
    assert found(tags.match(text), text) == [("vorp", "exact", "vorp"), ("vorp", "exact", "vorp")]
    assert [hit.start for hit in tags.match(text)] == [6, 14]


def test_token_hit_on_a_whole_hashtag_is_marked_as_in_hashtag() -> None:
    [hit] = PLAIN.match("see #zorblax")
    assert hit.in_hashtag


def test_digits_alone_never_match_a_word_by_leetspeak() -> None:
    ease = matcher(Term("ease"))
    assert ease.match("room 3453") == []
    assert found(ease.match("e453"), "e453") == [("ease", "leet", "e453")]


def test_span_covers_trailing_combining_marks_but_not_trailing_invisibles() -> None:
    text = "zorblax\u0301\u0308\u200b!"
    [hit] = PLAIN.match(text)
    assert text[hit.start : hit.end] == "zorblax\u0301\u0308"


def test_emoji_terms_and_sequences() -> None:
    pizza = "\U0001f355"
    woman = "\U0001f469"
    family = f"{woman}\u200d{woman}\u200d\U0001f467"
    emoji = matcher(Term(pizza), Term(woman))
    text = f"{pizza}{pizza} and {family}"
    assert [(hit.term, hit.start) for hit in emoji.match(text)] == [(pizza, 0), (pizza, 1)]


def test_overlapping_terms_are_all_reported() -> None:
    both = matcher(Term("quenvik"), Term("quenvik vorp"), Term("vorp"))
    text = "quenvik vorp"
    assert sorted(found(both.match(text), text)) == [
        ("quenvik", "exact", "quenvik"),
        ("quenvik vorp", "exact", "quenvik vorp"),
        ("vorp", "exact", "vorp"),
    ]


def test_a_term_listed_twice_hits_once() -> None:
    twice = matcher(Term("zorblax"), Term("zorblax", weight=5))
    assert [hit.weight for hit in twice.match("zorblax")] == [1.0]


def test_several_lists() -> None:
    two = TermMatcher(
        [TermList("one", "1", (Term("zorblax"),)), TermList("two", "9", (Term("zorblax"),))]
    )
    assert [(hit.list_name, hit.list_version) for hit in two.match("zorblax")] == [
        ("one", "1"),
        ("two", "9"),
    ]


def test_match_many_keeps_texts_apart() -> None:
    texts = ["zorb", "lax", "zorblax", "", f"zorb{BARRIER}lax", "x z.o.r.b.l.a.x"]
    results = PLAIN.match_many(texts, batch_chars=8)
    assert [found(hits, text) for hits, text in zip(results, texts, strict=True)] == [
        [],
        [],
        [("zorblax", "exact", "zorblax")],
        [],
        [("zorblax", "normalised", f"zorb{BARRIER}lax")],
        [("zorblax", "compact", "z.o.r.b.l.a.x")],
    ]
    assert results == [PLAIN.match(text) for text in texts]


def test_a_term_with_nothing_left_is_an_error_naming_its_line() -> None:
    with pytest.raises(InvalidInput, match="term list coded, line 4: nothing is left"):
        TermMatcher([TermList("coded", "1", (Term("...", line=4),))])
    with pytest.raises(InvalidInput, match="term 2"):
        TermMatcher([TermList("coded", "1", (Term("zorblax"), Term("\u200b")))])
