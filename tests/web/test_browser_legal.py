"""The legal-request pages in a real browser (Debian's chromium, Playwright, real uvicorn): a
lead verifies a preservation request, builds a production and delivers it to the agency."""

from __future__ import annotations

import os

import pytest

from brightline.accounts import AccountRole
from brightline.settings import Settings
from tests.web.conftest import CHROMIUM, screenshot, sign_in
from tests.web.legal_seed import seed_requests

pytestmark = [
    # Skipped only outside CI: under CI=true a missing browser fails the run instead.
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")


def test_verify_a_preservation_request_build_and_deliver_a_production(
    browser: object, base_url: str, settings: Settings
) -> None:
    seeded = seed_requests(settings)
    page = sign_in(browser, base_url, AccountRole.LEAD)
    page.goto(f"{base_url}/console/legal")  # type: ignore[attr-defined]
    page.click("#legal-requests-link")  # type: ignore[attr-defined]
    page.wait_for_selector("#legal-requests")  # type: ignore[attr-defined]
    first = page.locator("#legal-requests tbody tr").first  # type: ignore[attr-defined]
    assert first.get_attribute("data-request") == str(seeded.emergency)
    screenshot(page, "legal-requests")

    page.click(f'tr[data-request="{seeded.preservation}"] a')  # type: ignore[attr-defined]
    page.wait_for_selector("#verify")  # type: ignore[attr-defined]
    page.click("#verify")  # type: ignore[attr-defined]
    page.wait_for_url("**?done=verify")  # type: ignore[attr-defined]
    assert page.inner_text("#request-status") == "verified"  # type: ignore[attr-defined]
    assert "held" in page.inner_text("#request-accounts")  # type: ignore[attr-defined]

    page.click("#build-production")  # type: ignore[attr-defined]
    page.wait_for_url("**?done=build_production")  # type: ignore[attr-defined]
    assert page.inner_text("#request-status") == "in_progress"  # type: ignore[attr-defined]
    assert page.inner_text("#productions .production-status") == "built"  # type: ignore[attr-defined]

    page.click("#productions button.deliver-production")  # type: ignore[attr-defined]
    page.wait_for_url("**?done=deliver_production")  # type: ignore[attr-defined]
    assert page.inner_text("#productions .production-status") == "delivered"  # type: ignore[attr-defined]
    assert page.inner_text("#request-status") == "partially_produced"  # type: ignore[attr-defined]
    screenshot(page, "legal-request")
