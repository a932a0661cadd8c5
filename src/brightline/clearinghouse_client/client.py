"""A synchronous client for the CyberTipline Reporting API (one method per lifecycle call).

Every call answers with a ``reportResponse`` document; a ``responseCode`` other than 0 becomes a
typed error from :mod:`brightline.clearinghouse_client.errors`, so callers only ever see parsed
values or an exception. Nothing here logs or keeps request or response bodies: reports describe
people and files, and only ids, codes and the server's error descriptions leave this module.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType

import httpx
from lxml import etree

from brightline import __version__
from brightline.clearinghouse_client.errors import (
    AuthenticationFailed,
    CyberTiplineError,
    PermanentError,
    TransientError,
    UploadCorrupted,
    error_for_code,
)
from brightline.settings import CyberTiplineSettings

MAX_RESPONSE_BYTES = 1024 * 1024
"""A ``reportResponse`` is a few hundred bytes; anything far larger is not one."""

_XML = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A parsed ``reportResponse`` with code 0."""

    description: str = ""
    report_id: int | None = None
    file_id: str | None = None
    md5: str | None = None


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    file_id: str
    md5: str
    """The MD5 the server computed of what it received (equal to ours, or the call raised)."""


class _HashingReader(io.RawIOBase):
    """A read-only stream over chunks that hashes what the HTTP client actually reads.

    Hashing at the point of sending (not beforehand) means the MD5 we compare with the server's
    is the MD5 of the bytes that went on the wire, whatever the source did in between.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.md5 = hashlib.md5(usedforsecurity=False)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        if size < 0:
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        self.md5.update(out)
        return out


class _NotAResponse(TransientError):
    """The body is not a usable ``reportResponse`` (the HTTP status then decides)."""


def _parser() -> etree.XMLParser:
    # No entities, no DTDs, no network: the response comes from outside.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def parse_response(body: bytes, *, step: str) -> ApiResponse:
    """Parse a ``reportResponse``; raise the typed error for a non-zero code.

    Raises :class:`TransientError` when the body is not a ``reportResponse`` at all (a proxy's
    error page, a truncated answer): the request may well succeed when sent again.
    """
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError:
        raise _NotAResponse(f"CyberTipline {step}: the answer is not XML") from None
    if _local(root.tag) != "reportResponse":
        raise _NotAResponse(f"CyberTipline {step}: the answer is not a reportResponse")
    fields = {_local(child.tag): (child.text or "").strip() for child in root}
    try:
        code = int(fields.get("responseCode", ""))
    except ValueError:
        raise _NotAResponse(f"CyberTipline {step}: the answer has no responseCode") from None
    description = fields.get("responseDescription", "")
    if code != 0:
        raise error_for_code(code, description, step=step)
    report_id: int | None = None
    if fields.get("reportId"):
        try:
            report_id = int(fields["reportId"])
        except ValueError:
            raise _NotAResponse(f"CyberTipline {step}: the reportId is not a number") from None
    return ApiResponse(
        description=description,
        report_id=report_id,
        file_id=fields.get("fileId") or None,
        md5=(fields.get("hash") or "").lower() or None,
    )


class CyberTiplineClient:
    """HTTP Basic auth, explicit timeouts, no redirects, one method per API call.

    Use as a context manager (or call :meth:`close`). ``transport`` is for tests.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        timeout: float = 60.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise PermanentError("the CyberTipline URL must be an http:// or https:// URL")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            auth=httpx.BasicAuth(username, password),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": f"brightline/{__version__} (cybertipline)"},
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"CyberTiplineClient({self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: CyberTiplineSettings) -> CyberTiplineClient:
        if not settings.username or not settings.password:
            raise AuthenticationFailed(
                "set BRIGHTLINE_CYBERTIPLINE_USERNAME and BRIGHTLINE_CYBERTIPLINE_PASSWORD"
            )
        return cls(settings.url, settings.username, settings.password, settings.timeout_seconds)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _call(self, step: str, method: str, path: str, **kwargs: object) -> ApiResponse:
        try:
            with self._http.stream(method, path, **kwargs) as response:  # type: ignore[arg-type]
                status = response.status_code
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise TransientError(f"CyberTipline {step}: the answer is too large")
        except httpx.TimeoutException:
            raise TransientError(f"CyberTipline {step}: timed out") from None
        except httpx.TransportError as exc:
            raise TransientError(f"CyberTipline {step}: {type(exc).__name__}") from None
        if status in (401, 403):
            raise AuthenticationFailed(
                f"CyberTipline {step}: HTTP {status} (check the credentials)", code=None
            )
        try:
            return parse_response(body, step=step)
        except _NotAResponse:
            # No usable reportResponse: the HTTP status decides whether to try again.
            if status >= 500 or status == 429 or 200 <= status < 300:
                raise TransientError(f"CyberTipline {step}: HTTP {status}") from None
            raise PermanentError(f"CyberTipline {step}: HTTP {status}") from None

    # -- the lifecycle -----------------------------------------------------------------------

    def status(self) -> ApiResponse:
        """``GET /status``: are the service and our credentials usable?"""
        return self._call("status", "GET", "status")

    def submit(self, report_xml: bytes) -> int:
        """``POST /submit``: create a report from a ``<report>`` document; its id."""
        answer = self._call("submit", "POST", "submit", content=report_xml, headers=_XML)
        if answer.report_id is None:
            raise TransientError("CyberTipline submit: the answer has no reportId")
        return answer.report_id

    def upload(self, report_id: int, filename: str, data: bytes | Iterable[bytes]) -> UploadReceipt:
        """``POST /upload``: attach one file; verifies the MD5 the server says it received.

        ``data`` may be an iterable of chunks (``EvidenceStore.iter_chunks``), streamed
        without holding the file in memory. A mismatch raises :class:`UploadCorrupted`.
        """
        chunks: Iterable[bytes] = [data] if isinstance(data, bytes) else data
        reader = _HashingReader(chunks)
        answer = self._call(
            "upload",
            "POST",
            "upload",
            data={"id": str(report_id)},
            files={"file": (filename, reader, "application/octet-stream")},
        )
        ours = reader.md5.hexdigest()
        if answer.file_id is None:
            raise TransientError("CyberTipline upload: the answer has no fileId")
        if answer.md5 != ours:
            raise UploadCorrupted(
                "CyberTipline upload: the server's MD5 differs from the file's", code=None
            )
        return UploadReceipt(file_id=answer.file_id, md5=ours)

    def fileinfo(self, file_details_xml: bytes) -> ApiResponse:
        """``POST /fileinfo``: the ``<fileDetails>`` of an uploaded file."""
        return self._call("fileinfo", "POST", "fileinfo", content=file_details_xml, headers=_XML)

    def finish(self, report_id: int) -> ApiResponse:
        """``POST /finish``: the report is complete and goes to the clearinghouse's analysts."""
        return self._call("finish", "POST", "finish", data={"id": str(report_id)})

    def retract(self, report_id: int) -> ApiResponse:
        """``POST /retract``: cancel an unfinished report (nothing of it is kept)."""
        return self._call("retract", "POST", "retract", data={"id": str(report_id)})


__all__ = [
    "ApiResponse",
    "CyberTiplineClient",
    "CyberTiplineError",
    "UploadReceipt",
    "parse_response",
]
