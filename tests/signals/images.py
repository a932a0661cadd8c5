"""Test images: benign scikit-image-bundled photographs and images generated from them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.signals.robustness import natural_image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(name: str = "astronaut", size: tuple[int, int] | None = None) -> Image.Image:
    """A bundled natural photograph as an RGB image, optionally resized."""
    image = Image.fromarray(natural_image(name))
    return image if size is None else image.resize(size, Image.Resampling.LANCZOS)


def reference_pdq(image: Image.Image) -> tuple[str, int]:
    """The reference path, written out independently: RGB array -> pdqhash.compute -> hex.

    The hex encoding mirrors python-threatexchange's (bits joined MSB first, then formatted).
    """
    import pdqhash

    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}", int(quality)
