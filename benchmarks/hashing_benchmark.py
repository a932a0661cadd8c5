"""End-to-end image hashing throughput: Brightline's pipeline vs python-threatexchange's PDQ.

Run from the repository root (needs the ``dev`` and ``bench`` extras)::

    python benchmarks/hashing_benchmark.py              # the table in docs/signals.md
    python benchmarks/hashing_benchmark.py --malloc     # plus the glibc allocator comparison

"End to end" means from the JPEG bytes in memory to the hex hash: decoding, colour conversion and
hashing; no file I/O. threatexchange's ``PdqSignal.hash_from_file`` reads the file and calls
``pdq_from_bytes``; we call that function directly. Both run in the same process, in alternating
order within each repeat, and the figure reported is the median over repeats of images/s.

The JPEGs are benign natural photographs bundled with scikit-image, cropped to the aspect ratio,
resized to the target size (upscaled ones get sensor-like grain, sigma 2 levels, so that they have
a camera image's pixel-level detail) and saved at quality 90.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import skimage.data
from PIL import Image

from brightline.signals import HashingLimits, hash_content
from brightline.signals.pdq import MALLOC_TUNED, PdqSignalType
from brightline.signals.registry import SignalTypeRegistry

SIZES = ((640, 480), (1920, 1080), (4000, 3000))
SOURCES = ("astronaut", "coffee", "motorcycle", "rocket", "chelsea", "hubble_deep_field")
LIMITS = HashingLimits()
PDQ_ONLY = SignalTypeRegistry()
PDQ_ONLY.register(PdqSignalType())


def natural(name: str) -> Image.Image:
    if name == "motorcycle":
        return Image.fromarray(skimage.data.stereo_motorcycle()[0])
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def photo_jpeg(name: str, size: tuple[int, int], seed: int) -> bytes:
    source = natural(name)
    w, h = source.size
    aspect = size[0] / size[1]
    if w / h > aspect:
        cw = round(h * aspect)
        source = source.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    else:
        ch = round(w / aspect)
        source = source.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    upscale = size[0] > source.size[0]
    method = Image.Resampling.BICUBIC if upscale else Image.Resampling.LANCZOS
    image = source.resize(size, method)
    if upscale:
        pixels = np.asarray(image, dtype=np.float32)
        grain = np.random.default_rng(seed).standard_normal(pixels.shape[:2], dtype=np.float32)
        pixels += 2.0 * grain[..., None]
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def threatexchange_pdq(data: bytes) -> str:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    value, _quality = pdq_from_bytes(data)
    return str(value)


def ours_pdq(data: bytes) -> str:
    return _pdq(hash_content(data, limits=LIMITS, registry=PDQ_ONLY, dihedral=False))


def ours_pdq_full_decode(data: bytes) -> str:
    return _pdq(
        hash_content(data, limits=LIMITS, registry=PDQ_ONLY, dihedral=False, fast_path=False)
    )


def ours_everything(data: bytes) -> str:
    return _pdq(hash_content(data, limits=LIMITS))


def _pdq(content: object) -> str:
    signal = content.signal("pdq")  # type: ignore[attr-defined]
    if signal is None:
        raise RuntimeError("no PDQ hash")
    return str(signal.value)


METHODS: dict[str, Callable[[bytes], str]] = {
    "threatexchange": threatexchange_pdq,
    "ours: pdq": ours_pdq,
    "ours: md5+sha1+sha256+pdq+8 dihedral": ours_everything,
    "ours: pdq, fast path off": ours_pdq_full_decode,
}


def measure(images: Sequence[bytes], repeats: int) -> dict[str, float]:
    """Median images/s per method; methods alternate within each repeat to share any drift."""
    names = list(METHODS)
    for name in names:  # warm up: imports, numba cache, allocator
        METHODS[name](images[0])
    rates: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in order:
            method = METHODS[name]
            start = time.perf_counter()
            for data in images:
                method(data)
            rates[name].append(len(images) / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def run(repeats: int) -> None:
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"glibc malloc tuned: {MALLOC_TUNED}, repeats: {repeats} (median images/s)\n"
    )
    header = ["size", "images", *METHODS, "speed-up (pdq)", "speed-up (all)", "max bits vs tx"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size in SIZES:
        count = {640: 24, 1920: 8}.get(size[0], len(SOURCES))
        images = [photo_jpeg(SOURCES[i % len(SOURCES)], size, seed=i) for i in range(count)]
        rates = measure(images, repeats)
        drift = max(distance(threatexchange_pdq(d), ours_pdq(d)) for d in images)
        tx = rates["threatexchange"]
        cells = [
            f"{size[0]}x{size[1]}",
            str(count),
            *(f"{rates[name]:.1f}" for name in METHODS),
            f"{rates['ours: pdq'] / tx:.2f}x",
            f"{rates['ours: md5+sha1+sha256+pdq+8 dihedral'] / tx:.2f}x",
            str(drift),
        ]
        print("| " + " | ".join(cells) + " |", flush=True)


def malloc_comparison(repeats: int) -> None:
    """Re-run the table in child processes under different glibc allocator settings."""
    variants = {
        "glibc defaults, no tuning": {"BRIGHTLINE_TUNE_MALLOC": "0"},
        "aggressive trim (MALLOC_TRIM_THRESHOLD_=0), no tuning": {
            "BRIGHTLINE_TUNE_MALLOC": "0",
            "MALLOC_TRIM_THRESHOLD_": "0",
        },
        "aggressive trim, tuned at import (default)": {"MALLOC_TRIM_THRESHOLD_": "0"},
    }
    for label, extra in variants.items():
        print(f"\n### {label}\n", flush=True)
        env = {**os.environ, **extra}
        subprocess.run([sys.executable, __file__, "--repeats", str(repeats)], env=env, check=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--malloc", action="store_true", help="compare allocator settings")
    args = parser.parse_args(argv)
    run(args.repeats)
    if args.malloc:
        malloc_comparison(args.repeats)


if __name__ == "__main__":
    main()
