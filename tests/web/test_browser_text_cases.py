"""A text case in a real browser (Debian's chromium, Playwright): after "Show text", the hits
are highlighted and the hidden characters are visible badges that cannot reorder the text."""

from __future__ import annotations

import os

import pytest

from brightline.accounts import AccountRole
from brightline.settings import Settings
from tests.web.conftest import CHROMIUM, screenshot, sign_in
from tests.web.text_seed import seed_text_case

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium; `make test` installs it)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

pytest.importorskip("playwright.sync_api")


def test_show_text_highlights_hits_and_shows_hidden_characters(
    browser: object, base_url: str, settings: Settings
) -> None:
    seeded = seed_text_case(settings)
    page = sign_in(browser, base_url, AccountRole.REVIEWER)
    page.goto(f"{base_url}/console/jobs/{seeded.job_ids[0]}")  # type: ignore[attr-defined]
    assert page.locator(".post-text").count() == 0  # type: ignore[attr-defined]

    page.click("button.reveal-text")  # type: ignore[attr-defined]
    page.wait_for_selector(".post-text mark.hit")  # type: ignore[attr-defined]
    hit = page.locator(".post-text mark.hit").first  # type: ignore[attr-defined]
    assert hit.is_visible()
    assert "term zorblax" in (hit.get_attribute("title") or "")
    background = hit.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")

    override = page.locator(".post-text .hidden-char", has_text="U+202E")  # type: ignore[attr-defined]
    assert override.is_visible()
    box = override.bounding_box()
    assert box is not None
    assert box["width"] > 0
    assert box["height"] > 0
    # The override is a badge, not a control: the placeholder after it reads in stored order.
    shown = page.inner_text(".post-text")  # type: ignore[attr-defined]
    assert "\u27e8U+202E\u27e9xalbroz\u27e8U+202C\u27e9" in shown
    assert "\u202e" not in page.content()  # type: ignore[attr-defined]
    isolation = page.eval_on_selector(".post-text", "e => getComputedStyle(e).unicodeBidi")  # type: ignore[attr-defined]
    assert isolation == "isolate"
    assert page.locator(".post-text .mixed-letter.script-cyrillic").count() == 2  # type: ignore[attr-defined]
    screenshot(page, "text-case")
