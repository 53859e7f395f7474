"""The HTTP server every fakes3 port runs on: cheroot, in a daemon thread, restartable.

cheroot gives HTTP/1.1 with keep-alive (werkzeug's development server closes every connection,
so each boto3 request would pay a new TCP handshake), ``Expect: 100-continue``, streamed request
bodies and a bounded worker pool. ``stop()`` then ``start()`` serves again on the same port: an
"endpoint down" window for fault tests.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from typing import Any

from cheroot import wsgi

from fakes3.faults.controller import DropConnection

# How much of a chunked request body the server reads past what the app consumed, to keep the
# connection usable; beyond it the connection is closed instead.
MAX_DRAIN = 64 * 1024 * 1024


class _Gateway(wsgi.Gateway_10):
    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]
        env = super().get_environ()
        # The header block as sent: WSGI's HTTP_* keys turn ``_`` into ``-``.
        env["fakes3.raw_headers"] = self.req.inheaders
        return env

    def respond(self) -> None:
        try:
            super().respond()
        except DropConnection:
            # An "ambiguous" fault: the operation was applied, and the client gets no answer.
            self.req.ready = False
            self.req.close_connection = True
            with contextlib.suppress(OSError):
                self.req.conn.socket.shutdown(socket.SHUT_RDWR)
            return
        # cheroot drains an unread Content-Length body, but not a Transfer-Encoding: chunked one
        # (aws-sdk-cpp wraps aws-chunked uploads in it): the rest would be read as the next
        # request on this keep-alive connection.
        if self.req.chunked_read and not _drain(self.req.rfile):
            self.req.close_connection = True


def _drain(stream: Any) -> bool:
    left = MAX_DRAIN
    while left > 0:
        data = stream.read(min(1 << 20, left))
        if not data:
            return True
        left -= len(data)
    return False


class _Server(wsgi.Server):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gateway = _Gateway

    @classmethod
    def prepare_socket(cls, bind_addr: Any, *args: Any, **kwargs: Any) -> socket.socket:
        # SO_REUSEADDR on an ephemeral port too (cheroot skips it there): without it the first
        # listener's connections, left in TIME_WAIT, keep a restart from binding the same port.
        sock: socket.socket = super().prepare_socket(bind_addr, *args, **kwargs)
        if os.name != "nt" and not isinstance(bind_addr, (str, bytes)):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return sock


class HttpServer:
    """Serves a WSGI app on ``host:port`` (0: any free port) until ``stop()``."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 server_name: str = "fakes3", idle_timeout: int = 60) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._threads = threads
        self._server_name = server_name
        self._idle_timeout = idle_timeout
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HttpServer:
        if self._server is not None:
            return self
        server = _Server((self.host, self._port), self.app, numthreads=self._threads,
                         server_name=self._server_name, shutdown_timeout=2, timeout=self._idle_timeout)
        # cheroot's stop() waits for its selector loop, which wakes every expiration_interval
        # (0.5 s by default): a shorter one makes stop() quick.
        server.expiration_interval = 0.05
        server.prepare()  # binds now: the port is known when start() returns
        self._port = int(server.bind_addr[1])  # a restart reuses it
        self._server = server
        self._thread = threading.Thread(target=server.serve, name=f"{self._server_name}-http",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None

    def wait(self) -> None:
        """Block until the server stops (the CLI's main thread)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the server is not running: call start()")
        return self._port

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
