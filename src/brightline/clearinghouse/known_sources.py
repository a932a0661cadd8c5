"""Known-material sources for the stored analysis: local Brightline banks and hash-list files.

Both become the analysis core's :class:`~brightline.clearinghouse.known.KnownMaterialLookup`
(through :class:`~brightline.clearinghouse.known.HashSetLookup`), so ``mark_known`` is the one
place that decides known, new or unchecked:

* :func:`bank_lookup`: the enabled md5, sha1 and PDQ entries of named, enabled banks, each
  bank's PDQ within its own threshold (``pdq_threshold``, the same distance ``brightline
  match`` uses for it). The entries are read once, when the run starts: a run sees the banks
  as they were then.
* :func:`load_known_list`: a CSV file with a header naming any of ``md5``, ``sha1``, ``pdq``
  and optionally ``series`` (the identified series the row belongs to). Every row needs at
  least one hash. A bad row is refused naming the file's line, never the value.

:class:`AnyOf` asks each source in turn. Logs hold counts, never hashes.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.banks.models import Bank, BankEntry
from brightline.banks.service import get_bank
from brightline.clearinghouse.known import HashSetLookup, KnownMaterialLookup
from brightline.clearinghouse.model import ReportedFile
from brightline.errors import InvalidInput

__all__ = ["AnyOf", "bank_lookup", "load_known_list"]

log = logging.getLogger(__name__)

_LENGTHS = {"md5": 32, "sha1": 40, "pdq": 64}
_HEX = {kind: re.compile(f"[0-9a-f]{{{length}}}") for kind, length in _LENGTHS.items()}
_COLUMNS = {"md5", "sha1", "pdq", "series"}
MAX_LIST_BYTES = 512 * 1024 * 1024


class AnyOf:
    """Known when any of ``lookups`` knows the file (none: nothing is known)."""

    def __init__(self, lookups: Sequence[KnownMaterialLookup]) -> None:
        self.lookups = tuple(lookups)

    def __call__(self, file: ReportedFile) -> bool:
        return any(lookup(file) for lookup in self.lookups)


def _bank_hashes(session: Session, bank: Bank) -> Iterator[tuple[str, str]]:
    rows = session.execute(
        select(BankEntry.signal_type, BankEntry.value)
        .where(
            BankEntry.bank_id == bank.id,
            BankEntry.enabled.is_(True),
            BankEntry.signal_type.in_(("md5", "sha1", "pdq")),
        )
        .execution_options(yield_per=20_000)
    )
    for signal_type, value in rows:
        yield str(signal_type), str(value)


def bank_lookup(*, session: Session, name: str) -> HashSetLookup:
    """The known-material lookup of local bank ``name`` (:class:`NotFound` if there is none;
    :class:`InvalidInput` if it is disabled, since a disabled bank matches nothing)."""
    bank = get_bank(session=session, name=name)
    if not bank.enabled:
        raise InvalidInput(f"bank {name!r} is disabled")
    found: dict[str, list[str]] = {"md5": [], "sha1": [], "pdq": []}
    for signal_type, value in _bank_hashes(session, bank):
        found[signal_type].append(value.lower())
    log.info(
        "known-material bank %s: %d md5, %d sha1, %d pdq",
        bank.id,
        len(found["md5"]),
        len(found["sha1"]),
        len(found["pdq"]),
    )
    return HashSetLookup(
        md5=found["md5"], sha1=found["sha1"], pdq=found["pdq"], pdq_threshold=bank.pdq_threshold
    )


def load_known_list(path: Path, *, pdq_threshold: int = 31) -> HashSetLookup:
    """A known-material list from a CSV file (header: any of md5, sha1, pdq; optional series).

    Series labels are checked to be present where given but not kept: the analysis marks a
    file known or new, and the list stays the place that says which series it belongs to.
    """
    try:
        if path.stat().st_size > MAX_LIST_BYTES:
            raise InvalidInput(f"{path.name}: larger than {MAX_LIST_BYTES // 2**20} MiB")
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InvalidInput(f"{path.name}: cannot be read ({exc.strerror})") from None
    found: dict[str, list[str]] = {"md5": [], "sha1": [], "pdq": []}
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = [(name or "").strip().lower() for name in reader.fieldnames or []]
            if not header or not set(header) & set(_HEX):
                raise InvalidInput(f"{path.name}: the header must name md5, sha1 or pdq")
            unknown = sorted(set(header) - _COLUMNS)
            if unknown:
                raise InvalidInput(f"{path.name}: unknown column {unknown[0]!r}")
            reader.fieldnames = header
            for row in reader:
                where = f"{path.name}:{reader.line_num}"
                if None in row:
                    raise InvalidInput(f"{where}: more fields than the header")
                hashes = 0
                for kind, pattern in _HEX.items():
                    value = (row.get(kind) or "").strip().lower()
                    if not value:
                        continue
                    if not pattern.fullmatch(value):
                        raise InvalidInput(f"{where}: {kind} is not {_LENGTHS[kind]} hex digits")
                    found[kind].append(value)
                    hashes += 1
                if not hashes:
                    raise InvalidInput(f"{where}: no md5, sha1 or pdq")
        except UnicodeDecodeError:
            raise InvalidInput(f"{path.name}: not UTF-8 text") from None
        except csv.Error:
            raise InvalidInput(f"{path.name}:{reader.line_num}: not valid CSV") from None
    log.info(
        "known-material list: %d md5, %d sha1, %d pdq",
        len(found["md5"]),
        len(found["sha1"]),
        len(found["pdq"]),
    )
    return HashSetLookup(
        md5=found["md5"], sha1=found["sha1"], pdq=found["pdq"], pdq_threshold=pdq_threshold
    )
