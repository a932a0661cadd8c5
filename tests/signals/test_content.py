"""The pipeline API the matching layer and the CLI use."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from PIL import Image

from brightline.errors import InvalidInput, Unhashable
from brightline.settings import Settings
from brightline.signals import (
    HashedContent,
    HashingLimits,
    MatchKind,
    Signal,
    default_registry,
    hash_content,
    hash_file,
)
from brightline.signals.pdq import DIHEDRAL_ORDER
from brightline.signals.registry import SignalTypeRegistry
from tests.signals.images import encode, photo

JPEG = encode(photo("rocket", (320, 214)), "JPEG", quality=85)


def test_limits_from_settings() -> None:
    settings = Settings(
        home=Path("/nonexistent"), database_url="sqlite://", max_file_bytes=10, max_image_pixels=20
    )
    assert HashingLimits.from_settings(settings) == HashingLimits(10, 20)
    assert HashingLimits() == HashingLimits(256 * 1024 * 1024, 120_000_000)
    with pytest.raises(InvalidInput):
        HashingLimits(max_file_bytes=0)
    with pytest.raises(FrozenInstanceError):
        HashingLimits().max_file_bytes = 1  # type: ignore[misc]


def test_everything_is_hashed_by_default(limits: HashingLimits) -> None:
    content = hash_content(JPEG, limits=limits)
    assert [s.signal_type for s in content.signals] == ["md5", "sha1", "sha256", "pdq"]
    assert content.unhashable is None
    assert (content.media_type, content.width, content.height) == ("image/jpeg", 320, 214)
    pdq = content.signal("pdq")
    assert pdq is not None
    assert pdq.quality is not None
    assert pdq.quality >= 50
    assert len(content.pdq_dihedral) == len(DIHEDRAL_ORDER)
    assert content.pdq_dihedral[0] == pdq.value
    assert all(len(v) == 64 and v == v.lower() for v in content.pdq_dihedral)
    assert content.signal("photodna") is None
    assert content.signal("nonexistent") is None


def test_without_dihedral(limits: HashingLimits) -> None:
    content = hash_content(JPEG, limits=limits, dihedral=False)
    assert content.pdq_dihedral == ()
    pdq = content.signal("pdq")
    assert pdq is not None
    assert pdq.value == hash_content(JPEG, limits=limits).pdq_dihedral[0]


def test_media_type_comes_from_the_bytes_not_the_name(
    tmp_path: Path, limits: HashingLimits
) -> None:
    path = tmp_path / "holiday.png"
    path.write_bytes(JPEG)
    content = hash_file(path, limits=limits)
    assert content.media_type == "image/jpeg"
    assert content == hash_content(JPEG, limits=limits)


def test_registry_without_image_hashers_never_decodes(limits: HashingLimits) -> None:
    registry = SignalTypeRegistry()
    registry.register(default_registry().get("sha256"))
    content = hash_content(b"not an image at all", limits=limits, registry=registry)
    assert [s.signal_type for s in content.signals] == ["sha256"]
    assert content.unhashable is None
    assert content.media_type is None


class _RefusingHasher:
    """A plugin image hasher that refuses everything (to check failures stay data)."""

    name = "refuser"
    version = 1
    match_kind = MatchKind.EXACT

    def normalize(self, value: str) -> str:
        return value

    def distance(self, a: str, b: str) -> int:
        return int(a != b)

    def hash_image(self, image: Image.Image) -> Signal:
        raise Unhashable("plugin_refused", f"{image.width}px is not for me")


def test_plugin_image_hashers_run_and_their_refusals_are_reported(
    limits: HashingLimits,
) -> None:
    registry = default_registry()
    registry.register(_RefusingHasher())
    content = hash_content(JPEG, limits=limits, registry=registry)
    assert content.signal("pdq") is not None
    assert content.unhashable is not None
    assert content.unhashable.reason == "plugin_refused"


def test_hashed_content_is_immutable(limits: HashingLimits) -> None:
    content = hash_content(JPEG, limits=limits)
    assert isinstance(content, HashedContent)
    with pytest.raises(FrozenInstanceError):
        content.media_type = "text/plain"  # type: ignore[misc]
