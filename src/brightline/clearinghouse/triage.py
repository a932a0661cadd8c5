"""Triage: a score, a tier and an explanation for every report.

Investigators cannot read every report; they start with those most likely to rescue a child
(DOMAIN.md §5). Each report's **features** (facts: an escalation, infant annotations, how many
new files, linked reports, the incident's age, ...) are extracted once; **scoring** applies a
versioned :class:`TriageConfig` of integer weights to them. Every point of a score is one
:class:`Contribution` with its reason, so ``score == sum(contribution.points)`` always, and an
investigator can see why a report is where it is.

**Tiers**: ``immediate`` (score ≥ ``tiers.immediate``), ``high`` (≥ ``tiers.high``), ``normal``,
and ``informational``. A report is *informational* (rather than *actionable*) when

* ``bundled``: it has files and every one is in a bundle of viral content
  (:mod:`brightline.clearinghouse.bundling`: non-malicious viral sharing),
* ``no_exploitation_nexus``: no files, no escalation, and an incident type listed as
  informational or only a ``spam`` annotation, or
* ``nothing_to_locate``: no reported person has any identifier and no location is known,

unless one of the configured ``overrides`` features scored (an escalation, an enticement or
trafficking incident type, sextortion, ...): "informational unless something else in the report
says otherwise". Informational reports keep their score (they are still ranked among themselves).

**Replay** (:func:`replay`) scores the same features under two configurations and lists the
reports that change tier, with the contributions that changed: what a weight change would move,
before it is adopted. Features hold no weights, so a replay over a million reports is a loop over
tuples (seconds).

Configuration files are TOML (``data/triage.toml`` is the shipped default; an operator passes
their own path). See docs/clearinghouse.md for the format.
"""

from __future__ import annotations

import enum
import math
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from brightline.clearinghouse.bundling import Bundling
from brightline.clearinghouse.known import KnownStatus
from brightline.clearinghouse.linking import Linking
from brightline.clearinghouse.model import (
    FileAnnotation,
    IncidentType,
    IncomingReport,
    ReportAnnotation,
)
from brightline.errors import InvalidInput

__all__ = [
    "FEATURES",
    "Contribution",
    "ContributionChange",
    "InformationalReason",
    "Replay",
    "ReportFeatures",
    "Tier",
    "TierMove",
    "TriageConfig",
    "TriageResult",
    "default_triage_config",
    "extract_features",
    "load_triage_config",
    "parse_triage_config",
    "rank",
    "replay",
    "score_report",
    "triage",
]

FEATURES: Final = (
    "escalation",
    "infant",
    "prepubescent",
    "new_material",
    "physical_harm",
    "sadistic",
    "sextortion",
    "young_victim",
    "parent_guardian",
    "linked_reports",
)
"""The weighted features (``[weights]``); ``incident_type`` and ``recency`` have tables."""

INCIDENT_TYPE: Final = "incident_type"
RECENCY: Final = "recency"
_OVERRIDABLE: Final = frozenset({*FEATURES, INCIDENT_TYPE, RECENCY})
_COUNTED: Final = frozenset({"new_material", "linked_reports"})


class Tier(enum.StrEnum):
    IMMEDIATE = "immediate"
    HIGH = "high"
    NORMAL = "normal"
    INFORMATIONAL = "informational"

    @property
    def rank(self) -> int:
        """0 for the most urgent tier."""
        return _TIER_RANK[self]


_TIER_RANK: Final = {Tier.IMMEDIATE: 0, Tier.HIGH: 1, Tier.NORMAL: 2, Tier.INFORMATIONAL: 3}


class InformationalReason(enum.StrEnum):
    BUNDLED = "bundled"
    NO_EXPLOITATION_NEXUS = "no_exploitation_nexus"
    NOTHING_TO_LOCATE = "nothing_to_locate"


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class TriageConfig:
    """Versioned triage weights; see ``data/triage.toml`` for the meaning of each."""

    version: str
    weights: Mapping[str, int]
    caps: Mapping[str, int]
    incident_types: Mapping[IncidentType, int]
    recency_steps: tuple[tuple[float, int], ...]
    immediate_at: int
    high_at: int
    young_victim_age: int
    overrides: frozenset[str]
    informational_incident_types: frozenset[IncidentType]
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise InvalidInput("a triage configuration needs a version")
        missing = [f for f in FEATURES if f not in self.weights]
        if missing:
            raise InvalidInput(f"weights: missing {', '.join(missing)}")
        unknown = sorted(set(self.weights) - set(FEATURES))
        if unknown:
            raise InvalidInput(f"weights: unknown feature {unknown[0]!r}")
        for name, points in self.weights.items():
            _int(points, f"weights: {name}")
        for name, points in self.incident_types.items():
            if not isinstance(name, IncidentType):
                raise InvalidInput("incident_types: keys must be IncidentType")
            _int(points, f"incident_types: {name}")
        for name, cap in self.caps.items():
            _int(cap, f"caps: {name}")
            if name not in _COUNTED:
                raise InvalidInput(f"caps: {name!r} is not a counted feature")
            if cap < 1:
                raise InvalidInput(f"caps: {name} must be at least 1")
        if self.immediate_at < self.high_at:
            raise InvalidInput("tiers: immediate must be at least high")
        unknown = sorted(self.overrides - _OVERRIDABLE)
        if unknown:
            raise InvalidInput(f"actionable.overrides: unknown feature {unknown[0]!r}")
        days = [d for d, _ in self.recency_steps]
        if days != sorted(days) or any(d < 0 for d in days):
            raise InvalidInput("recency.steps must be in increasing order of days")
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "caps", MappingProxyType(dict(self.caps)))
        object.__setattr__(self, "incident_types", MappingProxyType(dict(self.incident_types)))

    def cap(self, feature: str) -> int:
        return self.caps.get(feature, 1)


def _table(data: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"{source}: [{key}] must be a table")
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{where} must be an integer")
    if abs(value) > 1_000_000:
        raise InvalidInput(f"{where} is out of range")
    return value


def _only(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise InvalidInput(f"{where}: unknown key {unknown[0]!r}")


def _incident_type(value: object, where: str) -> IncidentType:
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: incident types are strings")
    try:
        return IncidentType(value)
    except ValueError:
        raise InvalidInput(f"{where}: not one of the schema's incident types") from None


def parse_triage_config(text: str, source: str = "triage config") -> TriageConfig:
    """Read a triage configuration (TOML; strict: unknown keys are refused)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML ({exc})") from None
    _only(
        data,
        (
            "version",
            "description",
            "tiers",
            "weights",
            "caps",
            "incident_types",
            "recency",
            "victims",
            "actionable",
        ),
        source,
    )
    version = data.get("version")
    if not isinstance(version, str):
        raise InvalidInput(f"{source}: version must be a string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InvalidInput(f"{source}: description must be a string")
    tiers = _table(data, "tiers", source)
    _only(tiers, ("immediate", "high"), f"{source} [tiers]")
    weights = {
        k: _int(v, f"{source} [weights] {k}") for k, v in _table(data, "weights", source).items()
    }
    caps = {k: _int(v, f"{source} [caps] {k}") for k, v in _table(data, "caps", source).items()}
    incident_types = {
        _incident_type(k, f"{source} [incident_types]"): _int(v, f"{source} [incident_types]")
        for k, v in _table(data, "incident_types", source).items()
    }
    recency = _table(data, "recency", source)
    _only(recency, ("steps",), f"{source} [recency]")
    steps = []
    for i, step in enumerate(recency.get("steps", [])):
        where = f"{source} [recency] steps[{i}]"
        if not isinstance(step, list) or len(step) != 2:
            raise InvalidInput(f"{where} must be [days, points]")
        days, points = step
        if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days):
            raise InvalidInput(f"{where}: days must be a number")
        steps.append((float(days), _int(points, where)))
    victims = _table(data, "victims", source)
    _only(victims, ("young_age",), f"{source} [victims]")
    actionable = _table(data, "actionable", source)
    _only(actionable, ("overrides", "informational_incident_types"), f"{source} [actionable]")
    overrides = actionable.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise InvalidInput(f"{source} [actionable] overrides must be a list of feature names")
    informational = actionable.get("informational_incident_types", [])
    if not isinstance(informational, list):
        raise InvalidInput(f"{source} [actionable] informational_incident_types must be a list")
    try:
        return TriageConfig(
            version=version,
            description=description,
            weights=weights,
            caps=caps,
            incident_types=incident_types,
            recency_steps=tuple(steps),
            immediate_at=_int(tiers.get("immediate"), f"{source} [tiers] immediate"),
            high_at=_int(tiers.get("high"), f"{source} [tiers] high"),
            young_victim_age=_int(victims.get("young_age", 12), f"{source} [victims] young_age"),
            overrides=frozenset(overrides),
            informational_incident_types=frozenset(
                _incident_type(t, f"{source} [actionable]") for t in informational
            ),
        )
    except InvalidInput as exc:
        if str(exc).startswith(source):
            raise
        raise InvalidInput(f"{source}: {exc}") from None


def load_triage_config(path: Path | None = None) -> TriageConfig:
    """The operator's configuration at ``path``, or the shipped default."""
    if path is None:
        return default_triage_config()
    return parse_triage_config(path.read_text(encoding="utf-8"), path.name)


def default_triage_config() -> TriageConfig:
    text = resources.files("brightline.clearinghouse").joinpath("data", "triage.toml")
    return parse_triage_config(text.read_text("utf-8"), "triage.toml")


# ----------------------------------------------------------------------------------- features


@dataclass(frozen=True, slots=True)
class ReportFeatures:
    """The facts triage weighs, extracted once per report (no weights in here)."""

    report_id: str
    incident_type: IncidentType
    escalation: bool
    infant: bool
    prepubescent: bool
    new_files: int
    physical_harm: bool
    sadistic: bool
    sextortion: bool
    youngest_victim_age: int | None
    parent_guardian: bool
    linked_reports: int
    incident_age_days: float
    """Days from the incident to the triage time (0 when the incident is later)."""
    has_files: bool
    fully_bundled: bool
    locatable: bool
    spam_only: bool


def extract_features(
    reports: Iterable[IncomingReport],
    *,
    as_of: datetime,
    known: KnownStatus | None = None,
    linking: Linking | None = None,
    bundling: Bundling | None = None,
) -> list[ReportFeatures]:
    """Features of each report, in input order. ``as_of`` is the triage time (for recency)."""
    if as_of.tzinfo is None:
        raise InvalidInput("as_of must be timezone-aware")
    out = []
    for report in reports:
        annotations: set[FileAnnotation] = set()
        prepubescent = False
        for file in report.files:
            annotations |= file.annotations
            if file.classification is not None and file.classification.prepubescent:
                prepubescent = True
        ages = [v.age for v in report.victims if v.age is not None]
        locatable = any(p.has_identifiers or p.estimated_location for p in report.persons) or any(
            v.estimated_location for v in report.victims
        )
        age_seconds = (as_of - report.incident_at).total_seconds()
        out.append(
            ReportFeatures(
                report_id=report.report_id,
                incident_type=report.incident_type,
                escalation=report.escalation is not None,
                infant=FileAnnotation.INFANT in annotations,
                prepubescent=prepubescent,
                new_files=0 if known is None else known.new_files(report),
                physical_harm=FileAnnotation.PHYSICAL_HARM in annotations,
                sadistic=ReportAnnotation.SADISTIC_ONLINE_EXPLOITATION in report.report_annotations,
                sextortion=ReportAnnotation.SEXTORTION in report.report_annotations,
                youngest_victim_age=min(ages) if ages else None,
                parent_guardian=any(p.parent_guardian_account for p in report.persons),
                linked_reports=0 if linking is None else len(linking.linked_reports(report)),
                incident_age_days=max(0.0, age_seconds / 86400.0),
                has_files=bool(report.files),
                fully_bundled=bundling is not None and bundling.fully_bundled(report),
                locatable=locatable,
                spam_only=report.report_annotations == {ReportAnnotation.SPAM},
            )
        )
    return out


# ------------------------------------------------------------------------------------ scoring


@dataclass(frozen=True, slots=True)
class Contribution:
    """Points one feature added, and why (counts and flags only: no personal data)."""

    feature: str
    points: int
    detail: str


@dataclass(frozen=True, slots=True)
class TriageResult:
    report_id: str
    score: int
    tier: Tier
    contributions: tuple[Contribution, ...]
    informational_reasons: tuple[InformationalReason, ...]
    """Why the report is informational (empty for an actionable report)."""
    overridden: tuple[InformationalReason, ...]
    """Reasons that would have made it informational, set aside by an override feature."""
    config_version: str

    @property
    def actionable(self) -> bool:
        return not self.informational_reasons


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _contributions(f: ReportFeatures, config: TriageConfig) -> list[Contribution]:
    w = config.weights
    out: list[Contribution] = []

    def flag(feature: str, present: bool, detail: str) -> None:
        if present and w[feature]:
            out.append(Contribution(feature, w[feature], detail))

    def counted(feature: str, count: int, noun: str) -> None:
        used = min(count, config.cap(feature))
        if used and w[feature]:
            detail = f"{_plural(count, noun)} at {w[feature]} points each"
            if used < count:
                detail += f" (capped at {used})"
            out.append(Contribution(feature, w[feature] * used, detail))

    flag("escalation", f.escalation, "the provider escalated the report (escalateToHighPriority)")
    flag("infant", f.infant, "a file is annotated infant")
    flag("prepubescent", f.prepubescent, "a file is classified prepubescent (A1/A2)")
    counted("new_material", f.new_files, "new file")
    flag("physical_harm", f.physical_harm, "a file is annotated physicalHarm")
    flag("sadistic", f.sadistic, "report annotated sadisticOnlineExploitation")
    flag("sextortion", f.sextortion, "report annotated sextortion")
    type_points = config.incident_types.get(f.incident_type, 0)
    if type_points:
        out.append(Contribution(INCIDENT_TYPE, type_points, f"incident type: {f.incident_type}"))
    young = f.youngest_victim_age is not None and f.youngest_victim_age <= config.young_victim_age
    flag(
        "young_victim",
        young,
        f"a victim aged {f.youngest_victim_age} (≤ {config.young_victim_age})",
    )
    flag("parent_guardian", f.parent_guardian, "the reported user has a Parent/Guardian account")
    counted("linked_reports", f.linked_reports, "other linked report")
    for days, points in config.recency_steps:
        if f.incident_age_days <= days:
            if points:
                out.append(
                    Contribution(
                        RECENCY, points, f"incident {f.incident_age_days:.1f} days old (≤ {days:g})"
                    )
                )
            break
    return out


def _informational(f: ReportFeatures, config: TriageConfig) -> list[InformationalReason]:
    reasons = []
    if f.fully_bundled:
        reasons.append(InformationalReason.BUNDLED)
    if (
        not f.has_files
        and not f.escalation
        and (f.incident_type in config.informational_incident_types or f.spam_only)
    ):
        reasons.append(InformationalReason.NO_EXPLOITATION_NEXUS)
    if not f.locatable:
        reasons.append(InformationalReason.NOTHING_TO_LOCATE)
    return reasons


def score_report(features: ReportFeatures, config: TriageConfig) -> TriageResult:
    """Score one report's features under ``config``."""
    contributions = _contributions(features, config)
    score = sum(c.points for c in contributions)
    reasons = _informational(features, config)
    overriding = any(c.feature in config.overrides and c.points > 0 for c in contributions)
    if reasons and overriding:
        informational: list[InformationalReason] = []
        overridden = reasons
    else:
        informational, overridden = reasons, []
    if informational:
        tier = Tier.INFORMATIONAL
    elif score >= config.immediate_at:
        tier = Tier.IMMEDIATE
    elif score >= config.high_at:
        tier = Tier.HIGH
    else:
        tier = Tier.NORMAL
    return TriageResult(
        report_id=features.report_id,
        score=score,
        tier=tier,
        contributions=tuple(contributions),
        informational_reasons=tuple(informational),
        overridden=tuple(overridden),
        config_version=config.version,
    )


def triage(features: Iterable[ReportFeatures], config: TriageConfig) -> list[TriageResult]:
    """Score every report (input order)."""
    return [score_report(f, config) for f in features]


def rank(results: Iterable[TriageResult]) -> list[TriageResult]:
    """Most urgent first: by tier, then score (descending), then report id."""
    return sorted(results, key=lambda r: (r.tier.rank, -r.score, r.report_id))


# ------------------------------------------------------------------------------------- replay


@dataclass(frozen=True, slots=True)
class ContributionChange:
    feature: str
    old_points: int
    new_points: int


@dataclass(frozen=True, slots=True)
class TierMove:
    """A report whose tier differs under the new configuration, and what changed."""

    report_id: str
    old_tier: Tier
    new_tier: Tier
    old_score: int
    new_score: int
    changes: tuple[ContributionChange, ...]
    old_reasons: tuple[InformationalReason, ...]
    new_reasons: tuple[InformationalReason, ...]


@dataclass(frozen=True)
class Replay:
    old_version: str
    new_version: str
    moves: tuple[TierMove, ...]
    score_changed: int
    """Reports whose score changed (whether or not their tier did)."""
    transitions: Mapping[tuple[Tier, Tier], int]
    """(old tier, new tier) → number of reports, the unchanged included."""


def _points(result: TriageResult) -> dict[str, int]:
    return {c.feature: c.points for c in result.contributions}


def replay(
    reports: Sequence[ReportFeatures], old_config: TriageConfig, new_config: TriageConfig
) -> Replay:
    """Score ``reports`` under both configurations; list every report that changes tier."""
    moves = []
    changed = 0
    transitions: Counter[tuple[Tier, Tier]] = Counter()
    for features in reports:
        old = score_report(features, old_config)
        new = score_report(features, new_config)
        transitions[(old.tier, new.tier)] += 1
        if old.score != new.score:
            changed += 1
        if old.tier is new.tier:
            continue
        before, after = _points(old), _points(new)
        names = [n for n in (*FEATURES, INCIDENT_TYPE, RECENCY) if n in before or n in after]
        moves.append(
            TierMove(
                report_id=features.report_id,
                old_tier=old.tier,
                new_tier=new.tier,
                old_score=old.score,
                new_score=new.score,
                changes=tuple(
                    ContributionChange(n, before.get(n, 0), after.get(n, 0))
                    for n in names
                    if before.get(n, 0) != after.get(n, 0)
                ),
                old_reasons=old.informational_reasons,
                new_reasons=new.informational_reasons,
            )
        )
    moves.sort(key=lambda m: (m.new_tier.rank, -m.new_score, m.report_id))
    return Replay(
        old_version=old_config.version,
        new_version=new_config.version,
        moves=tuple(moves),
        score_changed=changed,
        transitions=dict(transitions),
    )
