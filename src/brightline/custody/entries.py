"""Custody entries: their fields, the canonical encoding that is hashed, and validation.

An entry's ``entry_hash`` is the SHA-256 of a canonical JSON encoding of all its other fields
except ``mac``; its ``mac`` is HMAC-SHA256 under the custody key of that hash. The encoding is fixed
byte for byte (docs/custody.md), because anyone holding an extract (a production package) must be
able to recompute the hash without Brightline's code, and because what the database hands back
must encode exactly as what was written: the timestamp is written with microseconds in UTC
(both databases keep microseconds), details are JSON values that survive a round trip unchanged
(strings, integers, nulls), and text that a database would alter or refuse (NUL, lone
surrogates) is refused up front.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from brightline.custody.models import ACTOR_LENGTH, CustodyEvent
from brightline.errors import InvalidInput
from brightline.evidence.store import parse_ref

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

MAX_REASON_LENGTH = 2_000
MAX_DETAILS = 32
MAX_DETAIL_LENGTH = 2_000
MAX_ID = 2**63 - 1
_DETAIL_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_FIELDS = (
    "seq",
    "at",
    "event",
    "object_ref",
    "report_id",
    "case_id",
    "hold_id",
    "actor",
    "reason",
    "details",
    "prev_hash",
    "entry_hash",
    "mac",
)

DetailValue = str | int | None

NEEDS_REASON = frozenset({CustodyEvent.ACCESSED, CustodyEvent.EXPORTED})
"""Events that are only recorded with a reason: a read of evidence always says why."""


@dataclass(frozen=True, slots=True)
class CustodyEntry:
    """One entry of the chain of custody, as written (and as exported in packages)."""

    seq: int
    """Position in the log: 1, 2, 3, ... with no gaps."""
    at: datetime
    """When, timezone-aware UTC (microseconds are kept and hashed)."""
    event: CustodyEvent
    object_ref: str | None
    """The vault object (``sha256:<hex>``) the event is about, if any."""
    report_id: int | None
    case_id: int | None
    hold_id: int | None
    actor: str
    """Who: a staff member's name or a system actor such as ``system:purge``."""
    reason: str | None
    details: Mapping[str, DetailValue]
    """Short facts of the event (a manifest's SHA-256, a retention end, a role): ids, digests and
    codes, never content."""
    prev_hash: str
    entry_hash: str
    mac: str

    def to_json(self) -> dict[str, Any]:
        """A JSON object with every field (``at`` in its canonical text form)."""
        return {**_hashed_fields(self), "entry_hash": self.entry_hash, "mac": self.mac}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustodyEntry:
        """An entry from :meth:`to_json`'s output; InvalidInput if anything is missing, extra or
        of the wrong type. The hashes are *not* checked here (see :func:`entry_hash_of`)."""
        if not isinstance(data, Mapping) or set(data) != set(_FIELDS):
            raise InvalidInput("a custody entry has exactly the fields " + ", ".join(_FIELDS))
        seq = data["seq"]
        if not _is_int(seq) or seq < 1:
            raise InvalidInput("a custody entry's seq is a positive integer")
        at = data["at"]
        if not isinstance(at, str):
            raise InvalidInput("a custody entry's time is text")
        try:
            event = CustodyEvent(data["event"])
        except ValueError:
            raise InvalidInput("unknown custody event") from None
        for name in ("prev_hash", "entry_hash", "mac"):
            if not isinstance(data[name], str) or not _HEX64.fullmatch(data[name]):
                raise InvalidInput(f"a custody entry's {name} is 64 lowercase hex characters")
        object_ref = data["object_ref"]
        if object_ref is not None:
            parse_ref(object_ref)
        for name in ("report_id", "case_id", "hold_id"):
            check_id(data[name], name)
        actor = data["actor"]
        if not isinstance(actor, str):
            raise InvalidInput("a custody entry's actor is text")
        reason = data["reason"]
        if reason is not None and not isinstance(reason, str):
            raise InvalidInput("a custody entry's reason is text or null")
        details = data["details"]
        if not isinstance(details, Mapping) or not all(
            isinstance(key, str) and (value is None or isinstance(value, str) or _is_int(value))
            for key, value in details.items()
        ):
            raise InvalidInput("a custody entry's details map names to text, integers or nulls")
        return cls(
            seq=seq,
            at=parse_at(at),
            event=event,
            object_ref=object_ref,
            report_id=data["report_id"],
            case_id=data["case_id"],
            hold_id=data["hold_id"],
            actor=actor,
            reason=reason,
            details=dict(details),
            prev_hash=data["prev_hash"],
            entry_hash=data["entry_hash"],
            mac=data["mac"],
        )


# -- the canonical encoding ------------------------------------------------------------------


def format_at(at: datetime) -> str:
    """``2026-12-01T08:00:00.000000Z``: UTC, always six digits of microseconds."""
    if at.tzinfo is None:
        raise InvalidInput("a custody time must be timezone-aware")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_at(text: str) -> datetime:
    """The inverse of :func:`format_at`; only the canonical form is accepted."""
    if not _AT.fullmatch(text):
        raise InvalidInput("a custody time is written as YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("a custody time is not a valid date and time") from None


def canonical_json(value: object) -> str:
    """Sorted keys, no whitespace, ASCII only (everything else ``\\u``-escaped), no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def hash_fields(fields: Mapping[str, object]) -> str:
    """SHA-256 hex of the canonical JSON of an entry's fields (all but ``entry_hash`` and
    ``mac``). TypeError or ValueError if a value cannot be encoded."""
    return hashlib.sha256(canonical_json(fields).encode("ascii")).hexdigest()


def _hashed_fields(entry: CustodyEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": format_at(entry.at),
        "event": entry.event.value,
        "object_ref": entry.object_ref,
        "report_id": entry.report_id,
        "case_id": entry.case_id,
        "hold_id": entry.hold_id,
        "actor": entry.actor,
        "reason": entry.reason,
        "details": dict(entry.details),
        "prev_hash": entry.prev_hash,
    }


def entry_hash_of(entry: CustodyEntry) -> str:
    """The SHA-256 an entry's fields hash to: equal to ``entry.entry_hash`` unless it was edited.

    Needs no key, so anyone holding an extract can check it; only the MAC (see
    :func:`mac_of`) proves that the platform wrote it.
    """
    return hash_fields(_hashed_fields(entry))


def mac_of(key: bytes, entry_hash: str) -> str:
    """HMAC-SHA256 under the custody key of an entry's hash, in hex."""
    return hmac.new(key, entry_hash.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


# -- validation ------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_id(value: object, name: str) -> None:
    """None, or an id as the databases store it (1 to 2**63 - 1)."""
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{name} must be a positive integer")


def check_text(value: object, name: str, *, max_length: int) -> str:
    """Text a database stores exactly: no NUL (PostgreSQL refuses it), valid Unicode (no lone
    surrogates, which UTF-8 cannot hold), at most ``max_length`` characters. The message names
    the field, never the value."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} is not valid Unicode text") from None
    if len(value) > max_length:
        raise InvalidInput(f"{name} is longer than {max_length} characters")
    return value


def check_actor(actor: object) -> str:
    text = check_text(actor, "the actor", max_length=ACTOR_LENGTH)
    if not text.strip():
        raise InvalidInput("the actor must not be empty")
    if any(not character.isprintable() for character in text):
        # An actor is a name or an id: a line break in it could fake lines in listings.
        raise InvalidInput("the actor contains control or invisible formatting characters")
    return text


def check_details(details: Mapping[str, DetailValue] | None) -> dict[str, DetailValue]:
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise InvalidInput("custody details must be a mapping")
    if len(details) > MAX_DETAILS:
        raise InvalidInput(f"custody details hold at most {MAX_DETAILS} entries")
    checked: dict[str, DetailValue] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
            raise InvalidInput(
                "custody detail names are lowercase letters, digits and '_' (at most 64)"
            )
        if value is None:
            checked[key] = None
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_ID - 1 <= value <= MAX_ID:
                raise InvalidInput(f"custody detail {key!r} is out of range")
            checked[key] = value
        else:
            checked[key] = check_text(
                value, f"custody detail {key!r}", max_length=MAX_DETAIL_LENGTH
            )
    return checked
