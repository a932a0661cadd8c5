"""The app behind a real uvicorn server on loopback: uploads over real sockets.

The in-process TestClient hands the app the whole body at once, so it cannot show that an
oversized upload is refused *before* it is sent; here the client sends only the headers of one
and still gets its 413.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from brightline.access import Role
from brightline.http import create_app
from brightline.http.body_limit import MULTIPART_ALLOWANCE
from brightline.settings import ServiceSettings, Settings
from tests.factories import write_standin
from tests.http.conftest import auth

MAX_UPLOAD = 200_000
CAP = MAX_UPLOAD + MULTIPART_ALLOWANCE


@pytest.fixture
def service_settings() -> ServiceSettings:
    return ServiceSettings(
        index_sync_seconds=0.2, auth_cache_seconds=0.0, max_upload_bytes=MAX_UPLOAD
    )


@dataclasses.dataclass
class Running:
    base_url: str
    port: int


@pytest.fixture
def running(settings: Settings, keys: dict[Role, str]) -> Iterator[Running]:
    """``create_app(settings)`` served by uvicorn in a thread, on a port bound beforehand."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), log_level="warning", ws="none", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.02)
        yield Running(base_url=f"http://127.0.0.1:{port}", port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def _exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes, read the answer until the server closes; (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_a_real_upload_is_hashed(running: Running, keys: dict[Role, str], tmp_path: Path) -> None:
    image = write_standin(tmp_path / "a.jpg", seed=5, size=(320, 240)).read_bytes()
    with httpx.Client(base_url=running.base_url, timeout=30) as client:
        response = client.post(
            "/v1/match/file",
            files={"file": ("a.jpg", image, "image/jpeg")},
            headers=auth(keys[Role.MATCHER]),
        )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["media_type"]) == ("no_match", "image/jpeg")
    assert len(body["signals"]["pdq"]) == 64


def test_an_oversized_upload_is_refused_before_its_body_is_sent(
    running: Running, keys: dict[Role, str]
) -> None:
    """Only the headers go out: a server that waited for the body would never answer."""
    token = keys[Role.MATCHER]
    status, body = _exchange(
        running.port,
        (
            "POST /v1/match/file HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{running.port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {CAP + 1}\r\n\r\n"
        ).encode(),
    )
    assert status == 413
    assert json.loads(body) == {
        "error": "too_large",
        "detail": f"the request body is larger than the limit of {CAP} bytes",
    }


def test_an_oversized_chunked_upload_is_counted_and_refused(
    running: Running, keys: dict[Role, str]
) -> None:
    token = keys[Role.MATCHER]
    part = (
        b"--b\r\nContent-Disposition: form-data; name=file; filename=a.jpg\r\n"
        b"Content-Type: image/jpeg\r\n\r\n" + b"\xff" * (CAP + 1) + b"\r\n--b--\r\n"
    )
    chunks = b"".join(
        f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        for piece in (part[start : start + 65536] for start in range(0, len(part), 65536))
    )
    status, body = _exchange(
        running.port,
        (
            "POST /v1/match/file HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{running.port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n",
    )
    assert status == 413
    assert json.loads(body)["error"] == "too_large"
