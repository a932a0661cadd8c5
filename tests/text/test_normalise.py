"""The normaliser: each fold step, the two views, and the map back to original offsets."""

from __future__ import annotations

import pytest

from brightline.text.normalise import BARRIER, NormalisedText, default_normaliser


def views(text: str) -> NormalisedText:
    return default_normaliser().normalise(text)


def token_view(text: str) -> str:
    return views(text).token


def originals(normalised: NormalisedText) -> list[tuple[str, str]]:
    """Each non-space token-view character with the original text it came from."""
    return [
        (char, normalised.original[normalised.token_start[i] : normalised.token_end[i]])
        for i, char in enumerate(normalised.token)
        if char != " "
    ]


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("zorblax", " zorbiax "),  # l and i fold to one letter
        ("ZORBLAX", " zorbiax "),  # case
        ("\uff5a\uff4f\uff52\uff42", " zorb "),  # fullwidth (NFKC)
        ("\U0001d433\U0001d428\U0001d42b\U0001d41b", " zorb "),  # mathematical bold (NFKC)
        ("z\u043erb", " zorb "),  # Cyrillic o (skeleton)
        ("\u0417orb", " eorb "),  # Cyrillic Ze → 3 (skeleton) → e (leet)
        ("z0rb", " zorb "),  # digit zero (skeleton)
        ("qu3nv1k", " quenvik "),  # leet digits
        ("z\u200bo\u200dr\u2060b\u00ad", " zorb "),  # zero-width and soft hyphen
        ("zo\U000e0041\U000e0042rb", " zorb "),  # tag characters
        ("z\u2800orb", " zorb "),  # braille blank
        ("z\u0301o\u0308r\u0327b", " zorb "),  # combining marks
        ("zzzooorrrbbb", " zorb "),  # repeated letters
        ("zorb...  ---  lax", " zorb iax "),  # separator runs
        ("pl@ce h0|d", " piace hoid "),  # symbols inside words are letters
        ("@quenvik wow!", " quenvik wow "),  # ...but punctuation at a word's edge
        ("m", " rn "),  # TR39: m and rn are confusable
        ("", " "),
    ],
)
def test_token_view(text: str, token: str) -> None:
    assert views(text).token == token


def test_compact_view_drops_separators_and_collapses_again() -> None:
    assert token_view("z.o.r.r b-b lax") == " z o r r b b iax "
    assert views("z.o.r.r b-b lax").compact == "zorbiax"


def test_every_view_character_maps_to_its_original_span() -> None:
    text = "Z\u200b\u043errr\u0301b"
    assert originals(views(text)) == [("z", "Z"), ("o", "\u043e"), ("r", "rrr"), ("b", "b")]
    # Invisible characters are folded into nothing; the span of a hit covers them.
    normalised = views(text)
    assert normalised.token_span(1, 4) == (0, len(text))


def test_compact_offsets_span_removed_separators() -> None:
    text = "x z.o.r.b y"
    normalised = views(text)
    first = normalised.compact.index("z")
    start, end = normalised.compact_span(first, first + 3)
    assert text[start:end] == "z.o.r.b"


def test_expansions_map_every_piece_to_the_same_character() -> None:
    normalised = views("\ufb01x m")  # the ligature fi, and m → rn
    assert originals(normalised) == [
        ("f", "\ufb01"),
        ("i", "\ufb01"),
        ("x", "x"),
        ("r", "m"),
        ("n", "m"),
    ]


def test_emoji_are_words_and_sequences_stay_whole() -> None:
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
    normalised = views(f"hi{family}there \u2764\ufe0f \U0001f44d\U0001f3fd")
    assert normalised.token == f" hi {family} there \u2764 \U0001f44d "
    flag = "\U0001f1ec\U0001f1e7"
    keycap = "1\ufe0f\u20e3"
    assert views(f"{flag}{keycap}").token == f" {flag} 1\u20e3 "


def test_joiner_between_letters_is_invisible_even_with_emoji_elsewhere() -> None:
    normalised = views("zo\u200drb \U0001f469\u200d\U0001f467")
    assert normalised.token.split()[0] == "zorb"


def test_hashtag_bodies_are_found_in_the_token_view() -> None:
    normalised = views("see #QuenvikZorb and \uff03zorb2 but not # alone")
    bodies = [normalised.token[start:end] for start, end in normalised.hashtags]
    assert bodies == ["quenvikzorb", "zorb2"]


def test_barrier_is_a_word_of_its_own_in_both_views() -> None:
    normalised = views(f"zorb{BARRIER}lax")
    assert normalised.token == f" zorb {BARRIER} iax "
    assert normalised.compact == f"zorb{BARRIER}iax"


def test_stage_forms_fold_less() -> None:
    normaliser = default_normaliser()
    assert normaliser.stage_form("Z\u200bORB-lax", "case") == "zorblax"
    assert normaliser.stage_form("z0rb l@x", "leet") == "zorbiax"
    assert normaliser.stage_form("z\u043erb", "case") == "z\u043erb"
    assert normaliser.stage_form("z\u043erb", "full") == "zorb"


def test_long_text_offsets_stay_exact() -> None:
    word = "Qu\u0435nv\u200bik "
    text = word * 5000
    normalised = views(text)
    starts = [i for i in range(len(normalised.token)) if normalised.token.startswith(" quenvik", i)]
    assert len(starts) == 5000
    last = starts[-1] + 1
    assert normalised.token_span(last, last + 6) == (len(text) - len(word), len(text) - 1)


def test_repeats_of_a_multi_character_fold_collapse_like_any_repeat() -> None:
    text = "term\u200bmm \ufb01\ufb01x"
    normalised = views(text)
    assert token_view(text) == " tern fix "  # r + rn + rn + rn
    assert originals(normalised)[2:4] == [("r", "rm\u200bmm"), ("n", "m\u200bmm")]
    assert originals(normalised)[4:6] == [("f", "\ufb01\ufb01"), ("i", "\ufb01\ufb01")]


@pytest.mark.parametrize("text", ["zorblax \ud800", "\udc00zorblax", "zor\ud83dblax \u202e x"])
def test_lone_surrogates_do_not_crash_and_keep_their_offsets(text: str) -> None:
    # JSON lets a post carry an unpaired surrogate ("\ud800"); it must fold like any other
    # unknown character, never raise (it used to fail encoding to UTF-32).
    normalised = default_normaliser().normalise(text)
    assert "zorblax" in normalised.token or "zor" in normalised.token
    for index in range(len(normalised.token)):
        start, end = normalised.token_span(index, index)
        assert 0 <= start < end <= len(text)
