"""Typed settings, read once from the environment by the adapter that starts the process.

Nothing here runs at import time: adapters call :func:`load_settings` and pass the result down, so
tests can build their own :class:`Settings` without touching the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from brightline.errors import InvalidInput

DEFAULT_PDQ_THRESHOLD = 31
"""Hamming distance at or below which two PDQ hashes match (Meta's recommendation)."""

DEFAULT_PDQ_QUALITY_THRESHOLD = 50
"""PDQ hashes below this quality are reported as low quality, never as "no match"."""


def default_home(environ: Mapping[str, str]) -> Path:
    """Where data lives when ``BRIGHTLINE_HOME`` is unset: the XDG data directory.

    An operator's bank data must not depend on the directory a command happens to run in, so the
    default is per user (``$XDG_DATA_HOME/brightline``, else ``~/.local/share/brightline``).
    """
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "brightline"


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    max_file_bytes: int = 256 * 1024 * 1024
    max_image_pixels: int = 120_000_000
    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD
    pdq_quality_threshold: int = DEFAULT_PDQ_QUALITY_THRESHOLD
    dihedral: bool = True
    max_video_bytes: int = 16 * 1024**3
    video_sample_fps: float = 1.0
    max_video_decode_seconds: float = 600.0

    @property
    def index_dir(self) -> Path:
        return self.home / "index"


def _int_env(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {value}")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    home = Path(env["BRIGHTLINE_HOME"]) if env.get("BRIGHTLINE_HOME") else default_home(env)
    home = home.expanduser().resolve()
    url = env.get("BRIGHTLINE_DATABASE_URL") or f"sqlite:///{home / 'brightline.db'}"
    dihedral_raw = env.get("BRIGHTLINE_DIHEDRAL", "1").strip().lower()
    if dihedral_raw not in {"0", "1", "true", "false", "yes", "no"}:
        raise InvalidInput(f"BRIGHTLINE_DIHEDRAL must be a boolean, got {dihedral_raw!r}")
    return Settings(
        home=home,
        database_url=url,
        max_file_bytes=_int_env(env, "BRIGHTLINE_MAX_FILE_BYTES", 256 * 1024 * 1024, 1, 1 << 40),
        max_image_pixels=_int_env(env, "BRIGHTLINE_MAX_IMAGE_PIXELS", 120_000_000, 1, 1 << 34),
        pdq_threshold=_int_env(env, "BRIGHTLINE_PDQ_THRESHOLD", DEFAULT_PDQ_THRESHOLD, 0, 63),
        pdq_quality_threshold=_int_env(
            env, "BRIGHTLINE_PDQ_QUALITY_THRESHOLD", DEFAULT_PDQ_QUALITY_THRESHOLD, 0, 100
        ),
        dihedral=dihedral_raw in {"1", "true", "yes"},
        max_video_bytes=_int_env(env, "BRIGHTLINE_MAX_VIDEO_BYTES", 16 * 1024**3, 1, 1 << 50),
        video_sample_fps=_int_env(env, "BRIGHTLINE_VIDEO_SAMPLE_FPS", 1, 1, 60),
        max_video_decode_seconds=_int_env(
            env, "BRIGHTLINE_MAX_VIDEO_DECODE_SECONDS", 600, 1, 86_400
        ),
    )
