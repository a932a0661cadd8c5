"""Where the vault's bytes live: a small interface, and a local directory that implements it.

The vault (:mod:`brightline.evidence.store`) only ever needs whole-object writes that appear
atomically, streamed reads, deletes and listing by name, so that is all the interface asks
for; an object store (S3 and the like: multipart upload, conditional put, list by prefix) can
implement it later without the vault changing. Names are ``<namespace>/<leaf>`` where the leaf
starts with a hex digest, e.g. ``objects/<hex>`` and ``keys/<hex>.<data key id>``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from brightline.errors import InvalidInput, NotFound, StorageError

_NAME = re.compile(r"(objects|keys)/([0-9a-f]{64})(\.[0-9a-f]{32})?")


class VaultStorage(Protocol):
    """Whole objects by name. Writes are all-or-nothing: a reader never sees half an object."""

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        """Store ``chunks`` under ``name``, replacing what was there, atomically and durably.

        If iterating ``chunks`` raises, nothing is stored and the exception propagates.
        """

    def open(self, name: str) -> BinaryIO:
        """The stored bytes for reading; :class:`NotFound` when there is no such object."""

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> bool:
        """Remove the object; whether there was one."""

    def names(self, namespace: str, prefix: str = "") -> Iterator[str]:
        """Every stored name in ``namespace`` whose leaf starts with ``prefix``."""


def check_name(name: str) -> tuple[str, str]:
    """``(namespace, leaf)`` of a vault name, refusing anything else (no path tricks)."""
    found = _NAME.fullmatch(name)
    if found is None:
        raise InvalidInput("not a vault object name")
    return found.group(1), name.split("/", 1)[1]


class LocalDirectoryStorage:
    """A directory sharded as ``<namespace>/<hex[0:2]>/<hex[2:4]>/<leaf>``; 0700 dirs, 0600 files.

    Each write goes to a temporary file (``O_EXCL``, 0600) in the target's directory, is
    flushed and ``fsync``\\ ed, renamed into place and the directory ``fsync``\\ ed, so a crash
    leaves at most a temporary file, never a half-written object, and a finished write survives
    power loss.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __repr__(self) -> str:
        return f"LocalDirectoryStorage({str(self.directory)!r})"

    def path(self, name: str) -> Path:
        namespace, leaf = check_name(name)
        return self.directory / namespace / leaf[:2] / leaf[2:4] / leaf

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        target = self.path(name)
        self._make_dirs(target.parent)
        temporary = target.parent / f".tmp-{secrets.token_hex(8)}"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None
        try:
            with os.fdopen(descriptor, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
            fsync_directory(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    def open(self, name: str) -> BinaryIO:
        try:
            return self.path(name).open("rb")
        except FileNotFoundError:
            raise NotFound("no such evidence object") from None
        except OSError as exc:
            raise StorageError(f"cannot read the evidence vault: {exc.strerror}") from None

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> bool:
        path = self.path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            message = f"cannot remove an evidence vault object: {exc.strerror}"
            raise StorageError(message) from None
        fsync_directory(path.parent)
        return True

    def names(self, namespace: str, prefix: str = "") -> Iterator[str]:
        if not re.fullmatch(r"[0-9a-f]*", prefix):
            raise InvalidInput("a vault name prefix is lowercase hex")
        root = self.directory / namespace
        if len(prefix) >= 4:
            shards = [root / prefix[:2] / prefix[2:4]]
        else:
            shards = sorted(root.glob(f"{prefix[:2]}*/*")) if root.is_dir() else []
        for shard in shards:
            if not shard.is_dir():
                continue
            for path in sorted(shard.iterdir()):
                leaf = path.name
                if leaf.startswith(prefix) and not leaf.startswith(".tmp-"):
                    name = f"{namespace}/{leaf}"
                    if _NAME.fullmatch(name):
                        yield name

    def _make_dirs(self, directory: Path) -> None:
        """Create the vault and shard directories owner-only (0700), whatever the umask."""
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            for relative in reversed(directory.relative_to(self.directory).parents):
                private_dir(self.directory / relative)
            private_dir(directory)
        except OSError as exc:
            raise StorageError(f"cannot create the evidence vault: {exc.strerror}") from None


def private_dir(path: Path) -> None:
    """``mkdir`` with mode 0700; an existing directory is left as the operator set it."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return
    path.chmod(0o700)


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink durable: without this a crash can forget it."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
