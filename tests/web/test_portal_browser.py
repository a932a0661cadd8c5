"""The portal in a real browser (Debian's chromium, Playwright, real uvicorn) with a real SMTP
server: an officer asks for a code, reads it from the mail, signs in, submits a request with a
document attached, and finds it listed with its deadline."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from brightline.settings import Settings
from tests.legal.smtp import Inbox, smtp_server
from tests.web.conftest import CHROMIUM
from tests.web.portal_helpers import PDF, seed_portal

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")
pytest.importorskip("aiosmtpd.controller")


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A loopback SMTP server the app mails codes through (set before the app is built)."""
    with smtp_server() as (running, port):
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_PORT", str(port))
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_TLS", "none")
        monkeypatch.setenv("BRIGHTLINE_PORTAL_SMTP_SENDER", "portal@platform.example")
        yield running


@pytest.mark.usefixtures("inbox")
def test_an_officer_signs_in_with_a_mailed_code_and_submits_a_request(
    inbox: Inbox, browser: object, base_url: str, settings: Settings
) -> None:
    seeded = seed_portal(settings)
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base_url}/portal/requests")
    page.wait_for_url("**/portal/login?next=/portal/requests")
    page.fill("input[name=email]", seeded.ours.email)
    page.click("button[type=submit]")
    page.wait_for_selector("#code-sent")
    page.fill("input[name=code]", inbox.last_code(seeded.ours.email))
    page.click("button[type=submit]")
    page.wait_for_url("**/portal/requests")
    assert seeded.ours.handle in page.inner_text("#who")

    page.click("text=Submit a new request")
    page.wait_for_selector("#new-request")
    page.select_option("select[name=type]", "preservation")
    page.fill("input[name=external_reference]", "EX-BROWSER-0001")
    page.fill("textarea[name=legal_basis]", "18 U.S.C. 2703(f) (synthetic test request)")
    page.fill("textarea[name=accounts]", "example:user-unknown-0001")
    page.set_input_files(
        "input[name=attachments]",
        files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("#new-request button[type=submit]")
    page.wait_for_selector("#received")
    assert "letter.pdf" in page.inner_text("#attachments")

    page.click("header >> text=Requests")
    page.wait_for_selector("#requests")
    row = page.locator("#requests tr", has_text="EX-BROWSER-0001")
    assert row.count() == 1
    assert row.locator("td.deadline").inner_text().startswith("verify 20")
    assert seeded.their_reference not in page.content()
    context.close()
