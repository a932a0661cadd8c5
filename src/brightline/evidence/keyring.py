"""Master keys: where they come from, and wrapping the per-object data keys under them.

Envelope encryption: every vault object is encrypted under its own random data key, and only
that 32-byte data key is encrypted ("wrapped") under a master key. So rotating the master key
re-wraps small key files without touching the content, and destroying one data key makes one
object unreadable for good (crypto-shredding) while the master key lives on.

A keyring holds one or more master keys; the first is *active* (new data keys are wrapped
under it), the others are only read during a rotation. Keys are addressed by a short id (an
HMAC of the key, revealing nothing), stored in every wrapped key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from brightline.errors import EvidenceUnreadable, InvalidInput, StorageError
from brightline.evidence.storage import fsync_directory, private_dir

KEY_BYTES = 32
KEY_ID_BYTES = 8
KEY_ENV = "BRIGHTLINE_EVIDENCE_KEY"
_KEY_ID_LABEL = b"brightline evidence key id"

WRAP_MAGIC = b"BLDK"
WRAP_VERSION = 1
_WRAP_HEADER = struct.Struct(f">4sB{KEY_ID_BYTES}s12s")
WRAPPED_KEY_BYTES = _WRAP_HEADER.size + KEY_BYTES + 16


def key_id(key: bytes) -> bytes:
    """A short fingerprint of a master key: tells "sealed under another key" apart from
    tampering (AES-GCM alone cannot) and picks the right key during a rotation."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).digest()[:KEY_ID_BYTES]


def decode_key(text: str, *, source: str) -> bytes:
    """A key written as base64 of 32 bytes. The message names the source, never the value."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise InvalidInput(f"{source} must be base64 of {KEY_BYTES} bytes") from None
    if len(key) != KEY_BYTES:
        raise InvalidInput(f"{source} must be base64 of {KEY_BYTES} bytes, got {len(key)}")
    return key


def decode_keys(text: str, *, source: str) -> list[bytes]:
    """Several keys, comma- or newline-separated, first active; at least one, no repeats."""
    parts = [part for part in text.replace(",", "\n").split() if part]
    if not parts:
        raise InvalidInput(f"{source} holds no key")
    keys = [decode_key(part, source=source) for part in parts]
    if len({key_id(key) for key in keys}) != len(keys):
        raise InvalidInput(f"{source} lists the same key twice")
    return keys


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def new_key_text() -> str:
    """A fresh random key, as written to key files and ``BRIGHTLINE_EVIDENCE_KEY``."""
    return encode_key(secrets.token_bytes(KEY_BYTES))


# -- key files -------------------------------------------------------------------------------


def read_key_file(path: Path) -> list[bytes]:
    """The keys in a key file (one base64 line each, first active).

    A key file that group or others may read is refused rather than silently fixed: it may
    already have leaked, and the operator has to know.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise StorageError(f"cannot read the key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StorageError(f"the key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise StorageError(
            f"the key file {path} is accessible to group or others "
            f"(mode {stat.S_IMODE(info.st_mode):o}); run `chmod 600` on it"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise StorageError(f"cannot read the key file {path}") from None
    try:
        return decode_keys(text, source=f"the key file {path}")
    except InvalidInput as exc:
        raise StorageError(str(exc)) from None


def load_or_create_key_file(path: Path) -> bytes:
    """The (first) key of a key file, creating the file (0600, in a 0700 directory) if absent.

    Created by link(2) from a finished temporary file, so concurrent workers starting at once
    agree on one key: exactly one link succeeds and the others read the winner's file.
    """
    if not path.exists():
        _write_key_file(path, [secrets.token_bytes(KEY_BYTES)], replace=False)
    return read_key_file(path)[0]


def write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Replace a key file atomically (rotation): readers see the old list or the new one."""
    _write_key_file(path, keys, replace=True)


def _write_key_file(path: Path, keys: Sequence[bytes], *, replace: bool) -> None:
    try:
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        private_dir(path.parent)
        temporary = path.parent / f".tmp-{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write("".join(encode_key(key) + "\n" for key in keys))
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(temporary, path)
            else:
                with contextlib.suppress(FileExistsError):
                    os.link(temporary, path)
            fsync_directory(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    except OSError as exc:
        raise StorageError(f"cannot write the key file: {exc.strerror}") from None


# -- the keyring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Keys:
    active: bytes
    by_id: dict[bytes, bytes]
    stamp: tuple[int, int] | None


class MasterKeyring:
    """Master keys, first active; from a fixed list or a key file that is re-read on change.

    A key file is re-read when its modification time or size changes (checked before each
    wrap and on an unknown key id), so running services follow ``brightline keys rotate``
    without a restart: new data keys go under the new key, and re-wrapped ones can be read.
    """

    def __init__(self, keys: Sequence[bytes] = (), *, path: Path | None = None) -> None:
        if path is None and not keys:
            raise InvalidInput("a keyring needs at least one key")
        for key in keys:
            if len(key) != KEY_BYTES:
                raise InvalidInput(f"an evidence key is {KEY_BYTES} bytes")
        self.path = path
        self._lock = threading.Lock()
        self._keys = self._make(list(keys), None) if keys else self._load()

    def __repr__(self) -> str:
        # Never the keys: reprs end up in logs and tracebacks.
        source = f"file {str(self.path)!r}" if self.path else "fixed keys"
        return f"MasterKeyring({source}, active={self.active_id.hex()})"

    @classmethod
    def from_file(cls, path: Path) -> MasterKeyring:
        """The keyring in ``path``, created with one fresh key on first use."""
        load_or_create_key_file(path)
        return cls(path=path)

    @property
    def active_id(self) -> bytes:
        return key_id(self._current().active)

    @property
    def key_ids(self) -> list[bytes]:
        keys = self._current()
        return [key_id(keys.active)] + [kid for kid in keys.by_id if kid != key_id(keys.active)]

    def key(self, kid: bytes) -> bytes | None:
        """The master key with id ``kid``, re-reading the key file once if it is not known."""
        found = self._current().by_id.get(kid)
        if found is None and self.path is not None:
            with self._lock:
                self._keys = self._load()
            found = self._keys.by_id.get(kid)
        return found

    def wrap(self, data_key: bytes, associated: bytes) -> bytes:
        """The data key sealed under the active master key, bound to ``associated``."""
        active = self._current().active
        nonce = secrets.token_bytes(12)
        header = _WRAP_HEADER.pack(WRAP_MAGIC, WRAP_VERSION, key_id(active), nonce)
        return header + AESGCM(active).encrypt(nonce, data_key, header + associated)

    def unwrap(self, wrapped: bytes, associated: bytes) -> tuple[bytes, bytes]:
        """``(data key, id of the master key it was wrapped under)``; EvidenceUnreadable on any
        damage, on a binding to another object, or when the master key is not in the ring."""
        if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[:4] != WRAP_MAGIC:
            raise EvidenceUnreadable("the object's data key is damaged")
        _magic, version, kid, nonce = _WRAP_HEADER.unpack(wrapped[: _WRAP_HEADER.size])
        if version != WRAP_VERSION:
            raise EvidenceUnreadable(f"the object's data key has unknown version {version}")
        master = self.key(kid)
        if master is None:
            raise EvidenceUnreadable(
                f"the object's data key is wrapped under master key {kid.hex()}, which is not "
                f"in the keyring (active key {self.active_id.hex()})"
            )
        header = wrapped[: _WRAP_HEADER.size]
        try:
            data_key = AESGCM(master).decrypt(
                nonce, wrapped[_WRAP_HEADER.size :], header + associated
            )
        except InvalidTag:
            raise EvidenceUnreadable("the object's data key failed verification") from None
        return data_key, kid

    @staticmethod
    def wrapped_key_id(wrapped: bytes) -> bytes | None:
        """The master key id a wrapped key names, without unwrapping (for status counts)."""
        if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[:4] != WRAP_MAGIC:
            return None
        return bytes(_WRAP_HEADER.unpack(wrapped[: _WRAP_HEADER.size])[2])

    def _current(self) -> _Keys:
        keys = self._keys
        if self.path is not None and keys.stamp != _stamp(self.path):
            with self._lock:
                self._keys = self._load()
            keys = self._keys
        return keys

    def _load(self) -> _Keys:
        if self.path is None:
            return self._keys
        stamp = _stamp(self.path)
        return self._make(read_key_file(self.path), stamp)

    @staticmethod
    def _make(keys: list[bytes], stamp: tuple[int, int] | None) -> _Keys:
        return _Keys(active=keys[0], by_id={key_id(key): key for key in keys}, stamp=stamp)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
