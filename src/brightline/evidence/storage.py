"""Where the vault's bytes live: a small interface, and a local directory that implements it.

The vault (:mod:`brightline.evidence.store`) only ever needs whole-object writes that appear
atomically, streamed reads, deletes and listing by name, so that is all the interface asks
for; an object store (S3 and the like: multipart upload, conditional put, list by prefix) can
implement it later without the vault changing. Names are ``<namespace>/<leaf>`` where the leaf
starts with a hex digest, e.g. ``objects/<hex>`` and ``keys/<hex>.<data key id>``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
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
        self._pending: dict[Path, Path] | None = None
        """Target → temporary file while :meth:`deferred_sync` is open, else None."""
        self._pending_lock = threading.Lock()
        """Writes in a deferred batch may come from several threads (the bulk import's)."""

    def __repr__(self) -> str:
        return f"LocalDirectoryStorage({str(self.directory)!r})"

    def path(self, name: str) -> Path:
        namespace, leaf = check_name(name)
        return self.directory / namespace / leaf[:2] / leaf[2:4] / leaf

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        target = self.path(name)
        temporary = target.parent / f".tmp-{secrets.token_hex(8)}"
        descriptor = self._create(temporary)
        kept = False
        try:
            with os.fdopen(descriptor, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                with self._pending_lock:
                    if self._pending is not None:
                        # Made durable and renamed into place when the deferred batch ends.
                        self._forget_pending(target)
                        self._pending[target] = temporary
                        kept = True
                        return
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
            fsync_directory(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None
        finally:
            if not kept:
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()

    def _create(self, temporary: Path) -> int:
        """A new owner-only file. Its shard directories are made only when missing: a shard
        that exists (the usual case) costs this one call instead of a ``mkdir`` per level."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            try:
                return os.open(temporary, flags, 0o600)
            except FileNotFoundError:
                self._make_dirs(temporary.parent)
                return os.open(temporary, flags, 0o600)
        except OSError as exc:
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None

    def _forget_pending(self, target: Path) -> None:
        """Drop an earlier pending write of ``target`` (called with the pending lock held)."""
        if self._pending is not None and target in self._pending:
            with contextlib.suppress(FileNotFoundError):
                self._pending.pop(target).unlink()

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Writes inside this block cost no ``fsync`` each; they become durable together.

        Each write goes to its temporary file as usual but is neither synced nor renamed. When
        the block ends without an exception, every temporary file is made durable at once
        (``syncfs`` on Linux, else an ``fsync`` each), then all are renamed into place, then the
        renames are made durable the same way. A crash before the end leaves only temporary
        files (never listed, never read, and never trusted by :meth:`exists`); a crash during
        the renames leaves objects whose content was already durable. So the guarantee of
        :meth:`write` holds for the batch as a whole: an object is either absent or complete.
        An exception in the block removes its temporary files. Until the block ends a written
        object can be tested with :meth:`exists` but not read. Bulk imports use it
        (``brightline clearinghouse import``), which commit their database rows only after it.
        """
        with self._pending_lock:
            if self._pending is not None:
                raise RuntimeError("deferred_sync blocks do not nest")
            self._pending = {}
        try:
            yield
        except BaseException:
            with self._pending_lock:
                for temporary in self._pending.values():
                    with contextlib.suppress(FileNotFoundError):
                        temporary.unlink()
            raise
        finally:
            with self._pending_lock:
                pending, self._pending = self._pending, None
        if not pending:
            return
        try:
            _make_durable(self.directory, list(pending.values()))
            for target, temporary in pending.items():
                os.replace(temporary, target)
            _make_durable(self.directory, sorted({target.parent for target in pending}))
        except OSError as exc:
            for temporary in pending.values():
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()
            raise StorageError(f"cannot write to the evidence vault: {exc.strerror}") from None

    def open(self, name: str) -> BinaryIO:
        try:
            return self.path(name).open("rb")
        except FileNotFoundError:
            raise NotFound("no such evidence object") from None
        except OSError as exc:
            raise StorageError(f"cannot read the evidence vault: {exc.strerror}") from None

    def exists(self, name: str) -> bool:
        path = self.path(name)
        with self._pending_lock:
            if self._pending is not None and path in self._pending:
                return True
        return path.is_file()

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
        """Create a shard directory, and those missing above it up to the vault, owner-only
        (0700) whatever the umask. The deepest first: its parents usually exist already."""
        try:
            try:
                private_dir(directory)
            except FileNotFoundError:
                if directory == self.directory:
                    directory.parent.mkdir(parents=True, exist_ok=True)
                else:
                    self._make_dirs(directory.parent)
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


def _syncfs() -> Callable[[int], int] | None:
    """Linux's ``syncfs(2)`` (one call flushes a whole file system), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return function


def _make_durable(directory: Path, paths: Sequence[Path]) -> None:
    """Flush ``paths`` (files or directories inside ``directory``) to stable storage.

    One ``syncfs`` of the vault's file system when the platform has it (milliseconds for a
    whole batch, against about a millisecond per ``fsync``), else an ``fsync`` of each.
    """
    syncfs = _syncfs()
    if syncfs is not None:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            if syncfs(descriptor) == 0:
                return
        finally:
            os.close(descriptor)
    for path in paths:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
