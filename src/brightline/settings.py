"""Typed settings, read once from the environment by the adapter that starts the process.

Nothing here runs at import time: adapters call :func:`load_settings` and pass the result down, so
tests can build their own :class:`Settings` without touching the environment.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from brightline.errors import InvalidInput

DEFAULT_PDQ_THRESHOLD = 31
"""Hamming distance at or below which two PDQ hashes match (Meta's recommendation)."""

DEFAULT_PDQ_QUALITY_THRESHOLD = 50
"""PDQ hashes below this quality are reported as low quality, never as "no match"."""

DEFAULT_CYBERTIPLINE_URL = "https://exttest.cybertip.org/ispws"
"""The clearinghouse's *test* endpoint: production must be chosen explicitly."""


def default_home(environ: Mapping[str, str]) -> Path:
    """Where data lives when ``BRIGHTLINE_HOME`` is unset: the XDG data directory.

    An operator's bank data must not depend on the directory a command happens to run in, so the
    default is per user (``$XDG_DATA_HOME/brightline``, else ``~/.local/share/brightline``).
    """
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "brightline"


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What only the HTTP service (``brightline serve``) reads."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_batch_size: int = 100
    """Most hashes, files or URLs in one batch request."""
    max_upload_bytes: int = 256 * 1024 * 1024
    index_sync_seconds: float = 2.0
    """How often each worker reads new and changed entries into its in-memory indexes."""
    fetch_timeout_seconds: float = 10.0
    fetch_allow_networks: tuple[str, ...] = ()
    """Networks that URL fetching may reach even though they are private or loopback."""
    hma_open_networks: tuple[str, ...] = ()
    """Clients in these networks may call the HMA-compatible endpoints without an API key."""
    auth_cache_seconds: float = 5.0
    """How long a verified API key is trusted before it is read again (revocation delay)."""


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """How webhook deliveries are sent and retried (see docs/webhooks.md)."""

    poll_seconds: float = 1.0
    """How often each service worker looks for due deliveries."""
    batch_size: int = 50
    """Most deliveries one pass sends; a full pass is followed by another at once."""
    timeout_seconds: float = 5.0
    """Per request; a receiver that takes longer counts as a failed attempt."""
    lease_seconds: float = 60.0
    """How long a claimed delivery is reserved for its worker; must exceed the timeout, since a
    delivery whose lease ran out may be sent again by another worker."""
    max_attempts: int = 12
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 3600.0
    retention_days: int = 30
    """Delivered deliveries older than this are deleted; failed ones are kept for review."""


@dataclass(frozen=True, slots=True)
class FloodGuardSettings:
    """When an entry that suddenly matches far above its baseline is quarantined."""

    enabled: bool = True
    floor: int = 50
    """An entry is never quarantined for this many matches in an hour or fewer."""
    factor: float = 10.0
    """... nor unless the hour's count exceeds this multiple of its mean hourly count."""
    baseline_days: int = 7
    """The window the mean hourly count is taken over (hours without matches count as 0)."""


@dataclass(frozen=True, slots=True)
class CyberTiplineSettings:
    """Where and how reports are submitted to the CyberTipline Reporting API.

    See docs/cybertipline-submission.md. The default URL is the clearinghouse's *test* endpoint
    so that an unconfigured installation can never file a real report by accident.
    """

    url: str = DEFAULT_CYBERTIPLINE_URL
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    """Kept out of ``repr`` so that settings can be logged or shown in a traceback."""
    timeout_seconds: float = 60.0
    """Per request; uploads of large files send in chunks, so this bounds each wait, not the
    whole upload."""
    lease_seconds: float = 900.0
    """How long a worker holds a submission; renewed at every step, so it bounds one step."""
    poll_seconds: float = 5.0
    batch_size: int = 10
    max_attempts: int = 20
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class ReporterSettings:
    """Who files CyberTipline reports: the ``<reporter>`` section of every report.

    Every field may be unset so that an installation that does not report still starts; the
    report builder refuses to build while a required one (company name, contact first and last
    name, contact email) is missing, naming each (see docs/reports.md).
    """

    company_name: str | None = None
    """The reporting company. The schema has no element for it (the clearinghouse knows the
    company from its credentials), so it opens ``companyTemplate``."""
    contact_first_name: str | None = None
    contact_last_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    company_template: str | None = None
    """Standing text for every report (``companyTemplate``): how to serve legal process,
    retention periods, a 24-hour emergency line."""
    terms_of_service_url: str | None = None
    """Where the terms of service the reported user broke are published (``termsOfService``)."""
    legal_url: str | None = None
    """A page for law enforcement (``legalURL``)."""
    esp_service_name: str | None = None
    """The full application name (``incidentSummary/platform``)."""
    schema_path: Path | None = None
    """The CyberTipline XSD to validate every built report against before it is stored. The
    schema is not shipped with Brightline (its reference copy may not be redistributed)."""


@dataclass(frozen=True, slots=True)
class PreservationSettings:
    """How long preserved evidence is kept, and how long legal holds last (docs/evidence.md).

    US law (18 U.S.C. § 2258A(h)) requires the contents of a report to be preserved for one
    year after it is made; a § 2703(f) preservation request holds records 90 days and may be
    renewed once for 90 more. Operators may keep evidence longer, never shorter than the law.
    """

    retention_days: int = 365
    hold_days: int = 90
    hold_renewals: int = 1


@dataclass(frozen=True, slots=True)
class EnrichmentSettings:
    """Where the report builder asks the platform for what only it knows (docs/reports.md).

    At most one of ``url`` (a signed HTTP webhook) and ``plugin`` (``module:callable``) is set;
    with neither, reports carry only what review recorded.
    """

    url: str | None = None
    secret: str | None = field(default=None, repr=False)
    plugin: str | None = None
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class TextSettings:
    """What the text endpoints (``/v1/text/...``) read; term lists are loaded once at start-up."""

    term_lists: tuple[Path, ...] = ()
    """``BRIGHTLINE_TEXT_TERM_LISTS``: term list files (.txt or .csv, as ``text scan`` reads),
    separated by ``os.pathsep``."""
    weights: Path | None = None
    """``BRIGHTLINE_TEXT_WEIGHTS``: account risk weights (JSON); the defaults when unset."""
    max_text_chars: int = 20_000
    """Longest text in a request, in code points."""
    max_posts: int = 1_000
    """Most posts in one account scoring request."""


@dataclass(frozen=True, slots=True)
class ClearinghouseSettings:
    """What the clearinghouse intake reads (``serve --role clearinghouse|both``, ``clearinghouse
    import``); see docs/clearinghouse.md, "Intake API"."""

    schema_path: Path | None = None
    """``BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH``: the XSD documents are validated against (else
    the reporter's ``BRIGHTLINE_REPORTER_SCHEMA_PATH``; the intake refuses to start without)."""
    expire_hours: float = 24.0
    """How long an unfinished report waits for its files and ``/finish`` before it expires."""
    max_upload_bytes: int = 256 * 1024 * 1024
    """The largest file a provider may upload (default: ``BRIGHTLINE_MAX_UPLOAD_BYTES``)."""
    auth_cache_seconds: float = 30.0
    """How long a verified provider login is trusted without another argon2 verification: a
    changed password keeps working this long (a disabled provider stops at once); 0 = off."""
    import_batch_size: int = 500
    """Reports per transaction (and per vault sync) in ``brightline clearinghouse import``."""
    analyse_every_seconds: int | None = None
    """``BRIGHTLINE_CLEARINGHOUSE_ANALYSE_EVERY_SECONDS``: the service analyses every finished
    report this often (skipping when nothing finished since); unset: only on command."""
    routing_path: Path | None = None
    """``BRIGHTLINE_CLEARINGHOUSE_ROUTING``: the routing TOML (unset: the demo agencies)."""
    ip_regions_path: Path | None = None
    """``BRIGHTLINE_CLEARINGHOUSE_IP_REGIONS``: IP ranges to regions CSV (with a routing)."""
    proxies_path: Path | None = None
    """``BRIGHTLINE_CLEARINGHOUSE_PROXIES``: proxy/VPN ranges CSV (with a routing)."""
    weights_path: Path | None = None
    """``BRIGHTLINE_CLEARINGHOUSE_WEIGHTS``: triage weights TOML (unset: the shipped one)."""
    known_banks: tuple[str, ...] = ()
    """``BRIGHTLINE_CLEARINGHOUSE_KNOWN_BANKS``: local banks of known material, comma-separated."""
    known_lists: tuple[Path, ...] = ()
    """``BRIGHTLINE_CLEARINGHOUSE_KNOWN_LISTS``: known-material CSV files, comma-separated."""


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
    service: ServiceSettings = ServiceSettings()
    webhooks: WebhookSettings = WebhookSettings()
    flood_guard: FloodGuardSettings = FloodGuardSettings()
    reporter: ReporterSettings = ReporterSettings()
    cybertipline: CyberTiplineSettings = CyberTiplineSettings()
    preservation: PreservationSettings = PreservationSettings()
    enrichment: EnrichmentSettings = EnrichmentSettings()
    text: TextSettings = TextSettings()
    clearinghouse: ClearinghouseSettings = ClearinghouseSettings()
    evidence_key: str | None = field(default=None, repr=False)
    """``BRIGHTLINE_EVIDENCE_KEY``: base64 of the 32-byte evidence vault master key (several,
    comma-separated, during a rotation: the first is active); when unset, a key file under
    ``$BRIGHTLINE_HOME/keys`` is used (see docs/evidence.md). Kept out of ``repr`` so that
    settings can be logged or shown in a traceback without leaking it."""
    custody_key: str | None = field(default=None, repr=False)
    """``BRIGHTLINE_CUSTODY_KEY``: base64 of the 32-byte key that authenticates the chain of
    custody log (docs/custody.md); when unset, ``$BRIGHTLINE_HOME/keys/custody.key``."""

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


def _float_env(
    environ: Mapping[str, str], name: str, default: float, low: float, high: float
) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


def _networks_env(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of networks (``10.0.0.0/8,127.0.0.1``), each checked here."""
    raw = environ.get(name, "")
    networks = []
    for part in (piece.strip() for piece in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise InvalidInput(f"{name}: {part!r} is not an IP network") from None
    return tuple(networks)


def load_service_settings(environ: Mapping[str, str]) -> ServiceSettings:
    env = environ
    return ServiceSettings(
        host=env.get("BRIGHTLINE_HOST") or "127.0.0.1",
        port=_int_env(env, "BRIGHTLINE_PORT", 8000, 1, 65535),
        workers=_int_env(env, "BRIGHTLINE_WORKERS", 1, 1, 64),
        max_batch_size=_int_env(env, "BRIGHTLINE_MAX_BATCH_SIZE", 100, 1, 10_000),
        max_upload_bytes=_int_env(
            env, "BRIGHTLINE_MAX_UPLOAD_BYTES", 256 * 1024 * 1024, 1, 1 << 40
        ),
        index_sync_seconds=_float_env(env, "BRIGHTLINE_INDEX_SYNC_SECONDS", 2.0, 0.1, 3600),
        fetch_timeout_seconds=_float_env(env, "BRIGHTLINE_FETCH_TIMEOUT_SECONDS", 10.0, 0.1, 600),
        fetch_allow_networks=_networks_env(env, "BRIGHTLINE_FETCH_ALLOW_NETWORKS"),
        hma_open_networks=_networks_env(env, "BRIGHTLINE_HMA_OPEN_NETWORKS"),
        auth_cache_seconds=_float_env(env, "BRIGHTLINE_AUTH_CACHE_SECONDS", 5.0, 0, 3600),
    )


def _bool_env(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw not in {"0", "1", "true", "false", "yes", "no"}:
        raise InvalidInput(f"{name} must be a boolean, got {raw!r}")
    return raw in {"1", "true", "yes"}


def load_webhook_settings(environ: Mapping[str, str]) -> WebhookSettings:
    env = environ
    timeout = _float_env(env, "BRIGHTLINE_WEBHOOK_TIMEOUT_SECONDS", 5.0, 0.1, 120)
    lease = _float_env(env, "BRIGHTLINE_WEBHOOK_LEASE_SECONDS", 60.0, 1, 86_400)
    if lease <= timeout:
        # A lease shorter than a request would let a second worker send it while the first waits.
        raise InvalidInput("BRIGHTLINE_WEBHOOK_LEASE_SECONDS must exceed the webhook timeout")
    return WebhookSettings(
        poll_seconds=_float_env(env, "BRIGHTLINE_WEBHOOK_POLL_SECONDS", 1.0, 0.05, 3600),
        batch_size=_int_env(env, "BRIGHTLINE_WEBHOOK_BATCH_SIZE", 50, 1, 10_000),
        timeout_seconds=timeout,
        lease_seconds=lease,
        max_attempts=_int_env(env, "BRIGHTLINE_WEBHOOK_MAX_ATTEMPTS", 12, 1, 100),
        backoff_base_seconds=_float_env(env, "BRIGHTLINE_WEBHOOK_BACKOFF_SECONDS", 5.0, 0.1, 3600),
        backoff_cap_seconds=_float_env(
            env, "BRIGHTLINE_WEBHOOK_BACKOFF_CAP_SECONDS", 3600.0, 1, 7 * 86_400
        ),
        retention_days=_int_env(env, "BRIGHTLINE_WEBHOOK_RETENTION_DAYS", 30, 1, 3650),
    )


def load_flood_guard_settings(environ: Mapping[str, str]) -> FloodGuardSettings:
    env = environ
    return FloodGuardSettings(
        enabled=_bool_env(env, "BRIGHTLINE_FLOOD_GUARD", True),
        floor=_int_env(env, "BRIGHTLINE_FLOOD_GUARD_FLOOR", 50, 1, 1 << 31),
        factor=_float_env(env, "BRIGHTLINE_FLOOD_GUARD_FACTOR", 10.0, 1.0, 1e6),
        baseline_days=_int_env(env, "BRIGHTLINE_FLOOD_GUARD_BASELINE_DAYS", 7, 1, 90),
    )


def load_cybertipline_settings(environ: Mapping[str, str]) -> CyberTiplineSettings:
    env = environ
    url = (env.get("BRIGHTLINE_CYBERTIPLINE_URL") or DEFAULT_CYBERTIPLINE_URL).strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise InvalidInput("BRIGHTLINE_CYBERTIPLINE_URL must be an http:// or https:// URL")
    timeout = _float_env(env, "BRIGHTLINE_CYBERTIPLINE_TIMEOUT_SECONDS", 60.0, 1, 3600)
    lease = _float_env(env, "BRIGHTLINE_CYBERTIPLINE_LEASE_SECONDS", 900.0, 10, 86_400)
    if lease <= timeout:
        # A lease shorter than one request would let a second worker take over mid-step.
        raise InvalidInput("BRIGHTLINE_CYBERTIPLINE_LEASE_SECONDS must exceed the timeout")
    return CyberTiplineSettings(
        url=url,
        username=env.get("BRIGHTLINE_CYBERTIPLINE_USERNAME") or None,
        password=env.get("BRIGHTLINE_CYBERTIPLINE_PASSWORD") or None,
        timeout_seconds=timeout,
        lease_seconds=lease,
        poll_seconds=_float_env(env, "BRIGHTLINE_CYBERTIPLINE_POLL_SECONDS", 5.0, 0.05, 3600),
        batch_size=_int_env(env, "BRIGHTLINE_CYBERTIPLINE_BATCH_SIZE", 10, 1, 1000),
        max_attempts=_int_env(env, "BRIGHTLINE_CYBERTIPLINE_MAX_ATTEMPTS", 20, 1, 1000),
        backoff_base_seconds=_float_env(
            env, "BRIGHTLINE_CYBERTIPLINE_BACKOFF_SECONDS", 30.0, 0.1, 3600
        ),
        backoff_cap_seconds=_float_env(
            env, "BRIGHTLINE_CYBERTIPLINE_BACKOFF_CAP_SECONDS", 3600.0, 1, 7 * 86_400
        ),
    )


def _text_env(environ: Mapping[str, str], name: str) -> str | None:
    """A free-text setting: surrounding blanks dropped, blank meaning unset."""
    value = environ.get(name, "").strip()
    return value or None


def load_reporter_settings(environ: Mapping[str, str]) -> ReporterSettings:
    env = environ
    urls: dict[str, str | None] = {}
    for key in ("TERMS_OF_SERVICE_URL", "LEGAL_URL"):
        name = f"BRIGHTLINE_REPORTER_{key}"
        url = _text_env(env, name)
        if url is not None and not url.startswith(("https://", "http://")):
            raise InvalidInput(f"{name} must be an http:// or https:// URL")
        urls[key] = url
    # Checked at startup: a typo would otherwise surface only when the first report is built.
    schema_path = _file_env(env, "BRIGHTLINE_REPORTER_SCHEMA_PATH")
    return ReporterSettings(
        company_name=_text_env(env, "BRIGHTLINE_REPORTER_COMPANY_NAME"),
        contact_first_name=_text_env(env, "BRIGHTLINE_REPORTER_CONTACT_FIRST_NAME"),
        contact_last_name=_text_env(env, "BRIGHTLINE_REPORTER_CONTACT_LAST_NAME"),
        contact_email=_text_env(env, "BRIGHTLINE_REPORTER_CONTACT_EMAIL"),
        contact_phone=_text_env(env, "BRIGHTLINE_REPORTER_CONTACT_PHONE"),
        company_template=_text_env(env, "BRIGHTLINE_REPORTER_COMPANY_TEMPLATE"),
        terms_of_service_url=urls["TERMS_OF_SERVICE_URL"],
        legal_url=urls["LEGAL_URL"],
        esp_service_name=_text_env(env, "BRIGHTLINE_REPORTER_ESP_SERVICE_NAME"),
        schema_path=schema_path,
    )


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
        service=load_service_settings(env),
        webhooks=load_webhook_settings(env),
        flood_guard=load_flood_guard_settings(env),
        reporter=load_reporter_settings(env),
        cybertipline=load_cybertipline_settings(env),
        preservation=load_preservation_settings(env),
        enrichment=load_enrichment_settings(env),
        text=load_text_settings(env),
        clearinghouse=load_clearinghouse_settings(env),
        evidence_key=env.get("BRIGHTLINE_EVIDENCE_KEY") or None,
        custody_key=env.get("BRIGHTLINE_CUSTODY_KEY") or None,
    )


def load_preservation_settings(env: Mapping[str, str]) -> PreservationSettings:
    return PreservationSettings(
        retention_days=_int_env(env, "BRIGHTLINE_EVIDENCE_RETENTION_DAYS", 365, 365, 36_500),
        hold_days=_int_env(env, "BRIGHTLINE_HOLD_DAYS", 90, 1, 3_650),
        hold_renewals=_int_env(env, "BRIGHTLINE_HOLD_RENEWALS", 1, 0, 100),
    )


def load_enrichment_settings(env: Mapping[str, str]) -> EnrichmentSettings:
    url = _text_env(env, "BRIGHTLINE_ENRICHMENT_URL")
    plugin = _text_env(env, "BRIGHTLINE_ENRICHMENT_PLUGIN")
    if url is not None and plugin is not None:
        raise InvalidInput(
            "set at most one of BRIGHTLINE_ENRICHMENT_URL and BRIGHTLINE_ENRICHMENT_PLUGIN"
        )
    if url is not None and not url.startswith(("https://", "http://")):
        raise InvalidInput("BRIGHTLINE_ENRICHMENT_URL must be an http(s) URL")
    secret = env.get("BRIGHTLINE_ENRICHMENT_SECRET") or None
    if url is not None and secret is None:
        raise InvalidInput("BRIGHTLINE_ENRICHMENT_URL needs BRIGHTLINE_ENRICHMENT_SECRET to sign")
    if plugin is not None and ":" not in plugin:
        raise InvalidInput("BRIGHTLINE_ENRICHMENT_PLUGIN is 'module:callable'")
    return EnrichmentSettings(
        url=url,
        secret=secret,
        plugin=plugin,
        timeout_seconds=_float_env(env, "BRIGHTLINE_ENRICHMENT_TIMEOUT_SECONDS", 30.0, 1.0, 600.0),
    )


def load_text_settings(env: Mapping[str, str]) -> TextSettings:
    raw = env.get("BRIGHTLINE_TEXT_TERM_LISTS", "")
    weights = _text_env(env, "BRIGHTLINE_TEXT_WEIGHTS")
    return TextSettings(
        term_lists=tuple(Path(part.strip()) for part in raw.split(os.pathsep) if part.strip()),
        weights=Path(weights) if weights is not None else None,
        max_text_chars=_int_env(env, "BRIGHTLINE_TEXT_MAX_CHARS", 20_000, 1, 1_000_000),
        max_posts=_int_env(env, "BRIGHTLINE_TEXT_MAX_POSTS", 1_000, 1, 100_000),
    )


def load_clearinghouse_settings(env: Mapping[str, str]) -> ClearinghouseSettings:
    schema_path = _file_env(env, "BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH")
    uploads = _int_env(env, "BRIGHTLINE_MAX_UPLOAD_BYTES", 256 * 1024 * 1024, 1, 1 << 40)
    return ClearinghouseSettings(
        schema_path=schema_path,
        expire_hours=_float_env(env, "BRIGHTLINE_CLEARINGHOUSE_EXPIRE_HOURS", 24.0, 0.001, 8760),
        max_upload_bytes=_int_env(
            env, "BRIGHTLINE_CLEARINGHOUSE_MAX_UPLOAD_BYTES", uploads, 1, 1 << 40
        ),
        auth_cache_seconds=_float_env(
            env, "BRIGHTLINE_CLEARINGHOUSE_AUTH_CACHE_SECONDS", 30.0, 0, 3600
        ),
        import_batch_size=_int_env(env, "BRIGHTLINE_CLEARINGHOUSE_IMPORT_BATCH", 500, 1, 100_000),
        analyse_every_seconds=(
            _int_env(env, "BRIGHTLINE_CLEARINGHOUSE_ANALYSE_EVERY_SECONDS", 0, 1, 7 * 86_400)
            if _text_env(env, "BRIGHTLINE_CLEARINGHOUSE_ANALYSE_EVERY_SECONDS")
            else None
        ),
        routing_path=_file_env(env, "BRIGHTLINE_CLEARINGHOUSE_ROUTING"),
        ip_regions_path=_file_env(env, "BRIGHTLINE_CLEARINGHOUSE_IP_REGIONS"),
        proxies_path=_file_env(env, "BRIGHTLINE_CLEARINGHOUSE_PROXIES"),
        weights_path=_file_env(env, "BRIGHTLINE_CLEARINGHOUSE_WEIGHTS"),
        known_banks=_list_env(env, "BRIGHTLINE_CLEARINGHOUSE_KNOWN_BANKS"),
        known_lists=tuple(
            _readable(Path(part).expanduser(), "BRIGHTLINE_CLEARINGHOUSE_KNOWN_LISTS")
            for part in _list_env(env, "BRIGHTLINE_CLEARINGHOUSE_KNOWN_LISTS")
        ),
    )


def _list_env(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in environ.get(name, "").split(",") if part.strip())


def _readable(path: Path, name: str) -> Path:
    if not path.is_file():
        raise InvalidInput(f"{name} does not name a readable file")
    return path


def _file_env(environ: Mapping[str, str], name: str) -> Path | None:
    """A setting naming a file that must exist (checked now, not at first use)."""
    raw = _text_env(environ, name)
    return None if raw is None else _readable(Path(raw).expanduser(), name)
