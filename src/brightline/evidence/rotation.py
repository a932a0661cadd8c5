"""Rotating the vault's master key: add a new active key, re-wrap, retire the old ones.

Two steps, because running services hold the keyring too: ``rotate`` puts a fresh key first
in the key file (old keys stay, so nothing becomes unreadable) and re-wraps every data key
under it; services re-read the key file when it changes, so their new objects go under the
new key as well. ``retire`` then re-wraps whatever is left, removes the old keys from the file
and checks that nothing was wrapped under them meanwhile (a writer that loaded the keyring just
before the change); if something was, the old keys are put back and the operator is told to run
it again, so no object is ever left under a key that is gone.

Keys given in ``BRIGHTLINE_EVIDENCE_KEY`` are managed by the operator's secret store: put the
new key first, restart, run ``rewrap``, then drop the old key (docs/evidence.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from brightline.errors import Conflict, InvalidInput
from brightline.evidence.keyring import KEY_BYTES, key_id, read_key_file, write_key_file
from brightline.evidence.store import EvidenceStore, RewrapReport


@dataclass(frozen=True, slots=True)
class RotationReport:
    active_key_id: str
    retired_key_ids: tuple[str, ...]
    rewrap: RewrapReport


def _key_file(store: EvidenceStore) -> Path:
    path = store.keyring.path
    if path is None:
        raise InvalidInput(
            "the vault's master keys come from BRIGHTLINE_EVIDENCE_KEY: put the new key first "
            "there, restart the services, run `brightline keys rewrap`, then remove the old key"
        )
    return path


def rotate_master_key(store: EvidenceStore) -> RotationReport:
    """Make a fresh master key active and re-wrap every data key under it."""
    path = _key_file(store)
    keys = read_key_file(path)
    write_key_file(path, [secrets.token_bytes(KEY_BYTES), *keys])
    report = store.rewrap_all()
    return RotationReport(store.keyring.active_id.hex(), (), report)


def retire_old_keys(store: EvidenceStore) -> RotationReport:
    """Remove every master key but the active one, once nothing needs them any more."""
    path = _key_file(store)
    keys = read_key_file(path)
    report = store.rewrap_all()
    if report.failed:
        raise Conflict(
            f"{len(report.failed)} object(s) could not be re-wrapped; old keys kept "
            "(see `brightline keys status`)"
        )
    active, old = keys[0], keys[1:]
    if not old:
        return RotationReport(key_id(active).hex(), (), report)
    write_key_file(path, [active])
    old_ids = {key_id(key).hex() for key in old}
    stragglers = sum(count for kid, count in store.key_status().items() if kid in old_ids)
    if stragglers:
        write_key_file(path, keys)
        raise Conflict(
            f"{stragglers} object(s) were written under an old key during retirement; the old "
            "keys are back in the key file: run `brightline keys retire` again"
        )
    return RotationReport(key_id(active).hex(), tuple(sorted(old_ids)), report)
