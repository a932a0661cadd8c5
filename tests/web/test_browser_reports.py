"""Filing a report in a real browser: confirm, file, see it queued, see a failure announced.

Debian's chromium driven by Playwright against real uvicorn (fixtures in conftest). The
items are generated noise images, the user a placeholder, the context the test enrichment
plugin's. A permanent submission failure is simulated in the database, as the worker records
one. With ``BRIGHTLINE_SCREENSHOTS=<dir>`` it saves ``console-case-report-queued.png`` and
``console-report-failed.png``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from brightline.accounts import AccountRole
from brightline.settings import Settings
from tests.web.conftest import CHROMIUM, screenshot, sign_in
from tests.web.reporting import case_id_of, fail_submission, reporting_settings, seed_reportable

pytestmark = [
    # Skipped only outside CI: under CI=true a missing browser fails the run instead.
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return reporting_settings(tmp_path, database_url)


def _confirm_next(page: object) -> None:
    """Claim the next job and confirm it (A1) with the keyboard, as a reviewer does."""
    page.click("button.claim")  # type: ignore[attr-defined]
    page.wait_for_url("**/console/jobs/*")  # type: ignore[attr-defined]
    page.keyboard.press("1")  # type: ignore[attr-defined]
    page.keyboard.press("c")  # type: ignore[attr-defined]
    page.keyboard.press("Control+Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**/console/queues?decision=*")  # type: ignore[attr-defined]
    assert "applied: confirm (A1)" in page.inner_text("#done")  # type: ignore[attr-defined]


def test_confirm_file_see_it_queued_then_see_a_failure_announced(
    browser: object, base_url: str, settings: Settings
) -> None:
    seeded = seed_reportable(settings, count=2)
    case_id = case_id_of(settings, seeded.item_ids[0])
    page = sign_in(browser, base_url, AccountRole.REVIEWER)
    _confirm_next(page)
    _confirm_next(page)

    page.goto(f"{base_url}/console/jobs/{seeded.job_ids[0]}")  # type: ignore[attr-defined]
    page.click(f"a[href='/console/cases/{case_id}']")  # type: ignore[attr-defined]
    page.wait_for_url(f"**/console/cases/{case_id}")  # type: ignore[attr-defined]
    assert "2 confirmed items not yet in a report" in page.inner_text("main")  # type: ignore[attr-defined]
    page.select_option("select[name=incident_type]", "CHILD_PORNOGRAPHY")  # type: ignore[attr-defined]
    page.click("#file-report")  # type: ignore[attr-defined]
    page.wait_for_url(f"**/console/cases/{case_id}?filed=*")  # type: ignore[attr-defined]
    filed = page.inner_text("#filed")  # type: ignore[attr-defined]
    match = re.search(r"Report (\d+) built with 2 items and queued for submission", filed)
    assert match is not None, filed
    report_id = int(match.group(1))
    row = page.locator(f"#report-{report_id}")  # type: ignore[attr-defined]
    assert row.locator("td.status").inner_text() == "queued"
    assert page.locator("#file-report-form").count() == 0  # type: ignore[attr-defined]
    assert page.locator("#reports-failed-banner").count() == 0  # type: ignore[attr-defined]
    screenshot(page, "case-report-queued")

    fail_submission(settings, report_id)
    page.reload()  # type: ignore[attr-defined]
    case_banner = page.locator(f"#report-failed-{report_id}")  # type: ignore[attr-defined]
    assert case_banner.is_visible()
    assert "AuthenticationFailed: 2000" in case_banner.inner_text()
    assert page.locator("#reports-failed-banner").is_visible()  # type: ignore[attr-defined]
    assert row.locator("td.status").inner_text() == "failed"
    assert page.locator("#retry-first").is_visible()  # type: ignore[attr-defined]
    screenshot(page, "report-failed")

    page.goto(f"{base_url}/console/queues")  # type: ignore[attr-defined]
    banner = page.locator("#reports-failed-banner")  # type: ignore[attr-defined]
    assert banner.is_visible()
    assert "Report submission failed" in banner.inner_text()
    banner.locator(f"a[href='/console/cases/{case_id}#reports']").click()
    page.wait_for_url(f"**/console/cases/{case_id}#reports")  # type: ignore[attr-defined]
    assert page.locator(f"#report-failed-{report_id}").is_visible()  # type: ignore[attr-defined]
