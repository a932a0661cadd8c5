"""The intake over HTTP: Brightline's own submission client against it, and the protocol's
edge cases answered with the documented ``responseCode`` values.

The end-to-end test runs the intake under uvicorn on loopback and drives it with
:class:`~brightline.clearinghouse_client.client.CyberTiplineClient`, unchanged: if the two
ever disagree on the wire, it fails here. The edge cases use the in-process TestClient.
"""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse import intake
from brightline.clearinghouse.intake import report_files
from brightline.clearinghouse.models import IntakeFile, IntakeReport
from brightline.clearinghouse_client import errors as client_errors
from brightline.clearinghouse_client.client import CyberTiplineClient
from brightline.evidence.store import EvidenceStore
from brightline.reports.report_xml import file_details_for_upload
from tests.clearinghouse_intake.conftest import (
    INVALID_REPORT,
    PASSWORD,
    PROVIDER,
    VALID_REPORT,
    file_details,
)

FILE_DETAILS_TEMPLATE = (
    "<fileDetails><fileViewedByEsp>false</fileViewedByEsp>"
    '<originalFileHash hashType="MD5">{md5}</originalFileHash></fileDetails>'
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b"]><report>&c;&c;&c;&c;</report>"
)
XML = {"Content-Type": "text/xml; charset=utf-8"}


def answer(response: httpx.Response) -> dict[str, str]:
    """The ``reportResponse`` fields of an answer."""
    root = etree.fromstring(response.content)
    assert root.tag == "reportResponse"
    return {child.tag: child.text or "" for child in root}


def code(response: httpx.Response) -> int:
    return int(answer(response)["responseCode"])


def submitted(http: TestClient, document: bytes = VALID_REPORT) -> int:
    response = http.post("submit", content=document, headers=XML)
    assert code(response) == 0, answer(response)
    return int(answer(response)["reportId"])


def uploaded(http: TestClient, report_id: int, data: bytes) -> dict[str, str]:
    response = http.post("upload", data={"id": str(report_id)}, files={"file": ("f", data)})
    return answer(response)


def counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        reports = session.scalar(select(func.count()).select_from(IntakeReport))
        files = session.scalar(select(func.count()).select_from(IntakeFile))
        return int(reports or 0), int(files or 0)


def test_brightline_s_own_client_submits_a_report_end_to_end(
    intake_url: str, sessions: sessionmaker[Session], store: EvidenceStore
) -> None:
    data = os.urandom(50_000)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    with CyberTiplineClient(intake_url, PROVIDER, PASSWORD, timeout=10) as client:
        client.status()
        report_id = client.submit(VALID_REPORT)
        chunks = (data[start : start + 8192] for start in range(0, len(data), 8192))
        receipt = client.upload(report_id, "item-1", chunks)  # checks the server's MD5
        assert receipt.md5 == md5
        details = FILE_DETAILS_TEMPLATE.format(md5=md5)
        client.fileinfo(file_details_for_upload(details, report_id, receipt.file_id))
        client.finish(report_id)
        # The codes map back to the client's own errors: a lost finish answer is resent.
        with pytest.raises(client_errors.AlreadyFinished):
            client.finish(report_id)
        with pytest.raises(client_errors.ReportRejected, match="incidentType"):
            client.submit(INVALID_REPORT)
    with (
        CyberTiplineClient(intake_url, PROVIDER, "wrong password 12", timeout=10) as client,
        pytest.raises(client_errors.AuthenticationFailed),
    ):
        client.status()
    with sessions() as session:
        report = session.get(IntakeReport, report_id)
        assert report is not None
        assert report.status == "finished"
        (stored,) = report_files(session=session, report_id=report_id)
        assert (stored.file_id, stored.md5, stored.size) == (receipt.file_id, md5, len(data))
        assert stored.details is not None
        assert f"<reportId>{report_id}</reportId>" in stored.details
    assert store.read(stored.vault_ref) == data


def test_missing_or_wrong_credentials_answer_2000_with_401(http: TestClient) -> None:
    for auth in [None, (PROVIDER, "wrong password 12"), ("nobody", PASSWORD)]:
        http.auth = auth  # type: ignore[assignment]
        response = http.get("status")
        assert response.status_code == 401
        assert code(response) == 2000
        assert response.headers["www-authenticate"].startswith("Basic")
    response = http.get("status", headers={"Authorization": "Basic not-base64!"})
    assert code(response) == 2000


def test_credentials_are_checked_before_the_body(
    http: TestClient, sessions: sessionmaker[Session]
) -> None:
    http.auth = (PROVIDER, "wrong password 12")
    assert code(http.post("submit", content=VALID_REPORT, headers=XML)) == 2000
    assert counts(sessions) == (0, 0)


def test_status_and_xsd_answer(http: TestClient) -> None:
    assert answer(http.get("status"))["responseCode"] == "0"
    schema = http.get("xsd")
    assert schema.status_code == 200
    assert b"schema" in schema.content


@pytest.mark.parametrize(
    ("document", "expected", "named"),
    [
        (b"<report><incidentSummary>", 4000, "well-formed"),
        (BILLION_LAUGHS, 4000, "DTD"),
        (
            b'<!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/hostname">]><report>&x;</report>',
            4000,
            "DTD",
        ),
        (INVALID_REPORT, 4100, "/report/incidentSummary/incidentType"),
    ],
    ids=["malformed", "billion-laughs", "external-entity", "schema-invalid"],
)
def test_refused_documents_are_answered_and_nothing_is_stored(
    http: TestClient,
    sessions: sessionmaker[Session],
    document: bytes,
    expected: int,
    named: str,
) -> None:
    response = http.post("submit", content=document, headers=XML)
    assert response.status_code == 200
    assert code(response) == expected
    assert named in answer(response)["responseDescription"]
    assert counts(sessions) == (0, 0)


def test_upload_edge_cases(http: TestClient, sessions: sessionmaker[Session]) -> None:
    finished = submitted(http)
    assert code(http.post("finish", data={"id": str(finished)})) == 0
    assert uploaded(http, 987_654_321, b"data")["responseCode"] == "5001"
    assert uploaded(http, finished, b"data")["responseCode"] == "5102"
    open_report = submitted(http)
    no_file = http.post("upload", data={"id": str(open_report)})
    assert code(no_file) == 4000
    no_id = http.post("upload", files={"file": ("f", b"data")})
    assert code(no_id) == 4000
    too_large = uploaded(http, open_report, b"x" * 100_001)
    assert too_large["responseCode"] == "4000"
    assert counts(sessions) == (2, 0)


def test_another_provider_cannot_see_or_touch_a_report(http: TestClient) -> None:
    report_id = submitted(http)
    http.auth = ("esp-other", PASSWORD)
    assert code(http.post("finish", data={"id": str(report_id)})) == 5001
    assert uploaded(http, report_id, b"data")["responseCode"] == "5001"


def test_fileinfo_edge_cases(http: TestClient) -> None:
    report_id = submitted(http)
    received = uploaded(http, report_id, b"synthetic placeholder bytes")
    assert received["responseCode"] == "0"
    unknown = file_details(report_id, "0" * 32, received["hash"])
    assert code(http.post("fileinfo", content=unknown, headers=XML)) == 5002
    invalid = file_details(report_id, received["fileId"], "not-a-hash").replace(
        b"false", b"perhaps"
    )
    refused = http.post("fileinfo", content=invalid, headers=XML)
    assert code(refused) == 4100
    assert "fileViewedByEsp" in answer(refused)["responseDescription"]
    good = file_details(report_id, received["fileId"], received["hash"])
    accepted = answer(http.post("fileinfo", content=good, headers=XML))
    assert (accepted["responseCode"], accepted["fileId"]) == ("0", received["fileId"])


def test_finish_twice_and_retract_then_finish(http: TestClient) -> None:
    finished, retracted = submitted(http), submitted(http)
    assert code(http.post("finish", data={"id": str(finished)})) == 0
    assert code(http.post("finish", data={"id": str(finished)})) == 5102
    assert code(http.post("retract", data={"id": str(retracted)})) == 0
    assert code(http.post("finish", data={"id": str(retracted)})) == 5101
    assert code(http.post("retract", data={"id": str(retracted)})) == 5101
    assert code(http.post("finish", data={"id": "twelve"})) == 4000
    assert code(http.post("finish", data={})) == 4000


def test_an_unexpected_failure_answers_1000_with_500(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: object) -> None:
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr("brightline.http.clearinghouse_routes.open_report", broken)
    response = http.post("submit", content=VALID_REPORT, headers=XML)
    assert response.status_code == 500
    assert answer(response) == {
        "responseCode": "1000",
        "responseDescription": "Server error",
    }
    assert intake.ResponseCode(1000).name == "SERVER_ERROR"
