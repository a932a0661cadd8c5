"""The contract every registered signal type must honour, run over the default registry.

A new type (built-in or plugin) gets these checks by being registered; it only has to add an
example value to ``EXAMPLES``.
"""

from __future__ import annotations

import base64
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.signals import MatchKind, default_registry
from brightline.signals.base import BytesHasher, ImageHasher, SignalType
from brightline.signals.video import VideoFrameHash, VideoHash, encode_video_hash

_rng = random.Random(20240601)
EXAMPLES: dict[str, tuple[str, str]] = {
    # two distinct valid values per type (synthetic; not hashes of any real content)
    "md5": ("d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661"),
    "sha1": (
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8",
    ),
    "sha256": (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    ),
    "photodna": (
        base64.b64encode(bytes(_rng.randrange(256) for _ in range(144))).decode(),
        base64.b64encode(bytes(_rng.randrange(256) for _ in range(144))).decode(),
    ),
    "pdq": (f"{_rng.getrandbits(256):064x}", f"{_rng.getrandbits(256):064x}"),
    "vpdq": tuple(
        encode_video_hash(
            VideoHash(
                frames=tuple(
                    VideoFrameHash(f"{_rng.getrandbits(256):064x}", 90, float(second))
                    for second in range(3)
                ),
                duration=3.0,
                frame_rate_sampled=1.0,
            )
        )
        for _ in range(2)
    ),
}
GARBAGE = ["", " ", "zz", "not a hash", "0" * 1000, "\x00", "\uff44" + "41d8", "g" * 64, "12,34"]

TYPES = list(default_registry())


def _ids(signal_type: SignalType) -> str:
    return signal_type.name


@pytest.fixture(params=TYPES, ids=_ids)
def signal_type(request: pytest.FixtureRequest) -> SignalType:
    value: SignalType = request.param
    return value


def test_default_registry_has_the_builtin_types() -> None:
    registry = default_registry()
    assert registry.names() == ["md5", "pdq", "photodna", "sha1", "sha256", "vpdq"]
    assert {t.name for t in registry.bytes_hashers()} == {"md5", "sha1", "sha256"}
    assert [t.name for t in registry.image_hashers()] == ["pdq"]


def test_default_registry_is_fresh_each_time() -> None:
    first, second = default_registry(), default_registry()
    first.unregister("pdq")
    assert "pdq" in second
    with pytest.raises(Conflict):
        second.register(second.get("md5"))
    with pytest.raises(NotFound):
        first.get("pdq")


def test_identity_is_stable(signal_type: SignalType) -> None:
    assert signal_type.name
    assert signal_type.name == signal_type.name.strip().lower()
    assert isinstance(signal_type.version, int)
    assert signal_type.version >= 1
    assert isinstance(signal_type.match_kind, MatchKind)
    assert isinstance(signal_type, SignalType)
    assert signal_type.name in EXAMPLES, "add example values for a new signal type"


def test_normalize_is_idempotent_and_round_trips(signal_type: SignalType) -> None:
    for example in EXAMPLES[signal_type.name]:
        canonical = signal_type.normalize(example)
        assert signal_type.normalize(canonical) == canonical
        assert signal_type.normalize(f"  {canonical}\n") == canonical


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "pdq"])
def test_hex_values_are_canonicalised_to_lower_case(name: str) -> None:
    """Hex types only: base64 (photodna, vpdq) is case-sensitive."""
    signal_type = default_registry().get(name)
    example = EXAMPLES[name][0]
    assert signal_type.normalize(example.upper()) == signal_type.normalize(example)


@pytest.mark.parametrize("garbage", GARBAGE)
def test_normalize_rejects_garbage(signal_type: SignalType, garbage: str) -> None:
    with pytest.raises(InvalidInput):
        signal_type.normalize(garbage)


def test_normalize_rejects_non_strings(signal_type: SignalType) -> None:
    with pytest.raises(InvalidInput):
        signal_type.normalize(None)  # type: ignore[arg-type]


def test_distance(signal_type: SignalType) -> None:
    a, b = (signal_type.normalize(v) for v in EXAMPLES[signal_type.name])
    assert signal_type.distance(a, a) == 0
    assert signal_type.distance(a, b) > 0
    assert signal_type.distance(a, b) == signal_type.distance(b, a)


@given(st.text(max_size=300))
def test_normalize_never_raises_anything_but_invalid_input(text: str) -> None:
    for signal_type in TYPES:
        try:
            canonical = signal_type.normalize(text)
        except InvalidInput:
            continue
        assert signal_type.normalize(canonical) == canonical


def test_hashers_produce_canonical_values(signal_type: SignalType) -> None:
    from PIL import Image

    if isinstance(signal_type, BytesHasher):
        signal = signal_type.hash_bytes(b"brightline")
    elif isinstance(signal_type, ImageHasher):
        signal = signal_type.hash_image(Image.radial_gradient("L").convert("RGB"))
    else:
        pytest.skip("never computed: values only come from lists")
    assert signal.signal_type == signal_type.name
    assert signal.version == signal_type.version
    assert signal_type.normalize(signal.value) == signal.value
