"""Exactness and behaviour of the PDQ Hamming-radius index.

Every search result is compared with a numpy brute force.  Banks are built to
stress the index: near-duplicate clusters, exact duplicates, and queries planted
at an exact distance (or with an exact number of flipped bits per 32-bit chunk,
in the directory or residual part) right at the pigeonhole boundary.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from brightline.index import (
    DuplicateIdError,
    IndexFormatError,
    InvalidHashError,
    PDQIndex,
    PDQIndexError,
    pdq_array_to_hex,
    pdq_hex_to_array,
)

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ----------------------------------------------------------------------- helpers


def brute_force(
    bank: NDArray[np.uint8],
    ids: NDArray[np.int64],
    query: NDArray[np.uint8],
    max_distance: int,
    disabled: set[int] | frozenset[int] = frozenset(),
) -> list[tuple[int, int]]:
    if len(bank) == 0:
        return []
    dist = np.unpackbits(bank ^ query[None, :], axis=1).sum(axis=1)
    hits = [
        (int(i), int(d))
        for i, d in zip(ids.tolist(), dist.tolist(), strict=True)
        if d <= max_distance and int(i) not in disabled
    ]
    return sorted(hits, key=lambda p: (p[1], p[0]))


def flip_bits(row: NDArray[np.uint8], k: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Copy of ``row`` differing in exactly ``k`` bits."""
    out = row.copy()
    for bit in rng.choice(256, size=k, replace=False).tolist():
        out[bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def make_bank(
    rng: np.random.Generator, n_random: int, n_seeds: int, per_seed: int, max_flips: int
) -> NDArray[np.uint8]:
    """Uniform hashes plus clusters of near-duplicates (and exact duplicates) of seeds."""
    parts = [rng.integers(0, 256, size=(n_random, 32), dtype=np.uint8)]
    for _ in range(n_seeds):
        seed = rng.integers(0, 256, size=32, dtype=np.uint8)
        flips = rng.integers(0, max_flips + 1, size=per_seed)
        parts.append(np.stack([flip_bits(seed, int(k), rng) for k in flips]))
    bank = np.concatenate(parts) if parts else np.empty((0, 32), np.uint8)
    return bank[rng.permutation(len(bank))]


def make_ids(rng: np.random.Generator, n: int) -> NDArray[np.int64]:
    """Unique, unsorted, possibly negative ids."""
    return rng.choice(np.arange(-5 * n, 5 * n + 10, dtype=np.int64), size=n, replace=False)


def build(bank: NDArray[np.uint8], ids: NDArray[np.int64], strategy: str) -> PDQIndex:
    index = PDQIndex.build(bank, ids)
    index._strategy = strategy  # type: ignore[assignment]
    return index


def check_queries(
    index: PDQIndex,
    bank: NDArray[np.uint8],
    ids: NDArray[np.int64],
    queries: list[tuple[NDArray[np.uint8], int]],
    disabled: frozenset[int] = frozenset(),
) -> None:
    for query, tau in queries:
        expected = brute_force(bank, ids, query, tau, disabled)
        assert index.query(query, tau) == expected
        assert index.query(query.tobytes(), tau) == expected


# ------------------------------------------------------------------ exactness


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    n_random=st.integers(0, 1500),
    n_seeds=st.integers(0, 4),
    per_seed=st.integers(1, 300),
    max_flips=st.integers(0, 40),
    strategy=st.sampled_from(["index", "auto"]),
    flips=st.lists(st.integers(0, 63), min_size=1, max_size=8),
    slack=st.lists(st.integers(-3, 3), min_size=1, max_size=8),
)
def test_matches_brute_force_on_random_and_clustered_banks(
    seed: int,
    n_random: int,
    n_seeds: int,
    per_seed: int,
    max_flips: int,
    strategy: str,
    flips: list[int],
    slack: list[int],
) -> None:
    rng = np.random.default_rng(seed)
    bank = make_bank(rng, n_random, n_seeds, per_seed, max_flips)
    if len(bank) == 0:
        bank = rng.integers(0, 256, size=(1, 32), dtype=np.uint8)
    ids = make_ids(rng, len(bank))
    index = build(bank, ids, strategy)
    queries = []
    for i, k in enumerate(flips):
        base = bank[rng.integers(len(bank))]
        tau = min(63, max(0, k + slack[i % len(slack)]))
        queries.append((flip_bits(base, k, rng), tau))
    queries.append((rng.integers(0, 256, size=32, dtype=np.uint8), 63))
    check_queries(index, bank, ids, queries)


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    per_chunk=st.lists(st.integers(0, 6), min_size=8, max_size=8),
    top_heavy=st.booleans(),
    tau=st.integers(0, 63),
)
def test_exact_at_pigeonhole_boundary(
    seed: int, per_chunk: list[int], top_heavy: bool, tau: int
) -> None:
    """Flip an exact number of bits in every 32-bit chunk.

    With ``per_chunk = [4] * 8`` the hash is at distance 32, just outside the
    default radius, with every chunk one bit beyond its per-chunk radius 3.
    ``top_heavy`` puts the flips into the high (directory) bits of each chunk,
    otherwise into the low (residual) bits, covering both halves of the split.
    """
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    ids = np.arange(len(bank), dtype=np.int64)
    target = int(rng.integers(len(bank)))
    words = bank[target].copy().view(np.uint32)
    for chunk, count in enumerate(per_chunk):
        bits = np.arange(31, 31 - count, -1) if top_heavy else np.arange(count)
        for b in bits.tolist():
            words[chunk] ^= np.uint32(1 << b)
    query = words.view(np.uint8)
    index = build(bank, ids, "index")
    expected = brute_force(bank, ids, query, tau)
    assert index.query(query, tau) == expected
    assert (target, sum(per_chunk)) in expected or sum(per_chunk) > tau


@pytest.mark.parametrize("strategy", ["index", "scan", "auto"])
def test_every_threshold_0_to_63(strategy: str) -> None:
    rng = np.random.default_rng(7)
    bank = make_bank(rng, 2000, 3, 200, 30)
    ids = make_ids(rng, len(bank))
    index = build(bank, ids, strategy)
    queries = [(flip_bits(bank[i], i % 64, rng), tau) for i, tau in enumerate(range(64))]
    check_queries(index, bank, ids, queries)


def test_query_many_equals_query() -> None:
    rng = np.random.default_rng(3)
    bank = make_bank(rng, 1500, 2, 100, 12)
    ids = make_ids(rng, len(bank))
    index = PDQIndex.build(bank, ids)
    queries = np.stack([flip_bits(bank[i], i % 40, rng) for i in range(60)])
    for tau in (0, 10, 31, 45, 63):
        assert index.query_many(queries, tau) == [index.query(q, tau) for q in queries]
    assert index.query_many(np.empty((0, 32), np.uint8)) == []


def test_duplicate_hashes_with_distinct_ids_are_all_returned() -> None:
    row = np.arange(32, dtype=np.uint8)
    bank = np.stack([row, row, row])
    index = PDQIndex.build(bank, np.array([30, 10, 20], dtype=np.int64))
    assert index.query(row, 0) == [(10, 0), (20, 0), (30, 0)]


def test_default_radius_is_31() -> None:
    rng = np.random.default_rng(11)
    row = rng.integers(0, 256, size=32, dtype=np.uint8)
    bank = np.stack([flip_bits(row, 31, rng), flip_bits(row, 32, rng)])
    index = PDQIndex.build(bank, np.array([1, 2], dtype=np.int64))
    assert index.query(row) == [(1, 31)]


# -------------------------------------------------------- incremental changes


def test_add_merges_segments_and_stays_exact() -> None:
    rng = np.random.default_rng(5)
    bank = make_bank(rng, 3000, 2, 200, 20)
    ids = make_ids(rng, len(bank))
    index = build(bank[:1000], ids[:1000], "index")
    for lo, hi in [(1000, 1100), (1100, 1150), (1150, 1250), (1250, 3400)]:
        index.add(bank[lo:hi], ids[lo:hi])
        assert len(index) == hi
        sizes = index.segment_sizes
        assert sum(sizes) == hi
        assert all(a > 8 * b for a, b in itertools.pairwise(sizes))
        assert len(sizes) <= 3
        queries = [(flip_bits(bank[int(rng.integers(hi))], k, rng), k) for k in (0, 5, 20, 31)]
        check_queries(index, bank[:hi], ids[:hi], queries)
    index.compact()
    assert index.segment_sizes == [len(bank)]
    check_queries(index, bank, ids, [(flip_bits(bank[7], 9, rng), 31)])


def test_many_small_adds_keep_few_segments() -> None:
    rng = np.random.default_rng(6)
    bank = rng.integers(0, 256, size=(5000, 32), dtype=np.uint8)
    ids = np.arange(len(bank), dtype=np.int64)
    index = PDQIndex.build(bank[:4000], ids[:4000])
    for lo in range(4000, 5000, 10):
        index.add(bank[lo : lo + 10], ids[lo : lo + 10])
        sizes = index.segment_sizes
        assert len(sizes) <= 3
        assert all(a > 8 * b for a, b in itertools.pairwise(sizes))
    assert sum(index.segment_sizes) == len(bank)
    queries = [(flip_bits(bank[i], 20, rng), 31) for i in range(3990, 5000, 101)]
    check_queries(index, bank, ids, queries)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    strategy=st.sampled_from(["index", "auto"]),
    ops=st.lists(
        st.tuples(st.sampled_from(["add", "disable", "enable", "query"]), st.integers(1, 700)),
        min_size=1,
        max_size=12,
    ),
)
def test_random_operation_sequences_match_a_model(
    seed: int, strategy: str, ops: list[tuple[str, int]]
) -> None:
    """Any interleaving of add/disable/enable leaves queries equal to brute force."""
    rng = np.random.default_rng(seed)
    pool = make_bank(rng, 2000, 3, 200, 20)
    pool_ids = make_ids(rng, len(pool))
    index = PDQIndex()
    index._strategy = strategy  # type: ignore[assignment]
    used = 0
    off: set[int] = set()
    for op, amount in ops:
        if op == "add":
            take = min(amount, len(pool) - used)
            index.add(pool[used : used + take], pool_ids[used : used + take])
            used += take
        elif op in ("disable", "enable") and used:
            chosen = rng.choice(pool_ids[:used], size=min(amount, used), replace=False).tolist()
            unknown = [int(pool_ids.max()) + 1 + i for i in range(3)]
            if op == "disable":
                assert index.disable(chosen + unknown) == len(chosen)
                off |= set(chosen)
            else:
                assert index.enable(np.array(chosen + unknown)) == len(chosen)
                off -= set(chosen)
        assert len(index) == used
        assert index.disabled_count == len(off)
        if used:
            base = pool[int(rng.integers(used))]
            k = int(rng.integers(0, 40))
            queries = [(flip_bits(base, k, rng), int(rng.integers(max(0, k - 3), 64)))]
            check_queries(index, pool[:used], pool_ids[:used], queries, frozenset(off))


def test_add_to_empty_index_and_empty_add() -> None:
    rng = np.random.default_rng(2)
    bank = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    ids = np.arange(50, dtype=np.int64)
    index = PDQIndex()
    index.add(np.empty((0, 32), np.uint8), np.empty(0, np.int64))
    assert len(index) == 0
    index.add(bank, ids)
    assert index.query(bank[3], 0) == [(3, 0)]


def test_duplicate_ids_are_rejected_without_changing_the_index() -> None:
    rng = np.random.default_rng(4)
    bank = rng.integers(0, 256, size=(100, 32), dtype=np.uint8)
    with pytest.raises(DuplicateIdError):
        PDQIndex.build(bank[:2], np.array([5, 5], dtype=np.int64))
    index = PDQIndex.build(bank[:50], np.arange(50, dtype=np.int64))
    with pytest.raises(DuplicateIdError, match="49"):
        index.add(bank[50:], np.arange(49, 99, dtype=np.int64))
    with pytest.raises(DuplicateIdError, match="7"):
        index.add(bank[50:51], np.array([7], dtype=np.int64))
    with pytest.raises(DuplicateIdError):
        index.add(bank[50:52], np.array([200, 200], dtype=np.int64))
    assert len(index) == 50
    assert index.query(bank[60], 0) == []


def test_disable_and_enable_take_effect_immediately() -> None:
    rng = np.random.default_rng(9)
    bank = make_bank(rng, 800, 2, 150, 10)
    ids = make_ids(rng, len(bank))
    index = build(bank[:1000], ids[:1000], "index")
    index.add(bank[1000:], ids[1000:])
    assert len(index.segment_sizes) == 2
    off = frozenset(rng.choice(ids, size=300, replace=False).tolist())
    assert index.disable(np.array(sorted(off), dtype=np.int64)) == 300
    assert index.disabled_count == 300
    queries = [(flip_bits(bank[i], i % 32, rng), 31) for i in range(0, len(bank), 37)]
    check_queries(index, bank, ids, queries, off)
    for strategy in ("scan", "auto"):
        index._strategy = strategy
        check_queries(index, bank, ids, queries, off)
    back = sorted(off)[:100]
    assert index.enable(iter(back)) == 100
    check_queries(index, bank, ids, queries, off - set(back))
    assert index.enable(back) == 100  # already enabled: still found
    assert index.disable([10**15, -(10**15)]) == 0  # unknown ids are ignored
    assert index.disable([]) == 0


def test_disable_with_wide_and_extreme_ids() -> None:
    """Ids spanning more than 2**32 are stored as int64, others as uint32 offsets."""
    rng = np.random.default_rng(1)
    bank = rng.integers(0, 256, size=(4, 32), dtype=np.uint8)
    info = np.iinfo(np.int64)
    for ids in ([info.min, -1, 0, info.max], [info.max - 3, info.max - 2, info.max - 1, info.max]):
        id_arr = np.array(ids, dtype=np.int64)
        index = PDQIndex.build(bank, id_arr)
        assert index.query(bank[3], 0) == [(ids[3], 0)]
        assert index.disable([ids[3]]) == 1
        assert index.query(bank[3], 0) == []
        assert index.query(bank[0], 0) == [(ids[0], 0)]


# ---------------------------------------------------------------- persistence


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path: Path, mmap: bool) -> None:
    rng = np.random.default_rng(12)
    bank = make_bank(rng, 2500, 2, 100, 15)
    ids = make_ids(rng, len(bank))
    index = PDQIndex.build(bank[:2500], ids[:2500])
    index.add(bank[2500:], ids[2500:])
    assert len(index.segment_sizes) == 2
    off = frozenset(ids[::7].tolist())
    index.disable(sorted(off))
    index.save(tmp_path / "idx")

    loaded = PDQIndex.load(tmp_path / "idx", mmap=mmap)
    assert len(loaded) == len(index)
    assert loaded.segment_sizes == index.segment_sizes
    assert loaded.memory_bytes() == index.memory_bytes()
    assert loaded.disabled_count == len(off)
    queries = [(flip_bits(bank[i], i % 40, rng), 31) for i in range(0, len(bank), 53)]
    check_queries(loaded, bank, ids, queries, off)

    # A loaded (read-only, possibly memory-mapped) index stays fully mutable.
    loaded.enable(sorted(off))
    extra = rng.integers(0, 256, size=(10, 32), dtype=np.uint8)
    loaded.add(extra, np.arange(10**9, 10**9 + 10, dtype=np.int64))
    assert loaded.query(extra[4], 0) == [(10**9 + 4, 0)]
    check_queries(loaded, bank, ids, queries)


def test_save_overwrites_atomically_and_cleans_old_generations(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    bank = rng.integers(0, 256, size=(300, 32), dtype=np.uint8)
    target = tmp_path / "idx"
    PDQIndex.build(bank[:100], np.arange(100, dtype=np.int64)).save(target)
    first = PDQIndex.load(target)
    PDQIndex.build(bank, np.arange(300, dtype=np.int64)).save(target)
    generations = [p for p in target.iterdir() if p.is_dir()]
    assert len(generations) == 1
    assert {p.name for p in target.iterdir() if p.is_file()} == {"manifest.json"}
    assert len(PDQIndex.load(target)) == 300
    # The index mapped before the overwrite still reads its (unlinked) files.
    assert first.query(bank[5], 0) == [(5, 0)]
    first.save(target)  # saving a mapped index over its own directory
    assert len(PDQIndex.load(target)) == 100


def test_empty_index_behaviour(tmp_path: Path) -> None:
    index = PDQIndex.build(np.empty((0, 32), np.uint8), np.empty(0, np.int64))
    assert len(index) == 0
    assert index.memory_bytes() == 0
    assert index.query(bytes(32)) == []
    assert index.query_many(np.zeros((3, 32), np.uint8), 63) == [[], [], []]
    assert index.disable([1]) == 0
    index.save(tmp_path / "empty")
    assert len(PDQIndex.load(tmp_path / "empty")) == 0


def _saved(tmp_path: Path) -> tuple[Path, Path, dict[str, object]]:
    rng = np.random.default_rng(14)
    bank = rng.integers(0, 256, size=(200, 32), dtype=np.uint8)
    target = tmp_path / "idx"
    PDQIndex.build(bank, np.arange(200, dtype=np.int64)).save(target)
    manifest = json.loads((target / "manifest.json").read_text())
    return target, target / str(manifest["data_dir"]), manifest


def test_missing_or_corrupt_manifest(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="no index manifest"):
        PDQIndex.load(tmp_path / "nowhere")
    target, _, manifest = _saved(tmp_path)
    (target / "manifest.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="not valid JSON"):
        PDQIndex.load(target)
    bad_values: list[tuple[str, object]] = [
        ("format", "something-else"),
        ("format_version", 999),
        ("byteorder", "middle"),
        ("data_dir", "../../etc"),
        ("segments", "nope"),
        ("size", 5),
    ]
    for key, value in bad_values:
        (target / "manifest.json").write_text(json.dumps({**manifest, key: value}))
        with pytest.raises(IndexFormatError):
            PDQIndex.load(target)
    segment = manifest["segments"][0]  # type: ignore[index]
    for key, value in [
        ("size", 0),
        ("dir_bits", 99),
        ("stored_bits", 40),
        ("prefix", "../x"),
        ("id_dtype", "float64"),
        ("size", True),
    ]:
        broken = {**manifest, "segments": [{**segment, key: value}]}
        (target / "manifest.json").write_text(json.dumps(broken))
        with pytest.raises(IndexFormatError):
            PDQIndex.load(target)


@pytest.mark.parametrize("mmap", [True, False])
def test_missing_or_corrupt_arrays(tmp_path: Path, mmap: bool) -> None:
    target, data, _ = _saved(tmp_path)
    original = {p.name: p.read_bytes() for p in data.iterdir()}

    def restore() -> None:
        for name, content in original.items():
            (data / name).write_bytes(content)

    (data / "seg0000-entries.npy").unlink()
    with pytest.raises(IndexFormatError, match="missing"):
        PDQIndex.load(target, mmap=mmap)
    restore()
    (data / "seg0000-hashes.npy").write_bytes(original["seg0000-hashes.npy"][:500])
    with pytest.raises(IndexFormatError):
        PDQIndex.load(target, mmap=mmap)
    restore()
    np.save(data / "seg0000-ids.npy", np.arange(200, dtype=np.float64))
    with pytest.raises(IndexFormatError, match="dtype"):
        PDQIndex.load(target, mmap=mmap)
    restore()
    entries = np.load(data / "seg0000-entries.npy")
    entries[3, 17] = np.uint32(0xFFFFFFFF)
    np.save(data / "seg0000-entries.npy", entries)
    with pytest.raises(IndexFormatError, match="entries"):
        PDQIndex.load(target, mmap=mmap)
    restore()
    dirs = np.load(data / "seg0000-dirs.npy")
    dirs[2, 1] = np.uint32(10_000)
    np.save(data / "seg0000-dirs.npy", dirs)
    with pytest.raises(IndexFormatError, match="directory"):
        PDQIndex.load(target, mmap=mmap)
    restore()
    np.save(data / "seg0000-disabled.npy", np.array([object()]), allow_pickle=True)
    with pytest.raises(IndexFormatError):
        PDQIndex.load(target, mmap=mmap)
    restore()
    assert len(PDQIndex.load(target, mmap=mmap)) == 200
    shutil.rmtree(data)
    with pytest.raises(IndexFormatError):
        PDQIndex.load(target, mmap=mmap)


# ------------------------------------------------------------------ validation


def test_bad_inputs_raise_value_errors() -> None:
    good = np.zeros((2, 32), np.uint8)
    ids = np.arange(2, dtype=np.int64)
    bad_builds: list[tuple[object, object]] = [
        (np.zeros((2, 31), np.uint8), ids),
        (np.zeros((2, 32), np.int64), ids),
        (np.zeros(32, np.uint8), ids),
        (good.tolist(), ids),
        (good, np.arange(3, dtype=np.int64)),
        (good, np.zeros((2, 1), np.int64)),
        (good, np.array([0.0, 1.0])),
        (good, np.array([True, False])),
        (good, np.array([2**63, 1], dtype=np.uint64)),
        (good, [0, 1]),
    ]
    for hashes, id_arr in bad_builds:
        with pytest.raises(InvalidHashError):
            PDQIndex.build(hashes, id_arr)  # type: ignore[arg-type]
    index = PDQIndex.build(good, ids)
    with pytest.raises(InvalidHashError):
        index.add(np.zeros((1, 16), np.uint8), np.arange(1, dtype=np.int64))
    for query in (bytes(31), np.zeros(31, np.uint8), np.zeros(32, np.int32), "ab" * 32, 5):
        with pytest.raises(InvalidHashError):
            index.query(query)  # type: ignore[arg-type]
    for distance in (-1, 257, 3.0, True, "31", None):
        with pytest.raises(InvalidHashError):
            index.query(bytes(32), distance)  # type: ignore[arg-type]
    with pytest.raises(InvalidHashError):
        index.query_many(np.zeros((2, 33), np.uint8))
    with pytest.raises(InvalidHashError):
        index.disable(np.array([1.5]))
    with pytest.raises(InvalidHashError):
        index.disable([2**70])
    assert issubclass(PDQIndexError, ValueError)


def test_hex_helpers() -> None:
    hexes = ["00" * 32, "ff" * 32, "0123456789abcdefABCDEF" + "0" * 42]
    arr = pdq_hex_to_array(hexes)
    assert arr.shape == (3, 32)
    assert arr.dtype == np.uint8
    assert bytes(arr[2]) == bytes.fromhex(hexes[2])
    assert pdq_array_to_hex(arr) == [h.lower() for h in hexes]
    assert pdq_hex_to_array([]).shape == (0, 32)
    for bad in (["0" * 63], ["0" * 65], ["g" * 64], ["é" * 64]):
        with pytest.raises(InvalidHashError):
            pdq_hex_to_array(bad)
    with pytest.raises(InvalidHashError):
        pdq_hex_to_array("00" * 32)
