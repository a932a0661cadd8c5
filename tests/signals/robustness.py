"""Robustness and false-match evaluation of the PDQ pipeline on benign natural images.

Shared by the tests (which assert on the figures) and runnable for the full report written into
``docs/signals.md``::

    python -m tests.signals.robustness          # the figures the tests check
    python -m tests.signals.robustness --full   # plus more large images and fast-path scales

Test data: only photographs bundled in scikit-image's wheel (``skimage.data`` functions that need
no download) and images generated from them. Nothing else is read.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
import skimage.data
from PIL import Image, ImageEnhance

from brightline.signals import HashingLimits, hash_content
from brightline.signals.content import HashedContent
from brightline.signals.image_decoding import FAST_PATH_MIN_SHORT_SIDE
from brightline.signals.pdq import (
    PdqSignalType,
    pdq_dihedral_from_rgb,
    pdq_dihedral_one_pass,
    pdq_from_rgb,
)
from brightline.signals.registry import SignalTypeRegistry

THRESHOLD: Final = 31
QUALITY_MIN: Final = 50
LIMITS: Final = HashingLimits()
PDQ_ONLY: Final = SignalTypeRegistry()
PDQ_ONLY.register(PdqSignalType())
"""The evaluation needs only PDQ: skipping the byte digests keeps the test suite quick."""


def hash_pdq(data: bytes, *, dihedral: bool = False, fast_path: bool = True) -> HashedContent:
    return hash_content(
        data, limits=LIMITS, registry=PDQ_ONLY, dihedral=dihedral, fast_path=fast_path
    )


RGB = npt.NDArray[np.uint8]

# Natural photographs only (no drawings, charts or synthetic images). The right image of the
# stereo pair is left out: it is a near-duplicate of the left one, not an unrelated image.
NATURAL_IMAGES: Final = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "motorcycle",
    "page",
    "retina",
    "rocket",
    "text",
)


@cache
def natural_image(name: str) -> RGB:
    """A bundled natural image as an RGB uint8 array (grayscale ones replicated to 3 channels)."""
    pixels = (
        skimage.data.stereo_motorcycle()[0]
        if name == "motorcycle"
        else getattr(skimage.data, name)()
    )
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return np.ascontiguousarray(pixels[..., :3])


def encode(image: Image.Image, fmt: str = "PNG", **options: int | bool) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def resized(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    method = Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC
    return image.resize(size, method)


@dataclass(frozen=True)
class Transform:
    name: str
    apply: Callable[[Image.Image], Image.Image]
    fmt: str = "PNG"
    quality: int = 0
    via_dihedral: bool = False

    def encode(self, image: Image.Image) -> bytes:
        out = self.apply(image)
        if self.fmt == "JPEG":
            return encode(out, "JPEG", quality=self.quality)
        return encode(out, "BMP")  # lossless and fast to write: isolates the transform


_T = Image.Transpose
TRANSFORMS: Final = (
    *(Transform(f"jpeg_q{q}", lambda im: im, "JPEG", q) for q in (20, 30, 50, 70, 90)),
    *(
        Transform(f"resize_{round(f * 100)}pct", lambda im, f=f: resized(im, f))
        for f in (0.25, 0.5, 0.75, 1.5, 2.0)
    ),
    Transform("grayscale", lambda im: im.convert("L")),
    Transform("brightness_-20pct", lambda im: ImageEnhance.Brightness(im).enhance(0.8)),
    Transform("brightness_+20pct", lambda im: ImageEnhance.Brightness(im).enhance(1.2)),
    Transform("flip_horizontal", lambda im: im.transpose(_T.FLIP_LEFT_RIGHT), via_dihedral=True),
    Transform("flip_vertical", lambda im: im.transpose(_T.FLIP_TOP_BOTTOM), via_dihedral=True),
    Transform("rotate_90", lambda im: im.transpose(_T.ROTATE_90), via_dihedral=True),
    Transform("rotate_180", lambda im: im.transpose(_T.ROTATE_180), via_dihedral=True),
    Transform("rotate_270", lambda im: im.transpose(_T.ROTATE_270), via_dihedral=True),
)


def pdq(content: HashedContent) -> str:
    signal = content.signal("pdq")
    if signal is None:
        raise AssertionError(f"no pdq hash: {content.unhashable!r}")
    return signal.value


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def query_distance(target: str, query: HashedContent, *, via_dihedral: bool) -> int:
    """Distance a matcher sees: the query's identity hash, or the best of its eight hashes."""
    candidates = query.pdq_dihedral if via_dihedral else (pdq(query),)
    return min(distance(target, h) for h in candidates)


@dataclass(frozen=True)
class Trial:
    image: str
    size: str
    transform: str
    distance: int


def at_long_side(pixels: RGB, long_side: int) -> Image.Image:
    image = Image.fromarray(pixels)
    return resized(image, long_side / max(image.size))


def robustness_trials(
    names: Iterable[str] = NATURAL_IMAGES, long_sides: Sequence[int] = (512, 1024)
) -> tuple[list[Trial], list[str]]:
    """Distances original -> transformed copy; also the images skipped for low quality."""
    trials: list[Trial] = []
    low_quality: list[str] = []
    for name in names:
        for long_side in long_sides:
            original = at_long_side(natural_image(name), long_side)
            size = f"{original.width}x{original.height}"
            target = hash_pdq(encode(original, "BMP"))
            quality = target.signal("pdq")
            if quality is None or (quality.quality or 0) < QUALITY_MIN:
                low_quality.append(f"{name}@{size}")
                continue
            for transform in TRANSFORMS:
                query = hash_pdq(transform.encode(original), dihedral=transform.via_dihedral)
                d = query_distance(pdq(target), query, via_dihedral=transform.via_dihedral)
                trials.append(Trial(name, size, transform.name, d))
    return trials, low_quality


def one_pass_dihedral_trials(
    names: Iterable[str] = NATURAL_IMAGES, long_sides: Sequence[int] = (512, 1024)
) -> list[Trial]:
    """The geometric transforms again, matched via ``pdqhash.compute_dihedral`` (to compare)."""
    trials: list[Trial] = []
    for name in names:
        for long_side in long_sides:
            original = at_long_side(natural_image(name), long_side)
            hashed = hash_pdq(encode(original, "BMP")).signal("pdq")
            if hashed is None or (hashed.quality or 0) < QUALITY_MIN:
                continue
            target = hashed.value
            for transform in TRANSFORMS:
                if not transform.via_dihedral:
                    continue
                query = np.asarray(transform.apply(original).convert("RGB"))
                values, _ = pdq_dihedral_one_pass(query)
                d = min(distance(target, value) for value in values)
                trials.append(Trial(name, f"{original.width}x{original.height}", transform.name, d))
    return trials


# --- unrelated pairs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    source: str
    box: tuple[int, int, int, int]
    hashes: tuple[str, ...]
    quality: int


def _overlap(a: Item, b: Item) -> bool:
    if a.source != b.source:
        return False
    ax0, ay0, ax1, ay1 = a.box
    bx0, by0, bx1, by1 = b.box
    return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1


def unrelated_corpus(grid: int = 4) -> list[Item]:
    """Each natural image whole, plus a ``grid`` x ``grid`` tiling of it into disjoint tiles."""
    items: list[Item] = []
    for name in NATURAL_IMAGES:
        pixels = natural_image(name)
        height, width = pixels.shape[:2]
        boxes = [(0, 0, width, height)]
        tw, th = width // grid, height // grid
        boxes += [
            (x * tw, y * th, (x + 1) * tw, (y + 1) * th) for y in range(grid) for x in range(grid)
        ]
        for box in boxes:
            x0, y0, x1, y1 = box
            hashes, quality = pdq_dihedral_from_rgb(np.ascontiguousarray(pixels[y0:y1, x0:x1]))
            items.append(Item(name, box, hashes, quality))
    return items


@dataclass(frozen=True)
class FalseMatchReport:
    items: int
    low_quality: int
    pairs: int
    identity_matches: int
    dihedral_matches: int
    min_identity_distance: int
    identity_distances: list[int]

    @property
    def identity_rate(self) -> float:
        return self.identity_matches / self.pairs

    @property
    def dihedral_rate(self) -> float:
        return self.dihedral_matches / self.pairs


def _bits(hashes: Sequence[str]) -> npt.NDArray[np.uint8]:
    return np.unpackbits(
        np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(len(hashes), 32),
        axis=1,
    )


def false_matches(items: Sequence[Item]) -> FalseMatchReport:
    """Count pairs of disjoint content that match at <= THRESHOLD (quality >= 50 only).

    Each pair is checked as a matcher would: the identity hashes, and also any of one side's
    eight dihedral hashes against the other's identity (what dihedral lookup adds).
    """
    usable = [item for item in items if item.quality >= QUALITY_MIN]
    identity = _bits([item.hashes[0] for item in usable]).astype(np.int16)
    dihedral = [_bits(item.hashes).astype(np.int16) for item in usable]
    pairs = identity_hits = dihedral_hits = 0
    distances: list[int] = []
    for i in range(len(usable)):
        others = [j for j in range(i + 1, len(usable)) if not _overlap(usable[i], usable[j])]
        if not others:
            continue
        other_bits = identity[others]
        plain = np.count_nonzero(identity[i] != other_bits, axis=1)
        # dihedral of i vs identity of j, and dihedral of j vs identity of i
        forward = (dihedral[i][None, :, :] != other_bits[:, None, :]).sum(axis=2).min(axis=1)
        backward = np.array(
            [(dihedral[j] != identity[i]).sum(axis=1).min() for j in others], dtype=np.int64
        )
        best = np.minimum(np.minimum(forward, backward), plain)
        pairs += len(others)
        identity_hits += int(np.count_nonzero(plain <= THRESHOLD))
        dihedral_hits += int(np.count_nonzero(best <= THRESHOLD))
        distances.extend(int(d) for d in plain)
    return FalseMatchReport(
        items=len(items),
        low_quality=len(items) - len(usable),
        pairs=pairs,
        identity_matches=identity_hits,
        dihedral_matches=dihedral_hits,
        min_identity_distance=min(distances),
        identity_distances=distances,
    )


# --- large JPEGs: the reduced-size decoding fast path ------------------------------------------


def large_photo(name: str, size: tuple[int, int] = (4000, 3000), seed: int = 0) -> Image.Image:
    """A camera-sized photo: a natural image cropped to the aspect, upscaled, with sensor grain.

    Upscaling alone gives unnaturally smooth pixels; the grain (sigma 3 levels) restores the
    pixel-level noise a real camera image has, which is what reduced decoding averages away.
    """
    source = Image.fromarray(natural_image(name))
    aspect = size[0] / size[1]
    w, h = source.size
    if w / h > aspect:
        cw = round(h * aspect)
        source = source.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    else:
        ch = round(w / aspect)
        source = source.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    big = np.asarray(source.resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    noise = np.random.default_rng(seed).standard_normal((size[1], size[0], 1), dtype=np.float32)
    big += 3.0 * noise
    return Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))


LARGE_TRANSFORMS: Final = (
    Transform("jpeg_q90", lambda im: im, "JPEG", 90),
    Transform("jpeg_q50", lambda im: im, "JPEG", 50),
    Transform("jpeg_q20", lambda im: im, "JPEG", 20),
    Transform("resize_150pct", lambda im: resized(im, 1.5), "JPEG", 85),
    Transform("resize_75pct", lambda im: resized(im, 0.75), "JPEG", 85),
    Transform("grayscale", lambda im: im.convert("L"), "JPEG", 85),
    Transform("brightness_-20pct", lambda im: ImageEnhance.Brightness(im).enhance(0.8), "JPEG", 85),
    Transform("brightness_+20pct", lambda im: ImageEnhance.Brightness(im).enhance(1.2), "JPEG", 85),
    Transform("flip_horizontal", lambda im: im.transpose(_T.FLIP_LEFT_RIGHT), "JPEG", 85, True),
    Transform("rotate_90", lambda im: im.transpose(_T.ROTATE_90), "JPEG", 85, True),
)


@dataclass(frozen=True)
class FastPathTrial:
    image: str
    transform: str
    scale: int
    """Reduction the fast path used for the query (1 = it did not apply)."""
    full_distance: int
    """Original (full decode) -> query (full decode)."""
    fast_distance: int
    """Original (full decode) -> query (fast path): a list hashed by the reference tools."""
    both_fast_distance: int
    """Original (fast path) -> query (fast path): a list hashed by this pipeline."""
    drift: int
    """Query: full decode vs fast path, bits moved."""


def fast_path_trials(
    names: Iterable[str], size: tuple[int, int] = (4000, 3000)
) -> list[FastPathTrial]:
    trials: list[FastPathTrial] = []
    for seed, name in enumerate(names):
        original = large_photo(name, size, seed)
        source = encode(original, "JPEG", quality=92)
        target_full = pdq(hash_pdq(source, fast_path=False))
        target_fast = pdq(hash_pdq(source))
        for transform in LARGE_TRANSFORMS:
            data = transform.encode(original)
            via = transform.via_dihedral
            full = hash_pdq(data, dihedral=via, fast_path=False)
            fast = hash_pdq(data, dihedral=via)
            trials.append(
                FastPathTrial(
                    image=name,
                    transform=transform.name,
                    scale=_scale_used(full),
                    full_distance=query_distance(target_full, full, via_dihedral=via),
                    fast_distance=query_distance(target_full, fast, via_dihedral=via),
                    both_fast_distance=query_distance(target_fast, fast, via_dihedral=via),
                    drift=distance(pdq(full), pdq(fast)),
                )
            )
    return trials


def _scale_used(content: HashedContent) -> int:
    """The reduction the fast path applies to this content (HashedContent does not record it)."""
    short = min(content.width or 0, content.height or 0)
    for scale in (8, 4, 2):
        if short // scale >= FAST_PATH_MIN_SHORT_SIDE:
            return scale
    return 1


def drift_by_short_side(
    names: Iterable[str], size: tuple[int, int] = (4000, 3000)
) -> dict[int, list[int]]:
    """Bits moved by decoding at 1/2, 1/4, 1/8 scale vs full, keyed by the reduced short side."""
    out: dict[int, list[int]] = {}
    for seed, name in enumerate(names):
        data = encode(large_photo(name, size, seed), "JPEG", quality=90)
        full = pdq_from_rgb(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))[0]
        for scale in (2, 4, 8):
            im = Image.open(io.BytesIO(data))
            im.draft("RGB", (im.width // scale, im.height // scale))
            reduced = pdq_from_rgb(np.asarray(im.convert("RGB")))[0]
            out.setdefault(min(im.size), []).append(distance(full, reduced))
    return out


# --- report -------------------------------------------------------------------------------------


def _summary(values: Sequence[int]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered):g}, p95 {p95}, max {ordered[-1]} (n={len(ordered)})"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="more large images and scales")
    args = parser.parse_args(argv)
    out = sys.stdout.write

    trials, low = robustness_trials()
    out(f"robustness: {len(trials)} trials, images skipped for quality < 50: {low}\n")
    for transform in TRANSFORMS:
        ds = [t.distance for t in trials if t.transform == transform.name]
        hits = sum(d <= THRESHOLD for d in ds)
        out(f"  {transform.name:18s} recall {hits}/{len(ds)}  {_summary(ds)}\n")

    one_pass = one_pass_dihedral_trials()
    out("  for comparison, geometric transforms via pdqhash.compute_dihedral (one pass):\n")
    for transform in TRANSFORMS:
        ds = [t.distance for t in one_pass if t.transform == transform.name]
        if ds:
            hits = sum(d <= THRESHOLD for d in ds)
            out(f"  {transform.name:18s} recall {hits}/{len(ds)}  {_summary(ds)}\n")

    report = false_matches(unrelated_corpus())
    out(
        f"unrelated: {report.items} items ({report.low_quality} below quality 50), "
        f"{report.pairs} pairs; identity matches {report.identity_matches} "
        f"({report.identity_rate:.4%}), with dihedral {report.dihedral_matches} "
        f"({report.dihedral_rate:.4%}); min distance {report.min_identity_distance}; "
        f"{_summary(report.identity_distances)}\n"
    )

    names = NATURAL_IMAGES if args.full else ("astronaut", "motorcycle", "retina")
    fast = fast_path_trials(names)
    out(f"fast path on 4000x3000 JPEGs ({', '.join(names)}):\n")
    for label, values in (
        ("full decode, orig->query", [t.full_distance for t in fast]),
        ("fast query vs full list", [t.fast_distance for t in fast]),
        ("fast query vs fast list", [t.both_fast_distance for t in fast]),
        ("drift full vs fast (query)", [t.drift for t in fast]),
    ):
        hits = sum(v <= THRESHOLD for v in values)
        out(f"  {label:28s} <=31: {hits}/{len(values)}  {_summary(values)}\n")
    if args.full:
        for size in ((4000, 3000), (2666, 2000)):
            for side, moved in sorted(drift_by_short_side(names, size).items()):
                out(f"  {size[0]}x{size[1]}, reduced short side {side:5d}: {_summary(moved)}\n")


if __name__ == "__main__":
    main()
