"""Term banks in the database (both databases): versions, provenance, import and export, loading
into the matcher, and the review queue of discovery candidates. Placeholder terms only."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from brightline.errors import Conflict, InvalidInput, NotFound
from brightline.text.discovery import Candidate, Method
from brightline.text.matching import TermMatcher
from brightline.text.models import CandidateStatus, TermBankTerm, VariantCandidate
from brightline.text.term_banks import (
    accept_candidate,
    add_term,
    create_list,
    decided_tags,
    export_terms,
    import_terms,
    list_candidates,
    list_lists,
    load_term_list,
    queue_candidates,
    reject_candidate,
    remove_term,
    terms_at,
)
from brightline.text.terms import MatchMode, TermList

ACTOR = "test-curator"
CSV_FILE = (
    b"term,mode,weight,note\n"
    b"zorblax,token,2,seen in placeholder set\n"
    b"placeholderterm,compact,2.5,\n"
    b"quenvik,hashtag,,\n"
)


def _candidate(tag: str, score: float = 0.05, **evidence: str | int | float) -> Candidate:
    ranks: Mapping[Method, int] = {Method.COOCCURRENCE: 2, Method.SPELLING: 1}
    return Candidate(tag=tag, rank=1, score=score, ranks=ranks, evidence=evidence)


def test_lists_terms_and_versions(session: Session) -> None:
    create_list(session=session, name="coded", description="placeholder list", actor=ACTOR)
    with pytest.raises(Conflict, match="already exists"):
        create_list(session=session, name="coded", actor=ACTOR)
    first = add_term(session=session, list_name="coded", text=" zorblax ", actor=ACTOR)
    add_term(session=session, list_name="coded", text="quenvik", mode="hashtag", actor=ACTOR)
    assert (first.text, first.added_version, first.source) == ("zorblax", 1, "manual")
    with pytest.raises(Conflict, match="already has that term in mode token"):
        add_term(session=session, list_name="coded", text="ZORBLAX", actor=ACTOR)
    add_term(session=session, list_name="coded", text="zorblax", mode="compact", actor=ACTOR)
    removed = remove_term(session=session, list_name="coded", text="Zorblax", actor=ACTOR)
    assert {row.mode for row in removed} == {"token", "compact"}
    (summary,) = list_lists(session=session)
    assert (summary.name, summary.version, summary.terms) == ("coded", 4, 1)
    # Every earlier version can be rebuilt; removal keeps the history.
    assert [row.text for row in terms_at(session=session, list_name="coded", version=1)[1]] == [
        "zorblax"
    ]
    at_three = terms_at(session=session, list_name="coded", version=3)[1]
    assert [(row.text, row.mode) for row in at_three] == [
        ("zorblax", "token"),
        ("quenvik", "hashtag"),
        ("zorblax", "compact"),
    ]
    assert terms_at(session=session, list_name="coded", version=0)[1] == []
    with pytest.raises(NotFound, match="no version 9"):
        terms_at(session=session, list_name="coded", version=9)
    # A removed term may come back: a new row, a new version.
    back = add_term(session=session, list_name="coded", text="zorblax", actor=ACTOR)
    assert back.added_version == 5
    assert session.scalar(select(TermBankTerm.removed_by).where(TermBankTerm.id == first.id))


BAD_TERMS: list[tuple[dict[str, Any], str]] = [
    ({"text": "  "}, "empty term"),
    ({"text": "#quenvik"}, "without its #"),
    ({"text": "zor\nblax"}, "one line"),
    ({"text": "x" * 201}, "longer than 200"),
    ({"text": "..."}, "nothing is left"),
    ({"text": "zorblax", "mode": "fuzzy"}, "unknown match mode"),
    ({"text": "zorblax", "weight": -1.0}, "weight must be"),
    ({"text": "zorblax", "weight": float("nan")}, "weight must be"),
    ({"text": "zorblax", "weight": float("inf")}, "weight must be"),
]


def test_bad_terms_are_refused(session: Session) -> None:
    """One database for all the cases: each is refused before anything is written."""
    create_list(session=session, name="coded", actor=ACTOR)
    for kwargs, message in BAD_TERMS:
        with pytest.raises(InvalidInput, match=message):
            add_term(session=session, list_name="coded", actor=ACTOR, **kwargs)
    assert list_lists(session=session)[0].version == 0


def test_unknown_lists_and_bad_names(session: Session) -> None:
    with pytest.raises(NotFound, match="no term list named missing"):
        add_term(session=session, list_name="missing", text="zorblax", actor=ACTOR)
    with pytest.raises(NotFound):
        export_terms(session=session, list_name="missing", format="csv")
    with pytest.raises(InvalidInput, match="printable"):
        create_list(session=session, name=" padded", actor=ACTOR)
    with pytest.raises(InvalidInput, match="actor"):
        create_list(session=session, name="coded", actor=" ")


def test_import_csv_and_plain_with_provenance(session: Session) -> None:
    create_list(session=session, name="coded", actor=ACTOR)
    result = import_terms(
        session=session, list_name="coded", data=CSV_FILE, format="csv", actor=ACTOR
    )
    assert (result.version, result.added, result.already_listed) == (1, 3, 0)
    plain = b"# placeholder list\n\nzorblax\n#quenvik\nvorpel\nvorpel\n"
    again = import_terms(
        session=session, list_name="coded", data=plain, format="plain", actor="other"
    )
    assert (again.version, again.added, again.already_listed, again.repeated) == (2, 1, 2, 1)
    rows = terms_at(session=session, list_name="coded")[1]
    assert [(row.text, row.mode, row.weight, row.note) for row in rows] == [
        ("zorblax", "token", 2.0, "seen in placeholder set"),
        ("placeholderterm", "compact", 2.5, None),
        ("quenvik", "hashtag", 1.0, None),
        ("vorpel", "token", 1.0, None),
    ]
    assert rows[0].source == "import"
    assert rows[0].source_ref.startswith("sha256:")
    assert rows[3].added_by == "other"
    assert rows[3].added_version == 2
    # Importing the same file again changes nothing, not even the version.
    same = import_terms(session=session, list_name="coded", data=plain, format="plain", actor=ACTOR)
    assert (same.version, same.added) == (2, 0)


BAD_FILES = [
    (b"term,mode,weight\nzorblax,token,1\nquenvik,fuzzy,1\n", "coded.csv:3: unknown match"),
    (b"zorblax,token,1\nquenvik,token,heavy\n", "coded.csv:2: weight is not a number"),
    (b"zorblax,token,1\nquenvik,token,-2\n", "coded.csv:2: weight must be"),
    (b"zorblax\nquenvik,token,1,extra\n", "coded.csv:2: expected term,mode,weight"),
    (b"term,mode\nzorblax,token,1\n", "coded.csv:2: expected term,mode"),
    (b'zorblax\n"unclosed,token\n', "coded.csv:2: bad CSV"),
    (b"zorblax\n,token,1\n", "coded.csv:2: empty term"),
    (b"zorblax,token,1\n...,token,1\n", "coded.csv:2: nothing is left"),
    (b"zorblax,token,1\n#quenvik,token,1\n", "coded.csv:2: write a hashtag term without its #"),
    (b"zorblax,token,1\n\xff\n", "coded.csv:2: not valid UTF-8"),
    (b"term,mode\n", "coded.csv: no terms"),
]


def test_bad_rows_name_their_line_and_import_nothing(session: Session) -> None:
    create_list(session=session, name="coded", actor=ACTOR)
    for data, message in BAD_FILES:
        with pytest.raises(InvalidInput, match=message):
            import_terms(
                session=session,
                list_name="coded",
                data=data,
                format="csv",
                actor=ACTOR,
                source_name="coded.csv",
            )
    with pytest.raises(InvalidInput, match=r"plain\.txt:3: write a hashtag term"):
        import_terms(session=session, list_name="coded", data=b"zorblax\n\n##quenvik\n",
                     format="plain", actor=ACTOR, source_name="plain.txt")  # fmt: skip
    assert session.scalars(select(TermBankTerm)).all() == []
    assert list_lists(session=session)[0].version == 0


def test_export_current_and_earlier_versions(session: Session, tmp_path: Path) -> None:
    create_list(session=session, name="coded", actor=ACTOR)
    import_terms(session=session, list_name="coded", data=b"zorblax\n#quenvik\n", format="plain",
                 actor=ACTOR)  # fmt: skip
    add_term(session=session, list_name="coded", text="placeholderterm", mode="compact",
             weight=2.5, note="a, quoted note", actor=ACTOR)  # fmt: skip
    assert export_terms(session=session, list_name="coded", format="plain", version=1) == (
        "# term list coded, version 1\nzorblax\n#quenvik\n"
    )
    with pytest.raises(InvalidInput, match="export it as CSV"):
        export_terms(session=session, list_name="coded", format="plain")
    rows = list(csv.DictReader(io.StringIO(export_terms(
        session=session, list_name="coded", format="csv"))))  # fmt: skip
    assert [(row["term"], row["mode"], row["weight"], row["added_version"]) for row in rows] == [
        ("zorblax", "token", "1.0", "1"),
        ("quenvik", "hashtag", "1.0", "1"),
        ("placeholderterm", "compact", "2.5", "2"),
    ]
    assert rows[2]["note"] == "a, quoted note"
    assert rows[2]["source"] == "manual"
    with pytest.raises(InvalidInput, match="plain or csv"):
        export_terms(session=session, list_name="coded", format="xml")
    # The export, provenance columns and all, loads as a file term list too.
    exported = tmp_path / "coded.csv"
    exported.write_text(export_terms(session=session, list_name="coded", format="csv"))
    loaded = TermList.load(exported)
    assert [(term.text, term.mode, term.weight, term.note) for term in loaded.terms] == [
        ("zorblax", MatchMode.TOKEN, 1.0, None),
        ("quenvik", MatchMode.HASHTAG, 1.0, None),
        ("placeholderterm", MatchMode.COMPACT, 2.5, "a, quoted note"),
    ]


def test_a_database_list_feeds_the_matcher(session: Session) -> None:
    create_list(session=session, name="coded", actor=ACTOR)
    with pytest.raises(InvalidInput, match="has no terms"):
        load_term_list(session=session, name="coded")
    import_terms(session=session, list_name="coded", data=CSV_FILE, format="csv", actor=ACTOR)
    remove_term(session=session, list_name="coded", text="quenvik", actor=ACTOR)
    term_list = load_term_list(session=session, name="coded")
    assert (term_list.name, term_list.version, len(term_list.terms)) == ("coded", "v2", 2)
    hits = TermMatcher([term_list]).match("a z0rbl@x and #quenvik")
    assert [(hit.term, hit.list_version, hit.weight) for hit in hits] == [("zorblax", "v2", 2.0)]
    older = load_term_list(session=session, name="coded", version=1)
    assert older.version == "v1"
    assert len(older.terms) == 3


def test_candidates_queue_accept_reject_and_are_remembered(session: Session) -> None:
    create_list(session=session, name="coded", actor=ACTOR)
    add_term(session=session, list_name="coded", text="zorblax", mode="hashtag", actor=ACTOR)
    found = [
        _candidate("z0rblax", 0.09, posts=4, relation="same"),
        _candidate("mivadu", 0.05, posts=8, npmi=1.0),
        _candidate("ZorBlax", 0.04),  # already on the list, by its tag key
        _candidate("tepolu", 0.01),
    ]
    first = queue_candidates(session=session, list_name="coded", candidates=found)
    assert (first.queued, first.already_listed) == (3, 1)
    pending = list_candidates(session=session, list_name="coded")
    assert [item.tag for item in pending] == ["z0rblax", "mivadu", "tepolu"]
    assert pending[0].ranks == {"cooccurrence": 2, "spelling": 1}
    assert pending[0].evidence == {"posts": 4, "relation": "same"}

    accepted = accept_candidate(
        session=session, candidate_id=pending[0].id, actor="lead-1", reason="a variant"
    )
    assert accepted.status is CandidateStatus.ACCEPTED
    assert accepted.term_id is not None
    term = session.get(TermBankTerm, accepted.term_id)
    assert term is not None
    assert (term.text, term.mode, term.source, term.source_ref, term.added_by) == (
        "z0rblax", "hashtag", "discovery", f"candidate:{pending[0].id}", "lead-1",
    )  # fmt: skip
    rejected = reject_candidate(
        session=session, candidate_id=pending[1].id, actor="lead-1", reason="a context tag"
    )
    assert (rejected.status, rejected.reason) == (CandidateStatus.REJECTED, "a context tag")
    with pytest.raises(Conflict, match="already rejected"):
        accept_candidate(session=session, candidate_id=pending[1].id, actor="lead-1")
    with pytest.raises(NotFound):
        reject_candidate(session=session, candidate_id=999_999, actor="lead-1")
    assert sorted(decided_tags(session=session, list_name="coded")) == ["mivadu", "z0rblax"]

    # A later run: the rejected and the accepted tag are not queued again, a pending one is
    # refreshed with the new evidence.
    later = datetime(2030, 1, 1, tzinfo=UTC)
    second = queue_candidates(
        session=session,
        list_name="coded",
        candidates=[_candidate("MIVADU"), _candidate("z0rblax"), _candidate("tepolu", 0.2)],
        now=later,
    )
    assert (second.queued, second.refreshed, second.already_rejected) == (0, 1, 1)
    assert second.already_decided == 1
    (still,) = list_candidates(session=session, list_name="coded")
    assert (still.tag, still.score, still.last_seen_at) == ("tepolu", 0.2, later)
    everything = list_candidates(session=session, status=None)
    assert {item.status for item in everything} == set(CandidateStatus)
    assert session.scalar(select(VariantCandidate.id).where(VariantCandidate.key == "mivadu"))
