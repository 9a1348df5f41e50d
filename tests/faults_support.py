"""Misbehaving local servers for fault tests: one that trickles a byte a second, one that redirects."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def trickle_server(interval: float = 1.0) -> Iterator[str]:
    """An HTTP server that answers every request one byte per `interval` (never finishing in time).

    Yields its base URL. Each connection is served by its own thread, which stops when the client
    hangs up or the server is closed.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    body = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"data": ['

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in body * 1000:
                    if stop.wait(interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@contextmanager
def blackhole_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word (a hung mail server).

    Yields its port; connections stay open until the server is closed.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
