"""Content-addressed, encrypted-at-rest storage of flagged and reported media.

Reviewers need to see what they decide on, and reports must carry the files and be preserved,
so media that matched is kept, but never in the clear on disk. Objects are named by the SHA-256
of their plaintext (``sha256:<hex>``), so storing the same upload twice is free and a reference
proves what it refers to. The store itself knows nothing of people: callers authorise and record
every read (the review audit log, the chain of custody) before calling :meth:`EvidenceStore.read`.

Construction (format version 2; docs/evidence.md has the byte layout): envelope encryption
with the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár ("online authenticated
encryption", 2015), as in Tink's AES-GCM-HKDF streaming AEAD. Each object gets a fresh random
*data key*, stored apart from the content and wrapped under the active master key
(:mod:`brightline.evidence.keyring`); the content key is HKDF-SHA256(data key, salt). The
plaintext is cut into fixed-size chunks, each sealed with AES-256-GCM under the nonce
``prefix(7) || counter(4, big-endian) || last(1)`` and with the object header plus the
plaintext digest as associated data. So a flipped byte fails a tag, reordered chunks fail
(wrong counter), a file cut at a chunk boundary fails (its last chunk was sealed as "not
last"), an object copied under another name fails (the digest is bound), and memory stays
bounded by one chunk whatever the file size. Rotating the master key re-wraps the small data
keys only; deleting an object's data key destroys it for good (crypto-shredding).

Version 1 objects (content key derived from the master key itself, before envelopes) stay
readable; :meth:`EvidenceStore.rewrap_all` re-encrypts them as version 2.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from brightline.errors import EvidenceUnreadable, InvalidInput, NotFound, StorageError
from brightline.evidence.keyring import (
    KEY_BYTES,
    KEY_ENV,
    KEY_ID_BYTES,
    MasterKeyring,
    decode_key,
    decode_keys,
    key_id,
    load_or_create_key_file,
    new_key_text,
)
from brightline.evidence.storage import LocalDirectoryStorage, VaultStorage
from brightline.settings import Settings

__all__ = [
    "KEY_BYTES",
    "KEY_ENV",
    "EvidenceStore",
    "RewrapReport",
    "decode_key",
    "key_id",
    "load_or_create_key_file",
    "new_key_text",
    "parse_ref",
]

MAGIC = b"BLEV"
FORMAT_VERSION = 2
"""Written as one byte after the magic, so that ciphers and key handling can change while old
objects stay readable (a reader dispatches on it)."""
DATA_KEY_ID_BYTES = 16
SALT_BYTES = 16
PREFIX_BYTES = 7
TAG_BYTES = 16
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
_HEADER_V1 = struct.Struct(f">4sB{KEY_ID_BYTES}sI{SALT_BYTES}s{PREFIX_BYTES}s")
_HEADER_V2 = struct.Struct(f">4sB{DATA_KEY_ID_BYTES}sI{SALT_BYTES}s{PREFIX_BYTES}s")
HEADER_BYTES = _HEADER_V2.size
_MAX_CHUNKS = 2**32
_REF = re.compile(r"sha256:([0-9a-f]{64})")
_HKDF_INFO_V1 = b"brightline evidence v1 content key"
_HKDF_INFO_V2 = b"brightline evidence v2 content key"
_WRAP_LABEL = b"brightline evidence v2 data key"
_READ_BLOCK = 1024 * 1024


def parse_ref(ref: str) -> str:
    """The hex digest of a reference ``sha256:<64 lowercase hex>``; InvalidInput otherwise."""
    found = _REF.fullmatch(ref) if isinstance(ref, str) else None
    if found is None:
        raise InvalidInput("an evidence reference is 'sha256:' and 64 lowercase hex characters")
    return found.group(1)


@dataclass(frozen=True, slots=True)
class _Header:
    version: int
    key_id: bytes
    """v1: the master key's id; v2: the object's own data key id."""
    chunk_size: int
    salt: bytes
    prefix: bytes
    raw: bytes


@dataclass(slots=True)
class RewrapReport:
    """What :meth:`EvidenceStore.rewrap_all` did."""

    rewrapped: int = 0
    current: int = 0
    """Already under the active master key."""
    reencrypted: int = 0
    """Version 1 objects re-encrypted as version 2."""
    orphans_removed: int = 0
    """Data keys no object uses (left by an interrupted write), deleted."""
    failed: list[str] = field(default_factory=list)
    """References that could not be re-wrapped (damaged, or their key is not in the ring)."""


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= _MAX_CHUNKS:
        raise StorageError("an evidence object is too large for its chunk size")
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def _read_exactly(handle: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes; fewer only at the end of the file (short reads are retried)."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        part = handle.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _with_last_flag(blocks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each block with whether it is the last one (one block of look-ahead)."""
    iterator = iter(blocks)
    try:
        current = next(iterator)
    except StopIteration:
        yield b"", True
        return
    for following in iterator:
        yield current, False
        current = following
    yield current, True


def _fixed_blocks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    while block := _read_exactly(handle, size):
        yield block


def _content_key(secret: bytes, salt: bytes, info: bytes) -> bytes:
    """A key per object, so that random 7-byte nonce prefixes only need be unique per object."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(secret)


def _key_name(digest: str, data_key_id: bytes) -> str:
    return f"keys/{digest}.{data_key_id.hex()}"


class EvidenceStore:
    """Encrypted objects ``objects/<hex>`` and their wrapped data keys ``keys/<hex>.<id>``,
    in a :class:`VaultStorage` (a local directory unless told otherwise)."""

    def __init__(
        self,
        directory: Path,
        key: bytes | MasterKeyring,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        storage: VaultStorage | None = None,
    ):
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise InvalidInput(f"the chunk size is between 1 and {MAX_CHUNK_SIZE} bytes")
        self.directory = directory
        self.chunk_size = chunk_size
        self.keyring = key if isinstance(key, MasterKeyring) else MasterKeyring([key])
        self.storage: VaultStorage = storage or LocalDirectoryStorage(directory)

    def __repr__(self) -> str:
        # Never the keys: reprs end up in logs and tracebacks.
        return f"EvidenceStore({str(self.directory)!r}, {self.keyring!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        """The vault under ``$BRIGHTLINE_HOME/evidence``; master keys from
        ``BRIGHTLINE_EVIDENCE_KEY`` or a key file created on first use (owner-only)."""
        if settings.evidence_key is not None:
            keyring = MasterKeyring(decode_keys(settings.evidence_key, source=KEY_ENV))
        else:
            keyring = MasterKeyring.from_file(key_file_path(settings))
        return cls(settings.home / "evidence", keyring)

    # -- writing -----------------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        """Store ``data`` encrypted; return its reference ``sha256:<hex>`` (idempotent)."""
        digest = hashlib.sha256(data).hexdigest()
        ref = f"sha256:{digest}"
        if self.storage.exists(f"objects/{digest}"):
            return ref
        view = memoryview(data)
        size = self.chunk_size
        blocks = (bytes(view[start : start + size]) for start in range(0, len(view), size))
        self._write(digest, blocks)
        return ref

    def put_file(self, path: Path) -> str:
        """Like :meth:`put` for a file on disk, streamed (videos can be large).

        Two passes: the digest first (it names the object and is bound into every chunk), then
        the encryption. A file that changes between the passes is refused, never stored under a
        name that does not describe it.
        """
        digest = _file_digest(path)
        ref = f"sha256:{digest}"
        if self.storage.exists(f"objects/{digest}"):
            return ref
        seen = hashlib.sha256()

        def blocks(handle: BinaryIO) -> Iterator[bytes]:
            for block in _fixed_blocks(handle, self.chunk_size):
                seen.update(block)
                yield block

        with path.open("rb") as handle:
            self._write(digest, blocks(handle), check=lambda: seen.hexdigest() == digest)
        return ref

    def _write(
        self,
        digest: str,
        blocks: Iterable[bytes],
        check: Callable[[], bool] | None = None,
    ) -> None:
        """Wrap and store a fresh data key, then seal ``blocks`` under it.

        The key goes first and under a name of its own (the data key id is in the object's
        header), so two writers of the same content cannot pair one's object with the other's
        key, and a crash leaves at most an unused key (removed by ``rewrap_all``).
        """
        data_key = secrets.token_bytes(KEY_BYTES)
        data_key_id = secrets.token_bytes(DATA_KEY_ID_BYTES)
        wrapped = self.keyring.wrap(data_key, _wrap_binding(digest, data_key_id))
        self.storage.write(_key_name(digest, data_key_id), [wrapped])
        salt = secrets.token_bytes(SALT_BYTES)
        prefix = secrets.token_bytes(PREFIX_BYTES)
        header = _HEADER_V2.pack(MAGIC, FORMAT_VERSION, data_key_id, self.chunk_size, salt, prefix)
        cipher = AESGCM(_content_key(data_key, salt, _HKDF_INFO_V2))
        aad = header + bytes.fromhex(digest)

        def sealed() -> Iterator[bytes]:
            yield header
            for counter, (block, last) in enumerate(_with_last_flag(blocks)):
                yield cipher.encrypt(_nonce(prefix, counter, last), block, aad)
            if check is not None and not check():
                raise InvalidInput("the file changed while it was being stored")

        self.storage.write(f"objects/{digest}", sealed())

    # -- reading -----------------------------------------------------------------------------

    def exists(self, ref: str) -> bool:
        return self.storage.exists(f"objects/{parse_ref(ref)}")

    def read(self, ref: str) -> bytes:
        """Decrypt and return the object, verified against its digest."""
        return b"".join(self.iter_chunks(ref))

    def iter_chunks(self, ref: str) -> Iterator[bytes]:
        """The plaintext, one authenticated chunk at a time (for serving big files).

        A missing object, a missing or wrong key or a damaged header raise here, at the call,
        before a response has started. Every chunk is verified before it is yielded; truncation
        and the digest can only be known at the end, so a consumer must treat the content as
        complete only once the iterator finishes without raising :class:`EvidenceUnreadable`.
        """
        digest = parse_ref(ref)
        try:
            handle = self.storage.open(f"objects/{digest}")
        except NotFound:
            raise NotFound(f"no evidence object {ref}") from None
        try:
            header = self._read_header(handle)
            secret, info = self._content_secret(digest, header)
        except BaseException:
            handle.close()
            raise
        return self._decrypt(handle, header, digest, _content_key(secret, header.salt, info))

    def _content_secret(self, digest: str, header: _Header) -> tuple[bytes, bytes]:
        """The key material the content key derives from, and the HKDF label."""
        if header.version == 1:
            master = self.keyring.key(header.key_id)
            if master is None:
                raise EvidenceUnreadable(
                    f"the evidence object was sealed under another key (key id "
                    f"{header.key_id.hex()}; this vault's active key is "
                    f"{self.keyring.active_id.hex()})"
                )
            return master, _HKDF_INFO_V1
        data_key, _master_id = self._unwrap(digest, header.key_id)
        return data_key, _HKDF_INFO_V2

    def _wrapped(self, digest: str, data_key_id: bytes) -> bytes:
        try:
            with self.storage.open(_key_name(digest, data_key_id)) as handle:
                return handle.read(4096)
        except NotFound:
            raise EvidenceUnreadable(
                "the evidence object's data key is gone (destroyed by a purge, or lost)"
            ) from None

    def _unwrap(self, digest: str, data_key_id: bytes) -> tuple[bytes, bytes]:
        wrapped = self._wrapped(digest, data_key_id)
        return self.keyring.unwrap(wrapped, _wrap_binding(digest, data_key_id))

    def _decrypt(
        self, handle: BinaryIO, header: _Header, digest: str, content_key: bytes
    ) -> Iterator[bytes]:
        with handle:
            cipher = AESGCM(content_key)
            aad = header.raw + bytes.fromhex(digest)
            seen = hashlib.sha256()
            sealed_size = header.chunk_size + TAG_BYTES
            sealed_blocks = _fixed_blocks(handle, sealed_size)
            for counter, (sealed, last) in enumerate(_with_last_flag(sealed_blocks)):
                if len(sealed) < TAG_BYTES or (not last and len(sealed) != sealed_size):
                    raise EvidenceUnreadable("the evidence object is truncated or damaged")
                try:
                    block = cipher.decrypt(_nonce(header.prefix, counter, last), sealed, aad)
                except InvalidTag:
                    raise EvidenceUnreadable(
                        "the evidence object failed verification (tampered, truncated or reordered)"
                    ) from None
                seen.update(block)
                yield block
            if not hmac.compare_digest(seen.hexdigest(), digest):
                raise EvidenceUnreadable("the evidence object does not match its digest")

    @staticmethod
    def _read_header(handle: BinaryIO) -> _Header:
        raw = _read_exactly(handle, 5)
        if len(raw) != 5 or raw[:4] != MAGIC:
            raise EvidenceUnreadable("the evidence object has no valid header")
        version = raw[4]
        layout = {1: _HEADER_V1, 2: _HEADER_V2}.get(version)
        if layout is None:
            raise EvidenceUnreadable(f"the evidence object has unknown format version {version}")
        raw += _read_exactly(handle, layout.size - 5)
        if len(raw) != layout.size:
            raise EvidenceUnreadable("the evidence object has no valid header")
        _magic, _version, kid, chunk_size, salt, prefix = layout.unpack(raw)
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise EvidenceUnreadable("the evidence object header is damaged")
        return _Header(version, kid, chunk_size, salt, prefix, raw)

    def _header_of(self, digest: str) -> _Header:
        with self.storage.open(f"objects/{digest}") as handle:
            return self._read_header(handle)

    # -- destruction and key management ------------------------------------------------------

    def destroy(self, ref: str) -> bool:
        """Crypto-shred an object: its data keys first, then the content. Whether it existed.

        Once the data key is gone the content cannot be decrypted by anyone, including from
        backups of the content; backups of the *key store* stay a risk until the master key
        they were wrapped under is rotated out (docs/evidence.md).
        """
        digest = parse_ref(ref)
        found = False
        for name in list(self.storage.names("keys", digest)):
            found = self.storage.delete(name) or found
        return self.storage.delete(f"objects/{digest}") or found

    def refs(self) -> Iterator[str]:
        """Every stored object's reference."""
        for name in self.storage.names("objects"):
            yield "sha256:" + name.removeprefix("objects/")

    def key_status(self) -> Counter[str]:
        """How many objects sit under each master key id (hex); ``"v1"`` for version 1 objects
        (sealed under the master key directly), ``"unreadable"`` for damaged headers or keys."""
        counts: Counter[str] = Counter()
        for ref in self.refs():
            digest = parse_ref(ref)
            try:
                header = self._header_of(digest)
                if header.version == 1:
                    counts["v1"] += 1
                    continue
                kid = MasterKeyring.wrapped_key_id(self._wrapped(digest, header.key_id))
            except (EvidenceUnreadable, NotFound):
                kid = None
            counts[kid.hex() if kid is not None else "unreadable"] += 1
        return counts

    def rewrap_all(self) -> RewrapReport:
        """Put every object's data key under the active master key (no content re-encrypted,
        except version 1 objects, which have no data key and are re-sealed as version 2).

        Safe to interrupt and run again; each key file is replaced atomically.
        """
        report = RewrapReport()
        active = self.keyring.active_id
        for ref in list(self.refs()):
            digest = parse_ref(ref)
            try:
                header = self._header_of(digest)
                if header.version == 1:
                    self._reseal_v1(ref, digest)
                    report.reencrypted += 1
                else:
                    binding = _wrap_binding(digest, header.key_id)
                    data_key, master_id = self._unwrap(digest, header.key_id)
                    if master_id == active:
                        report.current += 1
                    else:
                        wrapped = self.keyring.wrap(data_key, binding)
                        self.storage.write(_key_name(digest, header.key_id), [wrapped])
                        report.rewrapped += 1
                    report.orphans_removed += self._remove_orphan_keys(digest, header.key_id)
            except (EvidenceUnreadable, NotFound):
                report.failed.append(ref)
        return report

    def _reseal_v1(self, ref: str, digest: str) -> None:
        """Re-encrypt a version 1 object as version 2, verified on the way through."""
        self._write(digest, self.iter_chunks(ref))

    def _remove_orphan_keys(self, digest: str, used: bytes) -> int:
        keep = _key_name(digest, used)
        removed = 0
        for name in list(self.storage.names("keys", digest)):
            if name != keep:
                removed += int(self.storage.delete(name))
        return removed


def write_private_file(path: Path, content: Callable[[], Iterable[bytes]]) -> None:
    """Write decrypted evidence to a new file only its owner can read (never over another).

    ``content`` is called once the file exists (so a refused path opens nothing). A failure
    part-way (a chunk that fails verification) removes the partial file: a consumer must never
    be left with content that was not verified to the end.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} already exists") from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in content():
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def key_file_path(settings: Settings) -> Path:
    return settings.home / "keys" / "evidence.key"


def _wrap_binding(digest: str, data_key_id: bytes) -> bytes:
    """What a wrapped data key is bound to: this object and this key slot, nothing else."""
    return _WRAP_LABEL + bytes.fromhex(digest) + data_key_id


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()
