"""JSON 1.0 services over HTTP: authenticate, route by X-Amz-Target, parse, handle, serialize.

A request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON body; the
answer carries ``x-amzn-RequestId`` and ``x-amz-crc32`` (botocore checks the CRC of every
DynamoDB response). The body is read whole, so it is bounded (16 MB by default) and its SHA-256
is known before the signature is checked.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import zlib
from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel, ServiceModel

from fakes3.auth import errors as auth_errors
from fakes3.auth.verifier import Verifier
from fakes3.context import RequestContext
from fakes3.errors import AWSError
from fakes3.protocol.http import HttpRequest
from fakes3.protocol.json_protocol import (
    CORAL_SERVICE,
    CORAL_VALIDATE,
    JsonError,
    parse_request,
    serialization_error,
    serialize_error,
    serialize_response,
)
from fakes3.protocol.service_models import service_model

log = logging.getLogger("fakes3")

Handler = Callable[[str, dict[str, Any], RequestContext], dict[str, Any]]
Response = tuple[int, list[tuple[str, str]], list[bytes]]

CONTENT_TYPE = "application/x-amz-json-1.0"
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def new_request_id() -> str:
    """DynamoDB's request ids: 52 characters of A-Z and 0-9."""
    return os.urandom(26).hex().upper()  # hex is within that alphabet, and 10x cheaper than base32


class JsonService:
    """One JSON 1.0 service over HTTP: authenticate, route by X-Amz-Target, parse, handle, serialize."""

    def __init__(self, name: str, target_prefix: str, handler: Handler,
                 operations: frozenset[str] | set[str], *, signing_name: str | None = None,
                 max_request_bytes: int = MAX_REQUEST_BYTES,
                 internal_error_code: str = "InternalServerError",
                 error_namespace: str = CORAL_SERVICE) -> None:
        """``target_prefix``: what X-Amz-Target starts with (``DynamoDB_20120810``), given here so
        botocore's model of the service is only loaded by its first request."""
        self.name = name
        self.target_prefix = target_prefix
        self.signing_name = signing_name or name
        self.handler = handler
        self.operations = frozenset(operations)
        self.max_request_bytes = max_request_bytes
        self.internal_error_code = internal_error_code
        self.error_namespace = error_namespace
        self._operation_models: dict[str, OperationModel] = {}

    @functools.cached_property
    def model(self) -> ServiceModel:
        return service_model(self.name)

    def serves(self, target: str | None) -> bool:
        return bool(target) and target.split(".", 1)[0] == self.target_prefix  # type: ignore[union-attr]

    def handle(self, request: HttpRequest, raw_query: str, verifier: Verifier,
               ctx: RequestContext) -> Response:
        try:
            return self._answer(request, raw_query, verifier, ctx)
        except auth_errors.AuthError as err:
            return self.error(auth_errors.for_json_service(err), ctx)
        except AWSError as err:
            return self.error(err, ctx)
        except Exception:
            log.exception("fakes3: unexpected error in %s (request %s)", ctx.operation or "?",
                          ctx.request_id)
            internal = JsonError(self.internal_error_code, "Internal server error", 500,
                                 namespace=self.error_namespace)
            return self.error(internal, ctx)

    def _answer(self, request: HttpRequest, raw_query: str, verifier: Verifier,
                ctx: RequestContext) -> Response:
        body = self._read_body(request)
        auth = verifier.authenticate(request.method, request.raw_path, raw_query, request.headers,
                                     service=self.signing_name,
                                     payload_hash=hashlib.sha256(body).hexdigest())
        if auth.principal.anonymous:
            raise auth_errors.access_denied()  # reason "anonymous": MissingAuthenticationToken
        ctx.account_id = auth.principal.account_id
        ctx.access_key = auth.principal.access_key
        ctx.signing_region = auth.region
        operation = self._operation(request)
        ctx.operation = operation
        op = self._operation_models.get(operation)
        if op is None:
            op = self._operation_models[operation] = self.model.operation_model(operation)
        params = parse_request(op, body)
        result = self.handler(operation, params, ctx)
        return self._respond(200, serialize_response(op, result), ctx)

    def _operation(self, request: HttpRequest) -> str:
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.partition(".")
        if request.method != "POST" or prefix != self.target_prefix or name not in self.operations:
            raise JsonError("UnknownOperationException", "")
        return name

    def _read_body(self, request: HttpRequest) -> bytes:
        length_text = request.headers.get("content-length")
        limit = self.max_request_bytes
        if length_text is not None:
            try:
                length = int(length_text)
            except ValueError:
                raise serialization_error(f"Invalid Content-Length {length_text!r}") from None
            if length > limit:
                raise self._too_large()
            return request.stream.read(length) if length else b""
        data = request.stream.read(limit + 1)
        if len(data) > limit:
            raise self._too_large()
        return data

    def _too_large(self) -> JsonError:
        limit = self.max_request_bytes
        return JsonError("ValidationException", f"Request size exceeded the limit of {limit} bytes", 413,
                         namespace=CORAL_VALIDATE)

    def error(self, err: AWSError, ctx: RequestContext) -> Response:
        if not hasattr(err, "type"):
            name = self.internal_error_code if err.status >= 500 else err.code
            namespace = self.error_namespace if err.status >= 500 else CORAL_SERVICE
            err = JsonError(name, err.message, err.status, namespace=namespace)
        return self._respond(err.status, serialize_error(self.model, err), ctx)

    @staticmethod
    def _respond(status: int, body: bytes, ctx: RequestContext) -> Response:
        headers = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body))),
                   ("x-amzn-RequestId", ctx.request_id),
                   ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))]
        return status, headers, [body]
