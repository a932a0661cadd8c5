"""What every format shares: the record stream, byte-order marks, bounded line reading.

Readers take a binary stream and never hold more than one record (one line, one XML entry, one
JSON media object) at a time, so a multi-gigabyte list imports in constant memory.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from brightline.banks.models import IndustryClassification
from brightline.banks.records import EntryRecord, InvalidRecord, RecordStream
from brightline.errors import InvalidInput

Result = EntryRecord | InvalidRecord

__all__ = ["MAX_LINE_BYTES", "RecordStream", "Result"]

MAX_LINE_BYTES = 1 << 20
"""Longest line a line-based reader accepts (1 MiB): a hash list never needs more, and a file
without newlines must not be read into memory whole."""

_CLASSIFICATIONS = frozenset(c.value for c in IndustryClassification)


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class _Prefixed:
    """A stream with some already-read bytes put back in front of it (after sniffing a BOM)."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._stream.read(size)
        if size < 0:
            data, self._prefix = self._prefix + self._stream.read(), b""
            return data
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        if len(data) < size:
            data += self._stream.read(size - len(data))
        return data

    def readline(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._stream.readline(size)
        end = self._prefix.find(b"\n")
        if end >= 0 and (size < 0 or end < size):
            line, self._prefix = self._prefix[: end + 1], self._prefix[end + 1 :]
            return line
        if 0 <= size <= len(self._prefix):
            line, self._prefix = self._prefix[:size], self._prefix[size:]
            return line
        line, self._prefix = self._prefix, b""
        rest = self._stream.readline(-1 if size < 0 else size - len(line))
        return line + rest


def _as_surrogates(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler: each undecodable byte becomes a lone surrogate.

    Unlike ``surrogateescape`` it also takes bytes below 0x80 (half of a broken UTF-16 unit).
    Lone surrogates encode to bytes that are not UTF-8, so the readers then report that one line
    or record as "not valid UTF-8" instead of raising out of the middle of the file.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), error.end


_AS_SURROGATES = "brightline-as-surrogates"
codecs.register_error(_AS_SURROGATES, _as_surrogates)


class _Utf16ToUtf8:
    """Transcodes a UTF-16 stream to UTF-8 on the fly.

    Some forensic tools on Windows export Project VIC JSON as UTF-16 with a BOM; every reader
    below works on UTF-8 bytes, so this converts a chunk at a time instead of the whole file.
    """

    _CHUNK = 1 << 16

    def __init__(self, stream: _Readable, encoding: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(_AS_SURROGATES)
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        raw = self._stream.read(self._CHUNK)
        if not raw:
            self._eof = True
            self._buffer += self._decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
            return False
        self._buffer += self._decoder.decode(raw).encode("utf-8", "surrogatepass")
        return True

    def read(self, size: int = -1, /) -> bytes:
        while (size < 0 or len(self._buffer) < size) and self._fill():
            pass
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readline(self, size: int = -1, /) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                take = end + 1
                break
            if 0 <= size <= len(self._buffer) or not self._fill():
                take = len(self._buffer)
                break
        if 0 <= size < take:
            take = size
        data = bytes(self._buffer[:take])
        del self._buffer[:take]
        return data


_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def utf8_source(stream: BinaryIO) -> _Readable:
    """``stream`` as UTF-8 bytes without a byte-order mark.

    A UTF-8 BOM is dropped; a UTF-16 BOM switches to transcoding. Without a BOM the stream is
    taken as UTF-8 (which includes plain ASCII). Where the stream can peek or seek (files,
    ``BytesIO``, buffered readers) it is returned itself, so the common case adds no Python call
    per line.
    """
    head = _head(stream)
    if head is None:  # neither peekable nor seekable: read the head and put it back in front
        head = stream.read(3)
        if head.startswith(codecs.BOM_UTF8):
            return _Prefixed(head[3:], stream)
        for bom, encoding in _UTF16_BOMS:
            if head.startswith(bom):
                return _Utf16ToUtf8(_Prefixed(head[2:], stream), encoding)
        return _Prefixed(head, stream)
    if head.startswith(codecs.BOM_UTF8):
        stream.read(3)
        return stream
    for bom, encoding in _UTF16_BOMS:
        if head.startswith(bom):
            stream.read(2)
            return _Utf16ToUtf8(stream, encoding)
    return stream


def _head(stream: BinaryIO) -> bytes | None:
    """The first three bytes without consuming them, or ``None`` if the stream cannot tell."""
    peek = getattr(stream, "peek", None)
    if callable(peek):
        head = peek(3)
        if isinstance(head, bytes) and len(head) >= 3:
            return head[:3]
    if stream.seekable():
        position = stream.tell()
        head = stream.read(3)
        stream.seek(position)
        return head
    return None


def iter_lines(source: _Readable) -> Iterator[tuple[int, str | None]]:
    """``(line number, text)`` for each line, line ending included; ``None`` for a line over
    :data:`MAX_LINE_BYTES`.

    Lines are split on ``\\n`` only, so LF and CRLF files read alike once stripped (the CSV parser
    needs the real endings, since a quoted cell may contain them). Bytes that are not UTF-8 are
    kept as lone surrogates (``surrogateescape``) so one bad line can be reported by number
    instead of aborting the whole file; see :func:`bad_text`.
    """
    number = 0
    while True:
        raw = source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:  # drain the rest of the oversized line, a bounded chunk at a time
                rest = source.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, raw.decode("utf-8", "surrogateescape")


def bad_text(text: str) -> bool:
    """True if ``text`` came from bytes that were not valid UTF-8 (see :func:`iter_lines`)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


NOT_UTF8 = "not valid UTF-8"
TOO_LONG = f"line longer than {MAX_LINE_BYTES} bytes"


def classification(raw: str | None) -> str | None:
    """The industry classification (A1, A2, B1, B2) in canonical case, ``None`` if absent.

    Raises :class:`ValueError` for anything else; readers turn that into an ``InvalidRecord``.
    """
    if raw is None:
        return None
    value = raw.strip().upper()
    if not value:
        return None
    if value not in _CLASSIFICATIONS:
        known = ", ".join(sorted(_CLASSIFICATIONS))
        raise ValueError(f"unknown classification {raw.strip()!r} (known: {known})")
    return value


class TextSink:
    """Writes ``str`` to a binary stream as UTF-8, without ever closing it.

    ``io.TextIOWrapper`` would do, but it closes the caller's stream when garbage-collected unless
    detached on every path; this has no such trap.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text.encode("utf-8"))
        return len(text)


def refuse_delete(record: EntryRecord, format_name: str) -> None:
    """Writers of formats without deletions refuse withdrawn records rather than drop them."""
    if record.delete:
        raise InvalidInput(
            f"the {format_name} format cannot express a withdrawn hash "
            f"({record.signal_type} {record.value!r}); only ncmec can"
        )


def single_line(value: str, what: str, format_name: str) -> str:
    """Check a value can sit on one line of a line-based format and read back unchanged."""
    if not value or value != value.strip() or "\n" in value or "\r" in value:
        raise InvalidInput(
            f"{what} {value!r} cannot be written to the {format_name} format: it must be "
            "non-empty, on one line, without surrounding whitespace"
        )
    if value.startswith("#"):
        raise InvalidInput(
            f"{what} {value!r} cannot be written to the {format_name} format: "
            "a line starting with '#' is a comment"
        )
    return value
