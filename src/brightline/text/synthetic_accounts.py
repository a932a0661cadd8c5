"""Synthetic labelled accounts, for testing and measuring account risk scores.

Real labelled accounts cannot be shared or kept, so :func:`generate_accounts` builds a small
world with the shape of the problem from placeholder nonsense words only (no real terms, tags
or descriptions; links on example domains, invite codes, handles and wallets made up):

* **positive** accounts use placeholder terms from a term list, mostly obfuscated (leetspeak,
  Cyrillic look-alikes, dotted letters, hashtags), post invite links, payment handles, wallets
  and menus, and draw some of them from a shared *ring* that a few **confirmed** accounts also
  use; *quiet* positives write few or no terms and are found mostly through that ring;
* **negative** accounts are mostly ordinary; some are *sellers* (menus, payment handles, phone
  numbers, "dm me": commerce looks like migration) and some are *commentators* who write the
  terms plainly and often (news, research, moderation talk): the raw hit count ranks them high;
* **hubs**: a public invite link and trending tags posted by many accounts, confirmed ones
  included, which the hub cap must keep from linking anyone.

Deterministic for a given configuration (``random.Random(config.seed)``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from brightline.errors import InvalidInput
from brightline.text.account_risk import AccountPost
from brightline.text.terms import Term, TermList

CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
LEET = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "5", "t": "7"}
CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "k": "\u043a"}
HEX = "0123456789abcdef"
INVITE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@dataclass(frozen=True, slots=True)
class SyntheticAccountsConfig:
    """The shape of the generated world."""

    seed: int = 0
    accounts: int = 400
    positive_share: float = 0.2
    confirmed_share: float = 0.3
    """Of the positives, how many are already confirmed (and left out of evaluation)."""
    quiet_share: float = 0.4
    """Of the unconfirmed positives, how many write few or no terms."""
    seller_share: float = 0.1
    commentator_share: float = 0.05
    terms: int = 12
    posts_per_account: tuple[int, int] = (4, 12)

    def __post_init__(self) -> None:
        shares = (
            self.positive_share,
            self.confirmed_share,
            self.quiet_share,
            self.seller_share,
            self.commentator_share,
        )
        if not all(0.0 <= share <= 1.0 for share in shares):
            raise InvalidInput("shares must be between 0 and 1")
        if self.accounts < 10 or self.terms < 1:
            raise InvalidInput("need at least 10 accounts and 1 term")
        low, high = self.posts_per_account
        if not 1 <= low <= high:
            raise InvalidInput("posts_per_account must be (low, high) with 1 <= low <= high")


@dataclass(frozen=True, slots=True)
class SyntheticAccounts:
    posts: tuple[AccountPost, ...]
    labels: dict[str, bool]
    """Every account's ground truth (True: positive)."""
    confirmed: frozenset[str]
    """Positive accounts already confirmed by review: the seeds of expansion."""
    kinds: dict[str, str]
    """Every account's kind (benign, seller, commentator, overt, quiet, confirmed)."""
    term_list: TermList


class _World:
    def __init__(self, config: SyntheticAccountsConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - synthetic data, not security
        self.used: set[str] = set()
        self.terms = [self.word(3) for _ in range(config.terms)]
        self.filler = [self.word(self.rng.choice((2, 2, 3))) for _ in range(300)]
        self.benign_tags = [self.word(2) for _ in range(60)]
        self.community_tags = [self.word(2) for _ in range(6)]
        self.trending_tags = [self.word(2) for _ in range(3)]
        self.ring = {
            "invite": [self.invite() for _ in range(3)],
            "payment": [f"@{self.word(2)}_{self.rng.randrange(100)}" for _ in range(3)],
            "wallet": [self.wallet() for _ in range(3)],
        }
        self.public_invite = self.invite()

    def word(self, syllables: int) -> str:
        while True:
            text = "".join(
                self.rng.choice(CONSONANTS) + self.rng.choice(VOWELS) for _ in range(syllables)
            )
            if text not in self.used:
                self.used.add(text)
                return text

    def invite(self) -> str:
        return "https://t.me/+" + "".join(self.rng.choice(INVITE_CHARS) for _ in range(16))

    def wallet(self) -> str:
        return "0x" + "".join(self.rng.choice(HEX) for _ in range(40))

    def sentence(self, words: int) -> list[str]:
        return [self.rng.choice(self.filler) for _ in range(words)]

    def obfuscated(self, term: str) -> str:
        style = self.rng.choice(("leet", "homoglyph", "dotted", "hashtag", "upper"))
        if style == "leet":
            return "".join(
                LEET.get(char, char) if self.rng.random() < 0.6 else char for char in term
            )
        if style == "homoglyph":
            return "".join(CYRILLIC.get(char, char) for char in term)
        if style == "dotted":
            return ".".join(term)
        if style == "hashtag":
            return "#" + self.rng.choice(self.community_tags) + term
        return term.upper()


def generate_accounts(config: SyntheticAccountsConfig | None = None) -> SyntheticAccounts:
    """A labelled world of accounts and their posts (see the module docstring)."""
    config = config if config is not None else SyntheticAccountsConfig()
    world = _World(config)
    rng = world.rng
    positives = round(config.accounts * config.positive_share)
    confirmed_count = round(positives * config.confirmed_share)
    quiet_count = round((positives - confirmed_count) * config.quiet_share)
    negatives = config.accounts - positives
    sellers = round(negatives * config.seller_share)
    commentators = round(negatives * config.commentator_share)
    kinds_in_order = (
        ["confirmed"] * confirmed_count
        + ["quiet"] * quiet_count
        + ["overt"] * (positives - confirmed_count - quiet_count)
        + ["seller"] * sellers
        + ["commentator"] * commentators
        + ["benign"] * (negatives - sellers - commentators)
    )
    rng.shuffle(kinds_in_order)
    posts: list[AccountPost] = []
    labels: dict[str, bool] = {}
    kinds: dict[str, str] = {}
    for number, kind in enumerate(kinds_in_order):
        account = f"acct-{number:05d}"
        kinds[account] = kind
        labels[account] = kind in {"confirmed", "quiet", "overt"}
        own_handle = f"@{world.word(2)}{rng.randrange(1000)}"
        for _ in range(rng.randint(*config.posts_per_account)):
            posts.append(AccountPost(account, _post_text(world, kind, own_handle)))
    rng.shuffle(posts)
    return SyntheticAccounts(
        posts=tuple(posts),
        labels=labels,
        confirmed=frozenset(a for a, kind in kinds.items() if kind == "confirmed"),
        kinds=kinds,
        term_list=TermList("synthetic", "synthetic-1", tuple(Term(term) for term in world.terms)),
    )


def _post_text(world: _World, kind: str, own_handle: str) -> str:
    rng = world.rng
    words = world.sentence(rng.randint(4, 12))

    def add(*parts: str) -> None:
        words.insert(rng.randrange(len(words) + 1), " ".join(parts))

    chance = rng.random
    if kind in {"confirmed", "overt"}:
        if chance() < 0.55:
            add(world.obfuscated(rng.choice(world.terms)))
        if chance() < 0.15:
            add(rng.choice(world.terms))
        if chance() < 0.2:
            add(rng.choice(world.ring["invite"]) if chance() < 0.5 else world.invite())
        if chance() < 0.15:
            add("venmo:", rng.choice(world.ring["payment"]) if chance() < 0.5 else own_handle)
        if chance() < 0.15:
            add(rng.choice(world.ring["wallet"]) if chance() < 0.5 else world.wallet())
        if chance() < 0.15:
            add(f"pics ${rng.randint(5, 50)} vids ${rng.randint(20, 90)}")
        if chance() < 0.2:
            add("#" + rng.choice(world.community_tags))
    elif kind == "quiet":
        if chance() < 0.08:
            add(world.obfuscated(rng.choice(world.terms)))
        if chance() < 0.25:
            add(rng.choice(world.ring["invite"]))
        if chance() < 0.15:
            add("venmo:", rng.choice(world.ring["payment"]))
        if chance() < 0.1:
            add(rng.choice(world.ring["wallet"]))
        if chance() < 0.3:
            add("#" + rng.choice(world.community_tags))
        if chance() < 0.1:
            add("dm me")
    elif kind == "seller":
        if chance() < 0.4:
            add(f"prints ${rng.randint(5, 50)} mugs ${rng.randint(5, 50)}")
        if chance() < 0.3:
            add("venmo:", own_handle)
        if chance() < 0.2:
            add(f"+44 20 7946 0{rng.randint(100, 999)}")
        if chance() < 0.2:
            add("dm me")
        if chance() < 0.1:
            add(world.wallet())
    elif kind == "commentator":
        for _ in range(rng.randint(1, 3)):
            add(rng.choice(world.terms))
        if chance() < 0.3:
            add(f"https://news.example.org/{world.word(2)}")
    else:
        if chance() < 0.02:
            add(rng.choice(world.terms))
        if chance() < 0.1:
            add(f"https://www.example.com/{world.word(2)}")
        if chance() < 0.05:
            add(world.invite())
    if chance() < 0.1:
        add(world.public_invite)
    if chance() < 0.25:
        add("#" + rng.choice(world.trending_tags))
    if kind not in {"confirmed", "overt", "quiet"} and chance() < 0.3:
        add("#" + rng.choice(world.benign_tags))
    return " ".join(words)
