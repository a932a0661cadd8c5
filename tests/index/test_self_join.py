"""Exactness of the PDQ self-join (:func:`brightline.index.pdq_pairs_within`).

Every result is compared with a numpy brute force over all pairs.  Inputs are built to
stress the join: planted near-duplicate groups, exact duplicates, pairs planted right at the
pigeonhole boundary (every chunk but one just beyond its radius), and one heavy bucket (many
variants of one hash) that overflows the kernels' first output buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from brightline.index import InvalidHashError, pdq_pairs_within
from brightline.index.self_join import JoinStrategy, chunk_radii

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THRESHOLDS = [0, 1, 15, 31, 32, 47, 64]
STRATEGIES: list[JoinStrategy] = ["join", "scan", "auto"]
_BYTE_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(1)


def brute_force(hashes: NDArray[np.uint8], max_distance: int) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(hashes), 256):
        block = hashes[start : start + 256]
        dist = _BYTE_POPCOUNT[block[:, None, :] ^ hashes[None, :, :]].sum(axis=2)
        rows, cols = np.nonzero(dist <= max_distance)
        pairs.update(
            (start + int(r), int(c)) for r, c in zip(rows, cols, strict=True) if start + r < c
        )
    return pairs


def as_pairs(found: tuple[NDArray[np.int64], NDArray[np.int64]]) -> list[tuple[int, int]]:
    a, b = found
    assert a.dtype == np.int64
    assert b.dtype == np.int64
    return list(zip(a.tolist(), b.tolist(), strict=True))


def flip(row: NDArray[np.uint8], bits: list[int]) -> NDArray[np.uint8]:
    out = row.copy()
    for bit in bits:
        out[bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def chunk_bits(k: int) -> list[int]:
    """Bit numbers (byte * 8 + bit, as :func:`flip` takes them) of the join's chunk ``k``:
    the 16-bit quarter ``k & 3`` of native-endian 64-bit word ``k >> 2``."""
    word = np.zeros(4, dtype=np.uint64)
    word[k >> 2] = np.uint64(0xFFFF) << np.uint64(16 * (k & 3))
    raw = np.unpackbits(word.view(np.uint8), bitorder="little")
    return np.flatnonzero(raw).tolist()


@st.composite
def hash_sets(draw: st.DrawFn) -> NDArray[np.uint8]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    seeds = rng.integers(0, 256, size=(draw(st.integers(1, 6)), 32), dtype=np.uint8)
    rows = []
    for _ in range(draw(st.integers(0, 90))):
        kind = draw(st.sampled_from(["variant", "copy", "random"]))
        if kind == "random":
            rows.append(rng.integers(0, 256, size=32, dtype=np.uint8))
            continue
        seed = seeds[int(rng.integers(len(seeds)))]
        flips = 0 if kind == "copy" else draw(st.integers(0, 70))
        rows.append(flip(seed, rng.choice(256, size=flips, replace=False).tolist()))
    return np.array(rows, dtype=np.uint8).reshape(-1, 32)


@PROPERTY
@given(
    hash_sets(),
    st.sampled_from(THRESHOLDS) | st.integers(0, 256),
    st.sampled_from(STRATEGIES),
    st.sampled_from([1, 2]),
)
def test_pairs_are_exactly_the_brute_force_pairs(
    hashes: NDArray[np.uint8], threshold: int, strategy: JoinStrategy, workers: int
) -> None:
    found = as_pairs(pdq_pairs_within(hashes, threshold, workers=workers, strategy=strategy))
    assert found == sorted(brute_force(hashes, threshold))


@pytest.mark.parametrize("threshold", [15, 31, 32, 47, 64])
@pytest.mark.parametrize("k", range(16))
def test_pair_found_only_through_one_chunk_at_the_pigeonhole_boundary(
    threshold: int, k: int
) -> None:
    """Every chunk but ``k`` differs in exactly one bit more than its radius, chunk ``k`` in
    exactly its radius: the pair is at distance ``threshold`` and only chunk ``k`` finds it.
    One more bit in chunk ``k`` puts it beyond the threshold."""
    radii = chunk_radii(threshold).tolist()
    assert sum(r + 1 for r in radii) == threshold + 1
    rng = np.random.default_rng(threshold * 100 + k)
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    bits = []
    for c, r in enumerate(radii):
        bits += chunk_bits(c)[: r if c == k else r + 1]
    near = flip(base, bits)
    far = flip(near, [chunk_bits(k)[15]])
    hashes = np.stack([base, near, far, rng.integers(0, 256, size=32, dtype=np.uint8)])
    assert int(_BYTE_POPCOUNT[base ^ near].sum()) == threshold
    for strategy in STRATEGIES:
        found = as_pairs(pdq_pairs_within(hashes, threshold, strategy=strategy))
        assert (0, 1) in found
        assert (0, 2) not in found
        assert found == sorted(brute_force(hashes, threshold))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_hashes_have_no_pairs(strategy: JoinStrategy, n: int) -> None:
    hashes = np.zeros((n, 32), dtype=np.uint8)
    assert as_pairs(pdq_pairs_within(hashes, 256, strategy=strategy)) == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_two_hashes(strategy: JoinStrategy) -> None:
    a = np.arange(32, dtype=np.uint8)
    b = flip(a, [3, 100, 200])
    hashes = np.stack([a, b])
    for threshold, expected in ((2, []), (3, [(0, 1)]), (0, [])):
        found = pdq_pairs_within(hashes, threshold, strategy=strategy)
        assert as_pairs(found) == expected


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("threshold", [0, 31])
def test_identical_hashes_pair_with_each_other_at_any_threshold(
    strategy: JoinStrategy, threshold: int
) -> None:
    hashes = np.tile(np.arange(32, dtype=np.uint8), (40, 1))
    found = as_pairs(pdq_pairs_within(hashes, threshold, workers=2, strategy=strategy))
    assert found == [(i, j) for i in range(40) for j in range(i + 1, 40)]


def test_threshold_zero_finds_only_exact_duplicates() -> None:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 256, size=(500, 32), dtype=np.uint8)
    hashes[300] = hashes[12]
    hashes[400] = flip(hashes[12], [0])
    for strategy in STRATEGIES:
        found = pdq_pairs_within(hashes, 0, strategy=strategy)
        assert as_pairs(found) == [(12, 300)]


@pytest.mark.parametrize("workers", [1, 2])
def test_heavy_bucket_of_variants_is_exact(workers: int) -> None:
    """1,500 variants of one hash (viral content) share buckets in every chunk and give far
    more pairs than the kernels' first buffer holds; the overflowing bucket is rerun."""
    rng = np.random.default_rng(11)
    seed = rng.integers(0, 256, size=32, dtype=np.uint8)
    variants = [
        flip(seed, rng.choice(256, size=int(rng.integers(0, 20)), replace=False).tolist())
        for _ in range(1500)
    ]
    noise = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    hashes = np.concatenate([np.stack(variants), noise])[rng.permutation(4500)]
    expected = sorted(brute_force(hashes, 31))
    assert len(expected) > 100_000
    found = as_pairs(pdq_pairs_within(hashes, 31, workers=workers, strategy="join"))
    assert found == expected


def test_crowded_neighbour_buckets_are_exact() -> None:
    """3,000 variants of a seed whose first chunk differs from the seed's in exactly one
    bit: the seed's bucket has ~1,500 rows in the buckets above it, more than the kernels'
    first gather buffer holds."""
    rng = np.random.default_rng(5)
    seed = rng.integers(0, 256, size=32, dtype=np.uint8)
    first_chunk = chunk_bits(0)
    rows = [seed]
    for _ in range(3000):
        others = rng.choice(np.arange(16, 256), size=int(rng.integers(0, 12)), replace=False)
        bits = [first_chunk[int(rng.integers(16))]] + [chunk_bits(b // 16)[b % 16] for b in others]
        rows.append(flip(seed, bits))
    hashes = np.stack(rows)
    found = as_pairs(pdq_pairs_within(hashes, 31, strategy="join"))
    assert found == sorted(brute_force(hashes, 31))


def test_auto_uses_the_join_for_many_hashes_and_agrees_with_the_scan() -> None:
    rng = np.random.default_rng(3)
    seeds = rng.integers(0, 256, size=(200, 32), dtype=np.uint8)
    hashes = rng.integers(0, 256, size=(20_000, 32), dtype=np.uint8)
    for i, seed in enumerate(seeds):
        hashes[i * 50] = seed
        hashes[i * 50 + 1] = flip(seed, rng.choice(256, size=20, replace=False).tolist())
        hashes[i * 50 + 2] = flip(seed, rng.choice(256, size=31, replace=False).tolist())
    join = as_pairs(pdq_pairs_within(hashes, 31, workers=2, strategy="join"))
    assert join == as_pairs(pdq_pairs_within(hashes, 31, strategy="auto"))
    assert join == as_pairs(pdq_pairs_within(hashes, 31, strategy="scan"))
    assert {(i * 50, i * 50 + 1) for i in range(200)} <= set(join)
    assert {(i * 50, i * 50 + 2) for i in range(200)} <= set(join)


@pytest.mark.parametrize(
    ("hashes", "threshold", "strategy"),
    [
        (np.zeros((3, 31), dtype=np.uint8), 31, "auto"),
        (np.zeros((3, 32), dtype=np.int64), 31, "auto"),
        ([[0] * 32, [0] * 32], 31, "auto"),
        (np.zeros((3, 32), dtype=np.uint8), -1, "auto"),
        (np.zeros((3, 32), dtype=np.uint8), 257, "auto"),
        (np.zeros((3, 32), dtype=np.uint8), True, "auto"),
        (np.zeros((3, 32), dtype=np.uint8), 31.0, "auto"),
        (np.zeros((3, 32), dtype=np.uint8), 31, "index"),
    ],
)
def test_invalid_arguments_are_rejected(hashes: Any, threshold: Any, strategy: Any) -> None:
    with pytest.raises(InvalidHashError):
        pdq_pairs_within(hashes, threshold, strategy=strategy)
