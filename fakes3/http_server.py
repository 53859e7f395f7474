"""The HTTP server every fakes3 port runs on: cheroot, in a daemon thread, restartable.

cheroot gives HTTP/1.1 with keep-alive (werkzeug's development server closes every connection,
so each boto3 request would pay a new TCP handshake), ``Expect: 100-continue``, streamed request
bodies and a bounded worker pool. ``stop()`` then ``start()`` serves again on the same port: an
"endpoint down" window for fault tests.

Response bodies skip cheroot's Python-level socket writer (a ``_pyio`` buffer that copies every
chunk twice): the header block goes out with the first body chunk in one ``send``, further chunks
straight to the socket. A body that offers ``pieces()`` (``fakes3.s3.blobs.RangeBody``: an object
spilled to a file) may hand over file spans, sent out of a memory map of the file without being
read into Python. A piece is ``bytes`` or a span: an object with ``file`` (open, with
``fileno()``), ``offset``, ``length`` and ``chunks()`` (its bytes, read: for TLS, or a file that
cannot be mapped).

A worker that has answered on a kept-alive connection waits a few milliseconds for that
connection's next request and serves it itself (``LINGER``), rather than returning it to
cheroot's selector thread at once.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import mmap
import os
import select
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from cheroot import wsgi
from cheroot.workers import threadpool

from fakes3.faults.controller import DropConnection

# How much of a chunked request body the server reads past what the app consumed, to keep the
# connection usable; beyond it the connection is closed instead.
MAX_DRAIN = 64 * 1024 * 1024

# A first body chunk up to this size is joined to the header block: one send, one TCP segment.
COALESCE = 64 * 1024
# Bigger chunks are sent with one send() per slice the socket takes: socket.sendall's timeout
# bounds the whole call, cheroot's (the idle timeout) each wait, which a slow reader needs.
_SENDALL_MAX = 256 * 1024
# A file span is sent from a memory map of at most this much of the file at a time (the mapped
# pages count in the server's resident memory while they are mapped).
WINDOW = 4 * 1024 * 1024
# After answering on a keep-alive connection, a worker waits this long for the connection's next
# request before handing it back to cheroot's selector thread. A client's next request (boto3's
# comes about 1 ms later) is then served by the same thread, woken once, instead of the selector's
# thread waking, queueing the connection and waking a worker: 50-70 µs of server CPU less.
LINGER = 0.005
# A lingering worker looks at least this often whether the server is stopping.
_LINGER_SLICE = 0.05


class _Capture:
    """Stands in for the connection's writer while cheroot formats the header block."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)


class _Gateway(wsgi.Gateway_10):
    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]
        env = super().get_environ()
        # The header block as sent: WSGI's HTTP_* keys turn ``_`` into ``-``.
        env["fakes3.raw_headers"] = self.req.inheaders
        return env

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Any:
        """cheroot's, with less work per header (fakes3 answers with ten or so): each is encoded
        once, and a Date header, formatted once a second, spares cheroot formatting one per
        response."""
        if self.started_response and not exc_info:
            raise RuntimeError("WSGI start_response called a second time with no exc_info.")
        self.started_response = True
        req = self.req
        if req.sent_headers:
            raise exc_info[1]
        if not isinstance(status, str):
            raise TypeError("WSGI response status is not of type str.")
        req.status = status.encode("ISO-8859-1")
        out = req.outheaders
        dated = False
        for name, value in headers:
            try:
                out.append((name.encode("ISO-8859-1"), value.encode("ISO-8859-1")))
            except AttributeError:
                what = "key" if not isinstance(name, str) else "value"
                raise TypeError(f"WSGI response header {what} {name if what == 'key' else value!r} "
                                "is not of type str.") from None
            if len(name) == 14 and name.lower() == "content-length":
                self.remaining_bytes_out = int(value)
            elif len(name) == 4 and name.lower() == "date":
                dated = True
        if not dated:
            out.append((b"Date", _http_date()))
        return self.write

    def respond(self) -> None:
        req = self.req
        try:
            response = req.server.wsgi_app(self.env, self.start_response)
            try:
                self._write_body(response)
            finally:
                req.ensure_headers_sent()  # an empty body: the header block alone, as cheroot does
                close = getattr(response, "close", None)
                if close is not None:
                    close()
        except DropConnection:
            # An "ambiguous" fault: the operation was applied, and the client gets no answer.
            req.ready = False
            req.close_connection = True
            with contextlib.suppress(OSError):
                req.conn.socket.shutdown(socket.SHUT_RDWR)
            return
        # cheroot drains an unread Content-Length body, but not a Transfer-Encoding: chunked one
        # (aws-sdk-cpp wraps aws-chunked uploads in it): the rest would be read as the next
        # request on this keep-alive connection.
        if req.chunked_read and not _drain(req.rfile):
            req.close_connection = True

    # -- the response body ------------------------------------------------------------------

    def _write_body(self, response: Iterable[Any]) -> None:
        pieces = getattr(response, "pieces", None)
        # TLS sockets encrypt in user space: a span's bytes go through Python there.
        mapped = pieces is not None and type(self.req.conn.socket) is socket.socket
        for piece in pieces() if pieces is not None else response:
            if isinstance(piece, bytes):
                if piece:
                    self._send(piece)
            elif pieces is not None and not isinstance(piece, (str, bytearray, memoryview)):
                if not (mapped and self._send_span(piece)):
                    for chunk in piece.chunks():
                        self._send(chunk)
            else:
                raise ValueError("WSGI Applications must yield bytes")

    def _send(self, chunk: bytes) -> None:
        """What cheroot's ``write`` does, straight to the socket."""
        req = self.req
        rbo = self.remaining_bytes_out
        if rbo is not None and len(chunk) > rbo:
            self.write(chunk)  # cheroot's own: a 500 if nothing was sent, else truncate and raise
            return
        head = b"" if req.sent_headers else self._header_block()
        if req.chunked_write:
            head += b"%x\r\n" % len(chunk)
        if len(chunk) <= COALESCE:
            self._sendall(head + chunk + b"\r\n" if req.chunked_write else head + chunk)
        else:
            if head:
                self._sendall(head)
            self._sendall(chunk)
            if req.chunked_write:
                self._sendall(b"\r\n")
        if rbo is not None:
            self.remaining_bytes_out = rbo - len(chunk)

    def _send_span(self, span: Any) -> bool:
        """Send a file span from a memory map of the file; False (nothing sent) if it cannot be."""
        req = self.req
        length: int = span.length
        rbo = self.remaining_bytes_out
        if length <= 0:
            return True
        if rbo is not None and length > rbo:
            return False  # the chunk path reports the overrun
        try:
            fd = span.file.fileno()
            if os.fstat(fd).st_size < span.offset + length:
                return False  # mapping past the end would fault (SIGBUS); reading reports it
        except (AttributeError, OSError, ValueError):
            return False
        head = b"" if req.sent_headers else self._header_block()
        if req.chunked_write:
            head += b"%x\r\n" % length
        if head:
            self._sendall(head)
        _send_mapped(req.conn.socket, fd, span.offset, length)
        if req.chunked_write:
            self._sendall(b"\r\n")
        self._count(length)
        if rbo is not None:
            self.remaining_bytes_out = rbo - length
        return True

    def _header_block(self) -> bytes:
        """cheroot's status line and headers (Date, Connection, ...), captured, not sent."""
        conn = self.req.conn
        real, capture = conn.wfile, _Capture()
        conn.wfile = capture
        try:
            self.req.ensure_headers_sent()
        finally:
            conn.wfile = real
        return b"".join(capture.parts)

    def _sendall(self, data: bytes) -> None:
        sock = self.req.conn.socket
        if len(data) <= _SENDALL_MAX:
            sock.sendall(data)
        else:
            view = memoryview(data)
            while view:
                view = view[sock.send(view):]
        self._count(len(data))

    def _count(self, n: int) -> None:
        wfile = self.req.conn.wfile
        if hasattr(wfile, "bytes_written"):
            wfile.bytes_written += n  # cheroot's statistics


def _send_mapped(sock: socket.socket, fd: int, offset: int, length: int) -> None:
    """Send ``length`` bytes of file ``fd`` from ``offset`` out of a read-only memory map, a window
    at a time: the kernel copies the file's cached pages straight into the socket's buffers.

    Not ``os.sendfile``: on loopback, where a fake's clients are, its page-referencing buffers
    leave the client a slower copy (measured: more client CPU and a longer GET than this)."""
    end = offset + length
    pos = offset
    while pos < end:
        base = pos - pos % mmap.ALLOCATIONGRANULARITY
        size = min(end - base, WINDOW)
        window = mmap.mmap(fd, size, access=mmap.ACCESS_READ, offset=base)
        try:
            with memoryview(window) as view:
                rest = view[pos - base:]
                while rest:
                    rest = rest[sock.send(rest):]
                del rest
        finally:
            with contextlib.suppress(BufferError):  # a view still held by a traceback: GC unmaps
                window.close()
        pos = base + size


_date: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    """The Date header's value (RFC 7231), formatted once a second."""
    global _date
    now = int(time.time())
    second, text = _date
    if second != now:
        text = email.utils.formatdate(now, usegmt=True).encode("ascii")
        _date = (now, text)
    return text


def _drain(stream: Any) -> bool:
    left = MAX_DRAIN
    while left > 0:
        data = stream.read(min(1 << 20, left))
        if not data:
            return True
        left -= len(data)
    return False


class _Pool(threadpool.ThreadPool):
    """cheroot's worker pool, with its workers started in the background.

    cheroot's ``start`` starts every worker in turn, each ``Thread.start`` waiting for the new
    thread to be scheduled, then polls every 0.1 s until all of them run: 24 workers cost 3 to
    130 ms on a busy machine, most of a fake's start-up. Here ``start`` does nothing; ``spawn``
    (from the server's own thread) hands the work to a helper thread, which starts them one by
    one, the first at once. ``stop`` lets the helper finish first, so every worker it started is
    told to stop. Workers are daemon threads: a script or test that never calls ``stop()`` still
    exits (cheroot's inherit the starting thread's status, and kept such a process alive)."""

    def __init__(self, server: Any, old: threadpool.ThreadPool) -> None:
        super().__init__(server, min=old.min, max=old.max,
                         accepted_queue_size=old._queue.maxsize,  # type: ignore[attr-defined]
                         accepted_queue_timeout=old._queue_put_timeout)  # type: ignore[attr-defined]
        self._stopping = False
        self._spawner: threading.Thread | None = None
        self._lock = threading.Lock()
        self.waiting = 0  # workers blocked in get(), free for a queued connection
        self.get = self._get

    def _get(self) -> Any:
        with self._lock:
            self.waiting += 1
        try:
            return self._queue.get()  # type: ignore[attr-defined]
        finally:
            with self._lock:
                self.waiting -= 1

    def start(self) -> None:
        pass  # see spawn

    def spawn(self) -> None:
        with self._lock:
            if self._spawner is None and not self._stopping:
                self._spawner = threading.Thread(target=self._spawn_all, daemon=True,
                                                 name=f"{self.server.server_name}-pool")
                self._spawner.start()

    def _spawn_all(self) -> None:
        for _ in range(self.min):
            if self._stopping:
                return
            self._threads.append(self._spawn_worker())  # type: ignore[attr-defined]

    def _spawn_worker(self) -> threadpool.WorkerThread:
        worker = threadpool.WorkerThread(self.server)
        worker.name = f"CP Server {worker.name!s}"
        worker.daemon = True
        worker.start()
        return worker

    def stop(self, timeout: int = 5) -> None:
        with self._lock:
            self._stopping = True
            spawner = self._spawner
        if spawner is not None:
            spawner.join()
        super().stop(timeout)


class _Server(wsgi.Server):
    def __init__(self, *args: Any, linger: float = LINGER, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gateway = _Gateway
        self.requests: _Pool = _Pool(self, self.requests)
        self.linger = linger

    def serve(self) -> None:
        self.requests.spawn()
        super().serve()

    def put_conn(self, conn: Any) -> None:
        """Called by a worker with a keep-alive connection it has answered: serve the
        connection's next requests in this thread while they come within ``linger`` seconds,
        then hand it back to the selector. A worker lingers only while another one is free and
        no connection waits, so more connections than workers still take turns."""
        pool = self.requests
        poller = None
        while self.linger > 0 and self.ready and pool.waiting and not pool.qsize:
            if not conn.rfile.has_data():  # else a pipelined request is already buffered
                if poller is None:
                    poller = select.poll()
                    poller.register(conn.socket.fileno(), select.POLLIN)
                if not self._readable_soon(poller):
                    break
            if not self._communicate(conn):
                conn.close()
                return
        super().put_conn(conn)

    def _readable_soon(self, poller: select.poll) -> bool:
        deadline = time.monotonic() + self.linger
        while self.ready:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if poller.poll(min(left, _LINGER_SLICE) * 1000):
                return True
        return False

    def _communicate(self, conn: Any) -> bool:
        """One request on ``conn``, as cheroot's worker loop runs it: True to keep it open."""
        try:
            return bool(conn.communicate())
        except Exception as exc:
            level = logging.INFO if isinstance(exc, ConnectionError) else logging.ERROR
            self.error_log(f"Error while handling a connection from {conn.remote_addr!s}: {exc!r}",
                           level=level, traceback=level == logging.ERROR)
            return False

    def stop(self) -> None:
        # cheroot's stop() waits for its selector loop to notice, which it does when select()
        # times out (expiration_interval): ask it to stop, then wake it with a connection.
        connections = getattr(self, "_connections", None)
        sock = self.socket
        if self.ready and connections is not None and sock is not None:
            connections._stop_requested = True
            with contextlib.suppress(OSError):
                host, port = sock.getsockname()[:2]
                wake = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
                socket.create_connection((wake, port), timeout=1).close()
                deadline = time.monotonic() + 1  # cheroot polls every 10 ms: this, more often
                while connections._serving and time.monotonic() < deadline:
                    time.sleep(0.0005)
        super().stop()

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
                 server_name: str = "fakes3", idle_timeout: int = 60, linger: float = LINGER) -> None:
        """``linger``: seconds a worker waits for a kept-alive connection's next request (0: hand
        every connection straight back to cheroot's selector)."""
        self.app = app
        self.host = host
        self._port = port
        self._threads = threads
        self._server_name = server_name
        self._idle_timeout = idle_timeout
        self._linger = linger
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HttpServer:
        if self._server is not None:
            return self
        server = _Server((self.host, self._port), self.app, numthreads=self._threads,
                         server_name=self._server_name, shutdown_timeout=2, timeout=self._idle_timeout,
                         linger=self._linger)
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
