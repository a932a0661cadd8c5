"""Envelope encryption: per-object data keys, master key rotation, crypto-shredding, format v1.

All content is synthetic bytes.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from brightline.errors import Conflict, EvidenceUnreadable, InvalidInput
from brightline.evidence import EvidenceStore
from brightline.evidence.keyring import MasterKeyring, key_id, read_key_file, write_key_file
from brightline.evidence.rotation import retire_old_keys, rotate_master_key
from brightline.evidence.storage import LocalDirectoryStorage

KEY = bytes(range(32))
NEW_KEY = bytes(range(2, 34))
CHUNK = 64


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _file_store(tmp_path: Path) -> EvidenceStore:
    keyring = MasterKeyring.from_file(tmp_path / "keys" / "evidence.key")
    return EvidenceStore(tmp_path / "vault", keyring, chunk_size=CHUNK)


def _write_v1_object(directory: Path, master: bytes, data: bytes) -> str:
    """An object in the version 1 format (content key from the master key), as older releases
    wrote it, so that reading and upgrading them stays tested."""
    digest = hashlib.sha256(data).hexdigest()
    salt, prefix = secrets.token_bytes(16), secrets.token_bytes(7)
    header = struct.pack(">4sB8sI16s7s", b"BLEV", 1, key_id(master), CHUNK, salt, prefix)
    content_key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt,
        info=b"brightline evidence v1 content key",
    ).derive(master)
    cipher = AESGCM(content_key)
    blocks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    body = b"".join(
        cipher.encrypt(
            prefix + struct.pack(">IB", i, int(i == len(blocks) - 1)),
            block,
            header + bytes.fromhex(digest),
        )
        for i, block in enumerate(blocks)
    )
    path = directory / "objects" / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + body)
    return f"sha256:{digest}"


def test_each_object_has_its_own_wrapped_data_key(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    first, second = store.put(os.urandom(200)), store.put(os.urandom(200))
    keys = sorted(store.storage.names("keys"))
    assert len(keys) == 2
    assert {name.split("/")[1].split(".")[0] for name in keys} == {
        ref.removeprefix("sha256:") for ref in (first, second)
    }
    assert store.key_status() == {key_id(KEY).hex(): 2}


def test_destroying_the_data_key_makes_the_content_unreadable(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    ref = store.put(os.urandom(300))
    (key_name,) = store.storage.names("keys", ref.removeprefix("sha256:"))
    store.storage.delete(key_name)
    with pytest.raises(EvidenceUnreadable, match="data key is gone"):
        store.read(ref)
    assert store.destroy(ref)
    assert not store.exists(ref)
    assert list(store.storage.names("keys")) == []
    assert not store.destroy(ref)


def test_a_data_key_moved_to_another_object_is_refused(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    first, second = store.put(b"synthetic one"), store.put(b"synthetic two")
    storage = store.storage
    assert isinstance(storage, LocalDirectoryStorage)
    (one,) = storage.names("keys", first.removeprefix("sha256:"))
    (two,) = storage.names("keys", second.removeprefix("sha256:"))
    storage.path(two).write_bytes(storage.path(one).read_bytes())
    with pytest.raises(EvidenceUnreadable, match="data key failed verification"):
        store.read(second)
    assert store.read(first) == b"synthetic one"


def test_rotation_rewraps_keys_without_touching_content(tmp_path: Path) -> None:
    store = _file_store(tmp_path)
    data = {store.put(os.urandom(500)): None for _ in range(5)}
    refs = list(data)
    before = _files(tmp_path / "vault" / "objects")
    old_id = store.keyring.active_id.hex()

    report = rotate_master_key(store)

    assert report.active_key_id != old_id
    assert report.rewrap.rewrapped == 5
    assert _files(tmp_path / "vault" / "objects") == before  # content untouched
    assert store.key_status() == {report.active_key_id: 5}
    assert len(read_key_file(tmp_path / "keys" / "evidence.key")) == 2

    retired = retire_old_keys(store)
    assert retired.retired_key_ids == (old_id,)
    assert len(read_key_file(tmp_path / "keys" / "evidence.key")) == 1
    fresh = _file_store(tmp_path)  # a process started after the retirement
    for ref in refs:
        assert fresh.read(ref) == store.read(ref)
    assert retire_old_keys(store).retired_key_ids == ()


def test_a_running_store_follows_a_rotation_by_another_process(tmp_path: Path) -> None:
    running = _file_store(tmp_path)
    ref = running.put(b"synthetic before")
    rotate_master_key(_file_store(tmp_path))  # e.g. `brightline keys rotate`
    assert running.read(ref) == b"synthetic before"
    later = running.put(b"synthetic after")
    assert running.key_status() == {running.keyring.active_id.hex(): 2}
    assert _file_store(tmp_path).read(later) == b"synthetic after"


def test_retirement_restores_old_keys_when_a_writer_raced_it(tmp_path: Path) -> None:
    store = _file_store(tmp_path)
    store.put(b"synthetic")
    path = tmp_path / "keys" / "evidence.key"
    old = read_key_file(path)
    write_key_file(path, [NEW_KEY, *old])
    # A writer that still wraps under the old key (it loaded the keyring before the change).
    stale = EvidenceStore(tmp_path / "vault", MasterKeyring(old), chunk_size=CHUNK)
    original = store.key_status

    def racing_status() -> object:
        stale.put(os.urandom(50))
        store.key_status = original  # type: ignore[method-assign]
        return original()

    store.key_status = racing_status  # type: ignore[method-assign]
    with pytest.raises(Conflict, match="run `brightline keys retire` again"):
        retire_old_keys(store)
    assert len(read_key_file(path)) == 2
    assert retire_old_keys(store).retired_key_ids == (key_id(old[0]).hex(),)


def test_environment_keys_cannot_be_rotated_here(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    with pytest.raises(InvalidInput, match="BRIGHTLINE_EVIDENCE_KEY"):
        rotate_master_key(store)


def test_rewrap_moves_everything_under_the_first_key_of_a_fixed_ring(tmp_path: Path) -> None:
    old = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    refs = [old.put(os.urandom(100)) for _ in range(3)]
    both = EvidenceStore(tmp_path / "vault", MasterKeyring([NEW_KEY, KEY]), chunk_size=CHUNK)
    report = both.rewrap_all()
    assert (report.rewrapped, report.current, report.failed) == (3, 0, [])
    new_only = EvidenceStore(tmp_path / "vault", NEW_KEY, chunk_size=CHUNK)
    assert [new_only.read(ref) for ref in refs] == [both.read(ref) for ref in refs]
    assert both.rewrap_all().current == 3


def test_version_1_objects_are_read_and_upgraded(tmp_path: Path) -> None:
    data = os.urandom(333)
    ref = _write_v1_object(tmp_path / "vault", KEY, data)
    store = EvidenceStore(tmp_path / "vault", MasterKeyring([NEW_KEY, KEY]), chunk_size=CHUNK)
    assert store.read(ref) == data
    assert store.key_status() == {"v1": 1}
    report = store.rewrap_all()
    assert report.reencrypted == 1
    assert store.key_status() == {key_id(NEW_KEY).hex(): 1}
    assert EvidenceStore(tmp_path / "vault", NEW_KEY).read(ref) == data


def test_orphan_data_keys_from_an_interrupted_write_are_removed(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    ref = store.put(b"synthetic")
    digest = ref.removeprefix("sha256:")
    store.storage.write(f"keys/{digest}.{'ab' * 16}", [b"left by a crash"])
    report = store.rewrap_all()
    assert report.orphans_removed == 1
    assert store.read(ref) == b"synthetic"


def test_concurrent_writers_of_the_same_content_leave_a_readable_object(tmp_path: Path) -> None:
    data = os.urandom(5000)
    stores = [EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK) for _ in range(4)]
    barrier = threading.Barrier(len(stores))

    def write(store: EvidenceStore) -> None:
        barrier.wait()
        store.put(data)

    threads = [threading.Thread(target=write, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ref = "sha256:" + hashlib.sha256(data).hexdigest()
    assert stores[0].read(ref) == data


def test_a_failing_write_leaves_no_object(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "vault", KEY, chunk_size=CHUNK)
    source = tmp_path / "upload.bin"
    source.write_bytes(os.urandom(1000))
    original = store.storage.write
    calls = 0

    def mutating_write(name: str, chunks: object) -> None:
        nonlocal calls
        calls += 1
        if name.startswith("objects/"):
            source.write_bytes(os.urandom(1000))  # the file changes mid-store
        original(name, chunks)  # type: ignore[arg-type]

    store.storage.write = mutating_write  # type: ignore[method-assign]
    with pytest.raises(InvalidInput, match="changed"):
        store.put_file(source)
    assert list(store.refs()) == []
