"""Walk scan roots without ever leaving them.

Symbolic links are not followed into directories, and a link to a file is read only when its
target lies inside one of the roots: a scan of an upload folder must not wander into the rest of
the file system through a planted link.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A path the walk found but will not hash, with a stable reason code."""

    path: Path
    reason: str
    detail: str


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def iter_files(roots: Sequence[Path]) -> Iterator[Path | FileProblem]:
    """Yield every regular file under ``roots`` (files may be roots too), sorted per directory.

    Sorting makes scan output reproducible, which is what makes a re-run comparable and
    ``--resume`` reliable.
    """
    resolved = [root.resolve() for root in roots]
    seen: set[Path] = set()
    for root in roots:
        if root.is_symlink() and not _inside(root.resolve(), resolved):
            yield FileProblem(root, "outside_roots", "link points outside the scanned roots")
            continue
        if root.is_file():
            if root.resolve() not in seen:
                seen.add(root.resolve())
                yield root
            continue
        if not root.is_dir():
            yield FileProblem(root, "not_found", "no such file or directory")
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=None):
            dirnames.sort()
            base = Path(dirpath)
            for name in sorted(filenames):
                path = base / name
                try:
                    if path.is_symlink():
                        target = path.resolve(strict=True)
                        if not _inside(target, resolved):
                            yield FileProblem(
                                path, "outside_roots", "link points outside the scanned roots"
                            )
                            continue
                    else:
                        target = path.resolve()
                    if not target.is_file():
                        continue  # sockets, fifos, devices: nothing to hash
                except OSError as exc:
                    yield FileProblem(path, "io_error", exc.strerror or type(exc).__name__)
                    continue
                if target in seen:
                    continue
                seen.add(target)
                yield path
