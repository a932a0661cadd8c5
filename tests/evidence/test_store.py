"""The evidence vault: encrypted, content-addressed, tamper-evident, streamed.

All content here is random or synthetic bytes; the "marker" is an ASCII string that must never
appear on disk in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brightline.errors import EvidenceUnreadable, InvalidInput, NotFound, StorageError
from brightline.evidence import EvidenceStore
from brightline.evidence.storage import LocalDirectoryStorage
from brightline.evidence.store import HEADER_BYTES, TAG_BYTES, load_or_create_key_file
from brightline.settings import Settings, load_settings

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
MARKER = b"BRIGHTLINE-PLAINTEXT-MARKER-0123456789"
CHUNK = 64


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)


def _object_files(store: EvidenceStore) -> list[Path]:
    return sorted(path for path in (store.directory / "objects").rglob("*") if path.is_file())


def _object_path(store: EvidenceStore, ref: str) -> Path:
    storage = store.storage
    if not isinstance(storage, LocalDirectoryStorage):
        raise TypeError("these tests use the local directory storage")
    return storage.path("objects/" + ref.removeprefix("sha256:"))


def _only_object(store: EvidenceStore) -> Path:
    (path,) = _object_files(store)
    return path


def test_bytes_round_trip_under_their_digest(store: EvidenceStore) -> None:
    data = os.urandom(1000) + MARKER
    ref = store.put(data)
    assert ref == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert store.exists(ref)
    assert store.read(ref) == data
    assert b"".join(store.iter_chunks(ref)) == data
    digest = ref.removeprefix("sha256:")
    assert _only_object(store) == store.directory / "objects" / digest[:2] / digest[2:4] / digest


def test_empty_content_round_trips(store: EvidenceStore) -> None:
    assert store.read(store.put(b"")) == b""


def test_put_is_idempotent(store: EvidenceStore) -> None:
    data = os.urandom(300)
    ref = store.put(data)
    before = _only_object(store).read_bytes()
    assert store.put(data) == ref
    assert _object_files(store) == [_only_object(store)]
    assert _only_object(store).read_bytes() == before  # not rewritten


def test_file_round_trip_matches_put(store: EvidenceStore, tmp_path: Path) -> None:
    data = os.urandom(CHUNK * 5)  # an exact multiple: the last chunk is full
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    ref = store.put_file(path)
    assert ref == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert store.read(ref) == data
    assert store.put(data) == ref
    assert len(_object_files(store)) == 1


def test_a_large_file_is_streamed_chunk_by_chunk(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=64 * 1024)
    path = tmp_path / "video.bin"
    size = 5 * 1024 * 1024 + 123
    with path.open("wb") as out:
        for _ in range(size // (1024 * 1024)):
            out.write(os.urandom(1024 * 1024))
        out.write(os.urandom(size % (1024 * 1024)))
    ref = store.put_file(path)
    chunks = list(store.iter_chunks(ref))
    assert max(len(chunk) for chunk in chunks) == 64 * 1024
    assert len(chunks) == -(-size // (64 * 1024))
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    assert f"sha256:{digest.hexdigest()}" == ref
    stored = _only_object(store).stat().st_size
    assert stored == HEADER_BYTES + size + len(chunks) * TAG_BYTES


def test_no_plaintext_on_disk(store: EvidenceStore, tmp_path: Path) -> None:
    store.put(MARKER * 10)
    path = tmp_path / "marker.bin"
    path.write_bytes(os.urandom(500) + MARKER + os.urandom(500))
    store.put_file(path)
    files = _object_files(store)
    assert len(files) == 2
    for file in files:
        body = file.read_bytes()
        assert MARKER not in body
        assert MARKER[:16] not in body


def test_objects_and_directories_are_owner_only(store: EvidenceStore) -> None:
    previous = os.umask(0o022)
    try:
        ref = store.put(b"synthetic")
    finally:
        os.umask(previous)
    path = _only_object(store)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    directory = path.parent
    while directory != store.directory.parent:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        directory = directory.parent
    assert store.exists(ref)
    assert not list(store.directory.rglob(".tmp-*"))


def test_a_flipped_byte_is_detected(store: EvidenceStore) -> None:
    ref = store.put(os.urandom(CHUNK * 3))
    path = _only_object(store)
    for offset in (HEADER_BYTES + 5, path.stat().st_size - 1, 20):
        body = bytearray(path.read_bytes())
        body[offset] ^= 0x01
        path.write_bytes(bytes(body))
        with pytest.raises(EvidenceUnreadable):
            store.read(ref)
        body[offset] ^= 0x01
        path.write_bytes(bytes(body))
    assert len(store.read(ref)) == CHUNK * 3


@pytest.mark.parametrize("cut", ["chunk_boundary", "mid_chunk", "header_only", "partial_header"])
def test_truncation_is_detected(store: EvidenceStore, cut: str) -> None:
    ref = store.put(os.urandom(CHUNK * 3 + 10))
    path = _only_object(store)
    body = path.read_bytes()
    keep = {
        "chunk_boundary": HEADER_BYTES + 2 * (CHUNK + TAG_BYTES),
        "mid_chunk": HEADER_BYTES + CHUNK + TAG_BYTES + 20,
        "header_only": HEADER_BYTES,
        "partial_header": 10,
    }[cut]
    path.write_bytes(body[:keep])
    with pytest.raises(EvidenceUnreadable):
        store.read(ref)


def test_an_appended_chunk_is_detected(store: EvidenceStore) -> None:
    ref = store.put(os.urandom(CHUNK * 2))
    path = _only_object(store)
    body = path.read_bytes()
    path.write_bytes(body + body[HEADER_BYTES : HEADER_BYTES + CHUNK + TAG_BYTES])
    with pytest.raises(EvidenceUnreadable):
        store.read(ref)


def test_swapped_chunks_are_detected(store: EvidenceStore) -> None:
    ref = store.put(os.urandom(CHUNK * 3 + 1))
    path = _only_object(store)
    body = path.read_bytes()
    sealed = CHUNK + TAG_BYTES
    first = body[HEADER_BYTES : HEADER_BYTES + sealed]
    second = body[HEADER_BYTES + sealed : HEADER_BYTES + 2 * sealed]
    path.write_bytes(body[:HEADER_BYTES] + second + first + body[HEADER_BYTES + 2 * sealed :])
    with pytest.raises(EvidenceUnreadable):
        store.read(ref)


def test_an_object_moved_under_another_name_is_detected(store: EvidenceStore) -> None:
    first = store.put(b"synthetic one")
    second = store.put(b"synthetic two")
    one, two = (_object_path(store, ref) for ref in (first, second))
    two.write_bytes(one.read_bytes())
    with pytest.raises(EvidenceUnreadable):
        store.read(second)


def test_a_wrong_key_is_a_clear_error(store: EvidenceStore) -> None:
    ref = store.put(b"synthetic")
    other = EvidenceStore(store.directory, OTHER_KEY)
    with pytest.raises(EvidenceUnreadable, match="not in the keyring"):
        other.read(ref)
    with pytest.raises(EvidenceUnreadable, match="not in the keyring"):
        other.iter_chunks(ref)
    assert issubclass(EvidenceUnreadable, StorageError)


def test_unknown_and_malformed_references(store: EvidenceStore) -> None:
    missing = "sha256:" + "0" * 64
    assert not store.exists(missing)
    with pytest.raises(NotFound):
        store.read(missing)
    with pytest.raises(NotFound):
        store.iter_chunks(missing)  # at the call, before anything is streamed
    for bad in ("sha256:xyz", "md5:" + "0" * 32, "sha256:" + "A" * 64, "../../etc/passwd"):
        with pytest.raises(InvalidInput):
            store.read(bad)
        with pytest.raises(InvalidInput):
            store.exists(bad)


def test_constructor_refuses_bad_keys_and_chunk_sizes(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        EvidenceStore(tmp_path, b"short")
    with pytest.raises(InvalidInput):
        EvidenceStore(tmp_path, KEY, chunk_size=0)
    assert KEY.hex() not in repr(EvidenceStore(tmp_path, KEY))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), chunk_size=st.integers(min_value=1, max_value=97))
def test_any_bytes_round_trip(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, chunk_size: int
) -> None:
    store = EvidenceStore(tmp_path_factory.mktemp("vault"), KEY, chunk_size=chunk_size)
    ref = store.put(data)
    assert store.read(ref) == data


# -- keys ------------------------------------------------------------------------------------


def _settings(tmp_path: Path, **environ: str) -> Settings:
    return load_settings({"BRIGHTLINE_HOME": str(tmp_path / "home"), **environ})


def test_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    text = base64.b64encode(OTHER_KEY).decode()
    settings = _settings(tmp_path, BRIGHTLINE_EVIDENCE_KEY=text)
    assert text not in repr(settings)
    store = EvidenceStore.from_settings(settings)
    ref = store.put(b"synthetic")
    assert EvidenceStore(store.directory, OTHER_KEY).read(ref) == b"synthetic"
    assert not (settings.home / "keys").exists()


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(b"x" * 31).decode()])
def test_a_malformed_environment_key_is_refused_without_echoing_it(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(InvalidInput, match="BRIGHTLINE_EVIDENCE_KEY") as caught:
        EvidenceStore.from_settings(_settings(tmp_path, BRIGHTLINE_EVIDENCE_KEY=text))
    assert text not in str(caught.value)


def test_a_key_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = EvidenceStore.from_settings(settings)
    key_file = settings.home / "keys" / "evidence.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    ref = first.put(b"synthetic")
    assert EvidenceStore.from_settings(settings).read(ref) == b"synthetic"
    assert list(key_file.parent.iterdir()) == [key_file]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "keys" / "evidence.key"
    load_or_create_key_file(key_file)
    key_file.chmod(mode)
    with pytest.raises(StorageError, match="chmod 600"):
        load_or_create_key_file(key_file)


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "evidence.key"
    key_file.parent.mkdir(mode=0o700)
    key_file.write_text("garbage")
    key_file.chmod(0o600)
    with pytest.raises(StorageError, match=r"key file .* must be base64"):
        load_or_create_key_file(key_file)


def test_a_different_key_file_cannot_read_old_objects(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ref = EvidenceStore.from_settings(settings).put(b"synthetic")
    (settings.home / "keys" / "evidence.key").unlink()
    with pytest.raises(EvidenceUnreadable, match="not in the keyring"):
        EvidenceStore.from_settings(settings).read(ref)
