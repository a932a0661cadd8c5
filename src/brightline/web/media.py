"""Previews made on the server, so unblurred pixels never reach a browser unasked.

A preview is small, greyscale (by default) and blurred *before* it is sent: a reviewer's browser
holds only what the wellness settings allow until a reveal has been recorded. Revealed views are
still small (and greyscale if the person keeps that setting); only admins and leads may open
originals, with a reason. Videos are shown as a blurred still of their first frame; the muted
video itself is sent only after a recorded reveal.

Media that cannot be read or decoded becomes a plain grey tile: the page says so, and the
reviewer can still decide from the matches (or ask a lead to open the original).
"""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image, ImageFilter, ImageOps

log = logging.getLogger(__name__)

MAX_PIXELS = 120_000_000
_SAFE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "video/quicktime",
}


def is_video(media_type: str) -> bool:
    return media_type.lower().startswith("video/")


def sniffed_media_type(data: bytes) -> str:
    """A video type when ``data`` starts like a video container, else a generic type.

    For files stored without a type (a clearinghouse upload keeps only its bytes): a video is
    shown as its first frame, anything else goes to Pillow, which recognises images by content.
    """
    head = data[:12]
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"OggS"):
        return "video/ogg"
    return "application/octet-stream"


def safe_media_type(media_type: str) -> str:
    """The type to send an original as: a known image/video type, else a download."""
    lowered = media_type.lower().split(";")[0].strip()
    return lowered if lowered in _SAFE_TYPES else "application/octet-stream"


def _first_frame(data: bytes) -> Image.Image:
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(video=0):
            image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
            return image
    raise ValueError("no video frame")


def still(data: bytes, media_type: str) -> Image.Image:
    """The image, or a video's first frame, upright and in RGB (raises on undecodable data)."""
    if is_video(media_type):
        return _first_frame(data).convert("RGB")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ValueError("image too large")
        image.draft("RGB", (1024, 1024))
        return ImageOps.exif_transpose(image).convert("RGB")


def placeholder(size: int) -> bytes:
    return encode(Image.new("L", (size, size), 128))


def encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def reduced(
    data: bytes | None, media_type: str, *, size: int, greyscale: bool, blur_radius: int | None
) -> bytes:
    """A PNG at most ``size`` pixels on its longest side, greyscale and blurred as asked."""
    if data is None:
        return placeholder(size)
    try:
        image = still(data, media_type)
    except Exception as exc:  # any decoder failure: show a neutral tile, never the bytes
        log.info("preview could not be decoded: %s", type(exc).__name__)
        return placeholder(size)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    if greyscale:
        image = image.convert("L")
    if blur_radius:
        image = image.filter(ImageFilter.GaussianBlur(blur_radius))
    return encode(image)
