"""Small factories for test data: random (synthetic) hashes and stand-in images."""

from __future__ import annotations

import random
from pathlib import Path

from brightline.demo.standins import standin_image


def random_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip_bits(hex_hash: str, count: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def write_standin(
    path: Path, seed: int, *, fmt: str = "JPEG", size: tuple[int, int] = (640, 480)
) -> Path:
    standin_image(seed, *size).save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return path
