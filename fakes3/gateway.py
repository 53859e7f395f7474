"""The WSGI application: every request enters here and is routed by service.

``/_fakes3/...`` is the control plane; a request with ``X-Amz-Target: DynamoDB_...`` is DynamoDB;
everything else is S3. No exception escapes as a traceback: anything unexpected is logged and
answered 500 InternalError in the service's own error format.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from fakes3.context import RequestContext
from fakes3.control import ControlPlane
from fakes3.errors import AWSError, internal_error
from fakes3.protocol.http import HttpRequest
from fakes3.protocol.s3_http import Response, S3Protocol

log = logging.getLogger("fakes3")

StartResponse = Callable[..., Any]

_REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 304: "Not Modified",
            400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            409: "Conflict", 411: "Length Required", 412: "Precondition Failed",
            416: "Requested Range Not Satisfiable", 500: "Internal Server Error",
            501: "Not Implemented", 503: "Service Unavailable"}


def status_line(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Unknown')}"


def new_request_ids() -> tuple[str, str]:
    raw = os.urandom(24)
    return raw[:8].hex().upper(), base64.b64encode(raw[8:]).decode()


def access_key_of(request: HttpRequest) -> str | None:
    """The access key id a request claims (verification happens in fakes3.auth)."""
    auth = request.headers.get("authorization", "")
    if "Credential=" in auth:
        return auth.split("Credential=", 1)[1].split("/", 1)[0].strip()
    if auth.startswith("AWS "):
        return auth[4:].split(":", 1)[0]
    credential = request.query.get("X-Amz-Credential") or request.query.get("AWSAccessKeyId")
    return credential.split("/", 1)[0] if credential else None


class Gateway:
    def __init__(self, s3: S3Protocol, control: ControlPlane, region: str) -> None:
        self.s3 = s3
        self.control = control
        self.region = region

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = HttpRequest.from_environ(environ)
        if request.raw_path.startswith("/_fakes3/"):
            status, headers, body = self.control.handle(request)
        else:
            status, headers, body = self.serve_s3(request)
        start_response(status_line(status), headers)
        return body

    def serve_s3(self, request: HttpRequest) -> Response:
        request_id, host_id = new_request_ids()
        ctx = RequestContext(request_id=request_id, host_id=host_id, region=self.region,
                             access_key=access_key_of(request), headers=request.headers)
        try:
            status, headers, body = self.s3.handle(request, ctx)
        except AWSError as err:
            status, headers, body = self.s3.error(request, err, ctx)
        except Exception:
            log.exception("fakes3: unexpected error in %s %s (request %s)",
                          request.method, request.raw_path, request_id)
            status, headers, body = self.s3.error(request, internal_error(), ctx)
        headers.append(("x-amz-request-id", request_id))
        headers.append(("x-amz-id-2", host_id))
        return status, headers, body
