"""Property: a term bank exported and imported again is the same list (terms, modes, weights,
notes), in CSV always and in plain text when the list fits it.

On SQLite only, with one database for the module and each example rolled back: the property is
about the formats, and the service tests run on both databases.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from brightline.storage import create_engine_for, session_factory
from brightline.text.term_banks import (
    add_term,
    create_list,
    export_terms,
    import_terms,
    term_key,
    terms_at,
)
from brightline.text.terms import MatchMode

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789äöéßøñ"
"""Placeholder-term material: letters (some outside ASCII), digits, and the characters CSV
must quote."""


@pytest.fixture(scope="module")
def sessions(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    path = tmp_path_factory.mktemp("roundtrip") / "brightline.db"
    shutil.copyfile(_sqlite_template, path)
    engine: Engine = create_engine_for(f"sqlite:///{path}")
    yield session_factory(engine)
    engine.dispose()


term_texts = (
    st.text(alphabet=LETTERS + ' ,"-', min_size=1, max_size=24)
    .map(str.strip)
    .filter(lambda text: any(char.isalnum() for char in text))
)
notes = st.one_of(
    st.none(),
    st.text(alphabet=LETTERS + ' ,"\n;', min_size=1, max_size=30).map(str.strip).filter(bool),
)
weights = st.one_of(
    st.just(1.0), st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
)
terms = st.lists(
    st.tuples(term_texts, st.sampled_from(list(MatchMode)), weights, notes),
    min_size=1,
    max_size=12,
    unique_by=lambda item: (term_key(item[0]), item[1]),
)


def _contents(session: Session, name: str) -> list[tuple[str, str, float, str | None]]:
    rows = terms_at(session=session, list_name=name)[1]
    return [(row.text, row.mode, row.weight, row.note) for row in rows]


@settings(max_examples=40, deadline=None)
@given(items=terms)
def test_export_then_import_is_the_same_list(
    sessions: sessionmaker[Session], items: list[tuple[str, MatchMode, float, str | None]]
) -> None:
    with sessions() as session:
        try:
            create_list(session=session, name="original", actor="test")
            for text, mode, weight, note in items:
                add_term(session=session, list_name="original", text=text, mode=mode,
                         weight=weight, note=note, actor="test")  # fmt: skip
            original = _contents(session, "original")
            exported = export_terms(session=session, list_name="original", format="csv")
            create_list(session=session, name="copy", actor="test")
            import_terms(session=session, list_name="copy", data=exported.encode(),
                         format="csv", actor="test")  # fmt: skip
            assert _contents(session, "copy") == original
            again = export_terms(session=session, list_name="copy", format="csv")
            assert again.splitlines()[0] == exported.splitlines()[0]

            plain_fits = all(
                mode is not MatchMode.COMPACT and weight == 1.0 for _, mode, weight, _ in items
            )
            if plain_fits:
                plain = export_terms(session=session, list_name="original", format="plain")
                create_list(session=session, name="plain", actor="test")
                import_terms(session=session, list_name="plain", data=plain.encode(),
                             format="plain", actor="test")  # fmt: skip
                assert [item[:3] for item in _contents(session, "plain")] == [
                    item[:3] for item in original
                ]
        finally:
            session.rollback()
