"""Property: whatever text a platform hands us, a report is schema-valid or refused — never broken.

Hypothesis draws arbitrary Unicode (control characters, lone surrogates, markup-looking text,
U+FFFE) for the reported user's names and ids, the reporter settings and the context, and
builds a report on a real SQLite database; each example runs in its own rolled-back
transaction. Every outcome must be either a document that validates against the reference
schema (with the drawn text intact) or an :class:`InvalidInput`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.reports import (
    FileContext,
    IncidentType,
    Party,
    PersonDetails,
    ReportContext,
    WebPageIncident,
    build_report,
    validate_file_details_xml,
    validate_report_xml,
)
from brightline.review import DecisionKind, SubjectRef, flag_content, record_reveal
from brightline.storage import create_engine_for, session_factory, upgrade_database
from tests.reports.helpers import NOW, REPORTER, content, parse, schema_path, settle, texts

_examples = itertools.count(1)

# Mostly text a report can carry (any script, emoji, markup characters), sometimes anything a
# Python string can hold or a known troublemaker appended. Database-bound fields leave out lone
# surrogates, which no UTF-8 database column can store in the first place.
printable = st.text(st.characters(exclude_categories=("Cc", "Cs", "Cn")), min_size=1, max_size=12)
anything = st.text(max_size=12)
storable = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
tricky = st.sampled_from(["</screenName>", "<x/>", "&amp;", "]]>", "\x00", "\r\n", "\ufffe", " "])


def mixed(rare: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Usually reportable text; one draw in four is arbitrary or ends in a troublemaker."""
    return st.one_of(
        printable,
        printable,
        printable,
        st.one_of(rare, st.builds(lambda a, b: a + b, printable, tricky)),
    )


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'brightline.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user_id=mixed(storable),
    screen_name=st.none() | mixed(storable),
    display_name=st.none() | mixed(storable),
    company=mixed(anything),
    first_name=mixed(anything),
    url=mixed(anything),
    original_name=st.none() | mixed(anything),
    victim_name=st.none() | mixed(anything),
    viewed=st.booleans(),
)
def test_reports_are_valid_or_refused(
    sqlite_engine: Engine,
    user_id: str,
    screen_name: str | None,
    display_name: str | None,
    company: str,
    first_name: str,
    url: str,
    original_name: str | None,
    victim_name: str | None,
    viewed: bool,
) -> None:
    schema = schema_path()
    example = next(_examples)
    with session_factory(sqlite_engine)() as session:
        try:
            check_one(
                session,
                schema,
                example,
                subject=SubjectRef(
                    service="example-service",
                    platform_user_id=user_id,
                    screen_name=screen_name,
                    display_name=display_name,
                ),
                company=company,
                first_name=first_name,
                url=url,
                original_name=original_name,
                victim_name=victim_name,
                viewed=viewed,
            )
        finally:
            session.rollback()


def check_one(
    session: Session,
    schema: Path,
    example: int,
    *,
    subject: SubjectRef,
    company: str,
    first_name: str,
    url: str,
    original_name: str | None,
    victim_name: str | None,
    viewed: bool,
) -> None:
    try:
        flagged = flag_content(
            session=session,
            subject=subject,
            content=content(example),
            matches=[],
            source="upload",
            now=NOW,
        )
    except InvalidInput:
        return  # the review core refused the subject (blank or too long): nothing to report
    if viewed:
        record_reveal(session=session, item_id=flagged.item.id, reviewer="reviewer-a", now=NOW)
    settle(session, flagged.job.id, DecisionKind.CONFIRM)
    try:
        context = ReportContext(
            internet_details=(WebPageIncident(urls=(url,)),),
            victims=(Party(person=PersonDetails(first_name=victim_name)),)
            if victim_name is not None
            else (),
            files={flagged.item.id: FileContext(original_file_name=original_name)},
        )
        built = build_report(
            session=session,
            case_id=flagged.case.id,
            reporter=replace(REPORTER, company_name=company, contact_first_name=first_name),
            context=context,
            incident_type=IncidentType.CHILD_PORNOGRAPHY,
            now=NOW,
        )
    except InvalidInput:
        event("refused")
        return
    validate_report_xml(built.xml, schema)
    report = parse(built.xml)
    assert texts(report, "personOrUserReported/espIdentifier") == [subject.platform_user_id]
    assert texts(report, "internetDetails/webPageIncident/url") == [url]
    event("built")
    (file,) = built.files
    details = file.file_details(12345, "0123abcd")
    validate_file_details_xml(details, schema)
    assert texts(parse(details), "fileViewedByEsp") == ["true" if viewed else "false"]
