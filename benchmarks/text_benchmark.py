"""Text normalise + match throughput with 10,000 placeholder terms, against a naive baseline.

Run from the repository root::

    python benchmarks/text_benchmark.py                 # the table in docs/text.md
    python benchmarks/text_benchmark.py --megabytes 2 --repeats 3

Everything runs in one process on one core, so every figure is per core. Throughput is MB of
UTF-8 input per second, the median over ``--repeats`` runs after a warm-up run.

The terms are 10,000 synthetic placeholder words (pronounceable nonsense from a fixed syllable
set: no real term of any kind). The text is synthetic posts of about 280 characters made of
filler words from another synthetic vocabulary, punctuation, some emoji, hashtags and links; one
post in three carries a planted term, spelled plainly or obfuscated (leetspeak, homoglyphs,
zero-width characters, spacing, hashtag concatenation).

The baseline is what a first attempt might do: for every term, ``str.find`` over the lowercased
text (and, slower, one compiled case-insensitive word-boundary regex per term). It runs on a
sample, because on the whole text it takes minutes, and it finds only the plain spellings; the
table reports the speed ratio and the share of planted terms each approach found.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from brightline.text import MigrationExtractor, Term, TermList, TermMatcher, default_normaliser
from brightline.text.terms import MatchMode

ONSETS = ["b", "br", "d", "dr", "f", "fl", "g", "gr", "k", "kw", "l", "m", "n", "p", "pl", "qu"]
ONSETS += ["r", "s", "sn", "st", "t", "tr", "v", "vr", "w", "x", "z", "zh"]
NUCLEI = ["a", "e", "i", "o", "u", "ae", "ou", "y"]
CODAS = ["", "", "", "b", "k", "l", "m", "n", "p", "r", "s", "x", "z", "nd", "rk"]
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441"}
LEET = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "5", "t": "7"}
EMOJI = ["\U0001f600", "\U0001f525", "\u2764\ufe0f", "\U0001f44d\U0001f3fd", "\U0001f389"]


def synthetic_word(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS) for _ in range(syllables)
    )


def make_terms(rng: random.Random, count: int) -> list[Term]:
    seen: set[str] = set()
    terms = []
    while len(terms) < count:
        word = synthetic_word(rng, rng.choice([2, 2, 3, 3, 4]))
        if len(word) < 5 or word in seen:
            continue
        seen.add(word)
        roll = rng.random()
        if roll < 0.05:
            word = f"{word} {synthetic_word(rng, 2)}"
        mode = MatchMode.COMPACT if roll > 0.95 else MatchMode.HASHTAG if roll > 0.9 else None
        terms.append(Term(word, mode or MatchMode.TOKEN, weight=round(rng.uniform(0.5, 3), 2)))
    return terms


def obfuscate(rng: random.Random, term: str) -> str:
    trick = rng.choice(["plain", "leet", "homoglyph", "zero-width", "spaced", "hashtag", "case"])
    if trick == "leet":
        return "".join(LEET.get(ch, ch) if rng.random() < 0.5 else ch for ch in term)
    if trick == "homoglyph":
        return "".join(HOMOGLYPHS.get(ch, ch) for ch in term)
    if trick == "zero-width":
        return "\u200b".join(term)
    if trick == "spaced":
        return ".".join(term)
    if trick == "hashtag":
        return "#" + term.replace(" ", "").capitalize()
    if trick == "case":
        return term.upper()
    return term


def make_posts(
    rng: random.Random, terms: Sequence[Term], filler: Sequence[str], megabytes: float
) -> tuple[list[str], list[str]]:
    """Posts of about 280 characters, and the term planted in each (or "")."""
    posts, planted = [], []
    size = 0
    target = megabytes * 1e6
    while size < target:
        words = []
        length = 0
        plant = ""
        if rng.random() < 1 / 3:
            term = rng.choice(terms)
            if term.mode is not MatchMode.HASHTAG:
                plant = term.text
        insert_at = rng.randrange(0, 30)
        while length < 280:
            roll = rng.random()
            if len(words) == insert_at and plant:
                word = obfuscate(rng, plant)
            elif roll < 0.03:
                word = rng.choice(EMOJI)
            elif roll < 0.05:
                word = "#" + rng.choice(filler).capitalize() + rng.choice(filler)
            elif roll < 0.06:
                word = f"https://example.org/{rng.choice(filler)}"
            else:
                word = rng.choice(filler) + rng.choice(["", "", "", ",", ".", "!", "?"])
            words.append(word)
            length += len(word) + 1
        if plant and insert_at >= len(words):
            words.append(obfuscate(rng, plant))
        post = " ".join(words)
        posts.append(post)
        planted.append(plant)
        size += len(post.encode("utf-8"))
    return posts, planted


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and best wall-clock seconds over ``repeats`` runs, after a warm-up run."""
    run()  # warm-up: fills the normaliser's per-code-point tables
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def rate(value: float) -> str:
    return f"{value:,.2f}" if value >= 0.1 else f"{value:.4f}"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def naive_find(terms: Sequence[str], posts: Sequence[str]) -> list[set[str]]:
    found = []
    for post in posts:
        lowered = post.lower()
        found.append({term for term in terms if lowered.find(term) != -1})
    return found


def naive_regex(patterns: Sequence[tuple[str, re.Pattern[str]]], posts: Sequence[str]) -> None:
    for post in posts:
        for _, pattern in patterns:
            pattern.search(post)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--megabytes", type=float, default=4.0)
    parser.add_argument("--sample-kb", type=float, default=64.0, help="baseline sample size")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    terms = make_terms(rng, args.terms)
    term_texts = {term.text for term in terms}
    filler = sorted(
        {synthetic_word(rng, rng.choice([1, 1, 2, 2, 3])) for _ in range(30_000)} - term_texts
    )
    posts, planted = make_posts(rng, terms, filler, args.megabytes)
    megabytes = sum(len(post.encode("utf-8")) for post in posts) / 1e6

    started = time.perf_counter()
    matcher = TermMatcher([TermList("benchmark", "synthetic", tuple(terms))])
    build_seconds = time.perf_counter() - started
    normaliser = default_normaliser()
    extractor = MigrationExtractor()

    def normalise_batched() -> None:
        for first in range(0, len(posts), 4000):
            normaliser.normalise("\ufdd0".join(posts[first : first + 4000]))

    rows: list[tuple[str, float, float, str]] = []

    def measure(name: str, run: Callable[[], object], size: float, repeats: int) -> float:
        median, best = timed(run, repeats)
        rows.append((name, size / median, size / best, ""))
        return size / median

    measure("normalise only (batched)", normalise_batched, megabytes, args.repeats)
    ours = measure(
        "normalise + match, batched (match_many)",
        lambda: matcher.match_many(posts),
        megabytes,
        args.repeats,
    )
    few = posts[: max(1, len(posts) // 4)]
    few_mb = sum(len(post.encode("utf-8")) for post in few) / 1e6
    measure(
        "normalise + match, one post at a time (match)",
        lambda: [matcher.match(post) for post in few],
        few_mb,
        args.repeats,
    )
    measure(
        "migration extractors (extract_many)",
        lambda: extractor.extract_many(few),
        few_mb,
        max(1, args.repeats // 2),
    )

    sample: list[str] = []
    sample_bytes = 0
    for post in posts:
        if sample_bytes >= args.sample_kb * 1000:
            break
        sample.append(post)
        sample_bytes += len(post.encode("utf-8"))
    sample_mb = sample_bytes / 1e6
    lowered_terms = [term.text.lower() for term in terms]
    naive = measure(
        "baseline: str.find per term, on a sample",
        lambda: naive_find(lowered_terms, sample),
        sample_mb,
        1,
    )
    patterns = [
        (term, re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE)) for term in lowered_terms
    ]
    regex_sample = sample[: max(1, len(sample) // 8)]
    regex_mb = sum(len(post.encode("utf-8")) for post in regex_sample) / 1e6
    regex = measure(
        "baseline: one regex per term, on a sample",
        lambda: naive_regex(patterns, regex_sample),
        regex_mb,
        1,
    )
    rows[-2] = (*rows[-2][:3], f"{ours / naive:,.0f}x")
    rows[-1] = (*rows[-1][:3], f"{ours / regex:,.0f}x")

    # Recall on the planted terms (each planted post has exactly one).
    hits = matcher.match_many(posts)
    planted_posts = [i for i, plant in enumerate(planted) if plant]
    ours_found = sum(1 for i in planted_posts if any(h.term == planted[i] for h in hits[i]))
    naive_hits = naive_find(lowered_terms, [posts[i] for i in planted_posts])
    naive_found = sum(
        1 for i, found in zip(planted_posts, naive_hits, strict=True) if planted[i] in found
    )

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()}, {cpu_model()}, one core (load average {load}); "
        f"{len(terms):,} terms (automata built in {build_seconds:.2f} s); "
        f"{megabytes:.1f} MB in {len(posts):,} posts; {args.repeats} runs."
    )
    print()
    print("| what | MB/s per core, median | best run | batched match vs this |")
    print("|---|---:|---:|---:|")
    for name, median, best, ratio in rows:
        print(f"| {name} | {rate(median)} | {rate(best)} | {ratio} |")
    print()
    print(
        f"Planted terms found: ours {ours_found / len(planted_posts):.1%}, "
        f"str.find baseline {naive_found / len(planted_posts):.1%} "
        f"({len(planted_posts):,} planted; five in seven obfuscated beyond letter case)."
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
