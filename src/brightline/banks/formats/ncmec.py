"""``ncmec``: the XML of NCMEC's hash-sharing API (``GET /v2/entries``), saved to a file.

The shape, as NCMEC documents it and python-threatexchange's client parses it::

    <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
      <images count="2" maxTimestamp="...">
        <image>
          <member id="42">Example Member</member>
          <timestamp>...</timestamp>
          <id>entry-1</id>
          <classification>A1</classification>
          <fingerprints><md5>...</md5><sha1>...</sha1><pdna>...</pdna></fingerprints>
          <feedback>...</feedback>
        </image>
        <deletedImage><member id="42">...</member><id>entry-0</id>...</deletedImage>
      </images>
      <videos>... <video>, <deletedVideo> ...</videos>
      <paging><next>...</next></paging>
    </queryResult>

Each fingerprint becomes one record sharing the entry's ``id`` as ``external_id``. A deletion
(``deletedImage``/``deletedVideo``) carries no fingerprints, so it becomes one record with
``delete=True``, the entry's ``external_id`` and an empty ``signal_type``/``value``: the bank must
withdraw every hash it holds under that id.

The file is untrusted input that may be gigabytes long: it is parsed incrementally with entity
resolution, network access and DTDs off, each entry is discarded once read, and an entry with an
absurd number of elements stops the parse instead of filling memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO, ClassVar

from lxml import etree

from brightline.banks.formats._common import RecordStream, Result, classification
from brightline.banks.records import EntryRecord, InvalidRecord
from brightline.errors import InvalidInput

NAMESPACE = "https://hashsharing.ncmec.org/hashsharing/v2"

FINGERPRINT_TYPES: Mapping[str, str] = {
    "md5": "md5",
    "sha1": "sha1",
    "pdna": "photodna",
    "pdq": "pdq",
}
"""NCMEC fingerprint element -> Brightline signal type. Other fingerprint kinds NCMEC lists
(``netclean``, ``videntifier``, ``tmk-pdqf``, ``ssvh-pdna``, ``ssvh-safer-hash``) have no
Brightline signal type yet: they are skipped and counted, never guessed."""

_ENTRIES = {"image": False, "video": False, "deletedImage": True, "deletedVideo": True}
"""Entry element -> whether it is a deletion."""
_CONTAINERS = frozenset({"images", "videos"})

MAX_ELEMENTS_PER_ENTRY = 10_000
"""A real entry has a few dozen elements (fingerprints plus feedback); far more is an attack."""
_CHUNK_BYTES = 16 * 1024
"""Bytes fed to the parser at a time. Each feed's elements are alive together until they are
consumed, so this bounds the reader's memory; entries are streamed, never the whole document."""


class NcmecFormat:
    """NCMEC hash-sharing XML, with or without its namespace.

    ``fingerprint_types`` maps fingerprint element names to Brightline signal types; a plugin that
    adds, say, a NetClean signal type passes an extended mapping. The writer uses the reverse.
    """

    OPTIONS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, fingerprint_types: Mapping[str, str] = FINGERPRINT_TYPES) -> None:
        self.fingerprint_types = dict(fingerprint_types)
        self._elements = {ours: theirs for theirs, ours in self.fingerprint_types.items()}

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> NcmecFormat:  # noqa: ARG003
        return cls()

    @property
    def name(self) -> str:
        return "ncmec"

    def read(self, stream: BinaryIO) -> RecordStream:
        skipped: Counter[str] = Counter()
        return RecordStream(_records(stream, self.fingerprint_types, skipped), skipped)

    def write(self, records: Iterable[EntryRecord], stream: BinaryIO) -> None:
        """Write a ``queryResult`` document, every entry as an image.

        Consecutive records with the same ``external_id``, deletion flag, classification and
        ``list_name`` become one entry. ``series``, ``note`` and ``category`` have no place in
        the format and are dropped; a record without ``external_id`` or with a signal type NCMEC
        has no fingerprint for raises :class:`InvalidInput`.
        """
        try:
            with etree.xmlfile(stream, encoding="utf-8") as xf:
                xf.write_declaration()
                with xf.element(_q("queryResult"), nsmap={None: NAMESPACE}):
                    xf.write("\n")
                    with xf.element(_q("images")):
                        xf.write("\n")
                        for group in _groups(records):
                            self._write_entry(xf, group)
                            xf.write("\n")
                    xf.write("\n")
        except ValueError as exc:  # lxml: text with control characters
            raise InvalidInput(f"cannot write ncmec XML: {exc}") from exc

    def _write_entry(self, xf: etree._IncrementalFileWriter, group: list[EntryRecord]) -> None:
        first = group[0]
        tag = "deletedImage" if first.delete else "image"
        with xf.element(_q(tag)):
            if first.list_name is not None:
                with xf.element(_q("member")):
                    xf.write(first.list_name)
            with xf.element(_q("id")):
                xf.write(first.external_id or "")
            if first.classification is not None:
                with xf.element(_q("classification")):
                    xf.write(first.classification)
            if first.signal_type:
                with xf.element(_q("fingerprints")):
                    for record in group:
                        element = self._elements.get(record.signal_type)
                        if element is None:
                            known = ", ".join(sorted(self._elements))
                            raise InvalidInput(
                                f"NCMEC has no fingerprint for signal type "
                                f"{record.signal_type!r} (known: {known})"
                            )
                        with xf.element(_q(element)):
                            xf.write(record.value)


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _groups(records: Iterable[EntryRecord]) -> Iterator[list[EntryRecord]]:
    """Runs of records that make one entry; an id-only deletion is always an entry of its own."""
    group: list[EntryRecord] = []
    for record in records:
        if not record.external_id:
            raise InvalidInput("the ncmec format needs an external_id (entry id) on every record")
        if not record.signal_type and not record.delete:
            raise InvalidInput(f"record for entry {record.external_id!r} has no signal type")
        if group and not _same_entry(group, record):
            yield group
            group = []
        group.append(record)
    if group:
        yield group


def _same_entry(group: list[EntryRecord], record: EntryRecord) -> bool:
    first = group[0]
    return (
        bool(first.signal_type)
        and bool(record.signal_type)
        and (record.external_id, record.delete, record.classification, record.list_name)
        == (first.external_id, first.delete, first.classification, first.list_name)
        and all(other.signal_type != record.signal_type for other in group)
    )


def _line(element: etree._Element, default: int = 0) -> int:
    """The element's source line (lxml-stubs mistype ``sourceline``)."""
    line: object = element.sourceline
    return line if isinstance(line, int) else default


def _local(element: etree._Element) -> str | None:
    """The element's name without namespace; ``None`` for entities and other non-elements."""
    if not isinstance(element.tag, str):
        return None
    return etree.QName(element).localname


def _records(
    stream: BinaryIO, fingerprint_types: Mapping[str, str], skipped: Counter[str]
) -> Iterator[Result]:
    depth = 0
    in_entry = 0
    try:
        for event, element in _events(stream):
            if event == "start":
                depth += 1
                if depth == 1:
                    problem = _root_problem(element)
                    if problem:
                        yield InvalidRecord(_line(element, 1), problem)
                        return
                elif depth == 3:
                    in_entry = 0
                elif depth > 3:
                    in_entry += 1
                    if in_entry > MAX_ELEMENTS_PER_ENTRY:
                        yield InvalidRecord(
                            _line(element),
                            f"entry has more than {MAX_ELEMENTS_PER_ENTRY} elements",
                        )
                        return
                continue
            if depth == 3:
                parent = element.getparent()
                name = _local(element)
                if parent is not None and _local(parent) in _CONTAINERS and name in _ENTRIES:
                    yield from _entry(element, _ENTRIES[name], fingerprint_types, skipped)
            elif depth == 2 and _local(element) in _ENTRIES:
                # Entries directly under the root would otherwise vanish without a word.
                yield InvalidRecord(
                    _line(element), f"<{_local(element)}> outside <images>/<videos>"
                )
            if depth in (2, 3):
                element.clear()  # tails go too: keep_tail defaults to False
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
            depth -= 1
    except etree.XMLSyntaxError as exc:
        yield InvalidRecord(exc.lineno or 0, f"malformed XML: {exc.msg}")


def _events(stream: BinaryIO) -> Iterator[tuple[str, etree._Element]]:
    """Parse events in document order; a syntax error comes after every event before it.

    ``iterparse`` may raise for a chunk before handing out the events it parsed from that
    chunk (lxml 6.2 does), which would drop good entries ahead of the broken one; a pull
    parser keeps them readable after the error.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    while True:
        chunk = stream.read(_CHUNK_BYTES)
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
        except etree.XMLSyntaxError:
            yield from _elements(parser)
            raise
        yield from _elements(parser)
        if not chunk:
            return


def _elements(parser: etree.XMLPullParser) -> Iterator[tuple[str, etree._Element]]:
    """The start and end events read so far (the only kinds the parser was asked for)."""
    for event, element in parser.read_events():
        if isinstance(element, etree._Element):
            yield event, element


def _root_problem(root: etree._Element) -> str | None:
    docinfo = root.getroottree().docinfo
    doctype: object = getattr(docinfo, "doctype", "")  # missing from lxml-stubs
    if doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        # NCMEC never sends a DTD; one in a hash list can only be an entity-expansion or
        # external-entity attack, so refuse before any of it is used.
        return "DTDs and entity declarations are not allowed"
    if _local(root) != "queryResult":
        return f"expected an NCMEC <queryResult> document, found <{_local(root)}>"
    return None


def _entry(
    entry: etree._Element,
    deleted: bool,
    fingerprint_types: Mapping[str, str],
    skipped: Counter[str],
) -> Iterator[Result]:
    line = _line(entry)
    children: dict[str, list[etree._Element]] = {}
    for child in entry:
        name = _local(child)
        if name is not None:
            children.setdefault(name, []).append(child)
    for name in ("id", "member", "classification", "fingerprints"):
        if len(children.get(name, ())) > 1:
            yield InvalidRecord(line, f"entry has more than one <{name}>")
            return
    id_element = _only(children, "id")
    external_id = (id_element.text or "").strip() if id_element is not None else ""
    if not external_id:
        yield InvalidRecord(line, "entry without an <id>")
        return
    member = _only(children, "member")
    list_name = None
    if member is not None:
        list_name = (member.text or "").strip() or (member.get("id") or "").strip() or None
    label = _only(children, "classification")
    try:
        entry_classification = classification(label.text if label is not None else None)
    except ValueError as exc:
        yield InvalidRecord(line, str(exc))
        return

    emitted = left_out = 0
    fingerprints = _only(children, "fingerprints")
    for fingerprint in fingerprints if fingerprints is not None else ():
        kind = _local(fingerprint)
        if kind is None:
            continue
        value = (fingerprint.text or "").strip()
        if not value:
            if fingerprint.get("href") is None:
                yield InvalidRecord(_line(fingerprint, line), f"empty <{kind}> fingerprint")
                emitted += 1
            else:
                skipped["ncmec fingerprint given only as a link"] += 1
                left_out += 1
            continue
        signal_type = fingerprint_types.get(kind.lower())
        if signal_type is None:
            skipped[f"ncmec {kind} fingerprint (no Brightline signal type)"] += 1
            left_out += 1
            continue
        emitted += 1
        yield EntryRecord(
            signal_type=signal_type,
            value=value,
            classification=entry_classification,
            external_id=external_id,
            list_name=list_name,
            line=_line(fingerprint, line),
            delete=deleted,
        )
    if emitted:
        return
    if deleted:
        # Withdraw by id: a deletion normally names no fingerprints, and one whose fingerprints
        # are all of kinds Brightline skips must still withdraw what the bank holds under it.
        yield EntryRecord(
            signal_type="",
            value="",
            classification=entry_classification,
            external_id=external_id,
            list_name=list_name,
            line=line,
            delete=True,
        )
    elif not left_out:
        yield InvalidRecord(line, "entry without fingerprints")


def _only(children: Mapping[str, list[etree._Element]], name: str) -> etree._Element | None:
    found = children.get(name)
    return found[0] if found else None
