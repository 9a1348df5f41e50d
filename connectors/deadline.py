"""A whole-call deadline for platform calls, on top of the per-read socket timeout.

A socket timeout bounds each read, not the call: a server that sends one byte a second never
lets a read time out and holds the poll for as long as it likes. `deadline(seconds)` starts a
timer; when it fires, every connection the call is using is shut down, which ends the blocked
read at once, and the call raises `DeadlineExceeded` (a `requests.Timeout` and a `TimeoutError`,
which the connectors already map to a `transient` error).

Connections join the current deadline in two ways: the requests transport (`DeadlineAdapter`)
enlists each urllib3 connection as it sends a request; other clients (httplib2 for YouTube) pass
a function that lists their open connections.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class DeadlineExceeded(requests.exceptions.Timeout, TimeoutError):
    """A platform call ran past its whole-call deadline."""


class _Watch:
    def __init__(self, seconds: float, sources: Iterable[Callable[[], Iterable[Any]]] = ()):
        self.seconds = seconds
        self.expired = False
        self._connections: list[Any] = []
        self._sources = list(sources)
        self._lock = threading.Lock()

    def enlist(self, connection: Any) -> None:
        with self._lock:
            if self.expired:
                _shut(connection)
            else:
                self._connections.append(connection)

    def fire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for source in self._sources:
            try:
                connections.extend(source())
            except Exception:  # a source that cannot list its connections has none to cut
                continue
        for connection in connections:
            _shut(connection)


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


@contextmanager
def deadline(seconds: float, *sources: Callable[[], Iterable[Any]]) -> Iterator[_Watch]:
    """Run the body with a whole-call deadline of `seconds` (see the module docstring)."""
    watch = _Watch(seconds, sources)
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    done = threading.Event()

    def guard() -> None:
        if done.wait(seconds):
            return
        # Past the deadline: cut, and keep cutting, since a client may reconnect and retry
        # (httplib2 does) on a connection it has just lost.
        watch.fire()
        while not done.wait(0.1):
            watch.fire()

    threading.Thread(target=guard, name="deadline", daemon=True).start()
    try:
        yield watch
    except Exception as exc:
        if watch.expired:
            raise DeadlineExceeded(f"no complete answer within {seconds:g} s") from exc
        raise
    finally:
        done.set()
        _current.watch = previous
    if watch.expired:
        raise DeadlineExceeded(f"no complete answer within {seconds:g} s")


def _enlist(connection: Any) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.enlist(connection)


class _DeadlineHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _enlist(self)
        super().request(*args, **kwargs)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _enlist(self)
        super().request(*args, **kwargs)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections join the current `deadline` (no retries, like requests')."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}
