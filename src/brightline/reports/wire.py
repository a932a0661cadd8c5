"""The JSON wire format of a :class:`ReportContext`: what an enrichment webhook answers and what
``brightline reports build --context FILE.json`` reads (docs/reports.md, "Enrichment").

The format mirrors the dataclasses of :mod:`brightline.reports.context` one to one (the same
field names, snake_case), and is read by walking their type hints, so a field added there is
part of the format at once and cannot drift out of step with it. Reading is strict: an unknown
or duplicated key, a value of the wrong type (``"true"`` for ``true``, ``1`` for ``true``, a
naive timestamp), ``NaN`` or a field a dataclass refuses is an :class:`InvalidContext` naming
the path (``$.files.7.upload_ip.port``) and the problem, never the value: the values are
personal data and error messages end up in logs and on screens.

A document is also a *patch*: :class:`ContextPatch` remembers which fields it set, so an
operator's file can correct or add to what the enrichment step returned without repeating it.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from brightline.errors import InvalidInput
from brightline.reports.context import (
    CellPhoneIncident,
    ChatImIncident,
    EmailIncident,
    FileContext,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    PeerToPeerIncident,
    ReportContext,
    WebPageIncident,
)

WIRE_VERSION = 1
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""The largest context document read (a webhook answer or a ``--context`` file)."""

INTERNET_DETAILS_TYPES: Mapping[str, type] = types.MappingProxyType(
    {
        "web_page": WebPageIncident,
        "email": EmailIncident,
        "newsgroup": NewsgroupIncident,
        "chat_im": ChatImIncident,
        "online_gaming": OnlineGamingIncident,
        "cell_phone": CellPhoneIncident,
        "non_internet": NonInternetIncident,
        "peer_to_peer": PeerToPeerIncident,
    }
)
"""The ``type`` of each ``internet_details`` entry: one per ``internetDetails`` choice."""
_TYPE_NAMES = {kind: name for name, kind in INTERNET_DETAILS_TYPES.items()}


class InvalidContext(InvalidInput):
    """A context document that does not fit the wire format; ``path`` says where."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}")

    def __reduce__(self) -> tuple[type[InvalidContext], tuple[str, str, str]]:
        return (InvalidContext, (self.source, self.path, self.problem))


class _Refused(Exception):
    """Raised inside the reader with the path; turned into :class:`InvalidContext` once."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def _key_name(key: str) -> str:
    """A key from the document, safe to show: short and quoted (keys are field names, not
    values, but a broken sender could put anything there)."""
    shown = key if len(key) <= 40 else key[:40] + "…"
    return json.dumps(shown)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``; anything else unchanged (the context uses no wider
    optional unions)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return hint, False


def _read_datetime(value: object, path: str) -> datetime:
    if not isinstance(value, str):
        raise _Refused(path, f"expected an RFC 3339 timestamp string, got {_type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(path, "is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Refused(path, "needs a UTC offset (e.g. Z or +02:00)")
    return parsed


def _read_date(value: object, path: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _Refused(path, "expected a date string (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Refused(path, "is not a date (YYYY-MM-DD)") from None


def _read(hint: Any, value: object, path: str) -> Any:
    """``value`` read as ``hint`` (one of the types the context dataclasses use)."""
    inner, optional = _strip_optional(hint)
    if value is None:
        if optional:
            return None
        raise _Refused(path, "must not be null")
    origin = typing.get_origin(inner)
    if inner is str:
        if not isinstance(value, str):
            raise _Refused(path, f"expected a string, got {_type_name(value)}")
        return value
    if inner is bool:
        if not isinstance(value, bool):
            raise _Refused(path, f"expected true or false, got {_type_name(value)}")
        return value
    if inner is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Refused(path, f"expected an integer, got {_type_name(value)}")
        return value
    if inner is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Refused(path, f"expected a number, got {_type_name(value)}")
        return float(value)
    if inner is datetime:
        return _read_datetime(value, path)
    if inner is date:
        return _read_date(value, path)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        allowed = [member.value for member in inner]
        if not isinstance(value, str) or value not in allowed:
            raise _Refused(path, f"expected one of {', '.join(map(str, allowed))}")
        return inner(value)
    if origin in (tuple, frozenset):
        if not isinstance(value, list):
            raise _Refused(path, f"expected an array, got {_type_name(value)}")
        element = typing.get_args(inner)[0]
        read = [_read(element, one, f"{path}[{index}]") for index, one in enumerate(value)]
        return tuple(read) if origin is tuple else frozenset(read)
    if origin is Mapping:
        return _read_files(value, path)
    if origin in (typing.Union, types.UnionType):
        return _read_internet_details(value, path)
    if dataclasses.is_dataclass(inner) and isinstance(inner, type):
        return _read_object(inner, value, path)
    raise _Refused(path, "has a type the wire format does not know")  # a new, unmapped type


def _read_files(value: object, path: str) -> dict[int, FileContext]:
    if not isinstance(value, dict):
        raise _Refused(path, f"expected an object keyed by item id, got {_type_name(value)}")
    files: dict[int, FileContext] = {}
    for key, facts in value.items():
        if not (key.isascii() and key.isdigit()) or len(key) > 19 or key != str(int(key)):
            raise _Refused(path, "keys must be item ids (decimal integers, as strings)")
        files[int(key)] = _read_object(FileContext, facts, f"{path}.{key}")
    return files


def _read_internet_details(value: object, path: str) -> object:
    if not isinstance(value, dict):
        raise _Refused(path, f"expected an object, got {_type_name(value)}")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in INTERNET_DETAILS_TYPES:
        raise _Refused(f"{path}.type", f"expected one of {', '.join(INTERNET_DETAILS_TYPES)}")
    fields = {key: one for key, one in value.items() if key != "type"}
    return _read_object(INTERNET_DETAILS_TYPES[kind], fields, path)


def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _read_fields(kind: type, value: object, path: str) -> dict[str, Any]:
    """The fields of one ``kind`` object, read but not yet made into the dataclass."""
    if not isinstance(value, dict):
        raise _Refused(path, f"expected an object, got {_type_name(value)}")
    hints = _hints(kind)
    known = {f.name: f for f in dataclasses.fields(kind)}
    for key in value:
        if key not in known:
            raise _Refused(path, f"unknown field {_key_name(key)}")
    for name, spec in known.items():
        required = (
            spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        )
        if required and name not in value:
            raise _Refused(f"{path}.{name}", "is required")
    return {key: _read(hints[key], one, f"{path}.{key}") for key, one in value.items()}


def _make(kind: type, fields: Mapping[str, Any], path: str) -> Any:
    try:
        return kind(**fields)
    except InvalidInput as exc:  # the dataclass's own checks: the path says which object
        raise _Refused(path, str(exc)) from None


def _read_object(kind: type, value: object, path: str) -> Any:
    return _make(kind, _read_fields(kind, value, path), path)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError("duplicate key")
        found[key] = value
    return found


def load_json(document: bytes | str, *, source: str) -> object:
    """Strict JSON: no ``NaN``/``Infinity``, no duplicated keys, at most 4 MiB."""
    size = len(document.encode() if isinstance(document, str) else document)
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidContext(source, "$", f"is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return json.loads(document, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise InvalidContext(source, "$", "is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, duplicates, constants, giant integers
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InvalidContext(source, "$", f"is not valid JSON{where}: {reason}") from None


@dataclass(frozen=True, slots=True)
class ContextPatch:
    """A context document as read, and which of its fields it actually set.

    :meth:`apply` lays it over another context: each top-level field the document set replaces
    the other's; ``files`` are merged per item, field by field. So a file holding only
    ``{"files": {"7": {"publicly_available": false}}}`` changes exactly that and nothing else.
    """

    context: ReportContext
    fields: frozenset[str]
    file_fields: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def apply(self, base: ReportContext) -> ReportContext:
        changes = {name: getattr(self.context, name) for name in self.fields if name != "files"}
        if "files" in self.fields:
            files = dict(base.files)
            for item_id, facts in self.context.files.items():
                present = self.file_fields.get(item_id, frozenset())
                if item_id in files:
                    files[item_id] = dataclasses.replace(
                        files[item_id], **{name: getattr(facts, name) for name in present}
                    )
                else:
                    files[item_id] = facts
            changes["files"] = files
        try:
            return dataclasses.replace(base, **changes)
        except InvalidInput as exc:  # e.g. a permanent suspension given a re-enabled time
            raise InvalidContext("merged context", "$", str(exc)) from None


def read_context_patch(data: object, *, source: str) -> ContextPatch:
    """A parsed JSON document (``json.loads``) read as a context patch, or InvalidContext."""
    try:
        fields = _read_fields(ReportContext, data, "$")
        context = _make(ReportContext, fields, "$")
    except _Refused as exc:
        raise InvalidContext(source, exc.path, exc.problem) from None
    raw_files = data.get("files") if isinstance(data, dict) else None
    file_fields = (
        {int(key): frozenset(value) for key, value in raw_files.items()}
        if isinstance(raw_files, dict)
        else {}
    )
    return ContextPatch(context=context, fields=frozenset(fields), file_fields=file_fields)


def read_context(data: object, *, source: str) -> ReportContext:
    """A parsed JSON document read as a :class:`ReportContext`, or :class:`InvalidContext`."""
    return read_context_patch(data, source=source).context


def parse_context_patch(document: bytes | str, *, source: str) -> ContextPatch:
    """JSON text (a ``--context`` file) read as a context patch."""
    return read_context_patch(load_json(document, source=source), source=source)


# --- writing: the same format, for plugins, tests and the documentation ---------------------


def _write(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_write(one) for one in value]
    if isinstance(value, frozenset):
        return sorted(_write(one) for one in value)  # type: ignore[type-var]
    if isinstance(value, Mapping):
        return {str(key): _write(one) for key, one in sorted(value.items())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        written: dict[str, object] = {}
        if type(value) in _TYPE_NAMES:
            written["type"] = _TYPE_NAMES[type(value)]
        for spec in dataclasses.fields(value):
            one = getattr(value, spec.name)
            shown = _write(one)
            if shown is None or shown == [] or shown == {}:
                continue  # unknown or empty: left out, as the report leaves it out
            written[spec.name] = shown
        return written
    return value


def context_to_json(context: ReportContext) -> dict[str, object]:
    """``context`` in the wire format (unknown and empty fields left out)."""
    written = _write(context)
    if not isinstance(written, dict):  # unreachable: a ReportContext is a dataclass
        raise InvalidInput("context must be a ReportContext")
    return written
