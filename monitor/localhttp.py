"""One way to serve HTTP on a background thread: the sandbox, the Teams receiver, metrics, tests, benches.

`serve_in_thread` runs `serve_forever` with a short poll interval: `shutdown()` waits for the loop
to notice, which with the library's default (0.5 s) made every stop cost half a second.
`LocalServer` is a loopback ThreadingHTTPServer for a request-handler class, started and stopped
as a context manager.
"""

from __future__ import annotations

import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POLL_INTERVAL = 0.05  # seconds between checks for shutdown; the select wakes on requests at once


def serve_in_thread(server: socketserver.BaseServer, name: str) -> threading.Thread:
    """Serve `server` on a daemon thread until `stop_serving`."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name=name, daemon=True
    )
    thread.start()
    return thread


def stop_serving(server: socketserver.BaseServer, thread: threading.Thread | None = None) -> None:
    """Stop the loop, close the socket and wait (briefly) for the thread to end."""
    server.shutdown()
    server.server_close()
    if thread is not None:
        thread.join(timeout=5)


class LocalServer:
    """A ThreadingHTTPServer on loopback (port 0: any free one) serving `handler` on a daemon thread."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "local-http",
    ) -> None:
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        self._thread = serve_in_thread(self.httpd, self.name)
        return self

    def stop(self) -> None:
        stop_serving(self.httpd, self._thread)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
