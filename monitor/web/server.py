"""Serving the dashboard with waitress: in the foreground (`socialmon web`) or in a thread
beside the daemon (`socialmon run` with a `web:` section, `socialmon demo --web`)."""

from __future__ import annotations

import threading
from typing import Any

from monitor.logs import get_logger

log = get_logger(component="web")

THREADS = 8


class WebServer:
    """A waitress server bound at construction (so a busy port fails at once, with its reason)."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = THREADS):
        from waitress.server import create_server

        # No proxy headers are trusted by waitress: identity comes only from `web.auth`'s own rule.
        self._server: Any = create_server(app, host=host, port=port, threads=threads, ident="socialmon")
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def host(self) -> str:
        return str(self._server.effective_host)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def serve_forever(self) -> None:
        log.info("dashboard listening", url=self.url)
        try:
            self._server.run()
        except OSError:
            if not self._stopping.is_set():  # a closed socket is how a stop ends the loop
                raise

    def start(self) -> WebServer:
        self._thread = threading.Thread(target=self.serve_forever, name="web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in progress finish, then close every connection."""
        self._stopping.set()
        self._server.close()  # the listening socket: no new connections
        self._server.task_dispatcher.shutdown()  # waits (up to 5 s) for requests being served
        for dispatcher in list(self._server._map.values()):  # open connections and the trigger
            dispatcher.handle_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def start_for(config: Any, store: Any, host: str | None = None, port: int | None = None) -> WebServer:
    """Build the app from the config's `web:` section and serve it in a thread."""
    from monitor.web.app import create_app

    web = config.web
    server = WebServer(create_app(config, store), host or web.host, web.port if port is None else port)
    return server.start()
