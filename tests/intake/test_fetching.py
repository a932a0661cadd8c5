"""SSRF-safe URL fetching against a real HTTP(S) server on loopback.

Loopback is exactly what the fetcher must refuse, so the tests that fetch successfully allow-list
127.0.0.1/32, and the refusal tests leave it out (or point at a different address). Names are
made to resolve where a test wants by replacing ``socket.getaddrinfo``.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from brightline.errors import FetchFailed, InvalidInput, Unhashable, UpstreamError
from brightline.intake.fetching import FetchLimits, fetch_to_file
from tests.factories import write_standin
from tests.intake.loopback import Loopback, chunked, drip, redirect, send_bytes, serve, stall

LOOPBACK = ("127.0.0.1/32",)
ALLOWED = FetchLimits(max_bytes=1_000_000, timeout_seconds=5, allow_networks=LOOPBACK)
REFUSING = FetchLimits(max_bytes=1_000_000, timeout_seconds=5)
IDENTIFYING_PATH = "/upload/case-4711/child.jpg?ref=victim-name"
"""A path and query that identify content: they must never be logged."""

RealGetaddrinfo = Callable[..., list[tuple[Any, ...]]]
_real_getaddrinfo: RealGetaddrinfo = socket.getaddrinfo


@pytest.fixture
def image(tmp_path: Path) -> bytes:
    return write_standin(tmp_path / "standin.jpg", seed=7, size=(320, 240)).read_bytes()


@pytest.fixture
def server(image: bytes) -> Iterator[Loopback]:
    with serve() as state:
        state.routes["/upload/case-4711/child.jpg"] = send_bytes(image)
        yield state


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    directory = tmp_path / "fetched"
    directory.mkdir()
    return directory


def resolve_names(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]], calls: list[str] | None = None
) -> None:
    """Make each name in ``answers`` resolve to its addresses; others resolve as usual."""

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        if calls is not None:
            calls.append(host)
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_an_allow_listed_server_is_fetched(server: Loopback, scratch: Path, image: bytes) -> None:
    path = fetch_to_file(server.url(IDENTIFYING_PATH), directory=scratch, limits=ALLOWED)
    assert path.parent == scratch
    assert path.read_bytes() == image
    assert server.seen[-1].path == IDENTIFYING_PATH
    assert server.seen[-1].host == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback address (127.0.0.1)"),
        ("localhost", "loopback address"),
        ("[::1]", "loopback address (::1)"),
        ("[::ffff:127.0.0.1]", "loopback address (::ffff:7f00:1)"),
        ("2130706433", "loopback address (127.0.0.1)"),
        ("0x7f.1", "loopback address (127.0.0.1)"),
        ("0.0.0.0", "unspecified address (0.0.0.0)"),  # noqa: S104
        ("10.0.0.5", "private address (10.0.0.5)"),
        ("192.168.1.1", "private address (192.168.1.1)"),
        ("169.254.169.254", "link-local address (169.254.169.254)"),
        ("[fe80::1]", "link-local address (fe80::1)"),
        ("100.64.0.1", "shared (CGNAT) address (100.64.0.1)"),
        ("224.0.0.1", "multicast address (224.0.0.1)"),
        ("[64:ff9b::a00:5]", "private address (64:ff9b::a00:5)"),
    ],
)
def test_internal_addresses_are_refused_before_connecting(
    server: Loopback, scratch: Path, host: str, kind: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        fetch_to_file(
            server.url("/upload/case-4711/child.jpg", host), directory=scratch, limits=REFUSING
        )
    assert (
        str(refused.value) == f"the URL resolves to {_article(kind)} {kind}, which is not allowed"
    )
    assert server.seen == []
    assert list(scratch.iterdir()) == []


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def test_localhost_is_refused_even_with_127_allowed_because_it_also_resolves_to_ipv6(
    server: Loopback, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_names(monkeypatch, {"localhost": ["127.0.0.1", "::1"]})
    with pytest.raises(InvalidInput, match="loopback address, which is not allowed"):
        fetch_to_file(server.url("/x", "localhost"), directory=scratch, limits=ALLOWED)
    assert server.seen == []


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("10.20.30.40", "a private"),
        ("::ffff:169.254.169.254", "a link-local"),
        ("100.64.1.2", "a shared (CGNAT)"),
        ("::1", "a loopback"),
        ("fd00::5", "a private"),
    ],
)
def test_a_public_name_with_an_internal_answer_is_refused_without_revealing_it(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, answer: str, kind: str
) -> None:
    resolve_names(monkeypatch, {"media.example.com": [answer]})
    with pytest.raises(InvalidInput) as refused:
        fetch_to_file("https://media.example.com/a.jpg", directory=scratch, limits=REFUSING)
    assert str(refused.value) == f"the URL resolves to {kind} address, which is not allowed"


def test_one_private_answer_among_public_ones_is_enough_to_refuse(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_names(monkeypatch, {"media.example.com": ["93.184.216.34", "169.254.169.254"]})
    with pytest.raises(InvalidInput, match="link-local"):
        fetch_to_file("http://media.example.com/a.jpg", directory=scratch, limits=REFUSING)


def test_the_vetted_address_is_used_so_a_second_dns_answer_never_counts(
    server: Loopback, scratch: Path, image: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: a name that answers 127.0.0.1 (allowed here) once, then 10.0.0.1."""
    calls: list[str] = []
    answers = {"media.example.com": ["127.0.0.1"]}
    resolve_names(monkeypatch, answers, calls)
    first_lookup = socket.getaddrinfo

    def rebinding(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        result = first_lookup(*args, **kwargs)
        answers["media.example.com"] = ["10.0.0.1"]  # every later answer is internal
        return result

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    path = fetch_to_file(
        server.url(IDENTIFYING_PATH, "media.example.com"), directory=scratch, limits=ALLOWED
    )
    assert path.read_bytes() == image
    assert calls == ["media.example.com"]
    assert server.seen[-1].host == f"media.example.com:{server.port}"


def test_redirects_are_followed_and_each_hop_is_checked(
    server: Loopback, scratch: Path, image: bytes
) -> None:
    server.routes["/relative"] = redirect("/upload/case-4711/child.jpg", status=301)
    server.routes["/absolute"] = redirect(server.url("/relative"), status=307)
    path = fetch_to_file(server.url("/absolute"), directory=scratch, limits=ALLOWED)
    assert path.read_bytes() == image
    assert [seen.path for seen in server.seen] == [
        "/absolute",
        "/relative",
        "/upload/case-4711/child.jpg",
    ]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "redirects to a host that resolves to a link-local",
        ),
        ("http://10.0.0.7:8080/admin", "redirects to a host that resolves to a private"),
        ("http://[::1]/", "redirects to a host that resolves to a loopback"),
        ("file:///etc/passwd", "redirects to a URL that has scheme 'file'"),
        ("gopher://127.0.0.1:6379/_INFO", "redirects to a URL that has scheme 'gopher'"),
    ],
)
def test_a_redirect_to_a_forbidden_target_is_refused(
    server: Loopback, scratch: Path, location: str, message: str
) -> None:
    server.routes["/go"] = redirect(location)
    with pytest.raises(InvalidInput, match=message):
        fetch_to_file(server.url("/go"), directory=scratch, limits=ALLOWED)
    assert [seen.path for seen in server.seen] == ["/go"]


def test_too_many_redirects(server: Loopback, scratch: Path) -> None:
    server.routes["/loop"] = redirect("/loop")
    limits = FetchLimits(
        max_bytes=1000, timeout_seconds=5, allow_networks=LOOPBACK, max_redirects=3
    )
    with pytest.raises(FetchFailed, match="redirects more than 3 times"):
        fetch_to_file(server.url("/loop"), directory=scratch, limits=limits)
    assert len(server.seen) == 4


def test_an_oversized_content_length_is_refused_before_the_body(
    server: Loopback, scratch: Path
) -> None:
    server.routes["/big"] = send_bytes(b"", length=5_000_000)
    with pytest.raises(Unhashable) as refused:
        fetch_to_file(server.url("/big"), directory=scratch, limits=ALLOWED)
    assert refused.value.reason == "too_large"
    assert "limit of 1000000 bytes (5000000 bytes declared)" in str(refused.value)
    assert list(scratch.iterdir()) == []


def test_an_oversized_chunked_body_is_cut_off_at_the_cap(server: Loopback, scratch: Path) -> None:
    server.routes["/stream"] = chunked(3_000_000)
    with pytest.raises(Unhashable) as refused:
        fetch_to_file(server.url("/stream"), directory=scratch, limits=ALLOWED)
    assert refused.value.reason == "too_large"
    assert list(scratch.iterdir()) == []


def test_a_body_exactly_at_the_cap_is_fetched(server: Loopback, scratch: Path) -> None:
    server.routes["/exact"] = chunked(1_000_000)
    path = fetch_to_file(server.url("/exact"), directory=scratch, limits=ALLOWED)
    assert path.stat().st_size == 1_000_000


def test_a_gzipped_body_is_kept_compressed_so_it_cannot_expand_past_the_cap(
    server: Loopback, scratch: Path
) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire, 50 MB if decoded

    def gzipped(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(bomb)))
        handler.end_headers()
        handler.wfile.write(bomb)

    server.routes["/bomb"] = gzipped
    path = fetch_to_file(server.url("/bomb"), directory=scratch, limits=ALLOWED)
    assert path.read_bytes() == bomb  # stored as sent: hashing finds no image in it


def test_a_silent_server_times_out(server: Loopback, scratch: Path) -> None:
    server.routes["/silent"] = stall(server)
    limits = FetchLimits(max_bytes=1000, timeout_seconds=0.3, allow_networks=LOOPBACK)
    with pytest.raises(UpstreamError) as failed:
        fetch_to_file(server.url("/silent"), directory=scratch, limits=limits)
    assert str(failed.value) == "fetching from 127.0.0.1 took longer than 0.3 seconds"


def test_a_hanging_resolver_times_out(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hang(*args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    limits = FetchLimits(max_bytes=1000, timeout_seconds=0.2)
    try:
        with pytest.raises(FetchFailed, match=r"^fetching from media\.example\.com took longer"):
            fetch_to_file("http://media.example.com/a.jpg", directory=scratch, limits=limits)
    finally:
        release.set()


def test_a_dripping_server_is_cut_off_at_the_deadline(server: Loopback, scratch: Path) -> None:
    """Each byte arrives well within the read timeout; only the overall deadline stops it."""
    server.routes["/drip"] = drip(server)
    limits = FetchLimits(max_bytes=10_000_000, timeout_seconds=0.5, allow_networks=LOOPBACK)
    with pytest.raises(FetchFailed, match=r"took longer than 0\.5 seconds"):
        fetch_to_file(server.url("/drip"), directory=scratch, limits=limits)
    assert list(scratch.iterdir()) == []


def test_http_errors_and_unreachable_hosts_are_upstream_failures(
    server: Loopback, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FetchFailed, match=r"^127\.0\.0\.1 answered HTTP 404$"):
        fetch_to_file(server.url("/missing"), directory=scratch, limits=ALLOWED)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    with pytest.raises(FetchFailed, match=r"cannot fetch from 127\.0\.0\.1"):
        fetch_to_file(f"http://127.0.0.1:{closed_port}/", directory=scratch, limits=ALLOWED)

    def fail(*args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(FetchFailed, match=r"cannot resolve media\.example\.com"):
        fetch_to_file("http://media.example.com/a.jpg", directory=scratch, limits=ALLOWED)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.jpg", "has scheme 'ftp'; only http and https can be fetched"),
        ("file:///etc/passwd", "has scheme 'file'"),
        ("javascript:alert(1)", "has scheme 'javascript'"),
        ("example.com/a.jpg", "has scheme 'none'"),
        ("http://user:secret@example.com/", "has a user name or password"),
        ("http://example.com:0/", "has port 0"),
        ("http://example.com:99999/", "has port 99999"),
        ("http://example.com:abc/", "is malformed"),
        ("http:///a.jpg", "has no host"),
        ("http://exa mple.com/", "not a valid DNS name"),
        ("http://media..example.com/", "not a valid DNS name"),
        (f"http://{'a' * 64}.example.com/", "not a valid DNS name"),
        ("http://-media.example.com/", "not a valid DNS name"),
    ],
)
def test_malformed_and_unsupported_urls_are_invalid_input(
    scratch: Path, url: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        fetch_to_file(url, directory=scratch, limits=ALLOWED)


def test_paths_and_queries_are_never_logged(
    server: Loopback, scratch: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.routes["/go"] = redirect(IDENTIFYING_PATH)
    fetch_to_file(server.url("/go?case=4711"), directory=scratch, limits=ALLOWED)
    with pytest.raises(InvalidInput):
        fetch_to_file("http://10.0.0.1/upload/case-4711/x.jpg", directory=scratch, limits=REFUSING)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "127.0.0.1" in logged
    assert "4711" not in logged
    assert "victim-name" not in logged


# --- https: the name is sent as SNI and the certificate is verified against it ---------------


def _make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for media.example.test signed by it (via openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make test certificates")
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, request, cert = directory / "leaf.key", directory / "leaf.csr", directory / "leaf.pem"
    extensions = directory / "leaf.ext"
    extensions.write_text(
        "subjectAltName=DNS:media.example.test\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    commands = [
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            ca_key,
            "-out",
            ca_cert,
            "-days",
            "2",
            "-subj",
            "/CN=Brightline test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        [
            openssl,
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            request,
            "-subj",
            "/CN=media.example.test",
        ],
        [
            openssl,
            "x509",
            "-req",
            "-in",
            request,
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            extensions,
        ],
    ]
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return ca_cert, cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return _make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(
    certificates: tuple[Path, Path, Path], image: bytes, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Loopback]:
    ca_cert, cert, key = certificates
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # httpx's default context trusts SSL_CERT_FILE when it is set: only the test CA, here.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_cert))
    resolve_names(
        monkeypatch, {"media.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]}
    )
    with serve(context) as state:
        state.routes["/a.jpg"] = send_bytes(image)
        yield state


def test_https_goes_to_the_vetted_ip_with_the_name_as_sni_and_a_verified_certificate(
    tls_server: Loopback, scratch: Path, image: bytes
) -> None:
    path = fetch_to_file(
        tls_server.url("/a.jpg", "media.example.test"), directory=scratch, limits=ALLOWED
    )
    assert path.read_bytes() == image
    assert tls_server.server_names == ["media.example.test"]
    assert tls_server.seen[-1].host == f"media.example.test:{tls_server.port}"


def test_https_certificate_for_another_name_is_rejected(
    tls_server: Loopback, scratch: Path
) -> None:
    """Proof that verification is on: the same server, reached by a name its certificate lacks."""
    with pytest.raises(FetchFailed, match="CERTIFICATE_VERIFY_FAILED"):
        fetch_to_file(
            tls_server.url("/a.jpg", "other.example.test"), directory=scratch, limits=ALLOWED
        )
    assert tls_server.seen == []
