"""The WSGI application: every request enters here and is routed by service.

``/_fakes3/...`` is the control plane; a request with ``X-Amz-Target: DynamoDB_...`` is DynamoDB;
everything else is S3. No exception escapes as a traceback: anything unexpected is logged and
answered 500 InternalError in the service's own error format.
"""

from __future__ import annotations

import functools
import logging
import random
from binascii import b2a_base64
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fakes3.auth import CredentialStore, Verifier
from fakes3.context import RequestContext
from fakes3.control import ControlPlane
from fakes3.errors import AWSError, internal_error
from fakes3.protocol.http import HttpRequest
from fakes3.protocol.json_http import JsonService
from fakes3.protocol.json_http import new_request_id as new_json_request_id
from fakes3.protocol.s3_http import Response, S3Protocol

log = logging.getLogger("fakes3")

StartResponse = Callable[..., Any]
_dict_get = dict.get


@functools.cache  # a handful of codes, one lookup per response
def status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def new_request_ids() -> tuple[str, str]:
    """x-amz-request-id (16 hex digits) and x-amz-id-2 (base64), as S3 sends them. They need to be
    unique, not unpredictable: ``random`` is half the cost of ``os.urandom``'s system call, and
    reseeded in a forked child."""
    raw = random.randbytes(24)
    return raw[:8].hex().upper(), b2a_base64(raw[8:], newline=False).decode()


class Gateway:
    def __init__(self, s3: S3Protocol, control: ControlPlane, region: str,
                 verifier: Verifier | None = None, json_services: Sequence[JsonService] = ()) -> None:
        self.s3 = s3
        # JSON protocol services (DynamoDB), chosen by the X-Amz-Target header S3 never sends.
        self.json_services = list(json_services)
        self.control = control
        self.region = region
        # Requests under /_fakes3/ are never signed; everything else is verified here.
        self.verifier = verifier or Verifier(CredentialStore())

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = HttpRequest.from_environ(environ)
        if request.raw_path.startswith("/_fakes3/"):
            status, headers, body = self.control.handle(request)
        elif self.json_services and "x-amz-target" in request.headers:
            status, headers, body = self.serve_json(request, environ.get("QUERY_STRING", ""))
        else:
            status, headers, body = self.serve_s3(request, environ.get("QUERY_STRING", ""))
        start_response(status_line(status), headers)
        return body

    def serve_json(self, request: HttpRequest, raw_query: str = "") -> Response:
        """A JSON 1.0 request; an X-Amz-Target no service serves is UnknownOperationException."""
        target = request.headers.get("x-amz-target", "")
        service = next((s for s in self.json_services if s.serves(target)), self.json_services[0])
        ctx = RequestContext(new_json_request_id(), region=self.region, headers=request.headers,
                             clock=self.verifier.clock())
        return service.handle(request, raw_query, self.verifier, ctx)

    def serve_s3(self, request: HttpRequest, raw_query: str = "") -> Response:
        request_id, host_id = new_request_ids()
        ctx = RequestContext(request_id, host_id, self.region, headers=request.headers,
                             connection=request.remote_addr, clock=self.verifier.clock())
        try:
            if request.method == "OPTIONS":
                # A CORS preflight is never signed, not even when sent to a presigned URL.
                status, headers, body = self.s3.preflight(request, ctx)
            else:
                auth = self.verifier.authenticate(request.method, request.raw_path, raw_query,
                                                  request.headers, service="s3",
                                                  vhost_bucket=self.s3.vhost_bucket(request))
                ctx.account_id = auth.principal.account_id
                ctx.access_key = auth.principal.access_key
                ctx.signing_region = auth.region
                ctx.payload_check = auth.payload
                status, headers, body = self.s3.handle(request, ctx)
        except AWSError as err:
            status, headers, body = self.s3.error(request, err, ctx)
        except Exception:
            log.exception("fakes3: unexpected error in %s %s (request %s)",
                          request.method, request.raw_path, request_id)
            status, headers, body = self.s3.error(request, internal_error(), ctx)
        headers += (("x-amz-request-id", request_id), ("x-amz-id-2", host_id))
        # All a request without an Origin costs: one lookup, by dict's own get (Headers keys are
        # lower case; Headers.get would lower-case the name again on a miss).
        origin = _dict_get(request.headers, "origin")
        if origin is not None:  # a browser's cross-origin request: the bucket's CORS rules, errors too
            headers += self.s3.cors_headers(request, origin)
        return status, headers, body
