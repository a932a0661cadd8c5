"""Term lists from plain text and CSV files, and their errors (which never quote a term)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brightline.errors import InvalidInput
from brightline.text.terms import MatchMode, Term, TermList


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_plain_text_one_term_per_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "coded.txt", "# a comment\n\nzorblax\n  quenvik vorp  \n#placeholderterm\n"
    )
    terms = TermList.load(path)
    assert terms.name == "coded"
    assert terms.version.startswith("sha256:")
    assert terms.terms == (
        Term("zorblax", line=3),
        Term("quenvik vorp", line=4),
        Term("placeholderterm", MatchMode.HASHTAG, line=5),
    )


def test_version_follows_content_and_can_be_given(tmp_path: Path) -> None:
    first = TermList.load(write(tmp_path, "a.txt", "zorblax\n"))
    same = TermList.load(write(tmp_path, "b.txt", "zorblax\n"), name="other")
    changed = TermList.load(write(tmp_path, "c.txt", "zorblax\nquenvik\n"))
    assert first.version == same.version != changed.version
    assert same.name == "other"
    assert TermList.load(tmp_path / "a.txt", version="2024-06").version == "2024-06"


def test_csv_with_header_modes_and_weights(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "coded.csv",
        'term,mode,weight\nzorblax,compact,2.5\nquenvik,,\nvorp,HASHTAG,0\n"a, b",token,1\n',
    )
    terms = TermList.load(path).terms
    assert terms == (
        Term("zorblax", MatchMode.COMPACT, 2.5, line=2),
        Term("quenvik", MatchMode.TOKEN, 1.0, line=3),
        Term("vorp", MatchMode.HASHTAG, 0.0, line=4),
        Term("a, b", MatchMode.TOKEN, 1.0, line=5),
    )


def test_csv_without_header(tmp_path: Path) -> None:
    terms = TermList.load(write(tmp_path, "t.csv", "zorblax\nquenvik,compact\n")).terms
    assert [term.mode for term in terms] == [MatchMode.TOKEN, MatchMode.COMPACT]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("term,mode,weight\nzorblax,fuzzy,1\n", "t.csv:2: unknown match mode"),
        ("zorblax,token,heavy\n", "t.csv:1: weight is not a number"),
        ("zorblax,token,-1\n", "t.csv:1: weight must be a finite number"),
        ("zorblax,token,nan\n", "t.csv:1: weight must be a finite number"),
        ("quenvik\n,token,1\n", "t.csv:2: empty term"),
        ("quenvik\nzorblax,token,1,extra\n", "t.csv:2: expected term,mode,weight"),
        ("term,mode,weight\n", "t.csv: no terms"),
    ],
)
def test_csv_errors_name_the_line_not_the_term(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        TermList.load(write(tmp_path, "t.csv", content))
    assert str(caught.value).startswith(message)
    assert "zorblax" not in str(caught.value)
    assert "quenvik" not in str(caught.value)


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"^t.txt:3: not valid UTF-8"):
        TermList.load(write(tmp_path, "t.txt", b"zorblax\nquenvik\n\xff\xfe\n"))


def test_empty_plain_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no terms"):
        TermList.load(write(tmp_path, "t.txt", "# only a comment\n\n"))
