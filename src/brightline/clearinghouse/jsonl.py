"""JSON lines of :class:`~brightline.clearinghouse.model.IncomingReport`: one report a line.

The format the synthetic generator writes and the demo and benchmarks read. Field names are the
model's; optional fields that are unknown are left out (``null`` is also read as unknown).
Reading is strict, like :mod:`brightline.reports.wire`: unknown and duplicated keys, naive
timestamps, NaN, wrong types and values outside the schema's lists are refused with
:class:`~brightline.errors.InvalidInput`, naming the line and path but never the value.

An example line (every value synthetic)::

    {"report_id": "R0000001", "provider": "provider-01",
     "incident_type": "Online Enticement of Children for Sexual Acts",
     "incident_at": "2026-11-28T10:00:00Z", "received_at": "2026-11-29T08:00:00Z",
     "report_annotations": ["sextortion"],
     "persons": [{"esp_identifier": "user-0001", "emails": ["user-0001@example.org"],
                  "ip_events": [{"ip": "2001:db8::1", "at": "2026-11-28T09:00:00Z"}]}],
     "victims": [{"age": 13}], "files": []}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, TypeVar

from brightline.clearinghouse.model import (
    CaptureEvent,
    Classification,
    DeviceId,
    EstimatedLocation,
    FileAnnotation,
    IncidentType,
    IncomingReport,
    IpEvent,
    PaymentHandle,
    ReportAnnotation,
    ReportedFile,
    ReportedPerson,
    ScreenName,
    Victim,
)
from brightline.errors import InvalidInput

__all__ = [
    "iter_jsonl",
    "read_jsonl",
    "report_from_dict",
    "report_from_json",
    "report_to_dict",
    "report_to_json",
    "write_jsonl",
]

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


# ------------------------------------------------------------------------------------ writing


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out what is unknown (None) or empty; a flag whose default is false is passed as
    ``flag or None`` so that only ``true`` is written."""
    return {k: v for k, v in data.items() if v is not None and v != []}


def _location(loc: EstimatedLocation | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return _drop_empty(
        {
            "country_code": loc.country_code,
            "region": loc.region,
            "city": loc.city,
            "verified": loc.verified,
        }
    )


def _person(p: ReportedPerson) -> dict[str, Any]:
    return _drop_empty(
        {
            "esp_identifier": p.esp_identifier,
            "esp_service": p.esp_service,
            "screen_names": [{"service": s.service, "name": s.name} for s in p.screen_names],
            "emails": list(p.emails),
            "phones": list(p.phones),
            "ip_events": [
                _drop_empty(
                    {
                        "ip": e.ip,
                        "at": None if e.at is None else _time(e.at),
                        "event": None if e.event is None else e.event.value,
                        "possible_proxy": e.possible_proxy,
                    }
                )
                for e in p.ip_events
            ],
            "device_ids": [{"id_type": d.id_type, "value": d.value} for d in p.device_ids],
            "payment_handles": [
                {"service": h.service, "handle": h.handle} for h in p.payment_handles
            ],
            "wallet_addresses": list(p.wallet_addresses),
            "prior_report_ids": list(p.prior_report_ids),
            "estimated_location": _location(p.estimated_location),
            "parent_guardian_account": p.parent_guardian_account or None,
        }
    )


def _file(f: ReportedFile) -> dict[str, Any]:
    return _drop_empty(
        {
            "file_id": f.file_id,
            "md5": f.md5,
            "sha1": f.sha1,
            "pdq": f.pdq,
            "pdq_quality": f.pdq_quality,
            "annotations": sorted(a.value for a in f.annotations),
            "classification": None if f.classification is None else f.classification.value,
            "uploaded_at": None if f.uploaded_at is None else _time(f.uploaded_at),
        }
    )


def report_to_dict(report: IncomingReport) -> dict[str, Any]:
    """The JSON object for one report (keys in a fixed order: equal reports, equal lines)."""
    return _drop_empty(
        {
            "report_id": report.report_id,
            "provider": report.provider,
            "incident_type": report.incident_type.value,
            "incident_at": _time(report.incident_at),
            "received_at": _time(report.received_at),
            "escalation": report.escalation,
            "report_annotations": sorted(a.value for a in report.report_annotations),
            "batched": report.batched or None,
            "persons": [_person(p) for p in report.persons],
            "victims": [
                _drop_empty({"age": v.age, "estimated_location": _location(v.estimated_location)})
                for v in report.victims
            ],
            "files": [_file(f) for f in report.files],
        }
    )


def report_to_json(report: IncomingReport) -> str:
    """One line of JSON (no newline)."""
    return json.dumps(report_to_dict(report), ensure_ascii=False, separators=(",", ":"))


def write_jsonl(reports: Iterable[IncomingReport], out: IO[str]) -> int:
    """Write one line per report; returns how many were written."""
    count = 0
    for report in reports:
        out.write(report_to_json(report))
        out.write("\n")
        count += 1
    return count


# ------------------------------------------------------------------------------------ reading


class _Reader:
    """Typed access to one JSON object, tracking the path for error messages."""

    def __init__(self, data: object, path: str, allowed: frozenset[str]) -> None:
        if not isinstance(data, dict):
            raise InvalidInput(f"{path}: expected an object")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InvalidInput(f"{path}: unknown field {unknown[0]!r}")
        self.data: dict[str, Any] = data
        self.path = path

    def _get(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key)
        if value is None:
            if required:
                raise InvalidInput(f"{self.path}.{key}: required")
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{self.path}.{key}: expected a string")
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key, required=True)
        if value is None:  # pragma: no cover - text() raised already
            raise InvalidInput(f"{self.path}.{key}: required")
        return value

    def flag(self, key: str) -> bool | None:
        value = self._get(key)
        if value is not None and not isinstance(value, bool):
            raise InvalidInput(f"{self.path}.{key}: expected true or false")
        return value

    def integer(self, key: str) -> int | None:
        value = self._get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"{self.path}.{key}: expected an integer")
        return value

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{self.path}.{key}: not an RFC 3339 timestamp") from None
        if parsed.tzinfo is None:
            raise InvalidInput(f"{self.path}.{key}: a timestamp needs an offset (Z or +hh:mm)")
        return parsed

    def required_time(self, key: str) -> datetime:
        value = self.time(key, required=True)
        if value is None:  # pragma: no cover - time() raised already
            raise InvalidInput(f"{self.path}.{key}: required")
        return value

    def choice(self, key: str, kind: type[E]) -> E | None:
        value = self.text(key)
        return None if value is None else _member(kind, value, f"{self.path}.{key}")

    def items(self, key: str) -> list[tuple[str, Any]]:
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidInput(f"{self.path}.{key}: expected an array")
        return [(f"{self.path}.{key}[{i}]", item) for i, item in enumerate(value)]

    def texts(self, key: str) -> tuple[str, ...]:
        out = []
        for path, item in self.items(key):
            if not isinstance(item, str):
                raise InvalidInput(f"{path}: expected a string")
            out.append(item)
        return tuple(out)

    def objects(self, key: str, build: Callable[[object, str], T]) -> tuple[T, ...]:
        return tuple(build(item, path) for path, item in self.items(key))

    def choices(self, key: str, kind: type[E]) -> frozenset[E]:
        return frozenset(_member(kind, v, f"{self.path}.{key}") for v in self.texts(key))


def _member(kind: type[E], value: str, path: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{path}: not one of the schema's {kind.__name__} values") from None


def _fields(*names: str) -> frozenset[str]:
    return frozenset(names)


_LOCATION = _fields("country_code", "region", "city", "verified")
_IP = _fields("ip", "at", "event", "possible_proxy")
_PERSON = _fields(
    "esp_identifier",
    "esp_service",
    "screen_names",
    "emails",
    "phones",
    "ip_events",
    "device_ids",
    "payment_handles",
    "wallet_addresses",
    "prior_report_ids",
    "estimated_location",
    "parent_guardian_account",
)
_FILE = _fields(
    "file_id",
    "md5",
    "sha1",
    "pdq",
    "pdq_quality",
    "annotations",
    "classification",
    "uploaded_at",
)
_REPORT = _fields(
    "report_id",
    "provider",
    "incident_type",
    "incident_at",
    "received_at",
    "escalation",
    "report_annotations",
    "batched",
    "persons",
    "victims",
    "files",
)


def _with_path(path: str, build: Callable[[], T]) -> T:
    """Run a dataclass constructor; prefix its refusal with the JSON path."""
    try:
        return build()
    except InvalidInput as exc:
        if str(exc).startswith(path):
            raise
        raise InvalidInput(f"{path}: {exc}") from None


def _read_location(data: object, path: str) -> EstimatedLocation:
    r = _Reader(data, path, _LOCATION)
    return _with_path(
        path,
        lambda: EstimatedLocation(
            country_code=r.text("country_code"),
            region=r.text("region"),
            city=r.text("city"),
            verified=r.flag("verified"),
        ),
    )


def _optional_location(r: _Reader, key: str) -> EstimatedLocation | None:
    value = r.data.get(key)
    return None if value is None else _read_location(value, f"{r.path}.{key}")


def _read_ip(data: object, path: str) -> IpEvent:
    r = _Reader(data, path, _IP)
    return _with_path(
        path,
        lambda: IpEvent(
            ip=r.required_text("ip"),
            at=r.time("at"),
            event=r.choice("event", CaptureEvent),
            possible_proxy=r.flag("possible_proxy"),
        ),
    )


def _read_pair(
    kind: Callable[[str, str], T], first: str, second: str
) -> Callable[[object, str], T]:
    def read(data: object, path: str) -> T:
        r = _Reader(data, path, _fields(first, second))
        a, b = r.required_text(first), r.required_text(second)
        return _with_path(path, lambda: kind(a, b))

    return read


def _read_person(data: object, path: str) -> ReportedPerson:
    r = _Reader(data, path, _PERSON)
    return _with_path(
        path,
        lambda: ReportedPerson(
            esp_identifier=r.text("esp_identifier"),
            esp_service=r.text("esp_service"),
            screen_names=r.objects("screen_names", _read_pair(ScreenName, "service", "name")),
            emails=r.texts("emails"),
            phones=r.texts("phones"),
            ip_events=r.objects("ip_events", _read_ip),
            device_ids=r.objects("device_ids", _read_pair(DeviceId, "id_type", "value")),
            payment_handles=r.objects(
                "payment_handles", _read_pair(PaymentHandle, "service", "handle")
            ),
            wallet_addresses=r.texts("wallet_addresses"),
            prior_report_ids=r.texts("prior_report_ids"),
            estimated_location=_optional_location(r, "estimated_location"),
            parent_guardian_account=bool(r.flag("parent_guardian_account")),
        ),
    )


def _read_victim(data: object, path: str) -> Victim:
    r = _Reader(data, path, _fields("age", "estimated_location"))
    return _with_path(
        path,
        lambda: Victim(
            age=r.integer("age"), estimated_location=_optional_location(r, "estimated_location")
        ),
    )


def _read_file(data: object, path: str) -> ReportedFile:
    r = _Reader(data, path, _FILE)
    return _with_path(
        path,
        lambda: ReportedFile(
            file_id=r.required_text("file_id"),
            md5=r.text("md5"),
            sha1=r.text("sha1"),
            pdq=r.text("pdq"),
            pdq_quality=r.integer("pdq_quality"),
            annotations=r.choices("annotations", FileAnnotation),
            classification=r.choice("classification", Classification),
            uploaded_at=r.time("uploaded_at"),
        ),
    )


def report_from_dict(data: object, path: str = "$") -> IncomingReport:
    """Parse one report object (strict; see the module docstring)."""
    r = _Reader(data, path, _REPORT)
    incident_type = r.choice("incident_type", IncidentType)
    if incident_type is None:
        raise InvalidInput(f"{path}.incident_type: required")
    return _with_path(
        path,
        lambda: IncomingReport(
            report_id=r.required_text("report_id"),
            provider=r.required_text("provider"),
            incident_type=incident_type,
            incident_at=r.required_time("incident_at"),
            received_at=r.required_time("received_at"),
            escalation=r.text("escalation"),
            report_annotations=r.choices("report_annotations", ReportAnnotation),
            batched=bool(r.flag("batched")),
            persons=r.objects("persons", _read_person),
            victims=r.objects("victims", _read_victim),
            files=r.objects("files", _read_file),
        ),
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidInput(f"duplicated key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise InvalidInput(f"{name} is not allowed")


def report_from_json(line: str, path: str = "$") -> IncomingReport:
    """Parse one JSON line."""
    try:
        data = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON (column {exc.colno})") from None
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    return report_from_dict(data, path)


def iter_jsonl(lines: Iterable[str], source: str = "input") -> Iterator[IncomingReport]:
    """Parse lines lazily; blank lines are skipped; errors name ``source:line``."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield report_from_json(line, f"{source}:{number}")


def read_jsonl(path: Path) -> list[IncomingReport]:
    """All reports of a JSONL file; refuses duplicated report ids."""
    with open(path, encoding="utf-8") as fh:
        reports = list(iter_jsonl(fh, path.name))
    _check_unique_ids(reports)
    return reports


def _check_unique_ids(reports: Iterable[IncomingReport]) -> Mapping[str, IncomingReport]:
    seen: dict[str, IncomingReport] = {}
    for report in reports:
        if report.report_id in seen:
            raise InvalidInput("report ids must be unique (a report id appears twice)")
        seen[report.report_id] = report
    return seen
