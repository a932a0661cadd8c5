"""Synthetic social posts with planted tag variants, for testing and measuring variant discovery.

Real data for this problem cannot be shared or kept, so :func:`generate_posts` builds a small
world with the shape the problem has, from pronounceable nonsense only (no real words, tags or
descriptions):

* a few **families**, each with a seed tag that gets flagged, a handful of *context* tags its
  users also write, and a pool of accounts; seed posts fall before ``seed_period_end``;
* after that, the seed is replaced by **planted variants** of six types (:class:`VariantType`):
  leetspeak, homoglyph (Cyrillic look-alikes), concatenation, suffix, abbreviation, and a
  *code word* sharing no letters with the seed that can only be found by co-occurrence. A few
  *transitional* posts carry a variant and the seed together, and a share of variant posts come
  from *newcomers* who never used the seed; in the hard setting some variants are rare (three
  posts) and drown in long-tail noise;
* **benign communities** with their own tags, **benign look-alikes** of the seeds (similar
  spelling, unrelated use), **hub tags** that appear on a large share of all posts, a long tail
  of noise tags, and ordinary posts by the family accounts too.

The ground truth (:class:`GroundTruth`) says which tags are variants, of which type and seed.
Deterministic for a given configuration (``random.Random(config.seed)``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from brightline.errors import InvalidInput
from brightline.text.discovery import Post, spelling_similarity, tag_key
from brightline.text.normalise import default_normaliser

DAY = 86_400.0

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
LEET = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "5", "t": "7", "b": "8", "g": "9"}
CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "k": "\u043a"}
SUFFIXES = ("zz", "ie", "ette", "ito", "ox", "ee")


class VariantType(StrEnum):
    """How a planted variant was made from its seed."""

    LEETSPEAK = "leetspeak"
    HOMOGLYPH = "homoglyph"
    CONCATENATION = "concatenation"
    SUFFIX = "suffix"
    ABBREVIATION = "abbreviation"
    CODE_WORD = "code_word"


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """The shape of the generated world. :meth:`easy` and :meth:`hard` are the benchmark's."""

    seed: int = 0
    families: int = 3
    variants_per_type: int = 1
    rare_variants_per_family: int = 0
    """Variants (beyond the others) that appear in only ``rare_variant_posts`` posts."""
    rare_variant_posts: int = 3
    context_tags_per_family: int = 2
    seed_posts_per_family: int = 40
    variant_posts: int = 12
    transitional_rate: float = 0.3
    """Share of variant posts that also carry the seed (people bridging to the new spelling)."""
    context_benign_rate: float = 0.02
    """Share of benign posts carrying some family's context tag (generic tags are shared)."""
    accounts_per_family: int = 12
    newcomer_rate: float = 0.1
    """Share of variant posts written by accounts that never used the seed."""
    benign_posts_per_offender: int = 2
    """Ordinary posts each family account also writes (offenders are not only offenders)."""
    benign_communities: int = 8
    tags_per_community: int = 8
    benign_posts: int = 3000
    benign_accounts: int = 600
    lookalikes_per_seed: int = 2
    lookalike_posts: int = 10
    hub_tags: int = 4
    hub_rate: float = 0.3
    noise_vocabulary: int = 1500
    noise_rate: float = 0.5
    seed_period_days: float = 30.0
    variant_period_days: float = 30.0

    @classmethod
    def easy(cls, seed: int = 0) -> SyntheticConfig:
        return cls(seed=seed)

    @classmethod
    def hard(cls, seed: int = 0) -> SyntheticConfig:
        """Fewer and rarer variant posts, fewer bridges, more noise, hubs and look-alikes."""
        return cls(
            seed=seed,
            variants_per_type=1,
            rare_variants_per_family=2,
            rare_variant_posts=3,
            context_tags_per_family=4,
            variant_posts=6,
            transitional_rate=0.15,
            context_benign_rate=0.05,
            newcomer_rate=0.4,
            benign_posts_per_offender=8,
            benign_communities=16,
            benign_posts=8000,
            benign_accounts=2000,
            lookalikes_per_seed=4,
            hub_tags=8,
            hub_rate=0.5,
            noise_vocabulary=6000,
            noise_rate=0.8,
        )

    def __post_init__(self) -> None:
        if self.families < 1 or self.variants_per_type < 1 or self.accounts_per_family < 2:
            raise InvalidInput("need at least one family, one variant per type and two accounts")
        rates = (
            self.transitional_rate,
            self.context_benign_rate,
            self.hub_rate,
            self.newcomer_rate,
        )
        for rate in rates:
            if not 0.0 <= rate <= 1.0:
                raise InvalidInput("rates must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What was planted. Tags are given as :func:`~brightline.text.discovery.tag_key` keys."""

    seeds: tuple[str, ...]
    variant_types: Mapping[str, VariantType]
    variant_seeds: Mapping[str, str]
    rare_variants: frozenset[str]
    context_tags: tuple[str, ...]
    lookalikes: tuple[str, ...]
    hub_tags: tuple[str, ...]
    seed_period_end: float


@dataclass(frozen=True, slots=True)
class SyntheticDataset:
    posts: tuple[Post, ...]
    truth: GroundTruth


@dataclass
class _Words:
    """Pronounceable nonsense words, never the same twice and never near a seed by accident."""

    rng: random.Random
    used: set[str] = field(default_factory=set)
    seed_skeletons: list[str] = field(default_factory=list)

    def word(self, syllables: int, *, consonants: str = CONSONANTS, vowels: str = VOWELS) -> str:
        while True:
            text = "".join(
                self.rng.choice(consonants) + self.rng.choice(vowels) for _ in range(syllables)
            )
            if self.rng.random() < 0.5:
                text += self.rng.choice(consonants)
            if text not in self.used and self._far_from_seeds(text):
                self.used.add(text)
                return text

    def _far_from_seeds(self, text: str) -> bool:
        skeleton = default_normaliser().normalise(text).compact
        return all(
            spelling_similarity(skeleton, seed)[0] < 0.7
            and spelling_similarity(seed, skeleton)[0] < 0.7
            for seed in self.seed_skeletons
        )


def _leetspeak(rng: random.Random, seed: str) -> str:
    positions = [index for index, char in enumerate(seed) if char in LEET]
    chosen = set(rng.sample(positions, k=max(1, len(positions) // 2)))
    return "".join(LEET[char] if index in chosen else char for index, char in enumerate(seed))


def _homoglyph(rng: random.Random, seed: str) -> str:
    positions = [index for index, char in enumerate(seed) if char in CYRILLIC]
    chosen = set(rng.sample(positions, k=min(2, len(positions))))
    return "".join(CYRILLIC[char] if index in chosen else char for index, char in enumerate(seed))


def _abbreviation(seed: str, variant: int) -> str:
    """Vowels dropped (first letter kept); a second one also drops the last consonant."""
    consonants = seed[0] + "".join(char for char in seed[1:] if char not in VOWELS)
    return consonants if variant == 0 else consonants[:-1]


class _World:
    def __init__(self, config: SyntheticConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - synthetic data, not security
        self.words = _Words(self.rng)
        self.posts: list[Post] = []
        self.filler = [self.words.word(2) for _ in range(60)]
        self.seed_period_end = config.seed_period_days * DAY
        self.end = self.seed_period_end + config.variant_period_days * DAY

    def text(self, tags: list[str]) -> str:
        words = self.rng.sample(self.filler, k=self.rng.randint(2, 6))
        return " ".join(words + [f"#{tag}" for tag in tags])

    def post(self, account: str, when: float, tags: list[str]) -> None:
        unique = list(dict.fromkeys(tags))
        self.posts.append(
            Post(account=account, time=when, text=self.text(unique), hashtags=tuple(unique))
        )

    def extras(self, hubs: list[str], noise: list[str]) -> list[str]:
        tags = []
        if hubs and self.rng.random() < self.config.hub_rate:
            tags.append(self.rng.choice(hubs))
        if noise and self.rng.random() < self.config.noise_rate:
            # Long tail: low indices are far more common than high ones.
            tags.append(noise[min(len(noise) - 1, int(self.rng.paretovariate(1.0)) - 1)])
        return tags


def generate_posts(config: SyntheticConfig | None = None) -> SyntheticDataset:
    """Generate posts and their ground truth; see the module docstring for the world's shape."""
    config = config or SyntheticConfig.easy()
    world = _World(config)
    rng, words = world.rng, world.words
    # Seeds use only the vowels a and o so that a code word can avoid every letter of them.
    seeds = [words.word(3, consonants="bdgklprstz", vowels="ao") for _ in range(config.families)]
    words.seed_skeletons = [default_normaliser().normalise(seed).compact for seed in seeds]
    hubs = [words.word(2) for _ in range(config.hub_tags)]
    noise = [words.word(rng.choice((2, 3))) for _ in range(config.noise_vocabulary)]
    communities = [
        [words.word(rng.choice((2, 3))) for _ in range(config.tags_per_community)]
        for _ in range(config.benign_communities)
    ]
    contexts = [[words.word(2) for _ in range(config.context_tags_per_family)] for _ in seeds]
    all_contexts = [tag for family in contexts for tag in family]

    variant_types: dict[str, VariantType] = {}
    variant_seeds: dict[str, str] = {}
    rare: set[str] = set()
    lookalikes: list[str] = []
    for family, seed in enumerate(seeds):
        planted: list[tuple[str, VariantType]] = []
        for variant in range(config.variants_per_type + config.rare_variants_per_family):
            made = {
                VariantType.LEETSPEAK: _leetspeak(rng, seed),
                VariantType.HOMOGLYPH: _homoglyph(rng, seed),
                VariantType.CONCATENATION: seed + words.word(1)
                if variant % 2 == 0
                else words.word(1) + seed,
                VariantType.SUFFIX: seed + SUFFIXES[(family + variant) % len(SUFFIXES)],
                VariantType.ABBREVIATION: _abbreviation(seed, variant % 2),
                VariantType.CODE_WORD: words.word(
                    3, consonants="".join(c for c in "fnvhwj" if c not in seed), vowels="eu"
                ),
            }
            kinds = list(VariantType)
            if variant >= config.variants_per_type:
                kinds = [rng.choice(kinds)]
            for kind in kinds:
                tag = tag_key(made[kind])
                if tag in variant_types or tag == seed:
                    continue
                words.used.add(tag)
                variant_types[tag] = kind
                variant_seeds[tag] = seed
                planted.append((tag, kind))
                if variant >= config.variants_per_type:
                    rare.add(tag)
        accounts = [f"f{family}-a{number}" for number in range(config.accounts_per_family)]
        newcomers = [f"f{family}-n{number}" for number in range(config.accounts_per_family)]
        for _ in range(config.seed_posts_per_family):
            when = rng.uniform(0.0, world.seed_period_end)
            tags = [seed, *rng.sample(contexts[family], k=rng.randint(1, 2))]
            world.post(rng.choice(accounts), when, tags + world.extras(hubs, noise))
        for tag, _kind in planted:
            count = config.rare_variant_posts if tag in rare else config.variant_posts
            for _ in range(count):
                when = rng.uniform(world.seed_period_end, world.end)
                tags = [tag, *rng.sample(contexts[family], k=rng.randint(1, 2))]
                if rng.random() < config.transitional_rate:
                    tags.append(seed)
                author = rng.choice(newcomers if rng.random() < config.newcomer_rate else accounts)
                world.post(author, when, tags + world.extras(hubs, noise))
        for account in accounts + newcomers:
            for _ in range(config.benign_posts_per_offender):
                tags = rng.sample(rng.choice(communities), k=rng.randint(1, 3))
                world.post(account, rng.uniform(0.0, world.end), tags + world.extras(hubs, noise))
        for _ in range(config.lookalikes_per_seed):
            lookalike = _lookalike(rng, seed, words)
            lookalikes.append(lookalike)
            community = rng.choice(communities)
            for _ in range(config.lookalike_posts):
                tags = [lookalike, *rng.sample(community, k=rng.randint(1, 3))]
                world.post(
                    f"b{rng.randrange(config.benign_accounts)}",
                    rng.uniform(0.0, world.end),
                    tags + world.extras(hubs, noise),
                )

    for _ in range(config.benign_posts):
        community = rng.choice(communities)
        tags = rng.sample(community, k=rng.randint(1, 3))
        if all_contexts and rng.random() < config.context_benign_rate:
            tags.append(rng.choice(all_contexts))
        world.post(
            f"b{rng.randrange(config.benign_accounts)}",
            rng.uniform(0.0, world.end),
            tags + world.extras(hubs, noise),
        )
    rng.shuffle(world.posts)
    return SyntheticDataset(
        posts=tuple(world.posts),
        truth=GroundTruth(
            seeds=tuple(seeds),
            variant_types=variant_types,
            variant_seeds=variant_seeds,
            rare_variants=frozenset(rare),
            context_tags=tuple(all_contexts),
            lookalikes=tuple(lookalikes),
            hub_tags=tuple(hubs),
            seed_period_end=world.seed_period_end,
        ),
    )


def _lookalike(rng: random.Random, seed: str, words: _Words) -> str:
    """A benign tag spelled like the seed: two letters changed, so no rule folds them together."""
    while True:
        letters = list(seed)
        for index in rng.sample(range(1, len(seed)), k=2):
            pool = VOWELS if letters[index] in VOWELS else CONSONANTS
            letters[index] = rng.choice([char for char in pool if char != letters[index]])
        tag = "".join(letters)
        skeleton = default_normaliser().normalise(tag).compact
        if tag not in words.used and skeleton != default_normaliser().normalise(seed).compact:
            words.used.add(tag)
            return tag
