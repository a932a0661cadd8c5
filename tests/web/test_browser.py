"""The console in a real browser: Debian's chromium driven by Playwright against real uvicorn.

Checks what only a browser shows: the blur is really applied (computed style and the pixels of
a screenshot), one item is revealed at a time and blurs again by itself, videos stay blurred
until played, keyboard shortcuts submit a decision, and a reviewer cannot reach other roles'
pages. With ``BRIGHTLINE_SCREENSHOTS=<dir>`` it also saves the screenshots used in the docs:
``BRIGHTLINE_SCREENSHOTS=docs/images pytest tests/web/test_browser.py`` refreshes them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from brightline.accounts import AccountRole
from brightline.settings import Settings
from tests.web.conftest import (
    CHROMIUM,
    NAMES,
    Seeded,
    screenshot,
    seed_jobs,
    seed_video,
    sign_in,
)

pytestmark = [
    # Skipped only outside CI: under CI=true a missing browser fails the run instead.
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")


def _energy(png: bytes) -> float:
    """Mean absolute difference of neighbouring pixels: high for sharp noise, low if blurred."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(pixels, axis=0)).mean() + np.abs(np.diff(pixels, axis=1)).mean())


def _wait_loaded(page: object, selector: str) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        "s => { const i = document.querySelector(s);"
        " return i && i.complete && i.naturalWidth > 0 }",
        arg=selector,
    )


def test_claim_see_blurred_reveal_one_decide_and_find_it_in_the_audit(
    browser: object, base_url: str, settings: Settings
) -> None:
    seeded: Seeded = seed_jobs(settings, count=3, grouped=True)
    page = sign_in(browser, base_url, AccountRole.REVIEWER)
    assert page.url.endswith("/console/queues")  # type: ignore[attr-defined]
    screenshot(page, "queues")

    page.click("button.claim")  # type: ignore[attr-defined]
    page.wait_for_url("**/console/jobs/*")  # type: ignore[attr-defined]
    job_id = int(page.url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert job_id in seeded.job_ids
    first = "figure.tile img.preview"
    _wait_loaded(page, first)
    blurred_filter = page.eval_on_selector(first, "i => getComputedStyle(i).filter")  # type: ignore[attr-defined]
    assert "blur(" in blurred_filter
    assert "grayscale(1)" in blurred_filter
    blurred_pixels = page.locator(first).first.screenshot()  # type: ignore[attr-defined]
    screenshot(page, "case-blurred")

    page.locator("figure.tile button.reveal").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("figure.tile img.preview.revealed")  # type: ignore[attr-defined]
    _wait_loaded(page, "figure.tile img.preview.revealed")
    revealed_filter = page.eval_on_selector(  # type: ignore[attr-defined]
        "figure.tile img.preview.revealed", "i => getComputedStyle(i).filter"
    )
    assert "blur(" not in revealed_filter
    revealed_pixels = page.locator("figure.tile img.preview.revealed").screenshot()  # type: ignore[attr-defined]
    assert _energy(revealed_pixels) > 3 * _energy(blurred_pixels)
    assert page.locator("#reveal-count").inner_text() == "1"  # type: ignore[attr-defined]

    # Revealing another item blurs the first again: one item at a time.
    page.locator("figure.tile button.reveal").nth(1).click()  # type: ignore[attr-defined]
    page.wait_for_selector("figure.tile:nth-child(2) img.preview.revealed")  # type: ignore[attr-defined]
    assert page.locator("img.preview.revealed").count() == 1  # type: ignore[attr-defined]
    assert page.locator("#reveal-count").inner_text() == "2"  # type: ignore[attr-defined]

    # It blurs again by itself after the re-blur delay (5 s by default).
    page.wait_for_selector("img.preview.revealed", state="detached", timeout=10_000)  # type: ignore[attr-defined]
    blurred = page.locator("img.preview.blurred").count()  # type: ignore[attr-defined]
    assert blurred == page.locator("img.preview").count() == 3  # type: ignore[attr-defined]

    page.keyboard.press("1")  # type: ignore[attr-defined]
    assert page.is_checked("input[name=classification][value=A1]")  # type: ignore[attr-defined]
    page.keyboard.press("Control+Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**/console/queues?decision=*")  # type: ignore[attr-defined]
    assert "applied: confirm (A1)" in page.inner_text("#done")  # type: ignore[attr-defined]

    # A reviewer cannot reach the audit log, nor an original.
    refused = page.goto(f"{base_url}/console/audit")  # type: ignore[attr-defined]
    assert refused.status == 403
    refused = page.goto(f"{base_url}/console/items/{seeded.item_ids[0]}/original?grant=1")  # type: ignore[attr-defined]
    assert refused.status == 403

    auditor = sign_in(browser, base_url, AccountRole.AUDITOR)
    auditor.goto(f"{base_url}/console/audit?actor={NAMES[AccountRole.REVIEWER]}")  # type: ignore[attr-defined]
    rows = auditor.locator("#audit-rows tr.audit-decide").all_inner_texts()  # type: ignore[attr-defined]
    assert any(f"job {job_id}" in row for row in rows)
    assert auditor.locator("#audit-rows tr.audit-reveal").count() == 2  # type: ignore[attr-defined]
    screenshot(auditor, "audit")


def test_videos_stay_blurred_and_muted_until_played(
    browser: object, base_url: str, settings: Settings, tmp_path: Path
) -> None:
    video = seed_video(settings, tmp_path)
    page = sign_in(browser, base_url, AccountRole.REVIEWER)
    page.goto(f"{base_url}/console/jobs/{video.job_ids[0]}")  # type: ignore[attr-defined]
    page.click("figure.tile button.reveal")  # type: ignore[attr-defined]
    page.wait_for_selector("figure.tile video")  # type: ignore[attr-defined]
    state = page.eval_on_selector(  # type: ignore[attr-defined]
        "figure.tile video",
        "v => ({muted: v.muted, autoplay: v.autoplay, paused: v.paused,"
        " filter: getComputedStyle(v).filter})",
    )
    assert state["muted"]
    assert not state["autoplay"]
    assert state["paused"]
    assert "blur(" in state["filter"]
    page.eval_on_selector("figure.tile video", "v => v.play()")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !getComputedStyle(document.querySelector('figure.tile video')).filter"
        ".includes('blur(')"
    )
    assert page.eval_on_selector("figure.tile video", "v => v.muted")  # type: ignore[attr-defined]
