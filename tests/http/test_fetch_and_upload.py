"""URL matching and file uploads through the API: precise 4xx answers, never a 500.

URL fetches go to a real HTTP server on loopback (allow-listed here as 127.0.0.1/32, as an
operator would allow-list an internal media store); the upload size limit is enforced by the
``BodyLimit`` middleware before the app reads the body.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from starlette.types import Message, Receive, Scope, Send

from brightline.access import Role
from brightline.http.body_limit import MULTIPART_ALLOWANCE, BodyLimit
from brightline.settings import ServiceSettings
from brightline.signals import HashingLimits, hash_content
from tests.factories import write_standin
from tests.http.conftest import auth
from tests.intake.loopback import Loopback, chunked, send_bytes, serve

MAX_UPLOAD = 200_000
CAP = MAX_UPLOAD + MULTIPART_ALLOWANCE
EMPTY = {"error": "unhashable", "reason": "empty", "detail": "the content is empty (0 bytes)"}


@pytest.fixture
def service_settings() -> ServiceSettings:
    return ServiceSettings(
        index_sync_seconds=0.2,
        auth_cache_seconds=0.0,
        max_batch_size=10,
        max_upload_bytes=MAX_UPLOAD,
        fetch_timeout_seconds=5.0,
        fetch_allow_networks=("127.0.0.1/32",),
    )


@pytest.fixture
def image(tmp_path: Path) -> bytes:
    return write_standin(tmp_path / "standin.jpg", seed=11, size=(320, 240)).read_bytes()


@pytest.fixture
def server(image: bytes) -> Iterator[Loopback]:
    with serve() as state:
        state.routes["/media/a.jpg"] = send_bytes(image)
        state.routes["/media/big.jpg"] = send_bytes(b"", length=MAX_UPLOAD + 1)
        state.routes["/media/stream"] = chunked(MAX_UPLOAD + 1)
        state.routes["/media/empty"] = send_bytes(b"")
        state.routes["/media/text"] = send_bytes(b"hello, not an image", content_type="text/plain")
        yield state


def _bank_image(client: TestClient, curator: dict[str, str], image: bytes) -> str:
    pdq = hash_content(image, limits=HashingLimits()).signal("pdq")
    assert pdq is not None
    assert client.post("/v1/banks", json={"name": "known"}, headers=curator).status_code == 201
    added = client.post(
        "/v1/banks/known/entries",
        json={"entries": [{"signal_type": "pdq", "value": pdq.value, "classification": "A1"}]},
        headers=curator,
    )
    assert added.json()["added"] == 1
    return pdq.value


def _until_matched(post: Callable[[], httpx.Response]) -> dict[str, object]:
    """Poll until the background index sync has picked up the new entry (bounded, not timed)."""
    deadline = time.monotonic() + 10
    while True:
        response = post()
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        if body["status"] == "match" or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_a_fetched_image_matches_a_banked_one(
    client: TestClient, keys: dict[Role, str], server: Loopback, image: bytes
) -> None:
    pdq = _bank_image(client, auth(keys[Role.CURATOR]), image)
    matcher = auth(keys[Role.MATCHER])
    body = _until_matched(
        lambda: client.post(
            "/v1/match/url", json={"url": server.url("/media/a.jpg")}, headers=matcher
        )
    )
    assert body["status"] == "match"
    assert body["media_type"] == "image/jpeg"
    assert body["signals"]["pdq"] == pdq  # type: ignore[index]
    assert body["matches"][0]["bank"] == "known"  # type: ignore[index]
    events = client.get("/v1/match-events", headers=auth(keys[Role.AUDITOR])).json()["events"]
    assert {event["source"] for event in events} == {"url"}


@pytest.mark.parametrize(
    ("url", "status", "error", "detail"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            400,
            "invalid_input",
            "the URL resolves to a link-local address (169.254.169.254), which is not allowed",
        ),
        (
            "http://10.0.0.5/a.jpg",
            400,
            "invalid_input",
            "the URL resolves to a private address (10.0.0.5), which is not allowed",
        ),
        (
            "http://[::1]/a.jpg",
            400,
            "invalid_input",
            "the URL resolves to a loopback address (::1), which is not allowed",
        ),
        (
            "ftp://media.example.net/a.jpg",
            400,
            "invalid_input",
            "the URL has scheme 'ftp'; only http and https can be fetched",
        ),
        (
            "http://user:pw@media.example.net/a.jpg",
            400,
            "invalid_input",
            "the URL has a user name or password, which is not allowed",
        ),
    ],
)
def test_refused_urls_get_a_precise_400(
    client: TestClient, keys: dict[Role, str], url: str, status: int, error: str, detail: str
) -> None:
    response = client.post("/v1/match/url", json={"url": url}, headers=auth(keys[Role.MATCHER]))
    assert response.status_code == status
    assert response.json() == {"error": error, "detail": detail}


def test_unfetchable_and_unhashable_urls_get_a_precise_422(
    client: TestClient, keys: dict[Role, str], server: Loopback
) -> None:
    matcher = auth(keys[Role.MATCHER])

    def fetch(path: str) -> tuple[int, dict[str, object]]:
        response = client.post("/v1/match/url", json={"url": server.url(path)}, headers=matcher)
        return response.status_code, response.json()

    assert fetch("/media/missing.jpg") == (
        422,
        {"error": "fetch_failed", "detail": "127.0.0.1 answered HTTP 404"},
    )
    status, body = fetch("/media/big.jpg")
    assert (status, body["error"], body["reason"]) == (422, "unhashable", "too_large")
    assert f"limit of {MAX_UPLOAD} bytes" in str(body["detail"])
    status, body = fetch("/media/stream")
    assert (status, body["error"], body["reason"]) == (422, "unhashable", "too_large")
    assert fetch("/media/empty") == (422, EMPTY)
    status, body = fetch("/media/text")
    assert status == 200
    assert body["status"] == "unhashable"
    assert set(body["signals"]) >= {"md5", "sha256"}  # type: ignore[arg-type]


def test_a_url_batch_fails_only_the_bad_items(
    client: TestClient, keys: dict[Role, str], server: Loopback
) -> None:
    response = client.post(
        "/v1/match/urls",
        json={
            "urls": [
                server.url("/media/a.jpg"),
                "http://169.254.169.254/",
                server.url("/media/missing.jpg"),
                server.url("/media/big.jpg"),
            ]
        },
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["status"] for item in results] == ["no_match", "error", "error", "error"]
    assert [item["unhashable"]["reason"] for item in results[1:]] == [
        "invalid_input",
        "fetch_failed",
        "too_large",
    ]


def test_an_upload_over_the_limit_is_refused_with_413(
    client: TestClient, keys: dict[Role, str]
) -> None:
    response = client.post(
        "/v1/match/file",
        files={"file": ("big.jpg", b"\xff" * (CAP + 1), "image/jpeg")},
        headers=auth(keys[Role.MATCHER]),
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "too_large",
        "detail": f"the request body is larger than the limit of {CAP} bytes",
    }


def test_a_chunked_upload_over_the_limit_is_refused_with_413(
    client: TestClient, keys: dict[Role, str]
) -> None:
    """No Content-Length: the middleware counts, and replaces the app's answer to the cut."""
    boundary = "brightline-test-boundary"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=big.jpg\r\n"
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(CAP // 65536 + 2):
            yield b"\xff" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/v1/match/file",
        content=body(),
        headers=auth(keys[Role.MATCHER])
        | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_uploads_within_the_limit_get_clear_answers(
    client: TestClient, keys: dict[Role, str], image: bytes
) -> None:
    matcher = auth(keys[Role.MATCHER])

    def upload(data: bytes) -> tuple[int, dict[str, object]]:
        response = client.post(
            "/v1/match/file", files={"file": ("x.jpg", data, "image/jpeg")}, headers=matcher
        )
        return response.status_code, response.json()

    status, body = upload(image)
    assert (status, body["status"], body["media_type"]) == (200, "no_match", "image/jpeg")

    assert upload(b"") == (422, EMPTY)

    status, body = upload(image[: len(image) // 2])
    assert status == 200
    assert body["status"] == "unhashable"
    assert body["unhashable"]["reason"] == "truncated"  # type: ignore[index]
    assert "sha256" in body["signals"]  # type: ignore[operator]

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    status, body = upload(buffer.getvalue())
    assert status == 200


# --- the middleware on its own: what the app gets to see -----------------------------------


def _run(
    middleware: BodyLimit, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[list[Message], int]:
    """Drive ``middleware`` as a server would; returns what was sent and how many reads."""
    sent: list[Message] = []
    reads = 0

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        if reads > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[reads - 1], "more_body": reads < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(middleware(scope, receive, send))
    return sent, reads


async def _reading_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body, then answers 200 with its size (or 400 if reading failed)."""
    size = 0
    try:
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
    except Exception:
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"error parsing the body"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def test_the_middleware_refuses_a_declared_length_without_reading_or_calling_the_app() -> None:
    called = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    sent, reads = _run(BodyLimit(app, max_bytes=100), [(b"content-length", b"101")], [b"x" * 101])
    assert (called, reads) == ([], 0)
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert b'"too_large"' in sent[1]["body"]


def test_the_middleware_counts_an_undeclared_body_and_replaces_the_apps_answer() -> None:
    within, _ = _run(BodyLimit(_reading_app, max_bytes=100), [], [b"x" * 60, b"x" * 40])
    assert (within[0]["status"], within[1]["body"]) == (200, b"100")

    over, reads = _run(BodyLimit(_reading_app, max_bytes=100), [], [b"x" * 60] * 5)
    assert reads == 2
    assert [message["type"] for message in over] == ["http.response.start", "http.response.body"]
    assert over[0]["status"] == 413


def test_the_middleware_leaves_other_scopes_alone() -> None:
    seen = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    asyncio.run(BodyLimit(app, max_bytes=1)({"type": "lifespan"}, _never, _discard))
    assert seen == ["lifespan"]


async def _never() -> Message:
    raise AssertionError("not read")


async def _discard(message: Message) -> None:
    return None
