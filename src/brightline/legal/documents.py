"""Which attachments a request may carry: documents only, recognised by their first bytes.

Legal process arrives as PDFs, scans (PNG or JPEG) or plain text. Anything else (an archive, an
executable, HTML or SVG that a browser would run, a video) is refused with a reason, never stored:
the portal will serve these files back to staff, and the vault is for evidence and process, not
for whatever a submitter uploads. The check reads magic bytes, not the file name or a declared
type, which a submitter controls.
"""

from __future__ import annotations

from dataclasses import dataclass

from brightline.errors import InvalidInput
from brightline.legal.records import clean_text

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_TEXT_ALLOWED_CONTROLS = frozenset("\t\n\r\f")
_MARKUP_STARTS = ("<", "{\\rtf")


@dataclass(frozen=True, slots=True)
class AttachmentUpload:
    """An attachment as submitted: its bytes and, optionally, the name it had."""

    data: bytes
    filename: str | None = None


def document_type(data: bytes, *, position: int, max_bytes: int) -> str:
    """The media type of an acceptable document, or InvalidInput saying why it is not one.

    ``position`` (1-based) names the attachment in the message; the file name is never echoed.
    """
    if not data:
        raise InvalidInput(f"attachment {position} is empty")
    if len(data) > max_bytes:
        raise InvalidInput(
            f"attachment {position} is {len(data)} bytes; attachments are at most {max_bytes} bytes"
        )
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if _is_plain_text(data):
        return "text/plain"
    raise InvalidInput(
        f"attachment {position} is not a document: only PDF, PNG or JPEG scans and plain "
        "UTF-8 text are accepted"
    )


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    text = text.removeprefix("\ufeff")
    if text.lstrip().startswith(_MARKUP_STARTS):
        return False  # HTML, SVG, XML or RTF: markup a viewer might interpret
    return not any(
        (ord(char) < 0x20 and char not in _TEXT_ALLOWED_CONTROLS) or char == "\x7f" for char in text
    )


def clean_filename(filename: str | None) -> str | None:
    """The last path component of a submitted name, checked; None when there is none."""
    if filename is None:
        return None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return clean_text("attachment name", base, 255, required=False)
