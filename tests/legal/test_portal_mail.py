"""The SMTP mailer against a real SMTP server on loopback (aiosmtpd), and its failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from brightline.errors import InvalidInput, UpstreamError
from brightline.legal.portal_mail import SUBJECT, SmtpCodeMailer, SmtpSettings, SmtpTls
from tests.legal.smtp import Inbox, smtp_server

pytest.importorskip("aiosmtpd.controller")


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


def test_a_code_reaches_a_real_smtp_server(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SmtpCodeMailer(
        SmtpSettings(
            host="127.0.0.1", port=port, sender="portal@platform.example", tls=SmtpTls.NONE
        )
    )
    mailer.send_code(to="officer-0001@county-sheriff.example", code="01234567", valid_minutes=10)
    sender, recipients, message = inbox.messages[-1]
    assert sender == "portal@platform.example"
    assert recipients == ["officer-0001@county-sheriff.example"]
    assert message["Subject"] == SUBJECT
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert b"01234567" in body
    assert b"10 minutes" in body


def test_starttls_refused_by_a_server_without_it_is_an_upstream_error(
    smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    _inbox, port = smtp
    mailer = SmtpCodeMailer(
        SmtpSettings(host="127.0.0.1", port=port, sender="portal@platform.example")
    )
    with pytest.raises(UpstreamError):
        mailer.send_code(to="officer-0001@county-sheriff.example", code="01234567", valid_minutes=1)
    assert "county-sheriff" not in caplog.text


def test_an_unreachable_relay_is_an_upstream_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        mailer = SmtpCodeMailer(
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                sender="portal@platform.example",
                tls=SmtpTls.NONE,
                timeout_seconds=2,
            )
        )
        with pytest.raises(UpstreamError):
            mailer.send_code(to="officer@county-sheriff.example", code="01234567", valid_minutes=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"host": " ", "sender": "p@x.example"},
        {"host": "h", "sender": "no-at-sign"},
        {"host": "h", "sender": "p@x.example\r\nBcc: y@z.example"},
        {"host": "h", "sender": "p@x.example", "port": 70000},
        {"host": "h", "sender": "p@x.example", "password": "only-a-password"},
    ],
)
def test_bad_smtp_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        SmtpSettings(**kwargs)
