"""Socketless: boto3 and botocore clients in this process talk to a fake's WSGI app directly.

    with FakeAWS().patch() as fake:          # no server thread, no port, no socket
        s3 = fake.client("s3")
        s3.create_bucket(Bucket="b")

    with FakeAWS() as aws, aws.patch():      # a running fake: its own endpoint, served in-process
        aws.client("s3").list_buckets()

A request to the fake's endpoint is turned into the WSGI environ the HTTP server would have built
(the raw header block as ``fakes3.raw_headers``, ``REQUEST_URI``, a ``wsgi.input`` stream of the
body, ``REMOTE_ADDR`` 127.0.0.1) and handed to ``aws.app``, so it goes through the same protocol
layer, SigV4 authentication, fault seam and journal as a request over HTTP. The answer comes back
as a ``botocore.awsrequest.AWSResponse`` whose body streams from the app's iterable, as a urllib3
response's would. Requests to any other URL are left alone.

How it hooks in, and why there: while at least one patch is active, the class attribute
``botocore.httpsession.URLLib3Session.send`` is replaced by a function that serves the requests
for registered endpoints and passes everything else to the original. ``send(request)`` is the
public method of botocore's one HTTP session class, and its contract (an ``AWSPreparedRequest``
in, an ``AWSResponse`` out, ``botocore.exceptions.HTTPClientError`` subclasses for transport
failures) is what ``Endpoint`` relies on; it has not changed since botocore 1.11. Hooking it covers
every client in the process whatever session created it, including clients created before the
patch (boto3's default session, fixtures), and leaves botocore's own request pipeline (parameter
validation, signing, ``before-send`` handlers such as moto's, retries, parsing) untouched. The
alternative, a ``before-send`` event handler, is public too but has to be registered on each
client (or on each session, before the client is created), which misses clients created earlier;
moto's own ``patch_client`` digs through private attributes to do it. ``attach(client, ...)``
offers that per-client handler for callers who want no process-wide patch.

What differs from a socket: transport-level behaviour does not exist here. The client's
``connect_timeout``/``read_timeout`` never fire (a ``latency`` or ``ambiguous: timeout`` fault is
waited out), and the request runs in the calling thread. An ``ambiguous: drop`` fault raises
``ConnectionClosedError``, as urllib3's dropped connection does. A running fake that is stopped
(its "endpoint down" window) refuses patched requests to its URL with ``EndpointConnectionError``.
aiobotocore (s3fs) and non-Python clients do not use ``URLLib3Session``; they need the real server.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, unquote_to_bytes, urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.httpsession import URLLib3Session
from urllib3.exceptions import ProtocolError

from fakes3.faults.controller import DropConnection
from fakes3.protocol.body import ReadStream

if TYPE_CHECKING:
    from fakes3.server import FakeAWS

__all__ = ["InProcess", "attach", "fake", "patch"]

log = logging.getLogger("fakes3")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_SIZE = 1 << 16


# -- the WSGI exchange ---------------------------------------------------------------------------


class _RequestBody(ReadStream):
    """``wsgi.input`` over whatever botocore holds as the body: bytes, a file, or an iterable."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is None:
            body = b""
        self._file: Any = None
        self._chunks: Iterator[bytes] | None = None
        self._pending = b""
        if isinstance(body, (bytes, bytearray, memoryview)):
            self._file = io.BytesIO(body)
        elif hasattr(body, "read"):
            self._file = body
        else:
            self._chunks = iter(body)

    def read(self, size: int | None = -1) -> bytes:
        if self._file is not None:
            data = self._file.read() if size is None or size < 0 else self._file.read(size)
            return data.encode("utf-8") if isinstance(data, str) else bytes(data)
        want = sys.maxsize if size is None or size < 0 else size
        while len(self._pending) < want:
            chunk = next(self._chunks, None) if self._chunks is not None else None
            if chunk is None:
                break
            self._pending += chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
        data, self._pending = self._pending[:want], self._pending[want:]
        return data


class ResponseBody(ReadStream):
    """The app's response iterable, read like a urllib3 ``HTTPResponse`` (``read``, ``stream``).

    botocore wraps it in a ``StreamingBody`` for streaming operations (GetObject) and otherwise
    reads it whole. Closing it closes the app's iterable, as a WSGI server must."""

    def __init__(self, iterable: Iterable[bytes], request: AWSPreparedRequest) -> None:
        super().__init__()
        self._iterable = iterable
        self._chunks = iter(iterable)
        self._pending = b""
        self._request = request
        self._done = False

    def _next(self) -> bytes | None:
        if self._done:
            return None
        try:
            return next(self._chunks)
        except StopIteration:
            self._done = True
            return None
        except DropConnection as exc:  # a fault raised while streaming: the connection breaks
            self._done = True
            raise ProtocolError("Connection broken: the fake dropped the connection", exc) from None

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        limit = -1 if amt is None else amt
        whole = limit < 0
        parts = [self._pending] if self._pending else []
        have = len(self._pending)
        while whole or have < limit:
            chunk = self._next()
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        # One chunk is returned as it is; several are joined once (not grown chunk by chunk).
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if whole or len(data) <= limit:
            self._pending = b""
            return data
        data, self._pending = data[:limit], data[limit:]
        return data

    def stream(self, amt: int = _READ_SIZE, decode_content: bool | None = None) -> Iterator[bytes]:
        while data := self.read(amt):
            yield data

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self._done = True
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        super().close()


class _Connections:
    """A made-up client port per (HTTP session, thread): what the journal shows as the
    connection, the way each pooled socket has its own port."""

    def __init__(self) -> None:
        self._ports: weakref.WeakKeyDictionary[Any, dict[int, int]] = weakref.WeakKeyDictionary()
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def port(self, owner: Any) -> int:
        thread = threading.get_ident()
        with self._lock:
            ports = self._ports.get(owner)
            if ports is None:
                ports = self._ports[owner] = {}
            port = ports.get(thread)
            if port is None:
                port = ports[thread] = 49152 + next(self._counter) % 16384
            return port


_connections = _Connections()


def build_environ(request: AWSPreparedRequest, url: SplitResult, remote_port: int) -> dict[str, Any]:
    """The WSGI environ fakes3's HTTP server would build for this request."""
    path = url.path or "/"
    target = f"{path}?{url.query}" if url.query else path
    scheme = url.scheme or "http"
    port = url.port or _DEFAULT_PORTS.get(scheme, 80)
    raw: dict[bytes, bytes] = {}
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": url.query,
        "REQUEST_URI": target,
        "SERVER_NAME": url.hostname or "127.0.0.1",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "fakes3-inprocess",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": str(remote_port),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": _RequestBody(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "fakes3.raw_headers": raw,
    }
    for name, value in request.headers.items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        key, wsgi_key = _header_keys(name)
        data = value.encode("latin-1")
        if key in raw:  # a repeated header is folded, as the HTTP server does
            raw[key] += b", " + data
        else:
            raw[key] = data
        if wsgi_key in environ and wsgi_key.startswith("HTTP_"):
            environ[wsgi_key] = f"{environ[wsgi_key]}, {value}"
        else:
            environ[wsgi_key] = value
    if "HTTP_HOST" not in environ:  # urllib3 adds Host from the URL when the signer did not
        default = port == _DEFAULT_PORTS.get(scheme)
        host = url.hostname or "127.0.0.1"
        environ["HTTP_HOST"] = host if default else f"{host}:{port}"
        raw[b"Host"] = environ["HTTP_HOST"].encode("latin-1")
    return environ


@functools.lru_cache(maxsize=1024)
def _header_keys(name: str) -> tuple[bytes, str]:
    """A header's name in the raw header block and its environ key: worked out once per name, as
    a client sends the same dozen names on every request."""
    upper = name.upper().replace("-", "_")
    return name.encode("latin-1"), upper if upper in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + upper


def call_app(app: WsgiApp, request: AWSPreparedRequest, url: SplitResult, remote_port: int) -> AWSResponse:
    """Run one request through ``app`` and answer like ``URLLib3Session.send`` would."""
    environ = build_environ(request, url, remote_port)
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if started and exc_info is None:
            raise RuntimeError("WSGI start_response called a second time with no exc_info")
        started[:] = [status, headers]
        return lambda data: None  # the legacy write() callable: not used by fakes3

    try:
        iterable = app(environ, start_response)
    except DropConnection as exc:
        raise ConnectionClosedError(error=exc, request=request, endpoint_url=request.url) from None
    except Exception:  # what the HTTP server does with an app that raises
        log.exception("fakes3: the WSGI app raised on %s %s", request.method, request.url)
        body = b"A server error occurred (see the fakes3 log)."
        started[:] = ["500 Internal Server Error", [("Content-Type", "text/plain"),
                                                     ("Content-Length", str(len(body)))]]
        iterable = [body]
    if not started:  # a generator app calls start_response on its first iteration
        iterable = _started(iterable)
    status, header_list = started
    headers: dict[str, tuple[str, str]] = {}  # lower name -> (name, value); repeats are folded
    for name, value in header_list:
        key = name.lower()
        if key in headers:
            value = f"{headers[key][1]}, {value}"
        headers[key] = (name, value)
    if "date" not in headers:
        headers["date"] = ("Date", _http_date())
    if "server" not in headers:
        headers["server"] = ("Server", "fakes3")
    response = AWSResponse(request.url, int(status.split(" ", 1)[0]), list(headers.values()),
                           ResponseBody(iterable, request))
    if not request.stream_output:
        try:
            response.content  # noqa: B018 - read it now, as URLLib3Session does
        except ProtocolError as exc:
            raise ConnectionClosedError(error=exc, request=request, endpoint_url=request.url) from None
        finally:
            response.raw.close()
    return response


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header, formatted once a second (as the HTTP server does it, but cached)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _started(iterable: Iterable[bytes]) -> Iterable[bytes]:
    """Runs a lazy app up to its first chunk (by then it has called start_response)."""
    chunks = iter(iterable)
    first = list(itertools.islice(chunks, 1))

    def rest() -> Iterator[bytes]:
        try:
            yield from first
            yield from chunks
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return rest()


# -- which requests are ours ---------------------------------------------------------------------


def _origin(url: str | SplitResult) -> tuple[str, str, int]:
    parts = urlsplit(url) if isinstance(url, str) else url
    scheme = (parts.scheme or "http").lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 80)


class _Route:
    def __init__(self, app: WsgiApp, origin: tuple[str, str, int],
                 is_up: Callable[[], bool] | None = None) -> None:
        self.app = app
        self.origin = origin
        self.is_up = is_up

    def matches(self, origin: tuple[str, str, int]) -> bool:
        if origin == self.origin:
            return True
        # virtual-hosted style: bucket.<endpoint host>, same scheme and port
        scheme, host, port = self.origin
        return (origin[0] == scheme and origin[2] == port and not host.replace(".", "").isdigit()
                and origin[1].endswith("." + host))

    def respond(self, request: AWSPreparedRequest, url: SplitResult, owner: Any) -> AWSResponse:
        if self.is_up is not None and not self.is_up():
            raise EndpointConnectionError(endpoint_url=request.url,
                                          error=ConnectionRefusedError("the fake is stopped"))
        return call_app(self.app, request, url, _connections.port(owner))


_lock = threading.Lock()
_routes: list[_Route] = []
_original_send: Callable[..., Any] | None = None


def _find(url: SplitResult) -> _Route | None:
    routes = _routes  # replaced, never mutated: no lock needed to read it
    if not routes:
        return None
    origin = _origin(url)
    for route in routes:
        if route.matches(origin):
            return route
    return None


def _patched_send(self: URLLib3Session, request: AWSPreparedRequest) -> AWSResponse:
    url = urlsplit(request.url)
    route = _find(url)
    if route is None:  # not ours; after the last patch ends the class has the original back
        return (_original_send or URLLib3Session.send)(self, request)
    return route.respond(request, url, self)


def _add(route: _Route) -> None:
    global _routes, _original_send
    with _lock:
        if any(r.origin == route.origin for r in _routes):
            raise RuntimeError(f"{_url_of(route.origin)} is already served in-process by another patch")
        _routes = [*_routes, route]
        if _original_send is None:
            _original_send = URLLib3Session.send
            URLLib3Session.send = _patched_send


def _remove(route: _Route) -> None:
    global _routes, _original_send
    with _lock:
        _routes = [r for r in _routes if r is not route]
        if not _routes and _original_send is not None:
            URLLib3Session.send = _original_send
            _original_send = None


def _url_of(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" if port == _DEFAULT_PORTS.get(scheme) else f"{scheme}://{host}:{port}"


_synthetic = itertools.count(1)


# -- the public API ------------------------------------------------------------------------------


def _unpack(target: Any) -> tuple[FakeAWS | None, WsgiApp]:
    """(the FakeAWS, its WSGI app) or (None, the app itself)."""
    if hasattr(target, "app") and hasattr(target, "http"):
        return target, target.app
    return None, target


class InProcess:
    """Serves a fake's endpoint to this process's botocore clients without a socket.

    ``target``: a ``FakeAWS`` (its app, region and credentials are used) or any WSGI app.
    ``endpoint_url``: the URL to intercept; by default the fake's own endpoint when it is running,
    otherwise a made-up one (``http://inprocess-N.fakes3.invalid``, which never resolves, so a
    client used after the patch ends fails at once instead of reaching some other server).
    ``own``: stop the ``FakeAWS`` when the patch ends.
    Use as a context manager, or ``start()``/``stop()``.
    """

    def __init__(self, target: FakeAWS | WsgiApp, endpoint_url: str | None = None, *,
                 own: bool = False) -> None:
        self.fake, self.app = _unpack(target)
        self._requested_url = endpoint_url
        self._own = own
        self._route: _Route | None = None
        self.endpoint_url = endpoint_url or ""

    def start(self) -> InProcess:
        if self._route is not None:
            return self
        is_up = None
        url = self._requested_url
        if url is None and self.fake is not None and self.fake.http.running:
            url = self.fake.endpoint_url
            http = self.fake.http
            is_up = lambda: http.running  # noqa: E731 - stop() makes the endpoint refuse
        if url is None:
            url = f"http://inprocess-{next(_synthetic)}.fakes3.invalid"
        self.endpoint_url = url.rstrip("/")
        route = _Route(self.app, _origin(url), is_up)
        _add(route)
        self._route = route
        return self

    def stop(self) -> None:
        route, self._route = self._route, None
        if route is not None:
            _remove(route)
        if self._own and self.fake is not None:
            self.fake.stop()

    def __enter__(self) -> InProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def active(self) -> bool:
        return self._route is not None

    @property
    def region(self) -> str:
        return self.fake.region if self.fake is not None else "us-east-1"

    @property
    def credentials(self) -> dict[str, str]:
        if self.fake is not None:
            return self.fake.credentials
        from fakes3.auth import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY

        return {"aws_access_key_id": DEFAULT_ACCESS_KEY, "aws_secret_access_key": DEFAULT_SECRET_KEY}

    def client(self, service: str = "s3", **kwargs: Any) -> Any:
        """A boto3 client pointed at the in-process endpoint (new session, default key pair)."""
        import boto3

        if not self.endpoint_url:
            raise RuntimeError("the in-process patch is not active: use it as a context manager")
        options: dict[str, Any] = {"endpoint_url": self.endpoint_url, "region_name": self.region,
                                   **self.credentials}
        options.update(kwargs)
        return boto3.session.Session().client(service, **options)


def patch(target: FakeAWS | WsgiApp, endpoint_url: str | None = None) -> InProcess:
    """``InProcess(target, endpoint_url)``: ``with fakes3.inprocess.patch(aws) as fake: ...``."""
    return InProcess(target, endpoint_url)


def fake(**options: Any) -> InProcess:
    """A new ``FakeAWS(**options)`` served only in-process, stopped when the patch ends:
    ``with fakes3.inprocess.fake() as fake: fake.client("s3")``."""
    from fakes3.server import FakeAWS

    return InProcess(FakeAWS(**options), own=True)


def attach(client: Any, target: FakeAWS | WsgiApp, endpoint_url: str | None = None) -> Any:
    """Serve one client's requests to ``endpoint_url`` (default: the client's endpoint) through
    ``target``'s app with a ``before-send`` handler: no process-wide patch. Returns the client."""
    app = _unpack(target)[1]
    origin = _origin(endpoint_url or client.meta.endpoint_url)
    route = _Route(app, origin)
    owner = client  # the made-up connection port is per client and thread

    def before_send(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        url = urlsplit(request.url)
        if not route.matches(_origin(url)):
            return None
        return route.respond(request, url, owner)

    client.meta.events.register("before-send", before_send)
    return client
