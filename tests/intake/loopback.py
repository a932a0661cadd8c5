"""A real HTTP(S) server on 127.0.0.1, in a thread, for fetching tests.

Each path is served by a small function (an image, a redirect, a stall, a drip of bytes...), and
every request is recorded so that tests can check that a refused fetch never reached the server.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    host: str | None


@dataclass
class Loopback:
    port: int
    scheme: str
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    """Set at teardown, so stalling and dripping routes end."""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


@contextmanager
def serve(context: ssl.SSLContext | None = None) -> Iterator[Loopback]:
    """Serve on a free loopback port until the block ends (https with ``context``)."""
    state = Loopback(port=0, scheme="https" if context else "http")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.seen.append(Seen(self.path, self.headers.get("Host")))
            route = state.routes.get(self.path.split("?", 1)[0])
            try:
                if route is None:
                    send_bytes(b"not here", status=404, content_type="text/plain")(self)
                else:
                    route(self)
            except OSError:
                # The client gave up (a refused size, a timeout): expected in these tests.
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:

        def remember(_sock: ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
            state.server_names.append(name)

        context.sni_callback = remember
        server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        thread.join()
        server.server_close()


def send_bytes(
    data: bytes, *, status: int = 200, content_type: str = "image/jpeg", length: int | None = None
) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data) if length is None else length))
        handler.end_headers()
        handler.wfile.write(data)

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def chunked(total: int, chunk: int = 16 * 1024) -> Route:
    """``total`` bytes with no Content-Length: only counting can stop them."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        sent = 0
        while sent < total:
            size = min(chunk, total - sent)
            handler.wfile.write(f"{size:x}\r\n".encode() + b"\0" * size + b"\r\n")
            sent += size
        handler.wfile.write(b"0\r\n\r\n")

    return route


def stall(state: Loopback) -> Route:
    """Accept the request, then say nothing until teardown."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        state.release.wait(30)
        handler.close_connection = True

    return route


def drip(state: Loopback, interval: float = 0.02) -> Route:
    """Headers at once, then one byte at a time, never slow enough to trip a read timeout."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        while not state.release.wait(interval):
            handler.wfile.write(b"x")
            handler.wfile.flush()

    return route
