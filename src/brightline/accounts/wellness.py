"""Reviewer wellbeing settings: organisation defaults with per-person overrides (DOMAIN.md §7).

The defaults protect: previews are small, greyscale and blurred, a revealed item blurs again
after a few seconds, and every reveal is counted. An organisation may tighten or loosen the
defaults; a person may adjust only how they see (blur strength, greyscale, auto re-blur), never
the organisation's daily cap or break rhythm, which exist to protect them on a hard day too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brightline.errors import InvalidInput

USER_KEYS = frozenset({"blur_radius", "greyscale", "auto_reblur_seconds"})
"""The settings a person may override for themselves."""

_ON = frozenset({"1", "true", "on", "yes"})
_OFF = frozenset({"0", "false", "off", "no"})
_INT_RANGES = {
    "blur_radius": (4, 40),
    "auto_reblur_seconds": (1, 60),
    "preview_size": (64, 320),
    "daily_cap": (1, 10_000),
    "break_every": (1, 10_000),
}


@dataclass(frozen=True, slots=True)
class Wellness:
    """How media is shown to one person, after organisation defaults and their overrides."""

    blur_radius: int = 12
    """Gaussian blur radius (pixels of the preview) applied on the server before sending."""
    greyscale: bool = True
    auto_reblur_seconds: int = 5
    """A revealed item blurs again after this long, or as soon as the pointer leaves it."""
    preview_size: int = 160
    """Longest side of a preview, in pixels: small by default."""
    daily_cap: int | None = None
    """Reveals per person per UTC day; None: no cap (counts are still kept and shown)."""
    break_every: int = 25
    """Suggest a break after every this many reveals in a day."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _parse_value(key: str, raw: object) -> Any:
    """One setting checked and normalised; form strings and JSON values both accepted."""
    if key == "greyscale":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _ON | _OFF:
            return raw.strip().lower() in _ON
        raise InvalidInput("greyscale must be on or off")
    if key == "daily_cap" and (raw is None or raw == ""):
        return None
    low, high = _INT_RANGES[key]
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidInput(f"{key.replace('_', ' ')} must be a whole number from {low} to {high}")
    return value


def parse_settings(values: Mapping[str, object], *, allowed: frozenset[str]) -> dict[str, Any]:
    """Check a set of changes (only ``allowed`` keys); returns the normalised values."""
    unknown = set(values) - allowed
    if unknown:
        raise InvalidInput(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return {key: _parse_value(key, raw) for key, raw in values.items()}


ORG_KEYS = frozenset(field.name for field in dataclasses.fields(Wellness))


def combine(org: Mapping[str, Any], person: Mapping[str, Any]) -> Wellness:
    """The organisation's defaults with the person's own overrides on top."""
    merged = {**parse_settings(org, allowed=ORG_KEYS), **parse_settings(person, allowed=USER_KEYS)}
    return Wellness(**merged)


def dumps(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"))


def loads(text: str) -> dict[str, Any]:
    """Stored JSON back to a dict; a corrupt value falls back to the protective defaults."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
