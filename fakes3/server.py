"""Compose fakes3's WSGI application and serve it: in-process (``FakeAWS``) or forever (the CLI).

The HTTP server is cheroot: HTTP/1.1 with keep-alive (werkzeug's development server closes every
connection, so each boto3 request would pay a new TCP handshake), ``Expect: 100-continue``,
streamed request bodies and a bounded worker pool.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from cheroot import wsgi

from fakes3 import __version__
from fakes3.auth import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_SECRET_KEY,
    AuthMode,
    Credential,
    CredentialStore,
    Verifier,
)
from fakes3.control import ControlPlane
from fakes3.gateway import Gateway
from fakes3.protocol.s3_http import S3Protocol
from fakes3.s3.service import S3Service

log = logging.getLogger("fakes3")

__all__ = ["DEFAULT_ACCESS_KEY", "DEFAULT_REGION", "DEFAULT_SECRET_KEY", "FakeAWS"]

DEFAULT_REGION = "us-east-1"


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
        super().respond()
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


class FakeAWS:
    """A fake AWS endpoint in this process: ``with FakeAWS() as aws: aws.client("s3")...``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = DEFAULT_REGION,
        virtual_host_domains: Iterable[str] = ("localhost",),
        spill_threshold: int = 1 << 20,
        max_put_size: int = 5 * 1024**3,
        min_part_size: int = 5 * 1024**2,
        threads: int = 24,
        auth: AuthMode = "strict",
        credentials: Iterable[Credential] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``auth``: "strict" verifies every signed request, "open" accepts any key and signature.
        ``credentials``: keys besides the default test/test (account 000000000000).
        ``clock``: the server's time in epoch seconds (signature expiry, skew, LastModified)."""
        self.host = host
        self.clock = clock
        self.credential_store = CredentialStore(credentials, clock=clock)
        self.verifier = Verifier(self.credential_store, mode=auth, clock=clock)
        self.region = region
        self._blob_dir = tempfile.mkdtemp(prefix="fakes3-blobs-")
        self.s3 = S3Service(region=region, spill_threshold=spill_threshold,
                            blob_dir=self._blob_dir, max_put_size=max_put_size,
                            min_part_size=min_part_size)
        self.app = Gateway(
            S3Protocol(self.s3.handle, virtual_host_domains),
            ControlPlane(["s3"], self.reset, __version__),
            region,
            self.verifier,
        )
        self._requested_port = port
        self._threads = threads
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeAWS:
        if self._server is not None:
            return self
        server = _Server((self.host, self._requested_port), self.app, numthreads=self._threads,
                         server_name="fakes3", shutdown_timeout=2, timeout=60)
        server.prepare()  # binds now, so the port is known before start() returns
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="fakes3-server", daemon=True)
        self._thread.start()
        if self.verifier.mode == "open":
            log.info("fakes3: auth open: any access key and signature is accepted")
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            if self._thread is not None:
                self._thread.join(timeout=5)
        self.s3.close()
        shutil.rmtree(self._blob_dir, ignore_errors=True)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> FakeAWS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeAWS is not running: call start() or use it as a context manager")
        return int(self._server.bind_addr[1])

    @property
    def endpoint_url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def credentials(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client``/``Session``: the default key pair."""
        return {"aws_access_key_id": DEFAULT_ACCESS_KEY,
                "aws_secret_access_key": DEFAULT_SECRET_KEY}

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point any AWS SDK or CLI at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": DEFAULT_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DEFAULT_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def client(self, service: str = "s3", **kwargs: Any) -> Any:
        """A boto3 client already pointed at this endpoint."""
        import boto3  # deferred: importing boto3 costs more than starting the server

        options: dict[str, Any] = {"endpoint_url": self.endpoint_url, "region_name": self.region,
                                   **self.credentials}
        options.update(kwargs)
        return boto3.session.Session().client(service, **options)

    def reset(self) -> None:
        """Forget every bucket and object (fast: nothing is restarted)."""
        self.s3.reset()
