"""A small CyberTipline Reporting API for tests, served by uvicorn on loopback.

It implements the lifecycle the client uses (status, submit, upload, fileinfo, finish, retract)
with HTTP Basic auth, XSD validation of submitted documents (the schema's own error text is the
``responseDescription``, as the real service answers), the MD5 of every received file, and the
documented response codes. ``faults`` scripts failures per endpoint, consumed in order.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

USERNAME = "esp-test"
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test server's made-up password)


@dataclass
class Fault:
    """One scripted answer instead of the real one."""

    http_status: int = 200
    code: int | None = 1000
    description: str = "Server error (scripted)"
    corrupt_md5: bool = False
    """For uploads: store the file, but answer with a wrong MD5."""
    raw_body: bytes | None = None
    """Answer with these bytes instead of a reportResponse."""


@dataclass
class RemoteFile:
    md5: str
    size: int
    details: bytes | None = None


@dataclass
class RemoteReport:
    xml: bytes
    files: dict[str, RemoteFile] = field(default_factory=dict)
    finished: bool = False
    retracted: bool = False


@dataclass
class ServerState:
    schema: etree.XMLSchema
    reports: dict[int, RemoteReport] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(900_001))

    def reset(self) -> None:
        with self.lock:
            self.reports.clear()
            self.faults.clear()
            self.calls.clear()

    def finished_reports(self) -> list[RemoteReport]:
        with self.lock:
            return [report for report in self.reports.values() if report.finished]

    def fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            self.calls.append(endpoint)
            queue = self.faults.get(endpoint)
            return queue.pop(0) if queue else None


def _response(
    code: int,
    description: str = "",
    *,
    status: int = 200,
    report_id: int | None = None,
    file_id: str | None = None,
    md5: str | None = None,
) -> Response:
    root = etree.Element("reportResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "responseDescription").text = description
    if report_id is not None:
        etree.SubElement(root, "reportId").text = str(report_id)
    if file_id is not None:
        etree.SubElement(root, "fileId").text = file_id
    if md5 is not None:
        etree.SubElement(root, "hash").text = md5
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, status_code=status, media_type="text/xml")


def _authorised(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return False
    expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    return secrets.compare_digest(header[6:], expected)


def _validate(schema: etree.XMLSchema, body: bytes) -> str | None:
    """None if valid, else the schema's first error (what the real service describes)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return f"XML syntax error: {exc}"
    if schema.validate(document):
        return None
    error = schema.error_log.last_error
    return f"Validation failed: line {error.line}: {error.message}"


def build_app(state: ServerState) -> Starlette:
    def scripted(endpoint: str) -> Response | Fault | None:
        fault = state.fault(endpoint)
        if fault is None or fault.corrupt_md5:
            return fault
        if fault.raw_body is not None:
            return Response(fault.raw_body, status_code=fault.http_status)
        return _response(fault.code or 0, fault.description, status=fault.http_status)

    def guard(request: Request, endpoint: str) -> Response | Fault | None:
        if not _authorised(request):
            state.fault(endpoint)  # still counted as a call
            return _response(2000, "Authentication required", status=401)
        return scripted(endpoint)

    def report_for(report_id: str | None) -> RemoteReport | Response:
        try:
            number = int(report_id or "")
        except ValueError:
            return _response(4000, "Invalid request: id")
        report = state.reports.get(number)
        if report is None:
            return _response(5001, "No such report")
        if report.retracted:
            return _response(5101, "Report already retracted")
        if report.finished:
            return _response(5102, "Report already finished")
        return report

    async def status(request: Request) -> Response:
        early = guard(request, "status")
        if isinstance(early, Response):
            return early
        return _response(0)

    async def submit(request: Request) -> Response:
        early = guard(request, "submit")
        if isinstance(early, Response):
            return early
        body = await request.body()
        problem = _validate(state.schema, body)
        if problem is not None:
            return _response(4100, problem)
        with state.lock:
            report_id = next(state.ids)
            state.reports[report_id] = RemoteReport(xml=body)
        return _response(0, report_id=report_id)

    async def upload(request: Request) -> Response:
        early = guard(request, "upload")
        if isinstance(early, Response):
            return early
        async with request.form() as form:
            raw_id = str(form.get("id") or "")
            found = report_for(raw_id)
            if isinstance(found, Response):
                return found
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                return _response(4000, "Invalid request: no file")
            digest = hashlib.md5(usedforsecurity=False)
            size = 0
            while chunk := await upload.read(65536):
                digest.update(chunk)
                size += len(chunk)
        file_id = secrets.token_hex(8)
        md5 = digest.hexdigest()
        with state.lock:
            found.files[file_id] = RemoteFile(md5=md5, size=size)
        if isinstance(early, Fault) and early.corrupt_md5:
            md5 = "0" * 32
        return _response(0, report_id=int(raw_id), file_id=file_id, md5=md5)

    async def fileinfo(request: Request) -> Response:
        early = guard(request, "fileinfo")
        if isinstance(early, Response):
            return early
        body = await request.body()
        problem = _validate(state.schema, body)
        if problem is not None:
            return _response(4100, problem)
        document = etree.fromstring(body)
        found = report_for(document.findtext("reportId"))
        if isinstance(found, Response):
            return found
        file_id = document.findtext("fileId") or ""
        with state.lock:
            remote = found.files.get(file_id)
            if remote is None:
                return _response(5002, "No such file")
            remote.details = body
        return _response(0, report_id=int(document.findtext("reportId") or "0"), file_id=file_id)

    async def finish(request: Request) -> Response:
        early = guard(request, "finish")
        if isinstance(early, Response):
            return early
        async with request.form() as form:
            report_id = str(form.get("id") or "")
        found = report_for(report_id)
        if isinstance(found, Response):
            return found
        with state.lock:
            found.finished = True
        return _response(0, report_id=int(report_id))

    async def retract(request: Request) -> Response:
        early = guard(request, "retract")
        if isinstance(early, Response):
            return early
        async with request.form() as form:
            report_id = str(form.get("id") or "")
        found = report_for(report_id)
        if isinstance(found, Response):
            return found
        with state.lock:
            found.retracted = True
        return _response(0, report_id=int(report_id))

    return Starlette(
        routes=[
            Route("/status", status, methods=["GET"]),
            Route("/submit", submit, methods=["POST"]),
            Route("/upload", upload, methods=["POST"]),
            Route("/fileinfo", fileinfo, methods=["POST"]),
            Route("/finish", finish, methods=["POST"]),
            Route("/retract", retract, methods=["POST"]),
        ]
    )


@contextmanager
def serve(schema_path: Path) -> Iterator[tuple[str, ServerState]]:
    """Run the server on a free loopback port; yields its base URL and its state."""
    state = ServerState(schema=etree.XMLSchema(etree.parse(str(schema_path))))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        build_app(state), log_level="warning", ws="none", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the lifecycle server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}", state
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
