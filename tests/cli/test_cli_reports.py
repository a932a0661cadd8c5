"""``brightline reports build`` and ``brightline reports show``, on SQLite and PostgreSQL.

Files are random bytes in a test vault; users are placeholders; context is synthetic.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse_client.models import ReportSubmission
from brightline.cli.main import cli
from brightline.evidence.store import EvidenceStore
from brightline.reports import Report
from brightline.review import AuditAction, ContentFacts, SubjectRef, flag_content, query_audit
from brightline.review.models import Item
from tests.reports.helpers import settle

UPLOADED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@dataclass
class Setup:
    env: dict[str, str]
    case_id: int
    item_ids: list[int]
    store: EvidenceStore


@pytest.fixture
def setup(sessions: sessionmaker[Session], database_url: str, tmp_path: Path) -> Setup:
    """A case with two confirmed items whose (random) bytes are in the vault."""
    key = secrets.token_bytes(32)
    store = EvidenceStore(tmp_path / "evidence", key)
    item_ids = []
    with sessions.begin() as session:
        for _ in range(2):
            data = os.urandom(2048)
            flagged = flag_content(
                session=session,
                subject=SubjectRef(service="example-service", platform_user_id="user-0001"),
                content=ContentFacts(
                    sha256=hashlib.sha256(data).hexdigest(),
                    md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                    sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                    media_type="image/png",
                    media_ref=store.put(data),
                    uploaded_at=UPLOADED,
                ),
                matches=[],
                source="upload",
            )
            settle(session, flagged.job.id)
            item_ids.append(flagged.item.id)
        case_id = flagged.case.id
    env = {
        "BRIGHTLINE_DATABASE_URL": database_url,
        "BRIGHTLINE_HOME": str(tmp_path),
        "BRIGHTLINE_EVIDENCE_KEY": base64.b64encode(key).decode(),
        "BRIGHTLINE_REPORTER_COMPANY_NAME": "Example Platform Inc.",
        "BRIGHTLINE_REPORTER_CONTACT_FIRST_NAME": "Placeholder",
        "BRIGHTLINE_REPORTER_CONTACT_LAST_NAME": "Contact",
        "BRIGHTLINE_REPORTER_CONTACT_EMAIL": "reports@example.org",
        "BRIGHTLINE_ENRICHMENT_PLUGIN": "tests.reports.plugins:Enricher",
    }
    return Setup(env=env, case_id=case_id, item_ids=item_ids, store=store)


def run(setup: Setup, *args: str, **env: str) -> Result:
    return CliRunner().invoke(cli, ["reports", *args], env={**setup.env, **env})


def test_build_queues_and_show_reports_it(setup: Setup, sessions: sessionmaker[Session]) -> None:
    built = run(setup, "build", str(setup.case_id), "--incident-type", "child-pornography")
    assert built.exit_code == 0, built.output
    fields = built.stdout.strip().split("\t")
    report_id = int(fields[0].removeprefix("report "))
    assert fields[1] == f"case={setup.case_id}"
    assert fields[2].startswith("submission ")
    assert fields[3] == f"items={setup.item_ids[0]},{setup.item_ids[1]}"

    shown = run(setup, "show", str(report_id))
    assert shown.exit_code == 0, shown.output
    assert f"report:\t{report_id}" in shown.stdout
    assert "status:\tqueued" in shown.stdout
    assert "clearinghouse report id:\t-" in shown.stdout
    assert f"item {setup.item_ids[0]}:\tfile id=-" in shown.stdout
    with sessions() as session:
        (entry,) = query_audit(session=session, action=AuditAction.REPORT_BUILD)
        assert entry.actor.startswith("cli")
        assert json.loads(entry.detail)["enrichment"] == "PluginEnricher"

    again = run(setup, "build", str(setup.case_id), "--incident-type", "child-pornography")
    assert again.exit_code == 2
    assert "confirmed items not yet reported" in again.stderr


def test_no_queue_leaves_a_draft_and_the_schema_wording_is_accepted(setup: Setup) -> None:
    built = run(
        setup,
        "build",
        str(setup.case_id),
        "--incident-type",
        "Online Enticement of Children for Sexual Acts",
        "--no-queue",
        "--by",
        "lead-a",
    )
    assert built.exit_code == 0, built.output
    assert "\tdraft\t" in built.stdout
    report_id = built.stdout.split("\t")[0].removeprefix("report ")
    shown = run(setup, "show", report_id)
    assert "status:\tdraft" in shown.stdout
    assert "submission:\t-" in shown.stdout


def test_unknown_incident_types_are_usage_errors(setup: Setup) -> None:
    refused = run(setup, "build", str(setup.case_id), "--incident-type", "something")
    assert refused.exit_code == 2
    assert "child-pornography" in refused.output


def test_missing_media_is_refused_unless_allowed(
    setup: Setup, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:  # a reference to an object the vault does not hold
        session.execute(
            update(Item).where(Item.id == setup.item_ids[1]).values(media_ref="sha256:" + "0" * 64)
        )
    refused = run(setup, "build", str(setup.case_id), "--incident-type", "child-pornography")
    assert refused.exit_code == 2
    assert f"item(s) {setup.item_ids[1]} is missing from the evidence vault" in refused.stderr

    allowed = run(
        setup,
        "build",
        str(setup.case_id),
        "--incident-type",
        "child-pornography",
        "--allow-missing-media",
    )
    assert allowed.exit_code == 0, allowed.output
    assert f"items={setup.item_ids[0]}" in allowed.stdout
    assert f"left out item(s) {setup.item_ids[1]}" in allowed.stderr
    with sessions() as session:
        (omitted,) = query_audit(session=session, action=AuditAction.REPORT_OMIT)
        assert omitted.object_id == str(setup.item_ids[1])


def test_context_file_supplies_what_no_enricher_knows(setup: Setup, tmp_path: Path) -> None:
    none = {"BRIGHTLINE_ENRICHMENT_PLUGIN": ""}
    case = str(setup.case_id)
    refused = run(setup, "build", case, "--incident-type", "child-pornography", **none)
    assert refused.exit_code == 2
    assert "context.internet_details" in refused.stderr

    bad = tmp_path / "bad.json"
    bad.write_text('{"internet_details": [{"type": "web_page", "url": "x"}]}')
    invalid = run(
        setup,
        "build",
        str(setup.case_id),
        "--incident-type",
        "child-pornography",
        "--context",
        str(bad),
        **none,
    )
    assert invalid.exit_code == 2
    assert 'context file: $.internet_details[0]: unknown field "url"' in invalid.stderr

    good = tmp_path / "context.json"
    good.write_text(
        json.dumps(
            {
                "internet_details": [{"type": "web_page", "urls": ["https://example.org/p/1"]}],
                "files": {str(setup.item_ids[0]): {"publicly_available": False}},
            }
        )
    )
    built = run(
        setup,
        "build",
        str(setup.case_id),
        "--incident-type",
        "child-pornography",
        "--context",
        str(good),
        **none,
    )
    assert built.exit_code == 0, built.output


def test_an_unreachable_enrichment_webhook_is_an_external_failure(setup: Setup) -> None:
    failed = run(
        setup,
        "build",
        str(setup.case_id),
        "--incident-type",
        "child-pornography",
        BRIGHTLINE_ENRICHMENT_PLUGIN="",
        BRIGHTLINE_ENRICHMENT_URL="http://127.0.0.1:9/enrich",
        BRIGHTLINE_ENRICHMENT_SECRET="placeholder-secret",  # noqa: S106
        BRIGHTLINE_ENRICHMENT_TIMEOUT_SECONDS="2",
    )
    assert failed.exit_code == 3
    assert "could not connect to the enrichment webhook at http://127.0.0.1:9" in failed.stderr


def test_show_a_failed_report_exits_1_with_the_retry_hint(
    setup: Setup, sessions: sessionmaker[Session]
) -> None:
    built = run(setup, "build", str(setup.case_id), "--incident-type", "child-pornography")
    report_id = int(built.stdout.split("\t")[0].removeprefix("report "))
    with sessions.begin() as session:
        session.execute(
            update(ReportSubmission)
            .where(ReportSubmission.report_id == report_id)
            .values(status="failed", last_error="AuthenticationFailed: 2000")
        )
        session.execute(update(Report).where(Report.id == report_id).values(status="failed"))
        submission_id = session.scalar(select(ReportSubmission.id))
    shown = run(setup, "show", str(report_id))
    assert shown.exit_code == 1
    assert "last error:\tAuthenticationFailed: 2000" in shown.stdout
    assert f"`brightline reports retry {submission_id}`" in shown.stderr

    unknown = run(setup, "show", "999999")
    assert unknown.exit_code == 2
    assert "no report with id 999999" in unknown.stderr
