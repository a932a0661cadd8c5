"""Fetch a URL to a file without letting the fetch reach internal networks (SSRF-safe).

A matching service that fetches URLs chosen by its clients is an open door into the network it
runs in (cloud metadata at 169.254.169.254, admin ports on loopback, databases on 10/8) unless
every connection is vetted. So, for every hop (the first URL and every redirect):

1. The URL must be plain ``http``/``https`` with no user name or password and a sane port.
2. The host is resolved once, with ``getaddrinfo``; if *any* answer is not a public address
   (private, loopback, link-local, multicast, reserved, unspecified, CGNAT, or an IPv6 form that
   embeds one of those) the fetch is refused, unless the address is in ``allow_networks``.
3. The connection goes to the vetted address itself, never to the name: the request URL carries
   the IP, the ``Host`` header the name, and for https the ``sni_hostname`` request extension
   makes httpcore send the name as SNI *and* verify the certificate against it (httpcore passes
   it as ``server_hostname`` to ``SSLContext.wrap_socket``, whose default context checks the
   hostname). A second DNS answer (DNS rebinding) therefore never gets a say.
4. Redirects are followed by hand, at most ``max_redirects``, each one going through 1-3 again.

The body is streamed to a file with a byte cap (the declared ``Content-Length`` first, then the
bytes actually received), and the whole fetch, DNS included, runs against one deadline: every
network wait is bounded by the time left, and a watchdog shuts the socket when the deadline
passes, so a server that drips one byte at a time cannot hold a worker for longer.

Requests go through :class:`httpx.HTTPTransport` directly, not :class:`httpx.Client`: the client
would log the full URL at INFO (paths and queries can identify content and must never be logged),
read proxy settings from the environment (a proxy would make the address check meaningless) and
follow redirects itself. Only the host is ever logged, at debug level (httpcore's own debug line
of response headers, which would show a redirect's ``Location``, is blanked).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from brightline import __version__
from brightline.errors import FetchFailed, InvalidInput, Unhashable
from brightline.settings import Settings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
_LABEL = r"[a-z0-9_][a-z0-9_-]{0,62}"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
"""A DNS name: labels of 1-63 characters, a trailing dot allowed (checked with ``fullmatch``, and
253 characters at most). An empty or overlong label is the URL's fault (400), not a failed fetch."""
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class _NoResponseHeaders(logging.Filter):
    """Blanks httpcore's debug line of response headers: a ``Location`` names a path and query.

    httpcore logs each step of a request at debug level; all the others name only the host, the
    port and the method.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("receive_response_headers.complete"):
            record.msg = "receive_response_headers.complete (headers not logged)"
            record.args = ()
        return True


_httpcore_log = logging.getLogger("httpcore.http11")
if not any(isinstance(existing, _NoResponseHeaders) for existing in _httpcore_log.filters):
    _httpcore_log.addFilter(_NoResponseHeaders())


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int
    timeout_seconds: float
    allow_networks: tuple[str, ...] = ()
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            max_bytes=settings.service.max_upload_bytes,
            timeout_seconds=settings.service.fetch_timeout_seconds,
            allow_networks=settings.service.fetch_allow_networks,
        )


def fetch_to_file(url: str, *, directory: Path, limits: FetchLimits) -> Path:
    """Fetch ``url`` into a new file in ``directory`` and return its path.

    Raises :class:`InvalidInput` for a malformed or unsupported URL, or one that leads (directly,
    after DNS, or by a redirect) to an address that is not public; :class:`FetchFailed` when the
    remote cannot be reached, answers with an error or is too slow; ``Unhashable("too_large")``
    when the content is over ``limits.max_bytes``.
    """
    allowed = _networks(limits.allow_networks)
    deadline = _Deadline(limits.timeout_seconds)
    current = _parse(url, redirected=False)
    for hop in range(limits.max_redirects + 1):
        address = _vetted_address(current, allowed, deadline, redirected=hop > 0)
        outcome = _fetch_once(current, address, directory, limits, deadline)
        if isinstance(outcome, Path):
            return outcome
        current = outcome
    raise FetchFailed(f"the URL redirects more than {limits.max_redirects} times")


def _networks(specs: Iterable[str]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)
    except ValueError as exc:
        raise InvalidInput(f"fetch_allow_networks: {exc}") from None


class _Deadline:
    """One deadline for the whole fetch, all hops and DNS included."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def left(self, host: str) -> float:
        """Seconds left, or :class:`FetchFailed` if none are."""
        left = self._at - time.monotonic()
        if left <= 0:
            raise self.expired(host)
        return left

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self._at

    def expired(self, host: str) -> FetchFailed:
        return FetchFailed(f"fetching from {host} took longer than {self.seconds:g} seconds")


def _parse(url: str, *, redirected: bool) -> httpx.URL:
    where = "the URL redirects to a URL that" if redirected else "the URL"
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidInput(f"{where} is malformed: {exc}") from None
    if parsed.scheme not in SCHEMES:
        shown = parsed.scheme or "none"
        raise InvalidInput(f"{where} has scheme {shown!r}; only http and https can be fetched")
    if parsed.userinfo:
        raise InvalidInput(f"{where} has a user name or password, which is not allowed")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise InvalidInput(f"{where} has port {parsed.port}, which is not between 1 and 65535")
    host = _host(parsed)
    if not host:
        raise InvalidInput(f"{where} has no host")
    if _literal(host) is None and (len(host) > 253 or not _HOSTNAME.fullmatch(host)):
        raise InvalidInput(f"{where} has a host that is not a valid DNS name")
    return parsed


def _host(url: httpx.URL) -> str:
    """The host as sent on the wire: IDNA-encoded, lower case, IPv6 without brackets."""
    return url.raw_host.decode("ascii", errors="replace").lower()


def _literal(host: str) -> IPAddress | None:
    """The address if ``host`` is written as an IP rather than a name.

    Besides canonical forms (``10.0.0.1``, ``::1``) this takes the numeric spellings that the C
    library also accepts for IPv4 (``2130706433``, ``0x7f.1``, ``127.1``), via ``inet_aton``, so
    that they are checked as the address they connect to, and never sent to DNS.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _vetted_address(
    url: httpx.URL, allowed: tuple[IPNetwork, ...], deadline: _Deadline, *, redirected: bool
) -> IPAddress:
    """Resolve the host once and return the address to connect to, if every answer is allowed.

    Every answer is checked, not only the one used: a name that resolves to both a public and a
    private address is refused, because a different client (or retry) could get the other one.
    """
    host = _host(url)
    addresses = _resolve(host, url.port or (443 if url.scheme == "https" else 80), deadline)
    for address in addresses:
        kind = _forbidden_kind(address, allowed)
        if kind is None:
            continue
        subject = "the URL redirects to a host that" if redirected else "the URL"
        # The address is shown only when the client wrote it: for a name, showing it would let
        # clients map internal DNS through this service.
        shown = f" ({address})" if _literal(host) is not None else ""
        log.debug("refused to fetch from %s: %s address %s", host, kind, address)
        article = "an" if kind[0] in "aeiou" else "a"
        raise InvalidInput(
            f"{subject} resolves to {article} {kind} address{shown}, which is not allowed"
        )
    return addresses[0]


def _resolve(host: str, port: int, deadline: _Deadline) -> list[IPAddress]:
    """All addresses of ``host``, in the resolver's order.

    A host written as an IP is not looked up (see :func:`_literal`).
    """
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        answers = _getaddrinfo_within(host, port, deadline)
    except socket.gaierror as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc.strerror}") from None
    except (UnicodeError, OSError) as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}") from None
    addresses: list[IPAddress] = []
    for family, *_, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchFailed(f"cannot resolve {host}: no IPv4 or IPv6 address")
    return addresses


AddrInfo = list[tuple[Any, Any, int, str, tuple[Any, ...]]]


def _getaddrinfo_within(host: str, port: int, deadline: _Deadline) -> AddrInfo:
    """``getaddrinfo`` bounded by the deadline, which it has no way to honour itself.

    It runs in a daemon thread that is abandoned if it takes too long (a pool's threads would be
    joined at exit, so a hung resolver would hang the shutdown of the service too).
    """
    answers: list[AddrInfo] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            answers.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=resolve, name="brightline-dns", daemon=True).start()
    if not done.wait(deadline.left(host)):
        raise deadline.expired(host)
    if errors:
        raise errors[0]
    return answers[0]


def _forbidden_kind(address: IPAddress, allowed: tuple[IPNetwork, ...]) -> str | None:
    """Why ``address`` may not be fetched from (``"private"``, ...), or None if it may.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, NAT64
    ``64:ff9b::a.b.c.d``, 6to4 ``2002:aabb:ccdd::``) are judged by that IPv4 address, since that
    is where the packets end up.
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        address = embedded
    if any(address in network for network in allowed):
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (CGNAT)"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class _Watchdog:
    """Shuts the connection's socket when the deadline passes, ending any read blocked on it.

    Per-read timeouts alone do not bound a fetch: a server sending a byte every few seconds never
    trips them. The socket is learnt from httpcore's ``trace`` extension as soon as it connects
    (and again after TLS wraps it, which moves the descriptor to a new socket object).
    """

    def __init__(self, deadline: _Deadline, host: str) -> None:
        self._socket: socket.socket | None = None
        self._fired = False
        self._timer = threading.Timer(deadline.left(host), self._cut)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in {"connection.connect_tcp.complete", "connection.start_tls.complete"}:
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self._socket = sock
                if self._fired:  # the deadline passed while connecting
                    self._cut()

    def _cut(self) -> None:
        self._fired = True
        sock = self._socket
        if sock is not None:
            try:
                # The base-class method, so that an SSLSocket's TLS state is left alone: only
                # the descriptor is shut, which wakes the reading thread with end-of-file.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                return

    def disarm(self) -> None:
        self._timer.cancel()


def _fetch_once(
    url: httpx.URL,
    address: IPAddress,
    directory: Path,
    limits: FetchLimits,
    deadline: _Deadline,
) -> Path | httpx.URL:
    """One request to ``address``: the file it saved, or the URL it redirects to."""
    host = _host(url)
    # Every wait (connect, TLS, each read and write) is bounded by the time left; the watchdog
    # bounds their sum.
    wait = deadline.left(host)
    watchdog = _Watchdog(deadline, host)
    extensions: dict[str, Any] = {
        "timeout": {"connect": wait, "read": wait, "write": wait, "pool": wait},
        "trace": watchdog.trace,
    }
    if _literal(host) is None:
        extensions["sni_hostname"] = host
    request = httpx.Request(
        "GET",
        url.copy_with(host=str(address), fragment=None),
        headers={
            "Host": url.netloc.decode("ascii"),
            "User-Agent": f"Brightline/{__version__} (hash matching)",
            "Accept": "*/*",
            "Accept-Encoding": "identity",
        },
        extensions=extensions,
    )
    log.debug("fetching from %s", host)
    try:
        with httpx.HTTPTransport(verify=_tls_context(), retries=0) as transport:
            response = transport.handle_request(request)
            try:
                return _handle_response(response, url, directory, limits, deadline)
            finally:
                response.close()
    except httpx.TimeoutException:
        raise deadline.expired(host) from None
    except httpx.HTTPError as exc:
        if deadline.passed:  # the watchdog cut the connection: the error is only its echo
            raise deadline.expired(host) from None
        raise FetchFailed(f"cannot fetch from {host}: {_describe(exc)}") from None
    finally:
        watchdog.disarm()


def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context: certifi's CAs, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``.

    Built once per CA setting, not per hop: loading a CA bundle takes tens of milliseconds.
    """
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _tls_context_for(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    return httpx.create_ssl_context(trust_env=False)


def _describe(exc: httpx.HTTPError) -> str:
    """The error in one line, without the URL (httpx messages name only hosts and causes)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__


def _handle_response(
    response: httpx.Response,
    url: httpx.URL,
    directory: Path,
    limits: FetchLimits,
    deadline: _Deadline,
) -> Path | httpx.URL:
    host = _host(url)
    status = response.status_code
    if status in REDIRECT_STATUSES:
        location = response.headers.get("location")
        if not location:
            raise FetchFailed(f"{host} answered HTTP {status} without a Location")
        try:
            target = url.join(location)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchFailed(f"{host} redirects to a malformed URL: {exc}") from None
        return _parse(str(target), redirected=True)
    if not 200 <= status < 300:
        raise FetchFailed(f"{host} answered HTTP {status}")
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(limits.max_bytes, f"{int(declared)} bytes declared")
    path = directory / f"fetched-{uuid.uuid4().hex}"
    try:
        # Raw bytes, never decoded: a server that gzips despite "identity" must not be able to
        # expand a small body past the byte cap inside one chunk (a decompression bomb).
        _save(response.iter_raw(CHUNK_BYTES), path, limits.max_bytes, deadline, host)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _save(chunks: Iterable[bytes], path: Path, cap: int, deadline: _Deadline, host: str) -> None:
    size = 0
    with path.open("wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > cap:
                raise _too_large(cap, "more bytes sent")
            if deadline.passed:
                raise deadline.expired(host)
            out.write(chunk)


def _too_large(cap: int, why: str) -> Unhashable:
    return Unhashable("too_large", f"the content is larger than the limit of {cap} bytes ({why})")
