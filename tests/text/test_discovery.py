"""Variant discovery: each method on hand-made posts, fusion, determinism, caps, metrics and the
synthetic generator. Every tag is placeholder nonsense."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.errors import InvalidInput
from brightline.text import default_normaliser
from brightline.text.discovery import (
    DiscoveryConfig,
    Method,
    Post,
    RankedTag,
    build_corpus,
    cooccurrence_ranking,
    discover,
    graph_ranking,
    hashtags_in_text,
    jaro_winkler,
    reciprocal_rank_fusion,
    skeletons,
    spelling_ranking,
    spelling_similarity,
    tag_key,
    timestamp,
)
from brightline.text.evaluation import mean_metrics, metrics_by_type, ranking_metrics
from brightline.text.synthetic_posts import (
    SyntheticConfig,
    VariantType,
    generate_posts,
)

SEED = frozenset({"zorblax"})


def post(account: str, *tags: str, when: float = 0.0) -> Post:
    return Post(account=account, time=when, hashtags=tags)


def small_world() -> list[Post]:
    """Seed users move from #zorblax to #quenvik (a code word) and #z0rblax; a hub tag is on
    everything; #zorbin is a benign look-alike used by other people."""
    posts = []
    for number in range(4):
        account = f"u{number}"
        posts.append(post(account, "zorblax", "mivadu", "hubhub", when=1.0))
        posts.append(post(account, "quenvik", "mivadu", "hubhub", when=5.0))
        posts.append(post(account, "z0rblax", "hubhub", when=6.0))
    for number in range(12):
        account = f"b{number}"
        posts.append(post(account, "hubhub", "tepolu", when=2.0))
        posts.append(post(account, "zorbin", "tepolu", "hubhub", when=3.0))
    posts.append(post("u0", "lonely", when=4.0))  # one account only: below the support bar
    return posts


def tags_of(ranking: tuple[RankedTag, ...]) -> list[str]:
    return [entry.tag for entry in ranking]


# -- tags -----------------------------------------------------------------------------------


def test_tag_key_drops_the_mark_case_width_and_invisible_characters() -> None:
    assert tag_key("#ZorBlax") == "zorblax"
    assert tag_key("".join(chr(ord(char) + 0xFEE0) for char in "zorblax"))  # fullwidth == "zorblax"
    assert tag_key("zor\u200bblax") == "zorblax"
    # Lighter than the full fold: leetspeak and look-alikes stay distinct tags.
    assert tag_key("z0rblax") == "z0rblax"
    assert tag_key("z\u043erblax") != "zorblax"


def test_hashtags_are_taken_from_text_as_written() -> None:
    assert hashtags_in_text("see #Z0rblax and #quenvik! but not # this") == ["Z0rblax", "quenvik"]
    found = discover(
        [Post(account=f"a{n}", time=0, text="#zorblax #Quenvik") for n in range(3)],
        ["zorblax"],
        config=DiscoveryConfig(min_support=1),
    )
    assert [candidate.tag for candidate in found.candidates] == ["quenvik"]


def test_timestamp_accepts_numbers_and_iso_dates_in_utc() -> None:
    assert timestamp(12.5) == 12.5
    assert timestamp("1970-01-02T00:00:00") == 86400.0
    assert timestamp("1970-01-02T01:00:00+01:00") == 86400.0
    with pytest.raises(InvalidInput):
        timestamp("yesterday")


# -- the three methods ----------------------------------------------------------------------


def test_cooccurrence_counts_accounts_and_needs_support() -> None:
    corpus = build_corpus(small_world(), SEED)
    ranking = cooccurrence_ranking(corpus, SEED, SEED)
    ranked = tags_of(ranking)
    # The code word never shares a post with the seed but is used by the seed's users.
    assert set(ranked[:3]) == {"quenvik", "z0rblax", "mivadu"}
    assert "lonely" not in ranked  # one account
    assert "zorbin" not in ranked  # used by other people only
    assert "zorblax" not in ranked
    top = ranking[0]
    assert top.evidence["seed_accounts_using"] == 4
    assert 0 < float(top.evidence["npmi"]) <= 1


def test_graph_reaches_tags_two_steps_away_and_damps_hubs() -> None:
    posts = [post(f"a{n}", "zorblax", "mivadu") for n in range(3)]
    posts += [post(f"c{n}", "mivadu", "quenvik") for n in range(3)]
    posts += [post(f"h{n}", "hubhub", other) for n in range(3) for other in ("zorblax", "tepolu")]
    posts += [post(f"d{n}", "hubhub", f"noise{n}{m}") for n in range(6) for m in range(4)]
    corpus = build_corpus(posts, SEED)
    ranked = tags_of(graph_ranking(corpus, SEED, SEED))
    assert "quenvik" in ranked
    assert ranked.index("quenvik") < ranked.index("hubhub")
    undamped = tags_of(graph_ranking(corpus, SEED, SEED, DiscoveryConfig(hub_exponent=0.0)))
    assert undamped.index("hubhub") < undamped.index("quenvik")


def test_jaro_winkler_known_values() -> None:
    assert jaro_winkler("martha", "marhta") == pytest.approx(0.9611, abs=1e-4)
    assert jaro_winkler("dwayne", "duane") == pytest.approx(0.84, abs=1e-4)
    assert jaro_winkler("dixon", "dicksonx") == pytest.approx(0.8133, abs=1e-4)
    assert jaro_winkler("abc", "abc") == 1.0
    assert jaro_winkler("abc", "") == 0.0
    assert jaro_winkler("abc", "xyz") == 0.0


@pytest.mark.parametrize(
    ("candidate", "relation"),
    [
        ("zorbiax", "same"),
        ("zorbiaxquen", "contains"),
        ("vozorbiax", "contains"),
        ("zrbx", "abbreviation"),
        ("zorbuax", "jaro_winkler"),
    ],
)
def test_spelling_relations(candidate: str, relation: str) -> None:
    score, found = spelling_similarity(candidate, "zorbiax")
    assert found == relation
    assert 0.75 < score <= 1.0


def test_spelling_compares_skeletons_and_leaves_out_seeds_and_known_tags() -> None:
    tags = ["z0rbl4x", "z\u043erblax", "zorblaxvip", "zrblx", "zorbin", "quenvik", "oldvariant"]
    corpus = build_corpus([post("a", "zorblax", *tags)], SEED)
    excluded = SEED | {"zorblaxvip"}
    ranking = spelling_ranking(corpus, SEED, excluded)
    ranked = tags_of(ranking)
    assert ranked[:2] == sorted(["z0rbl4x", "z\u043erblax"])  # same skeleton, ties by tag
    assert ranking[0].evidence["relation"] == "same"
    assert "zrblx" in ranked
    assert "zorblaxvip" not in ranked  # already known
    assert "quenvik" not in ranked  # no letters in common
    assert "zorblax" not in ranked


# -- fusion and the whole ---------------------------------------------------------------------


def ranked(*tags: str) -> tuple[RankedTag, ...]:
    return tuple(
        RankedTag(tag=tag, rank=n, score=0.0, evidence={}) for n, tag in enumerate(tags, 1)
    )


def test_reciprocal_rank_fusion_rewards_agreement_and_breaks_ties_by_tag() -> None:
    fused = reciprocal_rank_fusion(
        {
            Method.COOCCURRENCE: ranked("solo", "both"),
            Method.SPELLING: ranked("other", "both"),
        },
        k=60,
    )
    assert [tag for tag, _, _ in fused] == ["both", "other", "solo"]
    score, ranks = fused[0][1], fused[0][2]
    assert score == pytest.approx(2 / 62)
    assert ranks == {Method.COOCCURRENCE: 2, Method.SPELLING: 2}
    assert fused[1][1] == fused[2][1]  # a tie, broken by tag


def test_discover_excludes_seeds_and_known_tags_and_reports_evidence() -> None:
    result = discover(small_world(), ["#Zorblax", "neverseen"], known=["#Mivadu"])
    tags = [candidate.tag for candidate in result.candidates]
    assert "zorblax" not in tags
    assert "mivadu" not in tags
    assert tags[0] == "z0rblax"  # all three methods agree
    top = result.candidates[0]
    assert set(top.ranks) == set(Method)
    assert top.evidence["posts"] == 4
    assert top.evidence["first_seen"] == 6.0
    assert result.seeds_found == ("zorblax",)
    assert [entry.rank for entry in result.candidates] == list(range(1, len(tags) + 1))


def test_discover_needs_a_seed_and_valid_settings() -> None:
    with pytest.raises(InvalidInput):
        discover(small_world(), ["#", ""])
    with pytest.raises(InvalidInput):
        DiscoveryConfig(restart_probability=1.5)
    with pytest.raises(InvalidInput):
        DiscoveryConfig(min_support=0)


def test_caps_bound_the_work_and_keep_the_seeds() -> None:
    config = DiscoveryConfig(max_tags_per_post=4, max_vocabulary=10, max_tag_length=9)
    flood = [f"filler{n:03d}" for n in range(200)]
    posts = [post("a", *flood, "zorblax", "x" * 10)]
    posts += [post(f"b{n}", f"other{n:03d}") for n in range(50)]
    corpus = build_corpus(posts, SEED, config=config)
    assert len(corpus.tags) == 10
    assert "zorblax" in corpus.tags  # kept first in its post, and always in the vocabulary
    assert all(len(indices) <= 4 for indices in corpus.post_tags)
    assert corpus.tags_dropped == 197 + 1 + 50 - 6  # per post, too long, vocabulary


@settings(max_examples=15, deadline=None)
@given(st.permutations(small_world()))
def test_output_does_not_depend_on_post_order(posts: list[Post]) -> None:
    expected = discover(small_world(), ["zorblax"])
    result = discover(posts, ["zorblax"])
    assert result.candidates == expected.candidates
    assert result.by_method == expected.by_method


# -- evaluation -------------------------------------------------------------------------------


def test_ranking_metrics_on_a_toy_ranking() -> None:
    metrics = ranking_metrics(["x", "a", "y", "b"], {"a", "b", "c"}, k=2)
    assert metrics.precision_at_k == 0.5
    assert metrics.recall_at_k == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank == 0.5
    empty = ranking_metrics([], {"a"}, k=5)
    assert (empty.precision_at_k, empty.recall_at_k, empty.reciprocal_rank) == (0.0, 0.0, 0.0)
    with pytest.raises(InvalidInput):
        ranking_metrics(["a"], {"a"}, k=0)


def test_metrics_by_type_ignore_other_types() -> None:
    types = {"l1": "leetspeak", "c1": "code_word", "c2": "code_word"}
    metrics = metrics_by_type(["l1", "noise", "c1", "c2"], types, k=2)
    assert metrics["all"].precision_at_k == 0.5
    # For code words, l1 is neither a hit nor a miss: the ranking is noise, c1, c2.
    assert metrics["code_word"].reciprocal_rank == 0.5
    assert metrics["code_word"].recall_at_k == 0.5
    assert metrics["leetspeak"].reciprocal_rank == 1.0
    averaged = mean_metrics([metrics["code_word"], metrics["leetspeak"]])
    assert averaged.reciprocal_rank == 0.75


# -- the synthetic generator --------------------------------------------------------------------


def tiny_config(**changes: object) -> SyntheticConfig:
    base: dict[str, object] = {
        "families": 2,
        "benign_posts": 300,
        "benign_accounts": 80,
        "benign_communities": 4,
        "noise_vocabulary": 150,
        "seed_posts_per_family": 20,
        "variant_posts": 8,
    }
    base.update(changes)
    return SyntheticConfig(**base)  # type: ignore[arg-type]


def test_generator_ground_truth_matches_the_posts() -> None:
    dataset = generate_posts(tiny_config())
    truth = dataset.truth
    fold = default_normaliser()
    assert len(truth.seeds) == 2
    assert len(truth.variant_types) == 12  # six types for each family
    posts_by_tag: dict[str, list[Post]] = {}
    for item in dataset.posts:
        assert item.hashtags is not None
        for tag in item.hashtags:
            posts_by_tag.setdefault(tag, []).append(item)
    for tag, kind in truth.variant_types.items():
        seed = truth.variant_seeds[tag]
        assert tag == tag_key(tag)
        assert all(p.time >= truth.seed_period_end for p in posts_by_tag[tag])
        skeleton, seed_skeleton = fold.normalise(tag).compact, fold.normalise(seed).compact
        if kind is VariantType.LEETSPEAK:
            assert any(char.isdigit() for char in tag)
            assert skeleton == seed_skeleton
        elif kind is VariantType.HOMOGLYPH:
            assert any(unicodedata.name(char).startswith("CYRILLIC") for char in tag)
        elif kind in (VariantType.CONCATENATION, VariantType.SUFFIX):
            assert seed in tag
        elif kind is VariantType.ABBREVIATION:
            assert spelling_similarity(skeleton, seed_skeleton)[1] == "abbreviation"
        else:
            assert not set(skeleton) & set(seed_skeleton)
    for seed in truth.seeds:  # after the seed period, a seed only appears beside a variant
        for item in posts_by_tag[seed]:
            assert item.hashtags is not None
            later = item.time >= truth.seed_period_end
            assert not later or set(item.hashtags) & set(truth.variant_types)
    assert not set(truth.lookalikes) & set(truth.variant_types)
    assert all(tag in posts_by_tag for tag in (*truth.lookalikes, *truth.hub_tags))
    assert all(tag.isascii() or tag in truth.variant_types for tag in posts_by_tag)


def test_generator_is_deterministic_and_the_hard_setting_is_harder() -> None:
    assert generate_posts(tiny_config(seed=3)) == generate_posts(tiny_config(seed=3))
    easy, hard = SyntheticConfig.easy(), SyntheticConfig.hard()
    assert hard.variant_posts < easy.variant_posts
    assert hard.transitional_rate < easy.transitional_rate
    assert hard.rare_variants_per_family > 0


def test_end_to_end_on_a_small_world_finds_the_planted_variants() -> None:
    dataset = generate_posts(tiny_config(seed=1))
    result = discover(dataset.posts, dataset.truth.seeds)
    ranking = [candidate.tag for candidate in result.candidates]
    metrics = ranking_metrics(ranking, dataset.truth.variant_types.keys(), k=10)
    assert metrics.precision_at_k >= 0.7
    assert metrics.reciprocal_rank == 1.0


def test_batched_skeletons_equal_the_compact_view_of_each_tag() -> None:
    fold = default_normaliser()
    tags = ["Z0rbl@x", "zo\u200brb.lax", "\u0437orblax", "mm", "", "a--b", "ZZZorblax", "#x"]
    assert skeletons(tags) == [fold.normalise(tag).compact for tag in tags]
