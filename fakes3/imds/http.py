"""The little HTTP these endpoints need: a parsed request, a response triple, the fault hook.

The fault seam
--------------
Each service has a ``before_request`` attribute, ``None`` by default. When set, it is called with
the parsed :class:`Request` before anything else (before token or authorization checks). It may

- return ``None``: the request proceeds normally;
- return a :data:`Response` ``(status, headers, body)``: that is the answer (a 500 or 503, a
  credentials document that has already expired, ...);
- block (on an ``Event`` the test controls): the endpoint is slow — it runs in the server's
  worker thread, so a hold is deterministic, no sleeping needed.

"Down" is :meth:`fakes3.imds.MetadataServer.stop` (connection refused) and ``start()`` again on the
same port; "expired now" is ``service.credentials.rotate()`` (fresh credentials on the next
request) or a hook or vendor that returns an expired credential.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("fakes3.imds")

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]
StartResponse = Callable[..., Any]

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # decoded, repeated slashes collapsed
    query: dict[str, list[str]]
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Request:
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = value
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = environ["CONTENT_LENGTH"]
        raw = environ.get("PATH_INFO", "") or "/"
        # PEP 3333: PATH_INFO is already percent-decoded, its bytes carried as latin-1.
        path = raw.encode("latin-1", "replace").decode("utf-8", "replace")
        path = re.sub("/{2,}", "/", path)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        return cls(environ.get("REQUEST_METHOD", "GET").upper(), path, query, headers)


FaultHook = Callable[[Request], "Response | None"]


class Endpoint:
    """A WSGI app (the object itself) that answers through ``respond``: every request is counted,
    offered to the ``before_request`` fault hook, then routed (``_route``); an unexpected error is
    logged and answered with ``_internal_error()``, never a traceback."""

    log_name = ""  # names the endpoint in the log

    def __init__(self) -> None:
        self.before_request: FaultHook | None = None
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        return finish(self.respond(request), request.method, start_response)

    def respond(self, request: Request) -> Response:
        """The answer to one request (never raises)."""
        self.requests += 1
        try:
            if self.before_request is not None:
                faulted = self.before_request(request)
                if faulted is not None:
                    return faulted
            return self._route(request)
        except Exception:
            log.exception("fakes3 %s: unexpected error in %s %s", self.log_name, request.method,
                          request.path)
            return self._internal_error()

    def _route(self, request: Request) -> Response:
        raise NotImplementedError

    def _internal_error(self) -> Response:
        raise NotImplementedError


def status_line(code: int) -> str:
    return f"{code} {REASONS.get(code, 'Unknown')}"


def text(status: int, body: str | bytes, content_type: str = "text/plain",
         extra: Iterable[tuple[str, str]] = ()) -> Response:
    data = body.encode() if isinstance(body, str) else body
    return status, [("Content-Type", content_type), *extra], data


def with_allow(response: Response, allow: str) -> Response:
    """``response`` with an ``Allow`` header (a 405's list of methods)."""
    status, headers, body = response
    return status, [*headers, ("Allow", allow)], body


def json_body(status: int, document: Mapping[str, Any]) -> Response:
    return status, [("Content-Type", "application/json")], json.dumps(document).encode()


def finish(response: Response, method: str, start_response: StartResponse) -> list[bytes]:
    status, headers, body = response
    headers = [*headers, ("Content-Length", str(len(body)))]
    start_response(status_line(status), headers)
    return [] if method == "HEAD" else [body]
