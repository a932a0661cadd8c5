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
before it is adopted. Features hold no weights, so re-scoring a million reports is a few array
operations (:class:`FeatureColumns`, :func:`score_columns`, well under a second); only the reports
that move are explained.

Configuration files are TOML (``data/triage.toml`` is the shipped default; an operator passes
their own path). See docs/clearinghouse.md for the format.
"""

from __future__ import annotations

import enum
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from brightline.clearinghouse.bundling import Bundling
from brightline.clearinghouse.columns import ANNOTATION_BIT, ReportColumns, micros
from brightline.clearinghouse.known import KnownStatus, Novelty
from brightline.clearinghouse.linking import Linking
from brightline.clearinghouse.model import (
    FileAnnotation,
    IncidentType,
    IncomingReport,
)
from brightline.errors import InvalidInput

__all__ = [
    "FEATURES",
    "TIERS",
    "Contribution",
    "ContributionChange",
    "FeatureColumns",
    "InformationalReason",
    "Replay",
    "ReportFeatures",
    "Scores",
    "Tier",
    "TierMove",
    "TriageConfig",
    "TriageResult",
    "default_triage_config",
    "extract_features",
    "feature_columns",
    "load_triage_config",
    "new_files_of",
    "parse_triage_config",
    "rank",
    "replay",
    "score_columns",
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


class FeatureColumns:
    """The features of many reports as arrays (one row per report, input order).

    What :func:`score_columns` and :func:`replay` read: re-scoring a million reports under new
    weights is a few array operations, and a report's :class:`ReportFeatures` (and with it its
    explained :class:`TriageResult`) is made only when someone looks at it (:meth:`row`).
    """

    def __init__(
        self,
        *,
        report_ids: Sequence[str],
        incident_types: Sequence[IncidentType],
        incident_type: NDArray[np.int64],
        flags: Mapping[str, NDArray[np.bool_]],
        new_files: NDArray[np.int64],
        linked_reports: NDArray[np.int64],
        youngest_victim_age: NDArray[np.int64],
        incident_age_days: NDArray[np.float64],
    ) -> None:
        self.report_ids = report_ids
        self.incident_types = list(incident_types)
        self.incident_type = incident_type
        self.flags = dict(flags)
        self.new_files = new_files
        self.linked_reports = linked_reports
        self.youngest_victim_age = youngest_victim_age
        """-1 where no victim's age is known."""
        self.incident_age_days = incident_age_days

    def __len__(self) -> int:
        return len(self.report_ids)

    def row(self, i: int) -> ReportFeatures:
        f = self.flags
        age = int(self.youngest_victim_age[i])
        return ReportFeatures(
            report_id=self.report_ids[i],
            incident_type=self.incident_types[int(self.incident_type[i])],
            escalation=bool(f["escalation"][i]),
            infant=bool(f["infant"][i]),
            prepubescent=bool(f["prepubescent"][i]),
            new_files=int(self.new_files[i]),
            physical_harm=bool(f["physical_harm"][i]),
            sadistic=bool(f["sadistic"][i]),
            sextortion=bool(f["sextortion"][i]),
            youngest_victim_age=None if age < 0 else age,
            parent_guardian=bool(f["parent_guardian"][i]),
            linked_reports=int(self.linked_reports[i]),
            incident_age_days=float(self.incident_age_days[i]),
            has_files=bool(f["has_files"][i]),
            fully_bundled=bool(f["fully_bundled"][i]),
            locatable=bool(f["locatable"][i]),
            spam_only=bool(f["spam_only"][i]),
        )

    def to_list(self) -> list[ReportFeatures]:
        return [self.row(i) for i in range(len(self))]

    @classmethod
    def from_features(cls, features: Iterable[ReportFeatures]) -> FeatureColumns:
        rows = list(features)
        types: dict[IncidentType, int] = {}
        n = len(rows)

        def ints(values: Iterable[int]) -> NDArray[np.int64]:
            return np.fromiter(values, dtype=np.int64, count=n)

        return cls(
            report_ids=[f.report_id for f in rows],
            incident_type=ints(types.setdefault(f.incident_type, len(types)) for f in rows),
            incident_types=list(types),
            flags={
                name: np.fromiter((getattr(f, name) for f in rows), dtype=bool, count=n)
                for name in _FLAGS
            },
            new_files=ints(f.new_files for f in rows),
            linked_reports=ints(f.linked_reports for f in rows),
            youngest_victim_age=ints(
                -1 if f.youngest_victim_age is None else f.youngest_victim_age for f in rows
            ),
            incident_age_days=np.fromiter(
                (f.incident_age_days for f in rows), dtype=np.float64, count=n
            ),
        )


_FLAGS: Final = (
    "escalation",
    "infant",
    "prepubescent",
    "physical_harm",
    "sadistic",
    "sextortion",
    "parent_guardian",
    "has_files",
    "fully_bundled",
    "locatable",
    "spam_only",
)


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
    columns = ReportColumns.build(reports, identifiers=False)
    new = None if known is None else new_files_of(columns, known)
    return feature_columns(
        columns, as_of=as_of, new_files=new, linking=linking, bundling=bundling
    ).to_list()


def new_files_of(columns: ReportColumns, known: KnownStatus) -> NDArray[np.bool_]:
    """Per file of ``columns``, whether ``known`` marked it new."""
    return np.fromiter(
        (
            known.by_file.get(columns.file_ref(row)) is Novelty.NEW
            for row in range(columns.file_count)
        ),
        dtype=bool,
        count=columns.file_count,
    )


def feature_columns(
    columns: ReportColumns,
    *,
    as_of: datetime,
    new_files: NDArray[np.bool_] | None = None,
    linking: Linking | None = None,
    bundling: Bundling | None = None,
) -> FeatureColumns:
    """:func:`extract_features` over columns; ``new_files`` marks each file that is new."""
    if as_of.tzinfo is None:
        raise InvalidInput("as_of must be timezone-aware")
    n = columns.report_count
    per_report = columns.file_report

    def any_file(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return np.bincount(per_report[mask], minlength=n) > 0

    annotations = columns.file_annotations
    has_files = np.diff(columns.file_start) > 0
    if bundling is None:
        fully_bundled = np.zeros(n, dtype=bool)
    else:
        loose = columns.file_rows(bundling.by_file) < 0
        fully_bundled = has_files & ~any_file(loose)
    new = (
        np.zeros(n, dtype=np.int64)
        if new_files is None
        else np.bincount(per_report[new_files], minlength=n).astype(np.int64)
    )
    age_us = (micros(as_of) - columns.incident_at).astype(np.float64)
    return FeatureColumns(
        report_ids=columns.report_ids,
        incident_types=columns.incident_types,
        incident_type=columns.incident_type,
        flags={
            "escalation": columns.escalation,
            "infant": any_file((annotations & ANNOTATION_BIT[FileAnnotation.INFANT]) != 0),
            "prepubescent": any_file(columns.prepubescent),
            "physical_harm": any_file(
                (annotations & ANNOTATION_BIT[FileAnnotation.PHYSICAL_HARM]) != 0
            ),
            "sadistic": columns.sadistic,
            "sextortion": columns.sextortion,
            "parent_guardian": columns.parent_guardian,
            "has_files": has_files,
            "fully_bundled": fully_bundled,
            "locatable": columns.locatable,
            "spam_only": columns.spam_only,
        },
        new_files=new,
        linked_reports=_linked_reports(columns, linking),
        youngest_victim_age=columns.youngest_age,
        incident_age_days=np.maximum(0.0, age_us / 1e6 / 86400.0),
    )


def _linked_reports(columns: ReportColumns, linking: Linking | None) -> NDArray[np.int64]:
    """Per report, how many other reports are linked to any of its persons."""
    out = np.zeros(columns.report_count, dtype=np.int64)
    if linking is None or not linking.by_person:
        return out
    group = columns.person_rows(linking.by_person)
    linked = np.flatnonzero(group >= 0)
    reports = columns.person_report[linked]
    by_report: dict[int, set[int]] = {}
    for report, g in zip(reports.tolist(), group[linked].tolist(), strict=True):
        by_report.setdefault(report, set()).add(g)
    for report, groups in by_report.items():
        if len(groups) == 1:
            (g,) = groups
            out[report] = len(linking.groups[g].reports) - 1
        else:
            others = {r for g in groups for r in linking.groups[g].reports}
            others.discard(columns.report_ids[report])
            out[report] = len(others)
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
    """Score every report (input order), each with its explanation."""
    return [score_report(f, config) for f in features]


TIERS: Final = (Tier.IMMEDIATE, Tier.HIGH, Tier.NORMAL, Tier.INFORMATIONAL)
"""Tiers by their code in :attr:`Scores.tier`."""


@dataclass(frozen=True)
class Scores:
    """Scores and tiers of many reports as arrays (rows as in the :class:`FeatureColumns`).

    The same rules as :func:`score_report`, applied to whole columns (a property test holds the
    two to the same answer); :meth:`result` explains one report.
    """

    features: FeatureColumns
    config: TriageConfig
    score: NDArray[np.int64]
    tier: NDArray[np.int8]
    """Index into ``TIERS``: 0 immediate, 1 high, 2 normal, 3 informational."""

    def tier_of(self, i: int) -> Tier:
        return TIERS[int(self.tier[i])]

    def result(self, i: int) -> TriageResult:
        """The explained result of row ``i`` (made on demand)."""
        return score_report(self.features.row(i), self.config)

    def ranked(self) -> NDArray[np.int64]:
        """Rows, most urgent first: by tier, then score (descending), then report id."""
        ids = np.asarray(self.features.report_ids)
        return np.lexsort((ids, -self.score, self.tier)).astype(np.int64)


def _feature_points(features: FeatureColumns, config: TriageConfig) -> dict[str, NDArray[np.int64]]:
    """Per feature (weights, incident type, recency), the points each report gets for it."""
    w = config.weights
    f = features.flags
    n = len(features)
    points: dict[str, NDArray[np.int64]] = {}
    for name in ("escalation", "infant", "prepubescent", "physical_harm", "sadistic"):
        points[name] = f[name] * w[name]
    points["sextortion"] = f["sextortion"] * w["sextortion"]
    for name, count in (
        ("new_material", features.new_files),
        ("linked_reports", features.linked_reports),
    ):
        points[name] = np.minimum(count, config.cap(name)) * w[name]
    age = features.youngest_victim_age
    points["young_victim"] = ((age >= 0) & (age <= config.young_victim_age)) * w["young_victim"]
    points["parent_guardian"] = f["parent_guardian"] * w["parent_guardian"]
    by_type = np.asarray(
        [config.incident_types.get(t, 0) for t in features.incident_types] or [0], dtype=np.int64
    )
    points[INCIDENT_TYPE] = by_type[features.incident_type] if n else np.zeros(0, dtype=np.int64)
    recency = np.zeros(n, dtype=np.int64)
    for days, step in reversed(config.recency_steps):
        recency = np.where(features.incident_age_days <= days, step, recency)
    points[RECENCY] = recency
    return {name: np.asarray(p, dtype=np.int64) for name, p in points.items()}


def score_columns(features: FeatureColumns, config: TriageConfig) -> Scores:
    """Score every report of ``features`` under ``config`` (arrays; no explanations made)."""
    points = _feature_points(features, config)
    n = len(features)
    score = np.zeros(n, dtype=np.int64)
    for p in points.values():
        score += p
    f = features.flags
    informational_type = np.asarray(
        [t in config.informational_incident_types for t in features.incident_types] or [False]
    )
    nexus = (
        ~f["has_files"]
        & ~f["escalation"]
        & ((informational_type[features.incident_type] if n else f["spam_only"]) | f["spam_only"])
    )
    reasons = f["fully_bundled"] | nexus | ~f["locatable"]
    overriding = np.zeros(n, dtype=bool)
    for name in config.overrides:
        overriding |= points[name] > 0
    tier = np.where(score >= config.immediate_at, 0, np.where(score >= config.high_at, 1, 2))
    tier = np.where(reasons & ~overriding, 3, tier).astype(np.int8)
    return Scores(features=features, config=config, score=score, tier=tier)


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
    reports: Sequence[ReportFeatures] | FeatureColumns,
    old_config: TriageConfig,
    new_config: TriageConfig,
) -> Replay:
    """Score ``reports`` under both configurations; list every report that changes tier.

    Scores and tiers are computed on arrays (:func:`score_columns`); only the reports that move
    are explained, contribution by contribution.
    """
    columns = (
        reports if isinstance(reports, FeatureColumns) else FeatureColumns.from_features(reports)
    )
    old_scores = score_columns(columns, old_config)
    new_scores = score_columns(columns, new_config)
    pairs, counts = np.unique(
        old_scores.tier.astype(np.int64) * 4 + new_scores.tier, return_counts=True
    )
    transitions = {
        (TIERS[int(p) // 4], TIERS[int(p) % 4]): int(c)
        for p, c in zip(pairs.tolist(), counts.tolist(), strict=True)
    }
    moves = []
    for i in np.flatnonzero(old_scores.tier != new_scores.tier).tolist():
        features = columns.row(i)
        old = score_report(features, old_config)
        new = score_report(features, new_config)
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
        score_changed=int((old_scores.score != new_scores.score).sum()),
        transitions=transitions,
    )
