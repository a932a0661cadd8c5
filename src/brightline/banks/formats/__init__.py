"""Hash-list file formats: streaming readers and writers of :class:`EntryRecord`, by name.

=========  ==========================================================================
``plain``  one value per line; the signal type is an option (``signal_type``)
``csv``    Brightline's lossless CSV (``signal_type,signal,classification,...``)
``hma``    ``<signal type> <value>`` lines as HMA / python-threatexchange use them
``ncmec``  NCMEC hash-sharing API XML, including deletions
``vics``   Project VIC VICS 2.0 JSON; options ``scheme`` and ``skip``
=========  ==========================================================================

Every reader returns a :class:`RecordStream`: an iterator of records and
:class:`~brightline.banks.records.InvalidRecord` (malformed input, never raised) whose ``skipped``
counter says what was deliberately left out. See ``docs/formats.md``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Protocol

from brightline.banks.formats._common import RecordStream
from brightline.banks.formats.csv_format import CsvFormat
from brightline.banks.formats.hma import DATASET_CSV_HEADER, HmaFormat
from brightline.banks.formats.ncmec import NcmecFormat
from brightline.banks.formats.plain import PlainFormat
from brightline.banks.formats.vics import VicsFormat
from brightline.banks.records import BankFormat
from brightline.errors import InvalidInput

__all__ = [
    "FORMATS",
    "SNIFF_BYTES",
    "CsvFormat",
    "HmaFormat",
    "NcmecFormat",
    "PlainFormat",
    "RecordStream",
    "VicsFormat",
    "format_options",
    "get_format",
    "guess_format",
]


class _FormatClass(Protocol):
    """What the registry needs of a format class: its option names and a constructor from them."""

    @property
    def OPTIONS(self) -> frozenset[str]: ...  # noqa: N802 (a class constant)

    def from_options(self, options: Mapping[str, str]) -> BankFormat: ...


_CLASSES: dict[str, _FormatClass] = {
    "plain": PlainFormat,
    "csv": CsvFormat,
    "hma": HmaFormat,
    "ncmec": NcmecFormat,
    "vics": VicsFormat,
}

FORMATS: dict[str, BankFormat] = {name: cls.from_options({}) for name, cls in _CLASSES.items()}
"""Each format with default options. ``FORMATS["plain"]`` writes, but reads only once given a
signal type: use ``get_format("plain", signal_type=...)``."""

SNIFF_BYTES = 64 * 1024
"""How much of a file's start :func:`guess_format` wants to see."""


def format_options(name: str) -> frozenset[str]:
    """The option names ``get_format(name, ...)`` accepts (for CLI help and validation)."""
    return _class(name).OPTIONS


def get_format(name: str, /, **options: str) -> BankFormat:
    """The format called ``name``, configured with ``options`` (all strings, as a CLI gives them).

    Options per format: ``plain``: ``signal_type``; ``vics``: ``scheme`` (``us``/``legacy``) and
    ``skip`` (comma-separated category names or ``none``); the others take none. Raises
    :class:`InvalidInput` naming the known formats or the accepted options.
    """
    cls = _class(name)
    if not options:
        return FORMATS[name]
    unknown = sorted(set(options) - cls.OPTIONS)
    if unknown:
        accepted = ", ".join(sorted(cls.OPTIONS)) or "none"
        raise InvalidInput(
            f"the {name} format has no option {', '.join(unknown)} (accepted: {accepted})"
        )
    return cls.from_options(options)


def _class(name: str) -> _FormatClass:
    try:
        return _CLASSES[name]
    except KeyError:
        known = ", ".join(sorted(_CLASSES))
        raise InvalidInput(f"unknown list format {name!r} (known: {known})") from None


_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_BY_SUFFIX = {".xml": "ncmec", ".json": "vics", ".csv": "csv"}


def guess_format(filename: str, head: bytes) -> str:
    """Name the format of a file from its name and first bytes (ideally :data:`SNIFF_BYTES`).

    Content decides first: XML is ``ncmec``, a JSON object is ``vics``, a CSV header naming
    ``signal_type`` and ``signal`` is ``csv`` (``signal_str`` and friends: threatexchange's CSV,
    read by ``hma``). Then the extension (``.xml``, ``.json``, ``.csv``). Otherwise the first
    line that is not blank or a ``#`` comment: one token is ``plain``, ``<type> <value>`` is
    ``hma``. Raises :class:`InvalidInput` when nothing fits, so the user is asked for ``--format``
    instead of a file being read the wrong way.
    """
    text = _decode_head(head)
    start = text.lstrip()
    if start.startswith("<"):
        return "ncmec"
    if start.startswith("{"):
        return "vics"
    first = _first_line(text)
    if first is not None:
        cells = tuple(cell.strip().lower() for cell in first.split(","))
        if cells == DATASET_CSV_HEADER:
            return "hma"
        if "signal_type" in cells and "signal" in cells:
            return "csv"
    by_suffix = _BY_SUFFIX.get(PurePath(filename).suffix.lower())
    if by_suffix is not None:
        return by_suffix
    if first is not None:
        tokens = first.split()
        if len(tokens) == 1 and "," not in first:
            return "plain"
        if len(tokens) >= 2 and _TYPE_NAME.fullmatch(tokens[0]):
            return "hma"
    known = ", ".join(sorted(_CLASSES))
    raise InvalidInput(f"cannot tell the list format of {filename!r}: give it ({known})")


def _decode_head(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return head[3:].decode("utf-8", "replace")
    if head.startswith(codecs.BOM_UTF16_LE):
        return head[2:].decode("utf-16-le", "replace")
    if head.startswith(codecs.BOM_UTF16_BE):
        return head[2:].decode("utf-16-be", "replace")
    return head.decode("utf-8", "replace")


def _first_line(text: str) -> str | None:
    """The first line that is not blank or a comment, if the head holds a complete one."""
    lines = text.split("\n")
    for line in lines[:-1] if len(lines) > 1 else lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped
    return None
