"""Exact Hamming-radius index over 256-bit PDQ hashes.

Why exact: a missed match in hash matching is a missed piece of known abuse
material, so the index must return *every* enabled hash within the requested
distance, exactly like a brute-force scan, only faster.

How (see ``docs/index.md`` for the full argument and measurements):

* **Multi-index hashing with a generalised pigeonhole bound.**  The 256 bits are
  split into 8 disjoint 32-bit chunks.  If chunk ``k`` is searched with radius
  ``t_k`` and ``sum(t_k + 1) >= tau + 1``, then any hash within ``tau`` of the
  query has *some* chunk ``k`` differing in at most ``t_k`` bits (otherwise the
  total distance would be at least ``sum(t_k + 1) > tau``).  For the default
  ``tau = 31`` every chunk is searched with radius 3.  Candidates are verified
  with a full 256-bit popcount, so results are exact.
* **Memory layout.**  Each table is a CSR directory over the top ``D`` bits of
  its chunk plus one ``uint32`` per hash packing ``position << S | residual``;
  table 0 needs no entries because hashes are stored sorted by table 0.  At 10M
  hashes this is ~28 bytes/hash of tables next to the 32 bytes/hash of hashes.
* **Incremental updates.**  ``add`` builds a new small segment and merges the
  newest segments log-structured style (at most 3 segments, each > 8x the next),
  so a typical add rebuilds at most 1/8 of the index.  ``disable`` and ``enable``
  flip bits in a per-segment bitset that is checked on every match.
* **Persistence** is plain ``.npy`` arrays plus a JSON manifest (no pickle),
  loadable with ``np.load(mmap_mode="r")``.

Mutating methods are not thread-safe with respect to each other; queries may run
concurrently with each other (the kernels release the GIL).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from brightline.index import _kernels as kernels

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "FORMAT_VERSION",
    "DuplicateIdError",
    "IndexFormatError",
    "InvalidHashError",
    "PDQIndex",
    "PDQIndexError",
    "pdq_array_to_hex",
    "pdq_hex_to_array",
]

DEFAULT_MAX_DISTANCE: Final = 31
HASH_BYTES: Final = 32
HASH_BITS: Final = 256
FORMAT_NAME: Final = "brightline-pdq-index"
FORMAT_VERSION: Final = 1
MANIFEST_NAME: Final = "manifest.json"

_MAX_SEGMENT: Final = (1 << 32) - 1
_MAX_DIR_BITS: Final = 24
# Segments are merged while the older one is at most _MERGE_RATIO times the newer
# one, and while there are more than _MAX_SEGMENTS.  Every extra segment costs each
# query 0.1-0.4 ms (the bucket visits barely shrink with size), so few segments are
# kept; the ratio bounds what a typical add rebuilds to 1/8 of the index.  Chosen by
# simulating 100k-hash and 1k-hash add streams into a 10M index (docs/index.md).
_MERGE_RATIO: Final = 8
_MAX_SEGMENTS: Final = 3
# Largest per-chunk radius the index path is used for; beyond it a scan is cheaper.
_MAX_CHUNK_RADIUS: Final = 8
# Rough per-operation costs in nanoseconds (fitted on a 2.6 GHz Xeon, 10k..10M hashes,
# radii 24..56); only the ratios matter: they decide per segment between the index
# and a linear scan, which is cache-bound up to ~1M rows and memory-bound above.
_COST_BUCKET: Final = 30.0
_COST_ENTRY: Final = 2.0
_COST_CANDIDATE: Final = 60.0
_COST_SCAN_ROW_CACHED: Final = 2.0
_COST_SCAN_ROW_MEMORY: Final = 5.0
_SCAN_CACHED_ROWS: Final = 1 << 20
_DATA_DIR_RE: Final = re.compile(r"gen-[0-9a-f]{32}")

Strategy = Literal["auto", "index", "scan"]


# ------------------------------------------------------------------------- errors


class PDQIndexError(ValueError):
    """Base class for errors raised by the PDQ index."""


class InvalidHashError(PDQIndexError):
    """Hashes, ids or a distance argument have the wrong type, shape or range."""


class DuplicateIdError(PDQIndexError):
    """An id is given twice in one batch or is already present in the index."""


class IndexFormatError(PDQIndexError):
    """A saved index is missing, corrupt, or written in an unsupported format."""


# ------------------------------------------------------------------------ helpers

_HEX_LUT = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_LUT[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_LUT[_c] = 10 + _i


def pdq_hex_to_array(hexes: Sequence[str]) -> NDArray[np.uint8]:
    """Convert 64-character hex PDQ hashes to an ``(N, 32) uint8`` array (vectorised).

    Raises :class:`InvalidHashError` on wrong lengths or non-hex characters, since a
    silently mangled hash could never match anything.
    """
    if isinstance(hexes, str):
        raise InvalidHashError("expected a sequence of hex strings, got a single str")
    if len(hexes) == 0:
        return np.empty((0, HASH_BYTES), dtype=np.uint8)
    try:
        raw = np.asarray(hexes, dtype="S65")
    except (UnicodeEncodeError, ValueError, TypeError) as exc:
        raise InvalidHashError(f"PDQ hashes must be ASCII hex strings: {exc}") from exc
    if raw.ndim != 1:
        raise InvalidHashError("expected a flat sequence of hex strings")
    chars = raw.view(np.uint8).reshape(len(raw), 65)
    if np.any(chars[:, 64]):
        raise InvalidHashError("PDQ hex strings must be exactly 64 characters")
    nibbles = _HEX_LUT[chars[:, :64]]
    bad = np.flatnonzero(np.any(nibbles == 255, axis=1))
    if bad.size:
        raise InvalidHashError(
            f"invalid PDQ hex string at position {int(bad[0])}: {hexes[int(bad[0])]!r}"
        )
    return ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).astype(np.uint8)


def pdq_array_to_hex(hashes: NDArray[np.uint8]) -> list[str]:
    """Inverse of :func:`pdq_hex_to_array`."""
    arr = _check_hashes(hashes)
    return [bytes(row).hex() for row in arr]


def _check_hashes(hashes: object) -> NDArray[np.uint8]:
    if not isinstance(hashes, np.ndarray):
        raise InvalidHashError(f"hashes must be a numpy array, got {type(hashes).__name__}")
    if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES:
        raise InvalidHashError(
            f"hashes must have shape (N, {HASH_BYTES}) and dtype uint8, "
            f"got shape {hashes.shape} and dtype {hashes.dtype}"
        )
    return np.ascontiguousarray(hashes)


def _check_ids(ids: object, n: int) -> NDArray[np.int64]:
    if not isinstance(ids, np.ndarray):
        raise InvalidHashError(f"ids must be a numpy array, got {type(ids).__name__}")
    if ids.ndim != 1 or ids.shape[0] != n:
        raise InvalidHashError(f"ids must have shape ({n},), got {ids.shape}")
    return _as_int64(ids)


def _as_int64(ids: NDArray[Any]) -> NDArray[np.int64]:
    if ids.dtype == np.bool_ or not np.issubdtype(ids.dtype, np.integer):
        raise InvalidHashError(f"ids must be integers, got dtype {ids.dtype}")
    if ids.dtype == np.uint64 and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
        raise InvalidHashError("ids must fit in int64")
    return np.ascontiguousarray(ids, dtype=np.int64)


def _check_distance(max_distance: object) -> int:
    if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
        raise InvalidHashError(f"max_distance must be an int, got {max_distance!r}")
    value = int(max_distance)
    if not 0 <= value <= HASH_BITS:
        raise InvalidHashError(f"max_distance must be in 0..{HASH_BITS}, got {value}")
    return value


def _query_words(hashes: NDArray[np.uint8]) -> NDArray[np.uint64]:
    # Always a fresh writable array: numba compiles a separate specialisation for
    # read-only inputs (e.g. ``np.frombuffer``), which would double compile time.
    return np.array(hashes, dtype=np.uint8, order="C", copy=True).view(np.uint64)


def _ids_to_targets(ids: Iterable[int] | NDArray[Any]) -> NDArray[np.int64]:
    if isinstance(ids, np.ndarray):
        arr = _as_int64(ids.reshape(-1))
    else:
        try:
            arr = np.fromiter((int(i) for i in ids), dtype=np.int64)
        except (OverflowError, TypeError, ValueError) as exc:
            raise InvalidHashError(f"ids must be int64 integers: {exc}") from exc
    return np.unique(arr)


@functools.lru_cache(maxsize=64)
def _flip_masks(dir_bits: int, max_weight: int) -> tuple[NDArray[np.uint32], NDArray[np.int64]]:
    """All ``dir_bits``-bit masks of weight ``<= max_weight`` grouped by weight."""
    max_weight = min(max_weight, dir_bits)
    values = np.arange(1 << dir_bits, dtype=np.uint32)
    weights = np.zeros(values.shape, dtype=np.int64)
    for b in range(dir_bits):
        weights += (values >> b) & 1
    keep = weights <= max_weight
    values, weights = values[keep], weights[keep]
    order = np.argsort(weights, kind="stable")
    counts = np.bincount(weights, minlength=max_weight + 1)
    offsets = np.zeros(max_weight + 2, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    masks = values[order]
    masks.flags.writeable = False
    offsets.flags.writeable = False
    return masks, offsets


def _chunk_radii(tau: int) -> NDArray[np.int64]:
    """Per-chunk radii ``t_k`` with ``sum(t_k + 1) == tau + 1``, as even as possible.

    Even is optimal because the work per chunk grows much faster than linearly in
    ``t_k``.  Table 0 (the slowest to scan) gets the smaller share.  ``-1`` means
    the table is skipped, which happens for ``tau < 7``.
    """
    base, extra = divmod(tau + 1, kernels.NUM_TABLES)
    radii = np.full(kernels.NUM_TABLES, base - 1, dtype=np.int64)
    radii[1 : 1 + extra] += 1
    return radii


def _dir_bits_for(n: int) -> int:
    """Directory size: ~8-16 hashes per bucket keeps directories at 2-4 bytes/hash."""
    return max(1, min(_MAX_DIR_BITS, n.bit_length() - 4))


def _stored_bits_for(n: int, dir_bits: int) -> int:
    """Residual bits that fit next to a position in a ``uint32`` entry."""
    position_bits = max(1, (n - 1).bit_length())
    return max(0, min(32 - position_bits, 32 - dir_bits))


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.flags.writeable = False
    return a


# ------------------------------------------------------------------------ segment


@dataclass(eq=False)
class _Segment:
    """An immutable-structure shard of the index (only ``disabled`` changes)."""

    h: NDArray[np.uint64]  # (n, 4), rows sorted by table-0 bucket
    ids: NDArray[Any]  # (n,) uint32 offsets from id_base, or int64
    id_base: int
    disabled: NDArray[np.uint8]  # bitset, bit set = disabled
    dir_bits: int
    stored_bits: int
    dirs: NDArray[np.uint32]  # (8, 2**dir_bits + 1)
    entries: NDArray[np.uint32]  # (7, n)
    _plans: dict[int, NDArray[np.int64] | None] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        return int(self.h.shape[0])

    def nbytes(self) -> int:
        return int(
            self.h.nbytes
            + self.ids.nbytes
            + self.disabled.nbytes
            + self.dirs.nbytes
            + self.entries.nbytes
        )

    def full_ids(self, positions: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
        stored = self.ids if positions is None else self.ids[positions]
        out = stored.astype(np.int64)
        if self.id_base:
            out += self.id_base
        return out

    def find(self, targets: NDArray[np.int64]) -> NDArray[np.int64]:
        """Positions of the entries whose id is in ``targets`` (sorted, unique)."""
        if self.ids.dtype == np.uint32:
            hi = min(self.id_base + 0xFFFFFFFF, int(np.iinfo(np.int64).max))
            lo_i = int(np.searchsorted(targets, self.id_base, side="left"))
            hi_i = int(np.searchsorted(targets, hi, side="right"))
            local = (targets[lo_i:hi_i] - self.id_base).astype(np.uint32)
            return kernels.match_ids(self.ids, local)
        return kernels.match_ids(self.ids, targets)

    def disabled_mask(self) -> NDArray[np.bool_]:
        bits = np.unpackbits(self.disabled, count=self.size, bitorder="little")
        return bits.astype(np.bool_)

    def disabled_count(self) -> int:
        return int(np.unpackbits(self.disabled, count=self.size, bitorder="little").sum())

    # -- planning ---------------------------------------------------------------

    def plan(self, tau: int) -> NDArray[np.int64] | None:
        """Per-chunk radii for the index path, or ``None`` when a linear scan is cheaper."""
        if tau not in self._plans:
            self._plans[tau] = self._make_plan(tau)
        return self._plans[tau]

    def _make_plan(self, tau: int) -> NDArray[np.int64] | None:
        radii = _chunk_radii(tau)
        if int(radii.max()) > _MAX_CHUNK_RADIUS:
            return None
        n, d, s = self.size, self.dir_bits, self.stored_bits
        per_bucket = n / float(1 << d)
        cost = 0.0
        for k, t in enumerate(radii.tolist()):
            filter_bits = 32 - d if k == 0 else s
            for e in range(min(t, d) + 1):
                buckets = math.comb(d, e)
                lim = t - e
                pass_rate = sum(math.comb(filter_bits, i) for i in range(lim + 1)) / float(
                    1 << filter_bits
                )
                per_entry = _COST_ENTRY + min(1.0, pass_rate) * _COST_CANDIDATE
                cost += buckets * (_COST_BUCKET + per_bucket * per_entry)
        row_cost = _COST_SCAN_ROW_CACHED if n <= _SCAN_CACHED_ROWS else _COST_SCAN_ROW_MEMORY
        if cost >= n * row_cost:
            return None
        return radii

    # -- search -----------------------------------------------------------------

    def search(
        self, q: NDArray[np.uint64], tau: int, strategy: Strategy
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        radii = _chunk_radii(tau) if strategy == "index" else None
        if strategy == "auto":
            radii = self.plan(tau)
        if radii is None:
            return kernels.scan_linear(self.h, self.disabled, q, tau)
        masks, offsets = _flip_masks(self.dir_bits, int(radii.max()))
        return kernels.query_index(
            self.h,
            self.dirs,
            self.entries,
            self.disabled,
            masks,
            offsets,
            q,
            radii,
            tau,
            self.dir_bits,
            self.stored_bits,
        )


def _make_segment(
    h: NDArray[np.uint64], ids: NDArray[np.int64], disabled: NDArray[np.bool_]
) -> _Segment:
    """Build a segment: sort rows by table 0, then counting-sort tables 1..7."""
    n = int(h.shape[0])
    if n > _MAX_SEGMENT:
        raise InvalidHashError(f"at most {_MAX_SEGMENT} hashes per index are supported")
    dir_bits = _dir_bits_for(n)
    stored_bits = _stored_bits_for(n, dir_bits)
    order, _ = kernels.storage_order(h, dir_bits)
    h_sorted, ids_sorted = kernels.gather_rows(h, ids, order)
    dirs, entries = kernels.build_tables(h_sorted, dir_bits, stored_bits)
    id_base, id_store = _compress_ids(ids_sorted)
    bitset = np.packbits(disabled[order], bitorder="little")
    return _Segment(
        h=_readonly(h_sorted),
        ids=_readonly(id_store),
        id_base=id_base,
        disabled=bitset,
        dir_bits=dir_bits,
        stored_bits=stored_bits,
        dirs=_readonly(dirs),
        entries=_readonly(entries),
    )


def _compress_ids(ids: NDArray[np.int64]) -> tuple[int, NDArray[Any]]:
    """Store ids as ``uint32`` offsets from their minimum when the range allows.

    Database keys of one bank nearly always span < 2**32, which halves the id
    array (40 MB instead of 80 MB at 10M hashes); otherwise keep ``int64``.
    """
    if ids.size == 0:
        return 0, ids.astype(np.int64)
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo <= 0xFFFFFFFF:
        return lo, (ids - lo).astype(np.uint32)
    return 0, ids.astype(np.int64)


def _merge_segments(segments: Sequence[_Segment]) -> _Segment:
    h = np.concatenate([s.h for s in segments])
    ids = np.concatenate([s.full_ids() for s in segments])
    disabled = np.concatenate([s.disabled_mask() for s in segments])
    return _make_segment(h, ids, disabled)


# -------------------------------------------------------------------------- index


class PDQIndex:
    """Exact Hamming-radius index over 256-bit PDQ hashes.

    Hashes are ``(N, 32) uint8`` arrays of the big-endian hash bytes (the bytes of
    ``bytes.fromhex(pdq_hex)``; see :func:`pdq_hex_to_array`).  Each entry has a
    caller-supplied ``int64`` id, unique within the index; equal hashes with
    different ids are fine and are all returned.
    """

    def __init__(self) -> None:
        """Create an empty index; use :meth:`build` or :meth:`load` for real data."""
        self._segments: tuple[_Segment, ...] = ()
        # "index"/"scan" force a path for every segment; tests use it to exercise
        # the index on banks small enough that the planner would scan them.
        self._strategy: Strategy = "auto"

    # -- construction -----------------------------------------------------------

    @classmethod
    def build(cls, hashes: NDArray[np.uint8], ids: NDArray[np.int64]) -> PDQIndex:
        """Build an index over ``hashes`` with ids ``ids`` (both validated)."""
        arr = _check_hashes(hashes)
        id_arr = _check_ids(ids, arr.shape[0])
        _check_unique(id_arr)
        index = cls()
        if arr.shape[0]:
            disabled = np.zeros(arr.shape[0], dtype=np.bool_)
            index._segments = (_make_segment(arr.view(np.uint64), id_arr, disabled),)
        return index

    def add(self, hashes: NDArray[np.uint8], ids: NDArray[np.int64]) -> None:
        """Add hashes without rebuilding the index.

        The batch becomes a new segment.  Afterwards the two newest segments are
        merged while the older is at most ``_MERGE_RATIO`` (8) times the newer or
        there are more than ``_MAX_SEGMENTS`` (3).  Each segment is therefore more
        than 8x the next newer one: a typical add rebuilds at most 1/8 of the index,
        and queries pay for at most two small extra segments.  Once the newer data
        reaches 1/8 of the oldest segment they are merged, a rebuild of the whole
        index (seconds at 10M); :meth:`compact` does the same on demand.  Raises
        :class:`DuplicateIdError` if an id repeats or already exists; the index is
        unchanged on error.
        """
        arr = _check_hashes(hashes)
        id_arr = _check_ids(ids, arr.shape[0])
        if arr.shape[0] == 0:
            return
        _check_unique(id_arr)
        targets = np.unique(id_arr)
        for seg in self._segments:
            found = seg.find(targets)
            if found.size:
                dup = int(seg.full_ids(found[:1])[0])
                raise DuplicateIdError(f"id {dup} is already in the index")
        if len(self) + arr.shape[0] > _MAX_SEGMENT:
            raise InvalidHashError(f"at most {_MAX_SEGMENT} hashes per index are supported")
        disabled = np.zeros(arr.shape[0], dtype=np.bool_)
        segments = [*self._segments, _make_segment(arr.view(np.uint64), id_arr, disabled)]
        while len(segments) >= 2 and (
            len(segments) > _MAX_SEGMENTS or segments[-2].size <= _MERGE_RATIO * segments[-1].size
        ):
            segments[-2:] = [_merge_segments(segments[-2:])]
        self._segments = tuple(segments)

    def compact(self) -> None:
        """Merge all segments into one (fastest queries; costs a full rebuild)."""
        if len(self._segments) > 1:
            self._segments = (_merge_segments(self._segments),)

    # -- enable / disable -------------------------------------------------------

    def disable(self, ids: Iterable[int] | NDArray[Any]) -> int:
        """Stop returning the entries with these ids; effective immediately.

        Returns how many entries were found (already-disabled ones included);
        unknown ids are ignored.  The entries stay stored so :meth:`enable` can
        bring them back without re-adding.
        """
        return self._set_disabled(ids, value=True)

    def enable(self, ids: Iterable[int] | NDArray[Any]) -> int:
        """Undo :meth:`disable`; returns how many entries were found."""
        return self._set_disabled(ids, value=False)

    def _set_disabled(self, ids: Iterable[int] | NDArray[Any], *, value: bool) -> int:
        targets = _ids_to_targets(ids)
        found = 0
        if targets.size == 0:
            return 0
        for seg in self._segments:
            positions = seg.find(targets)
            kernels.set_bits(seg.disabled, positions, value)
            found += int(positions.size)
        return found

    # -- queries ------------------------------------------------------------------

    def query(
        self, hash32: bytes | NDArray[np.uint8], max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[tuple[int, int]]:
        """All enabled ``(id, distance)`` with distance ``<= max_distance``.

        Sorted by distance, then id.  ``max_distance`` may be anything in 0..256;
        the result is exact for every value (large radii fall back to a scan).
        """
        if isinstance(hash32, bytes | bytearray | memoryview):
            if len(hash32) != HASH_BYTES:
                raise InvalidHashError(f"a PDQ hash has {HASH_BYTES} bytes, got {len(hash32)}")
            row = np.frombuffer(bytes(hash32), dtype=np.uint8).reshape(1, HASH_BYTES)
        elif isinstance(hash32, np.ndarray):
            if hash32.dtype != np.uint8 or hash32.shape not in ((HASH_BYTES,), (1, HASH_BYTES)):
                raise InvalidHashError(
                    f"a PDQ hash array must be uint8 of shape ({HASH_BYTES},), "
                    f"got {hash32.dtype} {hash32.shape}"
                )
            row = hash32.reshape(1, HASH_BYTES)
        else:
            raise InvalidHashError(f"expected bytes or a uint8 array, got {type(hash32).__name__}")
        return self._search(_query_words(row), _check_distance(max_distance))[0]

    def query_many(
        self, hashes: NDArray[np.uint8], max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[list[tuple[int, int]]]:
        """:meth:`query` for each row of an ``(M, 32) uint8`` array."""
        arr = _check_hashes(hashes)
        tau = _check_distance(max_distance)
        if arr.shape[0] == 0:
            return []
        return self._search(_query_words(arr), tau)

    def _search(self, q: NDArray[np.uint64], tau: int) -> list[list[tuple[int, int]]]:
        m = int(q.shape[0])
        parts_q: list[NDArray[np.int64]] = []
        parts_id: list[NDArray[np.int64]] = []
        parts_d: list[NDArray[np.int64]] = []
        for seg in self._segments:
            qi, pos, dist = seg.search(q, tau, self._strategy)
            if qi.size:
                parts_q.append(qi)
                parts_id.append(seg.full_ids(pos))
                parts_d.append(dist)
        if not parts_q:
            return [[] for _ in range(m)]
        qi = np.concatenate(parts_q)
        ids = np.concatenate(parts_id)
        dist = np.concatenate(parts_d)
        order = np.lexsort((ids, dist, qi))
        pairs = list(zip(ids[order].tolist(), dist[order].tolist(), strict=True))
        if m == 1:
            return [pairs]
        bounds = np.searchsorted(qi[order], np.arange(m + 1)).tolist()
        return [pairs[bounds[i] : bounds[i + 1]] for i in range(m)]

    # -- introspection ------------------------------------------------------------

    def __len__(self) -> int:
        """Number of entries, enabled and disabled."""
        return sum(s.size for s in self._segments)

    @property
    def disabled_count(self) -> int:
        """Number of disabled entries."""
        return sum(s.disabled_count() for s in self._segments)

    @property
    def segment_sizes(self) -> list[int]:
        """Sizes of the internal segments, oldest first (for monitoring/tests)."""
        return [s.size for s in self._segments]

    def memory_bytes(self) -> int:
        """Bytes of all arrays held, memory-mapped ones included."""
        return sum(s.nbytes() for s in self._segments)

    # -- persistence --------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Save atomically as ``.npy`` arrays plus ``manifest.json`` (no pickle).

        Arrays go to a fresh ``gen-<uuid>`` sub-directory; the manifest naming it is
        then written to a temporary file and ``os.replace``-d into place.  Readers
        therefore see either the old or the new index, never a mix, even when
        overwriting.  Older generations are removed afterwards (on POSIX this is
        safe even while another process has them memory-mapped).
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        data_dir = f"gen-{uuid.uuid4().hex}"
        tmp_dir = directory / f".{data_dir}.tmp"
        tmp_dir.mkdir()
        try:
            segments_meta = []
            for i, seg in enumerate(self._segments):
                prefix = f"seg{i:04d}"
                arrays = {
                    "hashes": seg.h.view(np.uint8),
                    "ids": seg.ids,
                    "disabled": seg.disabled,
                    "dirs": seg.dirs,
                    "entries": seg.entries,
                }
                for name, arr in arrays.items():
                    _write_npy(tmp_dir / f"{prefix}-{name}.npy", arr)
                segments_meta.append(
                    {
                        "prefix": prefix,
                        "size": seg.size,
                        "dir_bits": seg.dir_bits,
                        "stored_bits": seg.stored_bits,
                        "id_base": seg.id_base,
                        "id_dtype": str(seg.ids.dtype),
                    }
                )
            _fsync_dir(tmp_dir)
            os.rename(tmp_dir, directory / data_dir)
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "byteorder": sys.byteorder,
                "num_tables": kernels.NUM_TABLES,
                "data_dir": data_dir,
                "size": len(self),
                "segments": segments_meta,
            }
            tmp_manifest = directory / f".{MANIFEST_NAME}.{uuid.uuid4().hex}.tmp"
            with open(tmp_manifest, "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_manifest, directory / MANIFEST_NAME)
            _fsync_dir(directory)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            shutil.rmtree(directory / data_dir, ignore_errors=True)
            raise
        for old in directory.iterdir():
            if old.name != data_dir and (
                _DATA_DIR_RE.fullmatch(old.name)
                or (old.name.startswith(".gen-") and old.name.endswith(".tmp"))
            ):
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = True) -> PDQIndex:
        """Load an index written by :meth:`save`.

        With ``mmap=True`` (default) arrays are memory-mapped read-only, so loading
        is nearly free and pages are read on demand; only the small disabled
        bitsets are copied into memory so they stay writable.  Structure is
        validated (shapes, dtypes, directories, every stored position in range) so
        that a corrupt file raises :class:`IndexFormatError` instead of reading out
        of bounds.
        """
        directory = Path(directory)
        manifest = _read_manifest(directory)
        data = directory / manifest["data_dir"]
        segments = []
        for meta in manifest["segments"]:
            segments.append(_load_segment(data, meta, mmap=mmap))
        if sum(s.size for s in segments) != manifest["size"]:
            raise IndexFormatError("manifest size does not match its segments")
        index = cls()
        index._segments = tuple(segments)
        return index


def _check_unique(ids: NDArray[np.int64]) -> None:
    if ids.size < 2:
        return
    srt = np.sort(ids)
    dup = np.flatnonzero(srt[1:] == srt[:-1])
    if dup.size:
        raise DuplicateIdError(f"id {int(srt[dup[0]])} appears more than once")


# ------------------------------------------------------------------- persistence


def _write_npy(path: Path, arr: NDArray[Any]) -> None:
    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise IndexFormatError(f"no index manifest at {path}") from exc
    except OSError as exc:
        raise IndexFormatError(f"cannot read index manifest {path}: {exc}") from exc
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexFormatError(f"index manifest {path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{path} is not a {FORMAT_NAME} manifest")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexFormatError(
            f"unsupported index format version {version!r} (this code reads {FORMAT_VERSION})"
        )
    if manifest.get("byteorder") != sys.byteorder:
        raise IndexFormatError(
            f"index was written on a {manifest.get('byteorder')!r}-endian machine; "
            f"this one is {sys.byteorder}-endian"
        )
    if manifest.get("num_tables") != kernels.NUM_TABLES:
        raise IndexFormatError("index manifest has an unexpected table count")
    data_dir = manifest.get("data_dir")
    if not isinstance(data_dir, str) or not _DATA_DIR_RE.fullmatch(data_dir):
        raise IndexFormatError("index manifest has an invalid data_dir")
    segments = manifest.get("segments")
    if not isinstance(segments, list) or not _is_int(manifest.get("size")):
        raise IndexFormatError("index manifest has no valid segment list")
    for meta in segments:
        _check_segment_meta(meta)
    return manifest


def _int_field(meta: dict[str, Any], key: str, lo: int, hi: int) -> int:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise IndexFormatError(f"segment metadata field {key!r} is missing or out of range")
    return value


def _check_segment_meta(meta: object) -> None:
    if not isinstance(meta, dict):
        raise IndexFormatError("segment metadata must be an object")
    prefix = meta.get("prefix")
    if not isinstance(prefix, str) or not re.fullmatch(r"seg[0-9]{4,}", prefix):
        raise IndexFormatError("segment metadata has an invalid prefix")
    size = _int_field(meta, "size", 1, _MAX_SEGMENT)
    dir_bits = _int_field(meta, "dir_bits", 1, _MAX_DIR_BITS)
    stored_bits = _int_field(meta, "stored_bits", 0, 32 - dir_bits)
    if (size - 1) >> (32 - stored_bits):
        raise IndexFormatError(f"segment {prefix}: positions do not fit next to stored bits")
    int64 = np.iinfo(np.int64)
    id_dtype = meta.get("id_dtype")
    if id_dtype == "uint32":
        _int_field(meta, "id_base", int64.min, int64.max - 0xFFFFFFFF)
    elif id_dtype != "int64" or _int_field(meta, "id_base", 0, 0) != 0:
        raise IndexFormatError(f"segment {prefix}: unsupported id storage")


def _load_array(
    path: Path, dtype: type[np.generic], shape: tuple[int, ...], *, mmap: bool
) -> NDArray[Any]:
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError as exc:
        raise IndexFormatError(f"index file {path.name} is missing") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise IndexFormatError(f"index file {path.name} is unreadable: {exc}") from exc
    if arr.dtype != np.dtype(dtype) or arr.shape != shape or not arr.flags.c_contiguous:
        raise IndexFormatError(
            f"index file {path.name} has dtype {arr.dtype} shape {arr.shape}, "
            f"expected {np.dtype(dtype)} {shape}"
        )
    out = np.asarray(arr)
    out.flags.writeable = False
    return out


def _load_segment(data: Path, meta: dict[str, Any], *, mmap: bool) -> _Segment:
    prefix = meta["prefix"]
    n, dir_bits, stored_bits = meta["size"], meta["dir_bits"], meta["stored_bits"]
    id_dtype = np.uint32 if meta["id_dtype"] == "uint32" else np.int64

    def load(name: str, dtype: type[np.generic], shape: tuple[int, ...]) -> NDArray[Any]:
        return _load_array(data / f"{prefix}-{name}.npy", dtype, shape, mmap=mmap)

    raw = load("hashes", np.uint8, (n, HASH_BYTES))
    ids = load("ids", id_dtype, (n,))
    disabled = np.array(load("disabled", np.uint8, ((n + 7) // 8,)))  # writable copy
    dirs = load("dirs", np.uint32, (kernels.NUM_TABLES, (1 << dir_bits) + 1))
    entries = load("entries", np.uint32, (kernels.NUM_TABLES - 1, n))
    if np.any(dirs[:, 0] != 0) or np.any(dirs[:, -1] != n) or np.any(dirs[:, 1:] < dirs[:, :-1]):
        raise IndexFormatError(f"segment {prefix}: corrupt bucket directory")
    if not kernels.check_entries(entries, stored_bits, n):
        raise IndexFormatError(f"segment {prefix}: corrupt table entries")
    return _Segment(
        h=raw.view(np.uint64),
        ids=ids,
        id_base=meta["id_base"],
        disabled=disabled,
        dir_bits=dir_bits,
        stored_bits=stored_bits,
        dirs=dirs,
        entries=entries,
    )
