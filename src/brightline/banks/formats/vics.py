"""``vics``: Project VIC's VICS 2.0 OData JSON, as hash sets and as case exports.

Two shapes occur in the wild, both read here::

    {"@odata.context": ".../DataModels/2.0.xml/US/$metadata#Media",     # a hash set
     "value": [{"MediaID": 1, "Category": 1, "MD5": "...", "SHA1": "...", ...}, ...]}

    {"@odata.context": ".../DataModels/2.0.xml/US/$metadata#Cases",     # a case export
     "value": [{"CaseID": "...", ..., "Media": [{"MediaID": 1, ...}, ...]}]}

(VICS 1.x files say ``"odata.metadata"`` and have the case shape; they read the same.) Each media
object yields one record per hash it carries -- ``MD5``, ``SHA1``, ``PhotoDNA``, and
``AlternativeHashes`` entries (``{"HashName": ..., "HashValue": ...}``) named PhotoDNA, PDQ,
SHA256, MD5 or SHA1 -- all sharing ``external_id = MediaID``. ``Series`` becomes ``series``,
``Comments`` becomes ``note``, ``Category`` a stable name in ``category``.

Category numbers depend on the scheme the exporting tool used, which the file does not reliably
say, so the scheme is an explicit option (``us`` by default):

=======  =================  =================
number   ``us`` scheme      ``legacy`` scheme
=======  =================  =================
null     uncategorised      uncategorised
0        non_pertinent      uncategorised
1        csam               csam
2        exploitive         exploitive
3        cgi_animation      cgi_animation
4        comparison         comparison
5        --                 non_pertinent
=======  =================  =================

Not every media object belongs in a bank: see :data:`DEFAULT_SKIP`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, BinaryIO, ClassVar

import ijson

from brightline.banks.formats._common import RecordStream, Result, TextSink, utf8_source
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput

SCHEMES: Mapping[str, Mapping[int | None, str]] = {
    "us": {
        None: "uncategorised",
        0: "non_pertinent",
        1: "csam",
        2: "exploitive",
        3: "cgi_animation",
        4: "comparison",
    },
    "legacy": {
        None: "uncategorised",
        0: "uncategorised",
        1: "csam",
        2: "exploitive",
        3: "cgi_animation",
        4: "comparison",
        5: "non_pertinent",
    },
}
"""Category number -> stable name, per scheme."""

CATEGORIES = frozenset(SCHEMES["legacy"].values())

DEFAULT_SKIP = frozenset({"non_pertinent", "comparison", "uncategorised"})
"""Categories the reader leaves out unless told otherwise, each counted in ``skipped``.

Non-pertinent media are known benign (a case export lists every file on a device: icons,
wallpapers, holiday photos); comparison images are reference pictures that are not abuse
material; uncategorised media have had no verdict at all. Banking any of them would flag ordinary
uploads, so none becomes a bank entry unless the operator asks for it (``skip=...``).
"""

_TOP_LEVEL_HASHES = {"md5": "md5", "sha1": "sha1", "photodna": "photodna"}
"""Lower-cased media field -> signal type."""

_ALTERNATIVE_HASHES = {
    "photodna": "photodna",
    "pdq": "pdq",
    "sha256": "sha256",
    "sha-256": "sha256",
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
}
"""Lower-cased ``AlternativeHashes`` ``HashName`` -> signal type."""

_WRITE_TOP_LEVEL = {"md5": "MD5", "sha1": "SHA1", "photodna": "PhotoDNA"}
_WRITE_ALTERNATIVE = {"pdq": "PDQ", "sha256": "SHA256"}

_MEDIA_PREFIXES = ("value.item", "value.item.Media.item")
_NOT_AN_OBJECT = frozenset({"string", "number", "boolean", "null", "start_array"})
_CASE_MEDIA = ("map_key", "Media")
"""The event that shows a ``value`` item is a case whose media objects follow."""
MAX_EVENTS_PER_MEDIA = 100_000
"""A media object has a few dozen JSON values; one with more is skipped as malformed."""

_BUFFER = 16 * 1024
"""Bytes ijson parses at a time; it materialises every event of a buffer at once (~15 objects
per 100 bytes), so this, not the file, bounds the reader's memory."""

_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{}/$metadata#Media"


class VicsFormat:
    """Project VIC VICS JSON. ``scheme``: ``"us"`` or ``"legacy"``; ``skip``: category names."""

    OPTIONS: ClassVar[frozenset[str]] = frozenset({"scheme", "skip"})

    def __init__(self, scheme: str = "us", skip: Collection[str] = DEFAULT_SKIP) -> None:
        if scheme not in SCHEMES:
            raise InvalidInput(f"unknown VICS scheme {scheme!r} (known: {', '.join(SCHEMES)})")
        unknown = sorted(set(skip) - CATEGORIES)
        if unknown:
            raise InvalidInput(
                f"unknown VICS categor{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)} (known: {', '.join(sorted(CATEGORIES))})"
            )
        self.scheme = scheme
        self.skip = frozenset(skip)
        self._numbers = {name: number for number, name in SCHEMES[scheme].items()}
        # null means "uncategorised" in both schemes; the legacy scheme writes its 0 instead.
        self._numbers["uncategorised"] = 0 if scheme == "legacy" else None

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> VicsFormat:
        """``scheme=us|legacy``; ``skip`` = comma-separated category names, ``none`` for none."""
        skip: Collection[str] = DEFAULT_SKIP
        if "skip" in options:
            raw = options["skip"].strip()
            skip = (
                frozenset()
                if raw.lower() in ("", "none")
                else frozenset(name.strip() for name in raw.split(",") if name.strip())
            )
        return cls(scheme=options.get("scheme", "us"), skip=skip)

    @property
    def name(self) -> str:
        return "vics"

    def read(self, stream: BinaryIO) -> RecordStream:
        skipped: Counter[str] = Counter()
        return RecordStream(_records(stream, self.scheme, self.skip, skipped), skipped)

    def write(self, records: Iterable[EntryRecord], stream: BinaryIO) -> None:
        """Write a hash-set document (``value`` = media objects) in this format's scheme.

        Consecutive records with the same ``external_id``, ``category``, ``series`` and ``note``
        (and different signal types) become one media object. ``classification`` and
        ``list_name`` have no VICS field and are dropped; withdrawn records and signal types
        VICS cannot carry raise :class:`InvalidInput`. No category is written as uncategorised.
        """
        sink = TextSink(stream)
        context = _CONTEXT.format("US" if self.scheme == "us" else "CUSTOM")
        sink.write('{"@odata.context": ' + json.dumps(context) + ', "value": [')
        separator = "\n"
        for group in _groups(records):
            sink.write(separator + json.dumps(self._media(group), ensure_ascii=False))
            separator = ",\n"
        sink.write("\n]}\n")

    def _media(self, group: list[EntryRecord]) -> dict[str, Any]:
        first = group[0]
        category = first.category or "uncategorised"
        if category not in self._numbers:
            raise InvalidInput(
                f"category {category!r} has no number in the VICS {self.scheme} scheme "
                f"(known: {', '.join(sorted(self._numbers))})"
            )
        media: dict[str, Any] = {"MediaID": _media_id(first.external_id)}
        media["Category"] = self._numbers[category]
        alternatives: list[dict[str, str]] = []
        for record in group:
            if record.signal_type in _WRITE_TOP_LEVEL:
                media[_WRITE_TOP_LEVEL[record.signal_type]] = record.value
            elif record.signal_type in _WRITE_ALTERNATIVE:
                alternatives.append(
                    {"HashName": _WRITE_ALTERNATIVE[record.signal_type], "HashValue": record.value}
                )
            else:
                known = ", ".join(sorted({*_WRITE_TOP_LEVEL, *_WRITE_ALTERNATIVE}))
                raise InvalidInput(
                    f"VICS cannot carry signal type {record.signal_type!r} (known: {known})"
                )
        if alternatives:
            media["AlternativeHashes"] = alternatives
        if first.series is not None:
            media["Series"] = first.series
        if first.note is not None:
            media["Comments"] = first.note
        return media


def _media_id(external_id: str | None) -> int | str | None:
    """MediaID is a number in Project VIC's own sets: write one when it round-trips exactly."""
    if external_id and external_id.isascii() and external_id.isdigit():
        number = int(external_id)
        if str(number) == external_id:
            return number
    return external_id


def _groups(records: Iterable[EntryRecord]) -> Iterator[list[EntryRecord]]:
    group: list[EntryRecord] = []
    for record in records:
        if record.delete:
            raise InvalidInput(
                f"the vics format cannot express a withdrawn hash ({record.signal_type} "
                f"{record.value!r}); only ncmec can"
            )
        if group and not _same_media(group, record):
            yield group
            group = []
        group.append(record)
    if group:
        yield group


def _same_media(group: list[EntryRecord], record: EntryRecord) -> bool:
    """Whether ``record`` can join the media object being built and read back in the same place.

    The reader yields a media object's hashes in a fixed order (MD5, SHA1, PhotoDNA, then the
    alternative hashes as listed), so a record only joins if it comes later in that order.
    """
    first, last = group[0], group[-1]
    return (
        (record.external_id, record.category, record.series, record.note)
        == (first.external_id, first.category, first.series, first.note)
        and all(other.signal_type != record.signal_type for other in group)
        and (
            _rank(record.signal_type) > _rank(last.signal_type)
            or _rank(record.signal_type) == _rank(last.signal_type) == len(_TOP_LEVEL_ORDER)
        )
    )


_TOP_LEVEL_ORDER = ("md5", "sha1", "photodna")


def _rank(signal_type: str) -> int:
    return (
        _TOP_LEVEL_ORDER.index(signal_type)
        if signal_type in _TOP_LEVEL_ORDER
        else len(_TOP_LEVEL_ORDER)
    )


def _records(
    stream: BinaryIO, scheme: str, skip: frozenset[str], skipped: Counter[str]
) -> Iterator[Result]:
    number = 0
    builder: ijson.ObjectBuilder | None = None
    building = ""  # prefix of the media object being built, or being skipped when no builder
    events_in_media = 0
    saw_value = False
    try:
        events = ijson.parse(utf8_source(stream), buf_size=_BUFFER, use_float=True)
        for prefix, event, value in events:
            if building:
                if builder is not None:
                    if building == prefix == "value.item" and (event, value) == _CASE_MEDIA:
                        builder, building = None, ""  # a case, not a media object: media follow
                        continue
                    builder.event(event, value)
                    events_in_media += 1
                if prefix == building and event == "end_map":
                    number += 1
                    if builder is not None:
                        yield from _media(builder.value, number, scheme, skip, skipped)
                    else:
                        yield InvalidRecord(
                            number, f"media object has more than {MAX_EVENTS_PER_MEDIA} values"
                        )
                    builder, building = None, ""
                elif builder is not None and events_in_media > MAX_EVENTS_PER_MEDIA:
                    builder = None  # keep skipping to its end, then report it
                continue
            if prefix in _MEDIA_PREFIXES and event == "start_map":
                builder, building, events_in_media = ijson.ObjectBuilder(), prefix, 0
                builder.event(event, value)
            elif prefix in _MEDIA_PREFIXES and event in _NOT_AN_OBJECT:
                number += 1
                yield InvalidRecord(number, "media entry is not a JSON object")
            elif prefix == "value" and event == "start_array":
                saw_value = True
    except (ijson.JSONError, ValueError) as exc:  # ValueError: yajl's UnicodeDecodeError
        yield InvalidRecord(number + 1, f"malformed JSON after media object {number}: {_say(exc)}")
        return
    if not saw_value:
        yield InvalidRecord(0, 'not a VICS document: no top-level "value" array')


def _say(exc: Exception) -> str:
    """The first line of a parser error (yajl quotes the input after it), at most 200 chars."""
    message = exc.args[0] if exc.args else ""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    lines = str(message).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _text(value: object, name: str) -> str | None:
    """A scalar JSON value as stripped text; ``None`` if absent or empty. Raises on the rest."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} is not text or a number")
    text = str(value).strip()
    return text or None


def _category(raw: object, scheme: str) -> str:
    names = SCHEMES[scheme]
    number: int | None
    if raw is None or raw == "":
        number = None
    elif isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        number = int(raw.strip())
    else:
        raise ValueError(f"Category {raw!r} is not a number")
    if number not in names:
        hint = ""
        if scheme == "us" and number == 5:
            hint = " (a legacy-scheme file? use scheme=legacy)"
        raise ValueError(f"unknown Category {number} in the {scheme} scheme{hint}")
    return names[number]


def _media(
    obj: object, number: int, scheme: str, skip: frozenset[str], skipped: Counter[str]
) -> Iterator[Result]:
    if not isinstance(obj, dict):
        yield InvalidRecord(number, "media entry is not a JSON object")
        return
    fields = {str(key).lower(): value for key, value in obj.items()}
    try:
        category = _category(fields.get("category"), scheme)
        if category in skip:
            skipped[f"vics category {category}"] += 1
            return
        external_id = _text(fields.get("mediaid"), "MediaID")
        series = _text(fields.get("series"), "Series")
        note = _text(fields.get("comments"), "Comments")
        hashes = _hashes(fields, skipped)
    except ValueError as exc:
        yield InvalidRecord(number, str(exc))
        return
    if not hashes[0] and not hashes[1]:
        yield InvalidRecord(number, "media object carries no MD5, SHA1 or PhotoDNA")
        return
    for signal_type, value in hashes[0]:
        yield EntryRecord(
            signal_type=signal_type,
            value=value,
            external_id=external_id,
            series=series,
            note=note,
            category=category,
            line=number,
        )


def _hashes(
    fields: Mapping[str, object], skipped: Counter[str]
) -> tuple[list[tuple[str, str]], int]:
    """The media object's ``(signal type, value)`` pairs, and how many hashes were skipped."""
    found: list[tuple[str, str]] = []
    left_out = 0
    for field, signal_type in _TOP_LEVEL_HASHES.items():
        value = _text(fields.get(field), _WRITE_TOP_LEVEL[signal_type])
        if value:
            found.append((signal_type, value))
    alternatives = fields.get("alternativehashes")
    if alternatives is not None:
        if not isinstance(alternatives, list):
            raise ValueError("AlternativeHashes is not a list")
        for alternative in alternatives:
            if not isinstance(alternative, dict):
                raise ValueError("AlternativeHashes entry is not an object")
            entry = {str(key).lower(): item for key, item in alternative.items()}
            name = _text(entry.get("hashname"), "HashName")
            value = _text(entry.get("hashvalue"), "HashValue")
            if not name or not value:
                raise ValueError("AlternativeHashes entry without HashName or HashValue")
            mapped = _ALTERNATIVE_HASHES.get(name.lower())
            if mapped is None:
                skipped[f"vics alternative hash {name} (no Brightline signal type)"] += 1
                left_out += 1
            elif (mapped, value) not in found:
                found.append((mapped, value))
    return found, left_out
