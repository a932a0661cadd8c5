"""One signed JSON request to a platform's own endpoint, answered synchronously.

The report enrichment hook and the legal snapshot and export hooks ask the platform a question
and wait for the answer, unlike event webhooks, which go through the outbox and expect none.
They share everything else, so it lives here once: the event envelope, the signature
(``Brightline-Timestamp`` + ``Brightline-Signature``, verified on the receiving side with
:func:`brightline.events.verify_signature`), no redirects, a bounded streaming read of the
answer, and failure messages that name the endpoint by its origin only (a receiver's path or
query often holds its own token). Nothing of either body is ever logged.

Each caller raises its own error class (``failure``), so the enrichment and legal services keep
reporting failures in their own terms.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from brightline import __version__
from brightline.errors import InvalidInput, UpstreamError
from brightline.events.delivery import sign

__all__ = ["SignedEndpoint", "url_origin"]


def url_origin(url: str) -> str:
    """A URL shown as its origin only: a receiver's path or query often holds its token."""
    try:
        parsed = httpx.URL(url)
        return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"
    except (httpx.InvalidURL, ValueError):
        return "(invalid URL)"


@dataclass(frozen=True)
class SignedEndpoint:
    """A platform endpoint that answers signed ``event`` envelopes.

    ``name`` says what it is in messages ("the {name} webhook at https://host"); ``key_variable``
    is the variable an operator fixes when the receiver refuses the signature.
    """

    url: str
    secret: str = field(repr=False)
    name: str
    max_answer: int
    failure: type[UpstreamError]
    timeout_seconds: float = 30.0
    key_variable: str | None = None
    retry_hint: str = "try again later"
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise InvalidInput(f"the {self.name} URL must be an http(s) URL")
        if not self.secret:
            raise InvalidInput(f"the {self.name} webhook needs a secret to sign with")

    @property
    def origin(self) -> str:
        return url_origin(self.url)

    @property
    def where(self) -> str:
        return f"the {self.name} webhook at {self.origin}"

    def post(
        self, event: str, data: Mapping[str, object], *, created_at: datetime | None = None
    ) -> tuple[str, bytes]:
        """POST ``data`` in a signed envelope; return the request id and the raw answer."""
        request_id = secrets.token_hex(16)
        timestamp = int(self.clock())
        created = created_at or datetime.fromtimestamp(timestamp, UTC)
        body = json.dumps(
            {
                "type": event,
                "request_id": request_id,
                "created_at": created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "data": dict(data),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Brightline-Event": event,
            "Brightline-Request": request_id,
            "Brightline-Timestamp": str(timestamp),
            "Brightline-Signature": sign(self.secret, timestamp, body),
        }
        return request_id, self._send(body, headers)

    def _send(self, body: bytes, headers: Mapping[str, str]) -> bytes:
        try:
            with (
                httpx.Client(
                    timeout=httpx.Timeout(self.timeout_seconds),
                    follow_redirects=False,
                    transport=self.transport,
                    headers={"User-Agent": f"brightline/{__version__} ({self.name})"},
                ) as client,
                client.stream("POST", self.url, content=body, headers=dict(headers)) as response,
            ):
                status = response.status_code
                if not 200 <= status < 300:
                    raise self.failure(self._status_message(status))
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_answer:
                        raise self.failure(
                            f"{self.where} answered more than {self.max_answer} bytes"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise self.failure(
                f"{self.where} did not answer within {self.timeout_seconds:g} s; {self.retry_hint}"
            ) from None
        except httpx.ConnectError:
            raise self.failure(f"could not connect to {self.where}; {self.retry_hint}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self.failure(
                f"the request to {self.where} failed: {type(exc).__name__}"
            ) from None

    def _status_message(self, status: int) -> str:
        if status >= 500 or status == 429:
            return f"{self.where} failed (HTTP {status}); {self.retry_hint}"
        if 300 <= status < 400:
            return f"{self.where} redirected (HTTP {status}); redirects are not followed"
        if status in (401, 403):
            setting = f" with {self.key_variable}" if self.key_variable else ""
            return (
                f"{self.where} refused the request (HTTP {status}): check that it verifies "
                f"signatures{setting}"
            )
        return f"{self.where} refused the request (HTTP {status})"
