"""Sending one-time sign-in codes to officers by email.

:class:`CodeMailer` is the extension point; :class:`SmtpCodeMailer` speaks to the operator's
own mail relay with the standard library (``smtplib``: STARTTLS by default, implicit TLS, or
plain SMTP for a relay on the same host), and :class:`RecordingMailer` keeps the messages in
memory for tests and demonstrations. A message holds the code and how long it is valid, nothing
about any request; nothing here logs an address or a code.
"""

from __future__ import annotations

import enum
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from brightline.errors import InvalidInput, UpstreamError

log = logging.getLogger(__name__)

SUBJECT = "Your Brightline portal sign-in code"


class CodeMailer(Protocol):
    """Delivers a sign-in code to an officer's address (raise UpstreamError if it cannot)."""

    def send_code(self, *, to: str, code: str, valid_minutes: int) -> None: ...


class SmtpTls(enum.StrEnum):
    STARTTLS = "starttls"
    """Connect in plain text, then upgrade with STARTTLS (port 587); the certificate is checked."""
    SSL = "ssl"
    """TLS from the first byte (port 465); the certificate is checked."""
    NONE = "none"
    """No TLS: only for a relay on the same host or a private network the operator trusts."""


DEFAULT_PORTS = {SmtpTls.STARTTLS: 587, SmtpTls.SSL: 465, SmtpTls.NONE: 25}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    sender: str
    tls: SmtpTls = SmtpTls.STARTTLS
    port: int | None = None
    """None: the usual port for ``tls`` (587, 465 or 25)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.host.strip():
            raise InvalidInput("the SMTP host is required")
        if "@" not in self.sender or any(c in self.sender for c in "\r\n"):
            raise InvalidInput("the SMTP sender is an email address (portal@platform.example)")
        if self.port is not None and not 0 < self.port < 65536:
            raise InvalidInput("the SMTP port is between 1 and 65535")
        if (self.username is None) != (self.password is None):
            raise InvalidInput("an SMTP username and password go together (both or neither)")

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.tls]


def code_message(*, sender: str, to: str, code: str, valid_minutes: int) -> EmailMessage:
    """The message an officer receives: the code, its lifetime, and what to do if unexpected."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = SUBJECT
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Your sign-in code for the Brightline law-enforcement portal is:\n\n    {code}\n\n"
        f"It is valid for {valid_minutes} minutes and can be used once.\n"
        "If you did not ask to sign in, ignore this message: nobody can sign in without the "
        "code.\n"
    )
    return message


class SmtpCodeMailer:
    """Sends codes through an SMTP relay; each code is one short connection."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send_code(self, *, to: str, code: str, valid_minutes: int) -> None:
        smtp = self.settings
        message = code_message(sender=smtp.sender, to=to, code=code, valid_minutes=valid_minutes)
        try:
            client: smtplib.SMTP
            if smtp.tls is SmtpTls.SSL:
                client = smtplib.SMTP_SSL(
                    smtp.host,
                    smtp.effective_port,
                    timeout=smtp.timeout_seconds,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(smtp.host, smtp.effective_port, timeout=smtp.timeout_seconds)
            with client:
                if smtp.tls is SmtpTls.STARTTLS:
                    client.starttls(context=ssl.create_default_context())
                if smtp.username is not None and smtp.password is not None:
                    client.login(smtp.username, smtp.password)
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            # The type only: an SMTP error's text can quote the recipient.
            log.error("sign-in code not sent: %s", type(exc).__name__)
            raise UpstreamError("the mail relay did not accept the sign-in code") from None


@dataclass
class RecordingMailer:
    """Keeps what would have been sent (tests, demonstrations); ``fail`` simulates an outage."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    """(address, code) in the order sent."""
    fail: bool = False

    def send_code(self, *, to: str, code: str, valid_minutes: int) -> None:
        if self.fail:
            raise UpstreamError("synthetic mail outage")
        self.sent.append((to, code))

    def last_code(self, to: str) -> str:
        for address, code in reversed(self.sent):
            if address == to:
                return code
        raise LookupError("no code was sent to that address")
