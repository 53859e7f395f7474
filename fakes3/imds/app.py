"""One port for instance and container credentials: the router, and a loopback server to run it.

``CredentialEndpoints(imds, ecs)`` sends ``/v1/credentials`` and ``/v2/credentials/...`` to the
container credentials endpoint and everything else to the instance metadata service (their paths
never overlap: IMDS lives under ``/`` and ``/<version>/``). ``MetadataServer`` is the
ordinary fakes3 HTTP server (``fakes3.http_server``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fakes3.http_server import HttpServer
from fakes3.imds.ecs import ContainerCredentialsService, is_container_path
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
        if is_container_path(Request.from_environ(environ).path):
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


# Kept under its old name: the IMDS/ECS port is an ordinary fakes3 HTTP server.
MetadataServer = HttpServer
