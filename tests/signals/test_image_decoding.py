"""Decoding untrusted bytes: pixel modes, orientation, and every way input can be bad."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from brightline.signals import HashingLimits, hash_content, hash_file
from brightline.signals.image_decoding import (
    FAST_PATH_MIN_SHORT_SIDE,
    REASONS,
    TRANSPARENT_BACKGROUND,
    ImageDecodeError,
    decode_image,
    to_rgb,
)
from brightline.signals.pdq import hamming_distance, pdq_from_rgb
from tests.signals.images import encode, photo

ASTRONAUT = photo("astronaut", (256, 256))


def _pdq(image: Image.Image) -> str:
    return pdq_from_rgb(np.asarray(image.convert("RGB")))[0]


def _reason(data: bytes, limits: HashingLimits | None = None) -> str | None:
    content = hash_content(data, limits=limits or HashingLimits())
    return None if content.unhashable is None else content.unhashable.reason


# --- pixel modes ------------------------------------------------------------------------------

_RGB_HASH = _pdq(ASTRONAUT)
_GRAY = ASTRONAUT.convert("L")
_GRAY_HASH = _pdq(_GRAY)


def _wide(mode: str, values: np.ndarray) -> Image.Image:
    if mode.startswith("I;16"):
        dtype = ">u2" if mode == "I;16B" else "<u2"
        return Image.frombytes(mode, (values.shape[1], values.shape[0]), values.astype(dtype))
    return Image.fromarray(values.astype(np.int32 if mode == "I" else np.float32))


_gray_values = np.asarray(_GRAY, dtype=np.float64)
MODES: dict[str, tuple[Image.Image, str]] = {
    # mode -> (image in that mode, hash it should be close to)
    "1": (_GRAY.convert("1"), ""),  # dithered: only checked for decoding, not closeness
    "L": (_GRAY, _GRAY_HASH),
    "LA": (_GRAY.convert("LA"), _GRAY_HASH),
    "La": (Image.merge("La", (_GRAY, Image.new("L", _GRAY.size, 255))), _GRAY_HASH),
    "P": (ASTRONAUT.convert("P", palette=Image.Palette.ADAPTIVE), _RGB_HASH),
    "PA": (ASTRONAUT.convert("P", palette=Image.Palette.ADAPTIVE).convert("PA"), _RGB_HASH),
    "RGB": (ASTRONAUT, _RGB_HASH),
    "RGBA": (ASTRONAUT.convert("RGBA"), _RGB_HASH),
    "RGBa": (ASTRONAUT.convert("RGBa"), _RGB_HASH),
    "RGBX": (ASTRONAUT.convert("RGBX"), _RGB_HASH),
    "CMYK": (ASTRONAUT.convert("CMYK"), _RGB_HASH),
    "YCbCr": (ASTRONAUT.convert("YCbCr"), _RGB_HASH),
    "LAB": (ASTRONAUT.convert("LAB"), _RGB_HASH),
    "HSV": (ASTRONAUT.convert("HSV"), _RGB_HASH),
    "I": (_wide("I", _gray_values * 257), _GRAY_HASH),  # 16-bit data in a 32-bit image
    "I:8bit": (_wide("I", _gray_values), _GRAY_HASH),
    "I:signed": (_wide("I", _gray_values * 1000 - 100000), _GRAY_HASH),
    "F": (_wide("F", _gray_values / 255.0), _GRAY_HASH),
    "F:8bit": (_wide("F", _gray_values), _GRAY_HASH),
    "I;16": (_wide("I;16", _gray_values * 257), _GRAY_HASH),
    "I;16L": (_wide("I;16L", _gray_values * 257), _GRAY_HASH),
    "I;16B": (_wide("I;16B", _gray_values * 257), _GRAY_HASH),
    "I;16N": (_wide("I;16N", _gray_values * 257), _GRAY_HASH),
}


def test_every_pillow_mode_is_covered() -> None:
    from PIL import ImageMode

    known = set(getattr(Image, "MODES", [])) or {m for m in MODES if ImageMode.getmode(m)}
    assert known <= {m.split(":")[0] for m in MODES}


@pytest.mark.parametrize("mode", list(MODES))
def test_mode_converts_to_faithful_rgb(mode: str) -> None:
    image, expected = MODES[mode]
    assert image.mode == mode.split(":")[0]
    rgb = to_rgb(image)
    assert rgb.mode == "RGB"
    assert rgb.size == image.size
    if expected:
        # 8-bit quantisation and colour-space round trips move a few bits at most
        assert hamming_distance(_pdq(rgb), expected) <= 8, mode


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("1", "PNG"),
        ("L", "JPEG"),
        ("LA", "PNG"),
        ("P", "GIF"),
        ("P", "BMP"),
        ("RGBA", "WEBP"),
        ("CMYK", "JPEG"),
        ("CMYK", "TIFF"),
        ("YCbCr", "TIFF"),
        ("LAB", "TIFF"),
        ("I", "TIFF"),
        ("F", "TIFF"),
        ("I;16", "PNG"),
        ("I;16", "TIFF"),
        ("RGB", "AVIF"),
    ],
)
def test_modes_survive_a_file_round_trip(mode: str, fmt: str, limits: HashingLimits) -> None:
    if fmt not in Image.SAVE:
        pytest.skip(f"this Pillow cannot write {fmt}")
    image = next(img for key, (img, _) in MODES.items() if key == mode)
    content = hash_content(encode(image, fmt), limits=limits)
    assert content.unhashable is None, content.unhashable
    pdq = content.signal("pdq")
    assert pdq is not None
    assert content.width == image.width
    if mode != "1":
        assert hamming_distance(pdq.value, MODES[mode][1]) <= 16, (mode, fmt)


def test_hidden_colour_under_transparency_does_not_change_the_hash() -> None:
    rng = np.random.default_rng(1)
    alpha = np.zeros((256, 256), dtype=np.uint8)
    alpha[:, 64:192] = 255
    base = np.asarray(ASTRONAUT).copy()
    hashes = set()
    for _ in range(2):
        hidden = base.copy()
        hidden[alpha == 0] = rng.integers(0, 256, size=(int((alpha == 0).sum()), 3))
        rgba = Image.fromarray(np.dstack([hidden, alpha]))
        hashes.add(_pdq(to_rgb(rgba)))
    assert len(hashes) == 1
    composited = np.asarray(to_rgb(rgba))
    assert tuple(composited[0, 0]) == TRANSPARENT_BACKGROUND


def test_palette_transparency_is_composited(limits: HashingLimits) -> None:
    palette_image = ASTRONAUT.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    data = encode(palette_image, "GIF", transparency=0)
    content = hash_content(data, limits=limits)
    assert content.unhashable is None
    with Image.open(io.BytesIO(data)) as decoded:
        expected = Image.new("RGB", decoded.size, TRANSPARENT_BACKGROUND)
        rgba = decoded.convert("RGBA")
        expected.paste(rgba, (0, 0), rgba)
    pdq = content.signal("pdq")
    assert pdq is not None
    assert pdq.value == _pdq(expected)


def test_animated_images_hash_their_first_frame(limits: HashingLimits) -> None:
    first = photo("coffee", (200, 150))
    second = photo("rocket", (200, 150))
    for fmt in ("GIF", "WEBP", "PNG"):
        data = encode(first, fmt, save_all=True, append_images=[second], duration=100)
        content = hash_content(data, limits=limits)
        pdq = content.signal("pdq")
        assert pdq is not None, fmt
        with Image.open(io.BytesIO(data)) as decoded:
            assert getattr(decoded, "n_frames", 1) == 2
            expected = _pdq(decoded.convert("RGB"))
        assert pdq.value == expected, fmt


# --- orientation ------------------------------------------------------------------------------

_T = Image.Transpose
# EXIF orientation -> how the camera stored the upright picture (the inverse of the fix-up)
STORED = {
    2: _T.FLIP_LEFT_RIGHT,
    3: _T.ROTATE_180,
    4: _T.FLIP_TOP_BOTTOM,
    5: _T.TRANSPOSE,
    6: _T.ROTATE_90,
    7: _T.TRANSVERSE,
    8: _T.ROTATE_270,
}


def _with_orientation(upright: Image.Image, orientation: int, fmt: str = "JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = upright.transpose(STORED[orientation])
    options = {"quality": 95} if fmt == "JPEG" else {}
    return encode(stored, fmt, exif=exif.tobytes(), **options)


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_exif_orientation_is_applied_before_hashing(
    orientation: int, limits: HashingLimits
) -> None:
    upright = photo("motorcycle", (370, 250))
    reference = hash_content(encode(upright, "JPEG", quality=95), limits=limits)
    data = _with_orientation(upright, orientation)
    content = hash_content(data, limits=limits)
    assert (content.width, content.height) == upright.size
    pdq, ref = content.signal("pdq"), reference.signal("pdq")
    assert pdq is not None
    assert ref is not None
    assert hamming_distance(pdq.value, ref.value) <= 4  # measured: 0-2 bits
    # what the reference tools compute: the stored pixels, ignoring the orientation flag
    with Image.open(io.BytesIO(data)) as raw:
        ignored = _pdq(raw)
    assert hamming_distance(ignored, ref.value) >= 90  # measured: 100-136 bits


def test_orientation_table_agrees_with_pillow() -> None:
    from PIL import ImageOps

    from brightline.signals.image_decoding import _upright

    stored = photo("coffee", (60, 40))
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        with Image.open(io.BytesIO(encode(stored, "PNG", exif=exif.tobytes()))) as image:
            image.load()
            expected = ImageOps.exif_transpose(image)
            assert _upright(image, orientation).tobytes() == expected.tobytes()


def test_png_exif_orientation_is_applied(limits: HashingLimits) -> None:
    upright = photo("coffee", (300, 200))
    content = hash_content(_with_orientation(upright, 6, "PNG"), limits=limits)
    pdq = content.signal("pdq")
    assert pdq is not None
    assert pdq.value == _pdq(upright)
    assert (content.width, content.height) == (300, 200)


def test_broken_exif_does_not_make_an_image_unhashable(limits: HashingLimits) -> None:
    data = encode(ASTRONAUT, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    content = hash_content(data, limits=limits)
    assert content.unhashable is None
    assert content.signal("pdq") is not None


# --- bad input ----------------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


_JPEG = encode(ASTRONAUT, "JPEG", quality=90)
_PNG = encode(ASTRONAUT, "PNG")
_GIF = encode(ASTRONAUT.convert("P"), "GIF")
_WEBP = encode(ASTRONAUT, "WEBP", quality=80)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_an_image"),
        (random.Random(3).randbytes(5000), "not_an_image"),
        (b"Dear colleague,\nplease find the notes attached.\n" * 20, "not_an_image"),
        (_JPEG[: len(_JPEG) // 2], "truncated"),
        (_JPEG[:300], "truncated"),
        (_PNG[: len(_PNG) // 2], "truncated"),
        (_PNG[:20], "truncated"),
        (_GIF[: len(_GIF) // 2], "truncated"),
        (_WEBP[: len(_WEBP) // 2], "truncated"),
        (_PNG[:16] + b"\x00" * 13 + _PNG[29:], "corrupt"),  # IHDR replaced: CRC fails
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 100, "unsupported_format"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "unsupported_format"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isommp41" + bytes(64), "unsupported_format"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "unsupported_format"),
        (encode(ASTRONAUT, "ICO"), "unsupported_format"),
        (encode(ASTRONAUT, "EPS"), "unsupported_format"),
        (_png_header_only(100_000, 100_000), "too_many_pixels"),  # Pillow's own limit fires
        (_png_header_only(12_000, 12_000), "too_many_pixels"),  # ours (144 MP > 120 MP)
    ],
    ids=[
        "empty",
        "random_bytes",
        "text",
        "jpeg_half",
        "jpeg_header",
        "png_half",
        "png_signature",
        "gif_half",
        "webp_half",
        "png_bad_ihdr",
        "pdf",
        "heic",
        "mp4",
        "svg",
        "ico",
        "eps",
        "png_bomb_100k",
        "png_bomb_12k",
    ],
)
def test_bad_input_gets_a_stable_reason(data: bytes, reason: str, limits: HashingLimits) -> None:
    content = hash_content(data, limits=limits)
    assert content.unhashable is not None
    assert content.unhashable.reason == reason
    assert content.signal("pdq") is None
    assert content.pdq_dihedral == ()
    # the bytes were read, so the exact digests are still there to match
    assert {s.signal_type for s in content.signals} == {"md5", "sha1", "sha256"}


def test_pixel_cap_is_checked_from_the_header(limits: HashingLimits) -> None:
    bomb = hash_content(_png_header_only(12_000, 12_000), limits=limits)
    assert (bomb.media_type, bomb.width, bomb.height) == ("image/png", 12_000, 12_000)
    # a cap below Pillow's warning level, on a header above it: Pillow warns, we must not leak it
    small = HashingLimits(max_image_pixels=50_000_000)
    assert _reason(_png_header_only(10_000, 10_000), small) == "too_many_pixels"
    tiny_cap = HashingLimits(max_image_pixels=256 * 255)
    assert _reason(_PNG, tiny_cap) == "too_many_pixels"
    assert _reason(_PNG, HashingLimits(max_image_pixels=256 * 256)) is None


def test_byte_cap(tmp_path: Path) -> None:
    limits = HashingLimits(max_file_bytes=len(_PNG) - 1)
    over = hash_content(_PNG, limits=limits)
    assert over.signals == ()
    assert over.unhashable is not None
    assert over.unhashable.reason == "too_large"
    path = tmp_path / "big.png"
    path.write_bytes(_PNG)
    from_file = hash_file(path, limits=limits)
    assert from_file.signals == ()
    assert from_file.unhashable is not None
    assert from_file.unhashable.reason == "too_large"
    assert hash_file(path, limits=HashingLimits(max_file_bytes=len(_PNG))).unhashable is None


def test_byte_cap_bounds_reads_from_sources_without_a_size() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero")
    content = hash_file(zero, limits=HashingLimits(max_file_bytes=4096))
    assert content.unhashable is not None
    assert content.unhashable.reason == "too_large"


def test_unreadable_paths_raise_oserror(tmp_path: Path, limits: HashingLimits) -> None:
    with pytest.raises(FileNotFoundError):
        hash_file(tmp_path / "missing.jpg", limits=limits)
    with pytest.raises(IsADirectoryError):
        hash_file(tmp_path, limits=limits)


def test_decode_errors_carry_header_facts() -> None:
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(_JPEG[: len(_JPEG) // 2], max_pixels=10**8)
    assert caught.value.reason == "truncated"
    assert caught.value.media_type == "image/jpeg"
    assert (caught.value.width, caught.value.height) == (256, 256)


def test_jpeg_fast_path_decodes_large_jpegs_at_reduced_size() -> None:
    side = 2 * FAST_PATH_MIN_SHORT_SIDE + 100
    big = photo("coffee", (side + 300, side))
    data = encode(big, "JPEG", quality=85)
    fast = decode_image(data, max_pixels=10**8)
    full = decode_image(data, max_pixels=10**8, fast_path=False)
    assert fast.decode_scale == 2
    assert min(fast.image.size) >= FAST_PATH_MIN_SHORT_SIDE
    assert full.decode_scale == 1
    assert full.image.size == big.size
    assert (fast.width, fast.height) == (full.width, full.height) == big.size
    drift = hamming_distance(_pdq(fast.image), _pdq(full.image))
    assert drift <= 16
    # PNGs and JPEGs too small to stay above the minimum are always decoded in full
    assert decode_image(encode(big, "PNG"), max_pixels=10**8).decode_scale == 1
    small = encode(photo("coffee", (1900, 1900)), "JPEG")
    assert decode_image(small, max_pixels=10**8).decode_scale == 1


# --- fuzzing ------------------------------------------------------------------------------------

_SEEDS = [_JPEG, _PNG, _GIF, _WEBP, encode(ASTRONAUT, "TIFF"), encode(ASTRONAUT, "BMP")]


def _check(data: bytes) -> None:
    content = hash_content(data, limits=HashingLimits(max_image_pixels=4_000_000))
    assert len(content.signals) >= 3
    if content.unhashable is not None:
        assert content.unhashable.reason in REASONS
        assert content.signal("pdq") is None
    else:
        assert content.signal("pdq") is not None
        assert len(content.pdq_dihedral) == 8


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_arbitrary_bytes_never_raise(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(range(len(_SEEDS))),
    st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), max_size=8),
    st.integers(0, 10**7),
)
def test_fuzz_damaged_images_never_raise(seed: int, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_SEEDS[seed])
    for position, value in edits:
        data[position % len(data)] = value
    _check(bytes(data[: max(1, len(data) - cut % len(data))]))
