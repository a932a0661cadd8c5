"""A text case in the console: facts until a recorded reveal, then the post as written with
its spans marked, hidden characters as badges and mixed-script letters named; all escaped."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from brightline.accounts import AccountRole
from brightline.review import AuditEntry, Item
from brightline.review.text_cases import TextDocument, TextHitRecord
from brightline.settings import Settings
from brightline.storage import create_engine_for, session_factory
from brightline.text.highlight import is_hidden
from brightline.web.text_items import text_item_view
from tests.web.conftest import NAMES, form_fields, login
from tests.web.text_seed import POST, seed_text_case


def test_a_text_case_shows_marked_spans_and_visible_hidden_characters_after_a_reveal(
    client: TestClient, settings: Settings
) -> None:
    seeded = seed_text_case(settings)
    job_id, item_id = seeded.job_ids[0], seeded.item_ids[0]
    login(client, NAMES[AccountRole.REVIEWER])
    page = client.get(f"/console/jobs/{job_id}").text
    assert 'class="text-item"' in page
    assert "term list coded" in page
    assert "signal url" in page
    assert "drop" not in page
    assert "example.org" not in page
    # Someone else's (or no) reveal does not show the text.
    assert "post-text" not in client.get(f"/console/jobs/{job_id}?show={item_id}").text

    action = f"/console/items/{item_id}/reveal"
    revealed = client.post(action, data=form_fields(page, action))
    assert revealed.status_code == 303
    shown = client.get(revealed.headers["location"])
    assert shown.status_code == 200
    html = shown.text
    assert '<div class="post-text" dir="ltr">' in html
    assert 'title="hit 1: list coded, term zorblax, homoglyph (token mode), weight 2' in html
    assert 'class="hit overlap"' in html  # the nested compact hit shares runs with the first
    assert "hit 3: list coded, term quenvik, exact" in html
    assert "signal 1: url, confidence 0.90" in html
    for badge in ("U+202E", "U+202C", "U+200B", "U+E0041"):
        assert '<span class="hidden-char"' in html
        assert f"\u27e8{badge}\u27e9" in html
    assert 'title="RIGHT-TO-LEFT OVERRIDE"' in html
    # The characters themselves are never sent: nothing can reorder the page.
    for hidden in ("\u202e", "\u202c", "\u200b", "\U000e0041"):
        assert hidden not in html
    assert (
        'class="mixed-letter script-cyrillic" title="Cyrillic letter in a mixed-script word"'
        in html
    )
    assert "<td>Latin, Cyrillic</td>" in html
    # User text is text: the markup in the post is escaped, never rendered.
    assert "&lt;b&gt;<mark" in html
    assert "<b>quenvik" not in html
    assert "https://example.org/x" in html
    assert "no decision" not in html
    assert 'id="text-only"' not in html  # the decision form (and its note) needs a claim

    engine = create_engine_for(settings.database_url)
    with session_factory(engine)() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert item.viewed_by_person
        reveals = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "reveal", AuditEntry.object_id == str(item_id)
            )
        ).all()
        assert len(reveals) == 1
    engine.dispose()

    # Claimed, the decision form says what a verdict on text means.
    claim = f"/console/jobs/{job_id}/claim"
    assert client.post(claim, data=form_fields(html, claim)).status_code == 303
    page = client.get(f"/console/jobs/{job_id}").text
    assert 'id="text-only"' in page
    assert "never filed in a report" in page
    assert POST[:3] == "new"


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    st.text(
        st.one_of(st.characters(codec=None), st.sampled_from("<>&\"'\u202e\u2066\u200b\u0430")),
        max_size=30,
    ),
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8)), max_size=4),
)
def test_any_text_renders_as_escaped_utf8_without_hidden_characters(
    text: str, spans: list[tuple[int, int]]
) -> None:
    hits = tuple(
        TextHitRecord("coded", "v1", "<term>", "token", "exact", start, end, 1.0, False)
        for start, length in spans
        if (end := min(start + length, len(text))) > start
    )
    view = text_item_view(TextDocument(post_id="p", text=text, hits=hits, signals=()))
    html = str(view.html)
    html.encode("utf-8")  # lone surrogates never reach the page
    assert not any(is_hidden(char) for char in html)
    assert "<term>" not in html  # titles are escaped too
    stripped = re.sub(r"<[^>]*>", "", html)
    assert "<" not in stripped  # every "<" of the text was escaped
    assert ("<mark" in html) == bool(hits)
