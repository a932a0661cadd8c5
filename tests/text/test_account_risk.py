"""Account risk: additive contributions, calibration, expansion with a hub cap, ranking AUC."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brightline.errors import InvalidInput
from brightline.text import MigrationExtractor, Term, TermList, TermMatcher
from brightline.text.account_risk import (
    FEATURES,
    AccountFeatures,
    AccountPost,
    AccountRiskScorer,
    ExpansionConfig,
    RiskWeights,
    fit_weights,
    ranking_auc,
    score_account,
    score_accounts,
)
from brightline.text.synthetic_accounts import SyntheticAccountsConfig, generate_accounts

TERMS = TermList("coded", "test-1", (Term("zorblax"), Term("quenvik")))
WALLET = "0x52908400098527886e0f7030069857d2e4169ee7"


@pytest.fixture(scope="module")
def scorer() -> AccountRiskScorer:
    return AccountRiskScorer(matcher=TermMatcher([TERMS]), extractor=MigrationExtractor())


finite = st.floats(min_value=-50, max_value=50, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.floats(0, 20, allow_nan=False), min_size=len(FEATURES), max_size=len(FEATURES)
    ),
    weights=st.lists(finite, min_size=len(FEATURES), max_size=len(FEATURES)),
    bias=finite,
)
def test_contributions_sum_exactly_to_the_score(
    values: list[float], weights: list[float], bias: float
) -> None:
    features = AccountFeatures("a", 1, tuple(values))
    risk = RiskWeights(bias=bias, weights=dict(zip(FEATURES, weights, strict=True)))
    scored = score_account(features, risk)
    assert math.fsum(item.amount for item in scored.contributions) == scored.score
    assert math.fsum(reversed([item.amount for item in scored.contributions])) == scored.score
    for item in scored.contributions:
        assert item.amount == item.weight * item.value
    amounts = [abs(item.amount) for item in scored.contributions]
    assert amounts == sorted(amounts, reverse=True)
    assert 0.0 <= scored.probability <= 1.0


def test_obfuscated_terms_and_migration_raise_the_score(scorer: AccountRiskScorer) -> None:
    posts = [
        AccountPost("risky", f"z0rbl@x here, join https://t.me/+AbCdEfGh12345678 {WALLET}"),
        AccountPost("risky", "pics $10 vids $20 dm me"),
        AccountPost("plain", "a walk in the park"),
        AccountPost("plain", "lunch was good"),
    ]
    scores = {item.account: item for item in scorer.score(posts)}
    assert scores["risky"].score > scores["plain"].score
    features = {item.feature for item in scores["risky"].contributions}
    assert {"terms_leet", "invite_links", "wallet_addresses", "menus_and_solicitation"} <= features
    share = next(c for c in scores["risky"].contributions if c.feature == "hit_post_share")
    assert share.value == 0.5
    assert share.detail == "1 of 2 posts"
    assert [c.feature for c in scores["plain"].contributions] == ["bias"]


def test_shared_identifier_with_a_confirmed_account_is_explained(
    scorer: AccountRiskScorer,
) -> None:
    posts = [
        AccountPost("known", f"send to {WALLET}"),
        AccountPost("linked", f"tips: {WALLET.upper().replace('0X', '0x')}"),
        AccountPost("other", "nothing here"),
    ]
    scores = {item.account: item for item in scorer.score(posts, confirmed={"known"})}
    linked = scores["linked"]
    shared = next(c for c in linked.contributions if c.feature == "shared_identifiers")
    assert shared.detail == "1 wallet"
    assert linked.shared_with == ("known",)
    assert scores["known"].confirmed
    assert not any(c.feature == "shared_identifiers" for c in scores["known"].contributions)
    assert not any(c.feature == "shared_identifiers" for c in scores["other"].contributions)


def test_an_identifier_shared_by_too_many_accounts_links_none(
    scorer: AccountRiskScorer,
) -> None:
    posts = [AccountPost(f"user-{n}", "join https://t.me/+PublicGroup12345") for n in range(5)]
    capped = AccountRiskScorer(
        matcher=scorer.matcher,
        extractor=scorer.extractor,
        expansion=ExpansionConfig(identifier_hub_cap=4),
    )
    for item in capped.score(posts, confirmed={"user-0"}):
        assert not any(c.feature == "shared_identifiers" for c in item.contributions)
    uncapped = {item.account: item for item in scorer.score(posts, confirmed={"user-0"})}
    assert uncapped["user-3"].shared_with == ("user-0",)


def test_hashtag_co_use_with_confirmed_accounts_counts(scorer: AccountRiskScorer) -> None:
    posts = [
        AccountPost("known", "#vorpalix #benu"),
        AccountPost("linked", "hello #Vorpalix"),
        AccountPost("given", "x", hashtags=("#benu",)),
    ]
    scores = {item.account: item for item in scorer.score(posts, confirmed={"known"})}
    for account in ("linked", "given"):
        tags = next(c for c in scores[account].contributions if c.feature == "shared_hashtags")
        assert tags.detail == "1 hashtag"


def test_weights_round_trip_as_versioned_json(tmp_path: Path) -> None:
    weights = RiskWeights(bias=-2.0, weights={"terms_leet": 1.5}, calibration={"accounts": 3})
    path = tmp_path / "weights.json"
    weights.save(path)
    data = json.loads(path.read_text())
    assert data["format"] == "brightline-account-risk-weights"
    assert data["version"] == 1
    assert set(data["weights"]) == set(FEATURES)
    loaded = RiskWeights.load(path)
    assert loaded.bias == -2.0
    assert loaded.weights["terms_leet"] == 1.5
    assert loaded.calibration == {"accounts": 3}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object"),
        ({"format": "other"}, '"format"'),
        ({"format": "brightline-account-risk-weights", "version": 9}, '"version"'),
        (
            {"format": "brightline-account-risk-weights", "version": 1, "bias": "x"},
            '"bias"',
        ),
        (
            {
                "format": "brightline-account-risk-weights",
                "version": 1,
                "bias": 0,
                "weights": {"nonsense": 1},
            },
            "unknown feature",
        ),
    ],
)
def test_bad_weights_files_are_refused(data: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        RiskWeights.from_json(data)


def test_ranking_auc_counts_ties_half() -> None:
    assert ranking_auc([3, 2, 1], [1, 0, 0]) == 1.0
    assert ranking_auc([1, 2, 3], [1, 0, 0]) == 0.0
    assert ranking_auc([1, 1, 1, 1], [1, 0, 1, 0]) == 0.5
    with pytest.raises(InvalidInput):
        ranking_auc([1, 2], [1, 1])


def test_fit_weights_learns_the_informative_feature() -> None:
    informative = FEATURES.index("wallet_addresses")
    features = []
    labels = []
    for n in range(60):
        values = [0.0] * len(FEATURES)
        values[informative] = 1.0 if n % 3 == 0 else 0.0
        values[FEATURES.index("other_links")] = (n % 2) * 1.0  # noise
        features.append(AccountFeatures(f"a{n}", 1, tuple(values)))
        labels.append(n % 3 == 0 and n % 5 != 0)
    weights = fit_weights(features, labels, l2=0.1)
    assert weights.weights["wallet_addresses"] > 2.0
    assert abs(weights.weights["other_links"]) < 0.5
    assert weights.calibration is not None
    assert weights.calibration["positives"] == sum(labels)
    with pytest.raises(InvalidInput, match="both positive and negative"):
        fit_weights(features, [True] * len(features))


def test_synthetic_world_is_deterministic_and_ranks_above_the_baseline() -> None:
    config = SyntheticAccountsConfig(seed=3, accounts=120)
    world = generate_accounts(config)
    assert generate_accounts(config).posts == world.posts
    scorer = AccountRiskScorer(
        matcher=TermMatcher([world.term_list]), extractor=MigrationExtractor()
    )
    features = scorer.features(world.posts, confirmed=world.confirmed)
    scores = {s.account: s.score for s in score_accounts(features, scorer.weights)}
    accounts = [a for a in world.labels if a not in world.confirmed]
    labels = [world.labels[a] for a in accounts]
    ours = ranking_auc([scores[a] for a in accounts], labels)
    assert ours > 0.85
    hits = {f.account: sum(f.values[:5]) for f in features}
    assert ours > ranking_auc([hits[a] for a in accounts], labels)


def test_expansion_config_refuses_a_cap_that_links_nothing() -> None:
    with pytest.raises(InvalidInput):
        ExpansionConfig(identifier_hub_cap=1)
