"""The chain of custody: an append-only, hash-chained, authenticated log of events on evidence.

Every preservation, access, export, hold and purge of a vault object is one entry: who, when,
why, about which object, report, case or hold. Each entry names the SHA-256 of the one before
it and carries an HMAC under a key kept outside the database, so someone who can only write the
database can neither edit, delete nor re-order entries without :func:`verify_custody` saying
where (see docs/custody.md).

Service functions take a keyword-only ``session`` and never commit: an entry is recorded in the
same transaction as the event it records, so neither exists without the other.
"""

from brightline.custody.entries import (
    GENESIS_HASH,
    CustodyEntry,
    entry_hash_of,
)
from brightline.custody.log import KEY_ENV, custody_entries, custody_key, record_custody
from brightline.custody.models import CustodyEvent, CustodyRecord
from brightline.custody.verify import (
    CustodyProblem,
    CustodyVerification,
    ProblemKind,
    parse_anchor,
    verify_custody,
)

__all__ = [
    "GENESIS_HASH",
    "KEY_ENV",
    "CustodyEntry",
    "CustodyEvent",
    "CustodyProblem",
    "CustodyRecord",
    "CustodyVerification",
    "ProblemKind",
    "custody_entries",
    "custody_key",
    "entry_hash_of",
    "parse_anchor",
    "record_custody",
    "verify_custody",
]
