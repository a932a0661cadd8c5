"""How results look on the command line: JSON objects for JSON lines, flat rows for CSV."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from brightline.matching import MatchResult
from brightline.signals import HashedContent
from brightline.signals.video import encode_video_hash

CSV_COLUMNS = [
    "path",
    "status",
    "reason",
    "bank",
    "signal_type",
    "distance",
    "transform",
    "classification",
    "entry_id",
    "external_id",
    "list_name",
    "series",
    "video_kind",
    "query_coverage",
    "target_coverage",
    "pdq",
    "pdq_quality",
    "md5",
    "sha256",
]


def content_json(
    content: HashedContent, *, dihedral: bool = False, vpdq: bool = False
) -> dict[str, Any]:
    signals = {
        signal.signal_type: {"value": signal.value, "version": signal.version}
        | ({"quality": signal.quality} if signal.quality is not None else {})
        for signal in content.signals
    }
    out: dict[str, Any] = {
        "signals": signals,
        "media_type": content.media_type,
        "width": content.width,
        "height": content.height,
        "unhashable": (
            {"reason": content.unhashable.reason, "detail": content.unhashable.detail}
            if content.unhashable
            else None
        ),
    }
    if dihedral:
        out["pdq_dihedral"] = list(content.pdq_dihedral)
    if content.video is not None:
        out["video"] = {
            "frames": len(content.video.frames),
            "duration": content.video.duration,
            "sample_fps": content.video.frame_rate_sampled,
        } | ({"vpdq": encode_video_hash(content.video)} if vpdq else {})
    return out


def result_json(path: Path | str, result: MatchResult) -> dict[str, Any]:
    out: dict[str, Any] = {"path": str(path), "status": result.status.value}
    out |= content_json(result.content)
    out["low_quality"] = result.low_quality
    out["matches"] = [asdict(match) for match in result.matches]
    return out


def problem_json(path: Path | str, reason: str, detail: str) -> dict[str, Any]:
    return {
        "path": str(path),
        "status": "error",
        "unhashable": {"reason": reason, "detail": detail},
        "matches": [],
    }


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def csv_rows(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per match, or one row for a file without matches."""
    signals = obj.get("signals") or {}
    base = {
        "path": obj["path"],
        "status": obj["status"],
        "reason": (obj.get("unhashable") or {}).get("reason", ""),
        "pdq": signals.get("pdq", {}).get("value", ""),
        "pdq_quality": signals.get("pdq", {}).get("quality", ""),
        "md5": signals.get("md5", {}).get("value", ""),
        "sha256": signals.get("sha256", {}).get("value", ""),
    }
    if not obj["matches"]:
        return [base]
    return [
        base
        | {
            "bank": m["bank"],
            "signal_type": m["signal_type"],
            "distance": m["distance"],
            "transform": m["transform"] or "",
            "classification": m["classification"] or "",
            "entry_id": m["entry_id"],
            "external_id": m["external_id"] or "",
            "list_name": m["list_name"] or "",
            "series": m["series"] or "",
            "video_kind": (m["video"] or {}).get("kind", ""),
            "query_coverage": (m["video"] or {}).get("query_coverage", ""),
            "target_coverage": (m["video"] or {}).get("target_coverage", ""),
        }
        for m in obj["matches"]
    ]
