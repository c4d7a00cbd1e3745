"""Turn a request's deadline into a timer that shuts its connections down, ending any read blocked on them.

A socket timeout bounds each wait for a byte, not a request: a server sending a byte every few
seconds would hold a fetch for ever. http.JsonClient arms a Watch for each request; the handlers
of watched_handlers() give it every socket their connections open.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import urllib.request
from typing import Any


class Watch:
    """Shuts down the connections of the request under way once its deadline passes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer: threading.Timer | None = None
        self.fired = False

    def arm(self, seconds: float) -> None:
        self.fired, self._sockets = False, []
        self._timer = threading.Timer(max(seconds, 0.0), self._cut)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._sockets = []

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _cut(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)  # a recv blocked on it returns at once


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, watch: Watch, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.watch = watch

    def connect(self) -> None:
        super().connect()
        self.watch.add(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, watch: Watch, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.watch = watch

    def connect(self) -> None:
        super().connect()
        self.watch.add(self.sock)


class _WatchedHTTP(urllib.request.HTTPHandler):
    def __init__(self, watch: Watch):
        super().__init__()
        self.watch = watch

    def http_open(self, req):
        return self.do_open(functools.partial(_WatchedHTTPConnection, watch=self.watch), req)


class _WatchedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, watch: Watch):
        self.tls = ssl.create_default_context()
        super().__init__(context=self.tls)
        self.watch = watch

    def https_open(self, req):
        return self.do_open(functools.partial(_WatchedHTTPSConnection, watch=self.watch), req, context=self.tls)


def watched_handlers(watch: Watch) -> tuple[urllib.request.BaseHandler, ...]:
    """urllib handlers for http:// and https:// whose connections `watch` can shut down."""
    return _WatchedHTTP(watch), _WatchedHTTPS(watch)
