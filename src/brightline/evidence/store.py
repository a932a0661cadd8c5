"""Content-addressed, encrypted-at-rest storage of flagged media.

Reviewers need to see what they decide on, and reports (later) must carry the files, so media
that matched is kept, but never in the clear on disk: each object is encrypted with an
authenticated cipher under a key held outside the database. Objects are named by the SHA-256 of
their plaintext (``sha256:<hex>``), so storing the same upload twice is free and a reference
proves what it refers to. The store itself knows nothing of people: callers authorise and record
every read (the review audit log) before calling :meth:`EvidenceStore.read`.

Construction (format version 1; docs/evidence.md has the byte layout): the STREAM construction
of Hoang, Reyhanitabar, Rogaway and Vizár ("online authenticated encryption", 2015), as in
Tink's AES-GCM-HKDF streaming AEAD. Each object gets a fresh random salt and nonce prefix; its
content key is HKDF-SHA256(vault key, salt). The plaintext is cut into fixed-size chunks, each
sealed with AES-256-GCM under the nonce ``prefix(7) || counter(4, big-endian) || last(1)`` and
with the object header plus the plaintext digest as associated data. So a flipped byte fails a
tag, reordered chunks fail (wrong counter), a file cut at a chunk boundary fails (its last chunk
was sealed as "not last"), an object copied under another name fails (the digest is bound), and
memory stays bounded by one chunk whatever the file size.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import stat
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from brightline.errors import EvidenceUnreadable, InvalidInput, NotFound, StorageError
from brightline.settings import Settings

MAGIC = b"BLEV"
FORMAT_VERSION = 1
"""Written as one byte after the magic, so that ciphers and key handling can change later
while old objects stay readable (a reader dispatches on it)."""
KEY_BYTES = 32
KEY_ID_BYTES = 8
SALT_BYTES = 16
PREFIX_BYTES = 7
TAG_BYTES = 16
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
_HEADER = struct.Struct(f">4sB{KEY_ID_BYTES}sI{SALT_BYTES}s{PREFIX_BYTES}s")
HEADER_BYTES = _HEADER.size
_MAX_CHUNKS = 2**32
_REF = re.compile(r"sha256:([0-9a-f]{64})")
_HKDF_INFO = b"brightline evidence v1 content key"
_KEY_ID_LABEL = b"brightline evidence key id"
KEY_ENV = "BRIGHTLINE_EVIDENCE_KEY"
_READ_BLOCK = 1024 * 1024


def key_id(key: bytes) -> bytes:
    """A short fingerprint of a vault key, stored in each object header.

    It tells "this object was sealed under another key" apart from "this object was tampered
    with" (AES-GCM alone cannot), and lets a later version pick the right key during rotation.
    An HMAC, so it reveals nothing about the key.
    """
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).digest()[:KEY_ID_BYTES]


def parse_ref(ref: str) -> str:
    """The hex digest of a reference ``sha256:<64 lowercase hex>``; InvalidInput otherwise."""
    found = _REF.fullmatch(ref) if isinstance(ref, str) else None
    if found is None:
        raise InvalidInput("an evidence reference is 'sha256:' and 64 lowercase hex characters")
    return found.group(1)


@dataclass(frozen=True, slots=True)
class _Header:
    key_id: bytes
    chunk_size: int
    salt: bytes
    prefix: bytes
    raw: bytes


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


class EvidenceStore:
    """A directory of encrypted objects, sharded as ``objects/<ab>/<cd>/<hex digest>``."""

    def __init__(self, directory: Path, key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE):
        if len(key) != KEY_BYTES:
            raise InvalidInput(f"an evidence key is {KEY_BYTES} bytes")
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise InvalidInput(f"the chunk size is between 1 and {MAX_CHUNK_SIZE} bytes")
        self.directory = directory
        self.chunk_size = chunk_size
        self._key = key
        self._key_id = key_id(key)

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        return f"EvidenceStore({str(self.directory)!r}, key_id={self._key_id.hex()})"

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        """The vault under ``$BRIGHTLINE_HOME/evidence``; the key from ``BRIGHTLINE_EVIDENCE_KEY``
        or a key file created on first use (owner-only permissions)."""
        if settings.evidence_key is not None:
            key = decode_key(settings.evidence_key, source=KEY_ENV)
        else:
            key = load_or_create_key_file(settings.home / "keys" / "evidence.key")
        return cls(settings.home / "evidence", key)

    # -- writing -----------------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        """Store ``data`` encrypted; return its reference ``sha256:<hex>`` (idempotent)."""
        digest = hashlib.sha256(data).hexdigest()
        ref = f"sha256:{digest}"
        if self._path(digest).is_file():
            return ref
        view = memoryview(data)
        size = self.chunk_size
        blocks = (view[start : start + size] for start in range(0, len(view), size))
        self._write(digest, (bytes(block) for block in blocks))
        return ref

    def put_file(self, path: Path) -> str:
        """Like :meth:`put` for a file on disk, streamed (videos can be large).

        Two passes: the digest first (it names the object and is bound into every chunk), then
        the encryption. A file that changes between the passes is refused, never stored under a
        name that does not describe it.
        """
        digest = _file_digest(path)
        ref = f"sha256:{digest}"
        if self._path(digest).is_file():
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
        """Seal ``blocks`` into a temporary file beside the target, fsync, rename into place."""
        target = self._path(digest)
        self._make_dirs(target.parent)
        salt = secrets.token_bytes(SALT_BYTES)
        prefix = secrets.token_bytes(PREFIX_BYTES)
        header = _HEADER.pack(MAGIC, FORMAT_VERSION, self._key_id, self.chunk_size, salt, prefix)
        cipher = AESGCM(self._content_key(salt))
        aad = header + bytes.fromhex(digest)
        temporary = target.parent / f".tmp-{secrets.token_hex(8)}"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(header)
                for counter, (block, last) in enumerate(_with_last_flag(blocks)):
                    out.write(cipher.encrypt(_nonce(prefix, counter, last), block, aad))
                out.flush()
                os.fsync(out.fileno())
            if check is not None and not check():
                raise InvalidInput("the file changed while it was being stored")
            os.replace(temporary, target)
            _fsync_directory(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    # -- reading -----------------------------------------------------------------------------

    def exists(self, ref: str) -> bool:
        return self._path(parse_ref(ref)).is_file()

    def read(self, ref: str) -> bytes:
        """Decrypt and return the object, verified against its digest."""
        return b"".join(self.iter_chunks(ref))

    def iter_chunks(self, ref: str) -> Iterator[bytes]:
        """The plaintext, one authenticated chunk at a time (for serving big files).

        A missing object, a wrong key or a damaged header raise here, at the call, before a
        response has started. Every chunk is verified before it is yielded; truncation and the
        digest can only be known at the end, so a consumer must treat the content as complete
        only once the iterator finishes without raising :class:`EvidenceUnreadable`.
        """
        digest = parse_ref(ref)
        try:
            handle = self._path(digest).open("rb")
        except FileNotFoundError:
            raise NotFound(f"no evidence object {ref}") from None
        except OSError as exc:
            raise StorageError(f"cannot read the evidence vault: {exc.strerror}") from None
        try:
            header = self._read_header(handle)
        except BaseException:
            handle.close()
            raise
        return self._decrypt(handle, header, digest)

    def _decrypt(self, handle: BinaryIO, header: _Header, digest: str) -> Iterator[bytes]:
        with handle:
            cipher = AESGCM(self._content_key(header.salt))
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

    def _read_header(self, handle: BinaryIO) -> _Header:
        raw = _read_exactly(handle, HEADER_BYTES)
        if len(raw) != HEADER_BYTES or raw[:4] != MAGIC:
            raise EvidenceUnreadable("the evidence object has no valid header")
        _magic, version, stored_key_id, chunk_size, salt, prefix = _HEADER.unpack(raw)
        if version != FORMAT_VERSION:
            raise EvidenceUnreadable(f"the evidence object has unknown format version {version}")
        if not hmac.compare_digest(stored_key_id, self._key_id):
            raise EvidenceUnreadable(
                f"the evidence object was sealed under another key (key id "
                f"{stored_key_id.hex()}; this vault's key is {self._key_id.hex()})"
            )
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise EvidenceUnreadable("the evidence object header is damaged")
        return _Header(stored_key_id, chunk_size, salt, prefix, raw)

    # -- helpers -----------------------------------------------------------------------------

    def _content_key(self, salt: bytes) -> bytes:
        """A key per object, so that random 7-byte nonce prefixes never need to be unique
        across the whole vault (the salt makes each object's key fresh)."""
        kdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=_HKDF_INFO)
        return kdf.derive(self._key)

    def _path(self, digest: str) -> Path:
        return self.directory / "objects" / digest[:2] / digest[2:4] / digest

    def _make_dirs(self, directory: Path) -> None:
        """Create the vault and shard directories owner-only (0700), whatever the umask."""
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            # Outermost first: the vault itself (".") down to the shard's parent.
            for relative in reversed(directory.relative_to(self.directory).parents):
                _private_dir(self.directory / relative)
            _private_dir(directory)
        except OSError as exc:
            raise StorageError(f"cannot create the evidence vault: {exc.strerror}") from None


def _private_dir(path: Path) -> None:
    """``mkdir`` with mode 0700; an existing directory is left as the operator set it."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return
    path.chmod(0o700)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable: without this a crash can forget the new directory entry."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# -- keys ------------------------------------------------------------------------------------


def decode_key(text: str, *, source: str) -> bytes:
    """A key written as base64 of 32 bytes. The message names the source, never the value."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise InvalidInput(f"{source} must be base64 of {KEY_BYTES} bytes") from None
    if len(key) != KEY_BYTES:
        raise InvalidInput(f"{source} must be base64 of {KEY_BYTES} bytes, got {len(key)}")
    return key


def new_key_text() -> str:
    """A fresh random key, as written to key files and ``BRIGHTLINE_EVIDENCE_KEY``."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def load_or_create_key_file(path: Path) -> bytes:
    """Read the vault key file, creating it (0600, in a 0700 directory) if there is none.

    Created by link(2) from a finished temporary file, so concurrent workers starting at once
    agree on one key: exactly one link succeeds and the others read the winner's file. A key
    file that group or others may read is refused rather than silently fixed: it may already
    have leaked, and the operator has to know.
    """
    if not path.exists():
        _create_key_file(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise StorageError(f"cannot read the evidence key file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StorageError(f"the evidence key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise StorageError(
            f"the evidence key file {path} is accessible to group or others "
            f"(mode {stat.S_IMODE(info.st_mode):o}); run `chmod 600` on it"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise StorageError(f"cannot read the evidence key file {path}") from None
    try:
        return decode_key(text, source=f"the evidence key file {path}")
    except InvalidInput as exc:
        raise StorageError(str(exc)) from None


def _create_key_file(path: Path) -> None:
    try:
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        _private_dir(path.parent)
        temporary = path.parent / f".tmp-{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(new_key_text() + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
            _fsync_directory(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    except OSError as exc:
        raise StorageError(f"cannot create the evidence key file: {exc.strerror}") from None
