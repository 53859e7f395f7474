"""One port for instance and container credentials: the router, and a loopback server to run it.

``CredentialEndpoints(imds, ecs)`` sends ``/v1/credentials`` and ``/v2/credentials/...`` to the
container credentials endpoint and everything else to the instance metadata service (their paths
never overlap: IMDS lives under ``/`` and ``/<version>/``). ``MetadataServer`` serves any WSGI app
on its own port with cheroot (HTTP/1.1 keep-alive), in a daemon thread.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from typing import Any

from cheroot import wsgi

from fakes3.imds.ecs import FULL_URI_PATH, RELATIVE_PREFIX, ContainerCredentialsService
from fakes3.imds.http import Request, StartResponse, finish, text
from fakes3.imds.metadata import MetadataService


def imds_env(url: str) -> dict[str, str]:
    """Variables that point an SDK's IMDS client (botocore, TensorStore, the AWS CLI) at ``url``."""
    return {"AWS_EC2_METADATA_SERVICE_ENDPOINT": url.rstrip("/") + "/",
            "AWS_EC2_METADATA_DISABLED": "false"}


class CredentialEndpoints:
    """WSGI app: the ECS paths to ``ecs``, the rest to ``imds`` (either may be None: then 404)."""

    def __init__(self, imds: MetadataService | None = None,
                 ecs: ContainerCredentialsService | None = None) -> None:
        self.imds = imds
        self.ecs = ecs

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target: Any = self.imds
        path = Request.from_environ(environ).path
        if path in (FULL_URI_PATH, RELATIVE_PREFIX) or path.startswith(RELATIVE_PREFIX + "/"):
            target = self.ecs
        if target is None:
            method = str(environ.get("REQUEST_METHOD", "GET")).upper()
            return finish(text(404, "Not Found"), method, start_response)
        result: Iterable[bytes] = target(environ, start_response)
        return result

    def reset(self) -> None:
        for service in (self.imds, self.ecs):
            if service is not None:
                service.reset()


class _Server(wsgi.Server):
    """cheroot, but with SO_REUSEADDR on an ephemeral port too (cheroot skips it there).

    Without it the first listener's connections, left in TIME_WAIT, keep ``start()`` after
    ``stop()`` from binding the same port again for a minute.
    """

    @classmethod
    def prepare_socket(cls, bind_addr: Any, *args: Any, **kwargs: Any) -> socket.socket:
        sock: socket.socket = super().prepare_socket(bind_addr, *args, **kwargs)
        if os.name != "nt" and not isinstance(bind_addr, (str, bytes)):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return sock


class MetadataServer:
    """Serves a WSGI app on ``host:port`` (0: any free port) until ``stop()``.

    ``stop()`` then ``start()`` serves again on the same port: a "metadata service down" window.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, threads: int = 4) -> None:
        self.app = app
        self.host = host
        self._port = port
        self._threads = threads
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MetadataServer:
        if self._server is not None:
            return self
        server = _Server((self.host, self._port), self.app, numthreads=self._threads,
                             server_name="EC2ws", shutdown_timeout=2, timeout=30)
        # cheroot's stop() waits for its selector loop, which wakes every expiration_interval
        # (0.5 s by default): a shorter one makes stop() (and a "down" fault) quick.
        server.expiration_interval = 0.05
        server.prepare()  # binds now: the port is known when start() returns
        self._port = int(server.bind_addr[1])  # a restart reuses it
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="fakes3-imds", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("MetadataServer is not running: call start()")
        return self._port

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def __enter__(self) -> MetadataServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
