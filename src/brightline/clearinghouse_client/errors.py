"""Typed failures of the CyberTipline Reporting API, split by what the outbox should do next.

The split that matters is *transient* (try the same step again later: the server or the network
had a bad moment) versus *permanent* (trying again cannot help: wrong credentials, a report the
server rejects). The outbox retries the first with backoff and fails the second loudly at once.
"""

from __future__ import annotations

from brightline.errors import InvalidInput, UpstreamError

OK = 0
SERVER_ERROR = 1000
AUTH_REQUIRED = 2000
NOT_AUTHORISED = 3000
INVALID_REQUEST = 4000
VALIDATION_FAILED = 4100
NO_SUCH_REPORT = 5001
NO_SUCH_FILE = 5002
ALREADY_RETRACTED = 5101
ALREADY_FINISHED = 5102


class CyberTiplineError(UpstreamError):
    """The clearinghouse answered with an error, or could not be reached.

    ``code`` is the API's ``responseCode`` (None when there was no usable answer: a timeout, a
    refused connection, an HTTP error without a ``reportResponse``). ``description`` is the
    server's ``responseDescription``: the server's words about *our request*, never content, so
    it is safe to store and show (it is what an operator needs to fix a rejected report).
    """

    def __init__(self, message: str, *, code: int | None = None, description: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.description = description

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), str(self), self.code, self.description))


def _rebuild(
    kind: type[CyberTiplineError], message: str, code: int | None, description: str
) -> CyberTiplineError:
    return kind(message, code=code, description=description)


class TransientError(CyberTiplineError):
    """Worth trying again later: server error (1000), HTTP 5xx or 429, timeout, network."""


class UploadCorrupted(TransientError):
    """The MD5 the server computed differs from ours: the bytes were damaged on the way.

    Transient because uploading the same file again normally fixes it; the damaged copy stays
    an orphan on the server and is never referenced by ``fileinfo`` or ``finish``.
    """


class PermanentError(CyberTiplineError):
    """Trying again cannot help until a person changes something."""


class AuthenticationFailed(PermanentError):
    """2000/3000 or HTTP 401/403: the credentials are missing, wrong, or not allowed."""


class ReportRejected(PermanentError, InvalidInput):
    """4000/4100: the server refused what we sent; ``description`` says why (surfaced as is)."""


class UnknownRemoteObject(PermanentError):
    """5001/5002: the server does not know the report or file id we sent."""


class AlreadyRetracted(PermanentError):
    """5101: the report was retracted before; it can never be finished."""


class AlreadyFinished(PermanentError):
    """5102: the report was finished before (by us, in a step whose answer we never recorded)."""


_BY_CODE: dict[int, type[CyberTiplineError]] = {
    SERVER_ERROR: TransientError,
    AUTH_REQUIRED: AuthenticationFailed,
    NOT_AUTHORISED: AuthenticationFailed,
    INVALID_REQUEST: ReportRejected,
    VALIDATION_FAILED: ReportRejected,
    NO_SUCH_REPORT: UnknownRemoteObject,
    NO_SUCH_FILE: UnknownRemoteObject,
    ALREADY_RETRACTED: AlreadyRetracted,
    ALREADY_FINISHED: AlreadyFinished,
}


def error_for_code(code: int, description: str, *, step: str) -> CyberTiplineError:
    """The typed error for a non-zero ``responseCode``; unknown codes are permanent.

    An unknown code is treated as permanent on purpose: retrying blindly for days would hide a
    problem that needs a person, while a loud failure can be re-queued with one command.
    """
    kind = _BY_CODE.get(code, PermanentError)
    detail = description.strip()[:300]
    message = f"CyberTipline {step} failed with code {code}"
    if detail:
        message += f": {detail}"
    return kind(message, code=code, description=detail)
