"""Local receivers standing in for a mail server and a Teams webhook (tests, the demo, drills).

`SmtpSink` is a real SMTP server (aiosmtpd) on loopback that writes each message it accepts to
`<dir>/NNNN.eml`; it can offer STARTTLS or implicit TLS, require a login, and answer the first
deliveries with scripted errors. `TeamsReceiver` is an HTTP server on loopback that writes each
accepted JSON body to `<dir>/NNNN.json` and answers 202 like a Workflows webhook, or scripted
statuses (400, 429 with Retry-After, 500...), or random failures at a given rate.
"""

from __future__ import annotations

import json
import random
import secrets
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.localhttp import serve_in_thread, stop_serving


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- SMTP --------------------------------------------------------------------------------------


class _SmtpHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.sink.reject_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.sink._accept(envelope)


class SmtpSink:
    """A loopback SMTP server that keeps what it receives.

    `responses`: replies for the first DATA commands (e.g. ["451 4.3.0 Try later"]), then 250.
    `tls_context`: offer STARTTLS (`implicit_tls=True`: TLS from the first byte instead).
    `credentials`: {user: password} to require AUTH LOGIN/PLAIN.
    """

    def __init__(
        self,
        dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        require_starttls: bool = False,
        credentials: dict[str, str] | None = None,
        responses: Iterable[str] = (),
        reject_recipients: Iterable[str] = (),
    ):
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.require_starttls = require_starttls
        self.credentials = credentials
        self.responses: deque[str] = deque(responses)
        self.reject_recipients = set(reject_recipients)
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused = 0
        self.logins: list[str] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _accept(self, envelope: Any) -> str:
        with self._lock:
            if self.responses:
                self.refused += 1
                return self.responses.popleft()
            raw: bytes = envelope.original_content or envelope.content
            self.messages.append(message_from_bytes(raw, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            (self.dir / f"{len(self.messages):04d}.eml").write_bytes(raw)
        return "250 Message accepted"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        ok = self.credentials.get(user) == auth_data.password.decode()
        if ok:
            self.logins.append(user)
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port, "ready_timeout": 10}
        if self.tls_context is not None and self.implicit_tls:
            kwargs["ssl_context"] = self.tls_context
        elif self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=self.require_starttls)
        if self.credentials is not None:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; an implicit-TLS socket is encrypted already.
            starttls = self.tls_context is not None and not self.implicit_tls
            kwargs.update(authenticator=self._authenticate, auth_require_tls=starttls)
        self._controller = Controller(_SmtpHandler(self), **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- Teams -------------------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    at: float  # time.time() on arrival
    raw: bytes = b""


@dataclass
class _Script:
    responses: deque[tuple[int, dict[str, str], str]] = field(default_factory=deque)
    fail_rate: float = 0.0
    rng: random.Random = field(default_factory=random.Random)


class TeamsReceiver:
    """A loopback webhook: answers 202 (Workflows) by default; `script(...)` queues other answers.

    `.url` holds a random secret path like a real webhook, so tests can prove it never leaks.
    `.messages` are the bodies it accepted (2xx); `.requests` everything that arrived.
    """

    def __init__(
        self,
        dir: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        fail_rate: float = 0.0,
        seed: int | None = None,
        default_status: int = 202,
    ):
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.requested_port = port
        self.secret = secrets.token_urlsafe(24)
        self.default_status = default_status
        self.messages: list[Any] = []
        self.requests: list[ReceivedRequest] = []
        self._script = _Script(fail_rate=fail_rate, rng=random.Random(seed))
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the receiver first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/webhookb2/{self.secret}/IncomingWebhook"

    def script(self, *answers: int | tuple[int, dict[str, str]] | tuple[int, dict[str, str], str]) -> None:
        """Answer the next requests with these statuses (optionally headers and a body), then default."""
        with self._lock:
            for answer in answers:
                if isinstance(answer, int):
                    self._script.responses.append((answer, {}, ""))
                elif len(answer) == 2:
                    self._script.responses.append((answer[0], answer[1], ""))
                else:
                    self._script.responses.append(answer)

    def _answer(self) -> tuple[int, dict[str, str], str]:
        with self._lock:
            if self._script.responses:
                return self._script.responses.popleft()
            if self._script.fail_rate and self._script.rng.random() < self._script.fail_rate:
                return (500, {}, "simulated failure")
        return (self.default_status, {}, "")

    def _record(self, path: str, headers: dict[str, str], raw: bytes, status: int) -> None:
        try:
            body: Any = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        with self._lock:
            self.requests.append(ReceivedRequest(path, headers, body, status, time.time(), raw))
            if 200 <= status < 300:
                self.messages.append(body)
                (self.dir / f"{len(self.messages):04d}.json").write_bytes(raw)

    def start(self) -> TeamsReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers, text = receiver._answer()
                if not self.path.startswith(f"/webhookb2/{receiver.secret}/"):
                    status, headers, text = 404, {}, "no such webhook"
                receiver._record(self.path, dict(self.headers.items()), raw, status)
                data = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return None

        self._server = ThreadingHTTPServer((self.host, self.requested_port), Handler)
        self._server.daemon_threads = True
        self._thread = serve_in_thread(self._server, "teams-receiver")
        return self

    def stop(self) -> None:
        if self._server is not None:
            stop_serving(self._server, self._thread)
            self._server = None

    def __enter__(self) -> TeamsReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
