"""Generated stand-in images: benign pictures that play the part of banked media in demos.

Each is a seeded random "landscape" of smooth colour fields, 1/f (natural-image-like) texture and
a few shapes, so PDQ sees the kind of detail natural photos have. Nothing here depicts anything.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps


def standin_image(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A deterministic benign stand-in image for ``seed``."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    falloff = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / max(width, height)) ** 1.6
    channels = []
    for _ in range(3):
        spectrum = falloff * np.exp(2j * np.pi * rng.random((height, width)))
        field = np.real(np.fft.ifft2(spectrum))
        field = (field - field.min()) / (np.ptp(field) or 1.0)
        channels.append(field)
    pixels = (np.stack(channels, axis=-1) * 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 8))):
        x0, y0 = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
        x1 = x0 + int(rng.integers(30, width // 3))
        y1 = y0 + int(rng.integers(30, height // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image


ALTERATIONS = (
    "reencode_q30",
    "resize_50",
    "grayscale",
    "brightness_plus20",
    "flip_horizontal",
    "rotate_90",
    "letterbox",
)


def altered(image: Image.Image, alteration: str) -> Image.Image:
    """The kinds of change re-uploads typically carry."""
    if alteration == "reencode_q30":
        return image  # the quality is applied when saving
    if alteration == "resize_50":
        return image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    if alteration == "grayscale":
        return ImageOps.grayscale(image)
    if alteration == "brightness_plus20":
        return ImageEnhance.Brightness(image).enhance(1.2)
    if alteration == "flip_horizontal":
        return ImageOps.mirror(image)
    if alteration == "rotate_90":
        return image.transpose(Image.Transpose.ROTATE_90)
    if alteration == "letterbox":
        framed = Image.new("RGB", (image.width, image.height + image.height // 3), (0, 0, 0))
        framed.paste(image, (0, image.height // 6))
        return framed
    raise ValueError(f"unknown alteration {alteration!r}")
