"""The client against the lifecycle server on loopback: parsing, MD5 checks, error mapping."""

from __future__ import annotations

import hashlib
import os
import pickle
import socket

import pytest

from brightline.clearinghouse_client.client import CyberTiplineClient, parse_response
from brightline.clearinghouse_client.errors import (
    AlreadyFinished,
    AuthenticationFailed,
    PermanentError,
    ReportRejected,
    TransientError,
    UnknownRemoteObject,
    UploadCorrupted,
)
from brightline.errors import InvalidInput, UpstreamError
from brightline.settings import CyberTiplineSettings, load_cybertipline_settings
from tests.clearinghouse_client.conftest import INVALID_REPORT, VALID_REPORT
from tests.clearinghouse_client.lifecycle_server import USERNAME, Fault, ServerState


def _details(report_id: int, file_id: str, md5: str) -> bytes:
    return (
        f"<fileDetails><reportId>{report_id}</reportId><fileId>{file_id}</fileId>"
        f'<originalFileHash hashType="MD5">{md5}</originalFileHash></fileDetails>'
    ).encode()


def test_full_lifecycle(client: CyberTiplineClient, server: ServerState) -> None:
    client.status()
    report_id = client.submit(VALID_REPORT.encode())
    data = os.urandom(70_000)
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    receipt = client.upload(report_id, "item-1", iter(chunks))
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert receipt.md5 == md5
    client.fileinfo(_details(report_id, receipt.file_id, md5))
    client.finish(report_id)
    remote = server.reports[report_id]
    assert remote.finished
    assert remote.files[receipt.file_id].md5 == md5
    assert remote.files[receipt.file_id].size == len(data)
    assert remote.files[receipt.file_id].details is not None


def test_finish_twice_is_already_finished(client: CyberTiplineClient) -> None:
    report_id = client.submit(VALID_REPORT.encode())
    client.finish(report_id)
    with pytest.raises(AlreadyFinished):
        client.finish(report_id)


def test_validation_error_surfaces_the_server_description(client: CyberTiplineClient) -> None:
    with pytest.raises(ReportRejected) as caught:
        client.submit(INVALID_REPORT.encode())
    assert caught.value.code == 4100
    assert "incidentType" in caught.value.description
    assert caught.value.description in str(caught.value)
    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, PermanentError)


def test_md5_mismatch_is_upload_corrupted(client: CyberTiplineClient, server: ServerState) -> None:
    report_id = client.submit(VALID_REPORT.encode())
    server.faults["upload"] = [Fault(corrupt_md5=True)]
    with pytest.raises(UploadCorrupted):
        client.upload(report_id, "item-1", b"synthetic bytes")
    assert isinstance(UploadCorrupted("x"), TransientError)
    again = client.upload(report_id, "item-1", b"synthetic bytes")
    assert again.md5 == hashlib.md5(b"synthetic bytes", usedforsecurity=False).hexdigest()


def test_wrong_credentials_are_a_permanent_auth_error(
    lifecycle: tuple[str, ServerState],
) -> None:
    url, _ = lifecycle
    with (
        CyberTiplineClient(url, USERNAME, "wrong", timeout=5) as wrong,
        pytest.raises(AuthenticationFailed),
    ):
        wrong.status()


def test_code_3000_is_an_auth_error(client: CyberTiplineClient, server: ServerState) -> None:
    server.faults["submit"] = [Fault(code=3000, description="Not authorised")]
    with pytest.raises(AuthenticationFailed):
        client.submit(VALID_REPORT.encode())


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(code=1000), TransientError),
        (Fault(http_status=503, raw_body=b"<html>busy</html>"), TransientError),
        (Fault(http_status=502, raw_body=b""), TransientError),
        (Fault(http_status=404, raw_body=b"not here"), PermanentError),
        (Fault(code=5001, description="No such report"), UnknownRemoteObject),
        (Fault(code=4321, description="a new code"), PermanentError),
    ],
)
def test_answers_map_to_typed_errors(
    client: CyberTiplineClient,
    server: ServerState,
    fault: Fault,
    kind: type[Exception],
) -> None:
    server.faults["submit"] = [fault]
    with pytest.raises(kind):
        client.submit(VALID_REPORT.encode())


def test_unreachable_server_is_transient() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with (
        CyberTiplineClient(f"http://127.0.0.1:{port}", "u", "p", timeout=2) as client,
        pytest.raises(TransientError),
    ):
        client.status()


def test_parse_response_refuses_entities_and_non_responses() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]>'
        b"<reportResponse><responseCode>0</responseCode>"
        b"<responseDescription>&e;</responseDescription></reportResponse>"
    )
    assert parse_response(bomb, step="status").description == ""
    with pytest.raises(TransientError):
        parse_response(b"<other/>", step="status")
    with pytest.raises(TransientError):
        parse_response(b"not xml", step="status")


def test_errors_survive_pickling() -> None:
    error = ReportRejected("rejected", code=4100, description="why")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301  (our own object)
    assert (type(copy), copy.code, copy.description) == (ReportRejected, 4100, "why")
    assert isinstance(copy, UpstreamError)


def test_settings_keep_the_password_out_of_repr() -> None:
    settings = load_cybertipline_settings(
        {
            "BRIGHTLINE_CYBERTIPLINE_URL": "https://clearinghouse.example.org/ispws/",
            "BRIGHTLINE_CYBERTIPLINE_USERNAME": "esp",
            "BRIGHTLINE_CYBERTIPLINE_PASSWORD": "placeholder-secret",
        }
    )
    assert settings.url == "https://clearinghouse.example.org/ispws"
    assert "placeholder-secret" not in repr(settings)
    assert "exttest" in CyberTiplineSettings().url
    with pytest.raises(InvalidInput):
        load_cybertipline_settings({"BRIGHTLINE_CYBERTIPLINE_URL": "ftp://x"})
    with pytest.raises(AuthenticationFailed):
        CyberTiplineClient.from_settings(CyberTiplineSettings())


def test_client_repr_has_no_credentials() -> None:
    with CyberTiplineClient("https://clearinghouse.example.org", "esp", "s3cret") as client:
        assert "s3cret" not in repr(client)
        assert "esp" not in repr(client)
