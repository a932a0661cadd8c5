"""Safe decoding of untrusted image bytes into an upright 8-bit RGB image for perceptual hashing.

Everything a scanner is handed is hostile until proven otherwise, so decoding is defensive:

* only a short allowlist of formats is decoded (:data:`DECODED_FORMATS`); Pillow can open many
  more (EPS would start Ghostscript), and each extra codec is extra attack surface;
* the pixel count is checked from the header *before* any pixel is decoded, so a decompression
  bomb (a tiny file claiming 100k x 100k pixels) costs a few microseconds, not gigabytes;
* every failure becomes :class:`ImageDecodeError` (an :class:`~brightline.errors.Unhashable`)
  with a stable reason code, never a Pillow exception or warning leaking out;
* EXIF orientation is applied before hashing (as ``ImageOps.exif_transpose`` would): phone photos
  store the pixels sideways plus a flag saying so, and hashing the stored pixels puts them 100-136
  bits away from the upright image;
* every pixel mode is mapped to 8-bit RGB the way a viewer would show it (see :func:`to_rgb`).

JPEG fast path: large JPEGs are decoded at 1/2, 1/4 or 1/8 scale inside libjpeg (Pillow's
``draft``), which is several times faster than a full decode. PDQ squeezes every image to 64x64
anyway, but reduced decoding still moves the hash by a few bits, so the scale is only reduced while
the short side stays at least :data:`FAST_PATH_MIN_SHORT_SIDE` pixels, where our evaluation
(``docs/signals.md``) found no recall loss at distance <= 31.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from brightline.errors import Unhashable

NOT_AN_IMAGE: Final = "not_an_image"
TRUNCATED: Final = "truncated"
CORRUPT: Final = "corrupt"
TOO_LARGE: Final = "too_large"
TOO_MANY_PIXELS: Final = "too_many_pixels"
UNSUPPORTED_FORMAT: Final = "unsupported_format"

REASONS: Final = frozenset(
    {NOT_AN_IMAGE, TRUNCATED, CORRUPT, TOO_LARGE, TOO_MANY_PIXELS, UNSUPPORTED_FORMAT}
)
"""Every reason code decoding can produce; scan reports group by these."""

FAST_PATH_MIN_SHORT_SIDE: Final = 1000
"""Smallest short side (pixels) a reduced-size JPEG decode may produce.

Measured on 18 natural images (docs/signals.md), bits moved vs a full decode: median 2-3 and at
most 8 with a short side of 1000-1500 px, where no query that matched with a full decode stopped
matching at distance <= 31; up to 14 at 750 px, 26-28 at 375-500 px and 34 at 250 px.
"""

TRANSPARENT_BACKGROUND: Final = (0, 0, 0)
"""Colour that transparent pixels are composited onto before hashing.

A fixed colour makes the hash depend only on what is visible. Black rather than white because
the reference tools (python-threatexchange, HMA) ignore alpha and hash the stored colour, which is
often zero under fully transparent pixels: compositing onto black then gives the hash those tools
put in the lists we match against.
"""

_MEDIA_TYPES: Final[dict[str, str]] = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG (many phone cameras): the first picture is a JPEG
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
}

Image.init()
DECODED_FORMATS: Final[tuple[str, ...]] = tuple(f for f in _MEDIA_TYPES if f in Image.OPEN)
"""Pillow formats we decode: what upload platforms actually receive, nothing exotic."""

_WEAK_MAGIC_FORMATS: Final = frozenset({"PCX", "PPM", "XBM"})
"""Pillow formats whose signature is too short or textual to call arbitrary bytes an image."""

_FOREIGN_SIGNATURES: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"%!PS", "application/postscript"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),  # Matroska / WebM
    (0, b"FLV\x01", "video/x-flv"),
    (0, b"OggS", "application/ogg"),
    (0, b"GIF8", "image/gif"),  # a GIF whose header is too damaged to parse
)
"""Signatures of media we recognise but do not decode (reason ``unsupported_format``)."""

_ISO_BMFF_BRANDS: Final[dict[bytes, str]] = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}

_DECODE_LOCK = threading.Lock()
"""Serialises decoding because :func:`warnings.catch_warnings` is process-global before 3.14.

Pillow reports oddities (corrupt EXIF, odd palettes, large images) as warnings; under
``filterwarnings=error`` (our tests) or ``-W error`` they would surface as exceptions from deep
inside Pillow. Silencing them needs ``catch_warnings``, which swaps the global filter list; two
threads interleaving enter/exit could leave the process with warnings silenced forever. Decoding
is one step of several (PDQ holds the GIL anyway), so the lock costs little parallelism.
"""


class ImageDecodeError(Unhashable):
    """Decoding failed; carries what the header revealed, for scan reports."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        media_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        super().__init__(reason, detail)
        self.media_type = media_type
        self.width = width
        self.height = height


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """An upright 8-bit RGB image ready for perceptual hashing."""

    image: Image.Image
    """Mode ``RGB``, orientation applied. Smaller than ``width`` x ``height`` when reduced."""
    media_type: str
    width: int
    """Full-resolution width as displayed (after EXIF orientation), not the reduced width."""
    height: int
    decode_scale: int
    """1 for a full decode; 2, 4 or 8 when the JPEG fast path decoded at reduced size."""


@contextmanager
def _quiet_pillow() -> Iterator[None]:
    with _DECODE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def decode_image(data: bytes, *, max_pixels: int, fast_path: bool = True) -> DecodedImage:
    """Decode ``data`` (the whole file) to an upright RGB image, or raise :class:`ImageDecodeError`.

    ``max_pixels`` is enforced from the header before decoding. ``fast_path=False`` forces a full
    decode (bit-exact with the reference pipeline: decode, RGB, ``pdqhash.compute``).
    """
    if not data:
        raise ImageDecodeError(NOT_AN_IMAGE, "empty input")
    with _quiet_pillow():
        return _decode(data, max_pixels=max_pixels, fast_path=fast_path)


def _decode(data: bytes, *, max_pixels: int, fast_path: bool) -> DecodedImage:
    try:
        im = Image.open(io.BytesIO(data), formats=DECODED_FORMATS)
    except Image.DecompressionBombError:
        # Pillow's own, process-wide limit (2 x Image.MAX_IMAGE_PIXELS) fired before ours could.
        raise ImageDecodeError(
            TOO_MANY_PIXELS, "image header exceeds Pillow's pixel limit"
        ) from None
    except UnidentifiedImageError:
        raise _unidentified(data) from None
    except MemoryError:
        raise
    except Exception as exc:  # a parser error from a format whose signature matched
        raise _load_error(exc, data, _media_type(_accepting_format(data))) from None

    media_type = _media_type(im.format)
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageDecodeError(CORRUPT, "image header has an empty size", media_type=media_type)
    # Before anything touches pixels (even reading PNG EXIF can decode the whole image).
    if width * height > max_pixels:
        raise ImageDecodeError(
            TOO_MANY_PIXELS,
            f"{width}x{height} pixels exceeds the limit of {max_pixels}",
            media_type=media_type,
            width=width,
            height=height,
        )
    scale = _draft_scale(im) if fast_path else 1
    try:
        if scale > 1:
            im.draft(im.mode, (width // scale, height // scale))
        im.load()  # the first frame only, for animated formats
        orientation = _orientation(im)
        rgb = to_rgb(_upright(im, orientation))
    except ImageDecodeError:
        raise
    except MemoryError:
        raise
    except Image.DecompressionBombError:  # some plugins check frames again while loading
        raise ImageDecodeError(
            TOO_MANY_PIXELS,
            "image frame exceeds Pillow's pixel limit",
            media_type=media_type,
            width=width,
            height=height,
        ) from None
    except Exception as exc:
        raise _load_error(exc, data, media_type, width=width, height=height) from None
    if orientation in _SWAPS_AXES:
        width, height = height, width
    return DecodedImage(
        image=rgb, media_type=media_type, width=width, height=height, decode_scale=scale
    )


_SWAPS_AXES: Final = frozenset({5, 6, 7, 8})

_UPRIGHT: Final[dict[int, Image.Transpose]] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation -> the transpose that shows the picture upright (``ImageOps.exif_transpose``'s
table; the tests check they agree)."""


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    """Apply the orientation to the pixels.

    Not ``ImageOps.exif_transpose`` itself: after turning the pixels it rewrites the EXIF block,
    which raises on the damaged EXIF common in the wild, and the metadata is of no use here.
    """
    method = _UPRIGHT.get(orientation)
    return im if method is None else im.transpose(method)


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8), or 1 when absent or unreadable.

    Broken EXIF is common in the wild; it must not make an otherwise decodable image unhashable.
    """
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # any EXIF parse error means "no usable orientation"
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _draft_scale(im: Image.Image) -> int:
    """The largest JPEG DCT scale (2, 4, 8) that keeps the short side >= the fast-path minimum."""
    if not isinstance(im, JpegImageFile) or len(im.tile) != 1:
        return 1
    short = min(im.size)
    for scale in (8, 4, 2):
        if short // scale >= FAST_PATH_MIN_SHORT_SIDE:
            return scale
    return 1


def _media_type(fmt: str | None) -> str:
    if not fmt:
        return "application/octet-stream"
    return _MEDIA_TYPES.get(fmt) or Image.MIME.get(fmt) or "application/octet-stream"


def _accepting_format(data: bytes) -> str | None:
    """The decoded format whose signature ``data`` starts with, if any."""
    prefix = data[:16]
    for fmt in DECODED_FORMATS:
        accept = Image.OPEN[fmt][1]
        result = accept(prefix) if accept is not None else False
        if result and not isinstance(result, str):
            return fmt
    return None


def _unidentified(data: bytes) -> ImageDecodeError:
    """Classify bytes no allowed decoder accepted: a damaged allowed image, another format, junk."""
    fmt = _accepting_format(data)
    if fmt is not None:
        # The signature matched but the header did not parse. Pillow swallowed the parser's
        # exception; call the format's opener directly to learn whether the header was cut short.
        try:
            Image.OPEN[fmt][0](io.BytesIO(data), "")
        except Exception as exc:  # diagnosing: any error is an answer
            return _load_error(exc, data, _media_type(fmt))
        return ImageDecodeError(CORRUPT, "image header is damaged", media_type=_media_type(fmt))
    foreign = _foreign_media_type(data)
    if foreign is not None:
        return ImageDecodeError(
            UNSUPPORTED_FORMAT, f"{foreign} is not decoded for hashing", media_type=foreign
        )
    return ImageDecodeError(NOT_AN_IMAGE, "no image signature recognised")


def _foreign_media_type(data: bytes) -> str | None:
    for offset, signature, media_type in _FOREIGN_SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return media_type
    if data[4:8] == b"ftyp":  # ISO base media: HEIF/AVIF stills or MP4/MOV video
        return _ISO_BMFF_BRANDS.get(data[8:12], "video/mp4")
    if data[:4] == b"RIFF" and data[8:12] in {b"AVI ", b"WAVE"}:
        return "video/x-msvideo" if data[8:12] == b"AVI " else "audio/wav"
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    prefix = data[:16]
    for fmt, (_factory, accept) in Image.OPEN.items():
        if fmt in DECODED_FORMATS or fmt in _WEAK_MAGIC_FORMATS or accept is None:
            continue
        try:
            result = accept(prefix)
        except Exception:  # noqa: S112 -- a faulty signature check just means "not this one"
            continue
        if result and not isinstance(result, str):
            return _media_type(fmt) if fmt in Image.MIME else f"image/x-{fmt.lower()}"
    return None


def _load_error(
    exc: BaseException,
    data: bytes,
    media_type: str,
    *,
    width: int | None = None,
    height: int | None = None,
) -> ImageDecodeError:
    """Map a Pillow decoding exception to ``truncated`` or ``corrupt``.

    Pillow has no exception types for these, so the decision uses what it does expose: EOF errors
    and its "truncated" messages, plus a container length check for WebP (libwebp only says it
    "could not create decoder object").
    """
    message = str(exc).lower()
    truncated = (
        isinstance(exc, EOFError)
        or "truncated" in message
        or "unpack requires a buffer" in message  # struct.error on a short header
        or "buffer is not large enough" in message
        or _riff_truncated(data)
    )
    reason = TRUNCATED if truncated else CORRUPT
    detail = (
        "image data ends early" if truncated else f"image data is damaged ({type(exc).__name__})"
    )
    return ImageDecodeError(reason, detail, media_type=media_type, width=width, height=height)


def _riff_truncated(data: bytes) -> bool:
    """A RIFF container (WebP) states its length: fewer bytes than stated means truncation."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    return int.from_bytes(data[4:8], "little") + 8 > len(data)


# --- mode conversion -------------------------------------------------------------------------

_DIRECT_MODES: Final = frozenset({"1", "L", "P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"})
"""Modes Pillow converts to RGB correctly by itself (when no transparency is declared)."""


def to_rgb(image: Image.Image) -> Image.Image:
    """Return ``image`` as 8-bit ``RGB``, as a viewer would show it.

    * Transparency (alpha bands, palette or colour-key transparency) is composited onto
      :data:`TRANSPARENT_BACKGROUND`, so invisible pixels cannot change the hash.
    * 16-bit images are scaled to 8 bits (Pillow's own conversion clips everything above 255 to
      white). 32-bit integer and float images carry no declared range, so it is inferred: values in
      0-255 are used as they are, 0-65535 as 16-bit, 0.0-1.0 floats as unit intensities, anything
      else is stretched min-to-max. PDQ bits are (up to rounding) invariant to any increasing
      linear brightness map, so the inference changes the quality score, not the match.
    * CMYK, YCbCr, LAB, HSV and bilevel images use Pillow's conversions.
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode in {"I", "F"}:
        return _wide_to_rgb(image)
    if mode == "La":
        return _premultiplied_la_to_rgb(image)
    if mode in {"RGBA", "LA", "PA", "RGBa"} or "transparency" in image.info:
        return _composite(image.convert("RGBA"))
    if mode in _DIRECT_MODES:
        return image.convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError:
        raise ImageDecodeError(
            UNSUPPORTED_FORMAT, f"pixel mode {mode!r} is not supported"
        ) from None


def _composite(rgba: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", rgba.size, TRANSPARENT_BACKGROUND)
    canvas.paste(rgba, (0, 0), rgba)
    return canvas


def _premultiplied_la_to_rgb(image: Image.Image) -> Image.Image:
    # Pillow cannot convert La at all. Premultiplied luma over a background b is L + b * (1 - a).
    la = np.asarray(image, dtype=np.uint16)
    luma, alpha = la[..., 0], la[..., 1]
    background = round(
        0.299 * TRANSPARENT_BACKGROUND[0]
        + 0.587 * TRANSPARENT_BACKGROUND[1]
        + 0.114 * TRANSPARENT_BACKGROUND[2]
    )
    out = luma + (background * (255 - alpha) + 127) // 255
    return _gray_to_rgb(np.clip(out, 0, 255).astype(np.uint8))


def _wide_to_rgb(image: Image.Image) -> Image.Image:
    values = np.asarray(image)
    if image.mode.startswith("I;16"):
        scaled = _scale(values.astype(np.float64), 0.0, 65535.0)
    else:
        values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if low >= 0.0 and high <= 1.0 and image.mode == "F":
            scaled = _scale(values, 0.0, 1.0)
        elif low >= 0.0 and high <= 255.0:
            scaled = values
        elif low >= 0.0 and high <= 65535.0:
            scaled = _scale(values, 0.0, 65535.0)
        else:
            scaled = _scale(values, low, high)
    return _gray_to_rgb(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _scale(values: npt.NDArray[np.float64], low: float, high: float) -> npt.NDArray[np.float64]:
    if high <= low:
        return np.zeros_like(values)
    return (values - low) * (255.0 / (high - low))


def _gray_to_rgb(gray: npt.NDArray[np.uint8]) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(gray)).convert("RGB")
