"""The portal in a real browser (Debian's chromium, Playwright, real uvicorn) with a real SMTP
server: an officer asks for a code, reads it from the mail, signs in, submits a request with a
document attached, and finds it listed with its deadline."""

from __future__ import annotations

import os

import pytest

from brightline.settings import Settings
from tests.legal.smtp import Inbox
from tests.web.conftest import CHROMIUM
from tests.web.portal_helpers import PDF, portal_browser_sign_in, seed_portal

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")
pytest.importorskip("aiosmtpd.controller")


def test_an_officer_signs_in_with_a_mailed_code_and_submits_a_request(
    inbox: Inbox, browser: object, base_url: str, settings: Settings
) -> None:
    seeded = seed_portal(settings)
    page = portal_browser_sign_in(browser, base_url, inbox, seeded.ours.email)
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
    page.context.close()
