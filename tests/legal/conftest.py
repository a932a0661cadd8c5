from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from brightline.evidence.store import EvidenceStore


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "vault", secrets.token_bytes(32), chunk_size=1024)
