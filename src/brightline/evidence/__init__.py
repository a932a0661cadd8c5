"""The evidence vault: flagged media, encrypted at rest, addressed by digest."""

from brightline.evidence.store import EvidenceStore

__all__ = ["EvidenceStore"]
