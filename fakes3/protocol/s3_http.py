"""S3 over HTTP: one request in, one response out, through the protocol layer.

route -> parse (botocore's model) -> handler (boto3-shaped dicts) -> serialize. Authentication
and the fault seam slot in around ``invoke``.

Who may run an operation is asked of the ``AccessPolicy`` the protocol is handed (the S3 layer's
ACLs and bucket policies); without one, unsigned requests are refused and signed ones go on.
A ``POST`` to a bucket that is no S3 API operation is a browser form upload, handed whole to
``browser_post`` (``fakes3.s3.post_upload``), which runs it as the ``PostObject`` operation.
An ``OPTIONS`` request is a CORS preflight, answered by the bucket's rules through ``cors``
(``fakes3.s3.cors``), which also gives any other request with an ``Origin`` its CORS headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from botocore.model import OperationModel, ServiceModel

from fakes3.auth import errors as auth_errors
from fakes3.auth.anonymous import AccessPolicy, anonymous_may_proceed
from fakes3.auth.payload import PayloadCheck
from fakes3.auth.verifier import ANONYMOUS
from fakes3.context import RequestContext
from fakes3.errors import AWSError, S3Error
from fakes3.protocol import restxml
from fakes3.protocol.awschunked import AwsChunkedReader
from fakes3.protocol.body import RequestBody
from fakes3.protocol.http import Headers, HttpRequest
from fakes3.protocol.s3_routing import Route, Router, Target, build_routes, host_bucket, split_target
from fakes3.protocol.service_models import service_model

Handler = Callable[[str, dict[str, Any], RequestContext], dict[str, Any]]
Response = tuple[int, list[tuple[str, str]], Iterable[bytes]]

XML = ("Content-Type", "application/xml")
POST_OBJECT = "PostObject"  # a browser form upload: no operation of botocore's model
PREFLIGHT = "OPTIONS"  # a CORS preflight: no operation of botocore's model either


class BrowserPost(Protocol):
    """Answers a browser form upload to ``bucket``, running it through ``invoke`` as PostObject."""

    def __call__(self, request: HttpRequest, body: RequestBody, bucket: str, ctx: RequestContext,
                 invoke: Handler) -> Response: ...


class CorsRules(Protocol):
    """Buckets' CORS rules, applied to requests (preflights are the OPTIONS operation's)."""

    def actual(self, request: HttpRequest, bucket: str, origin: str) -> list[tuple[str, str]]:
        """The CORS headers for a request from ``origin`` to ``bucket`` ([]: no rule allows it)."""


class S3Protocol:
    def __init__(self, handler: Handler, vhost_domains: Iterable[str] = ("localhost",), *,
                 access: AccessPolicy | None = None, browser_post: BrowserPost | None = None,
                 cors: CorsRules | None = None) -> None:
        self.model: ServiceModel = service_model("s3")
        self.routes: dict[tuple[str, str], list[Route]] = build_routes(self.model)
        self.router = Router(self.routes)
        self.handler = handler
        self.vhost_domains = tuple(d.lower().strip(".") for d in vhost_domains)
        self.access = access
        self.browser_post = browser_post
        self.cors = cors
        # Per operation, looked up on every request: botocore's model answers through a
        # Python-level cache of its own.
        self._operations: dict[str, OperationModel] = {}
        self._statuses: dict[str, int] = {PREFLIGHT: 200}

    def target(self, request: HttpRequest) -> Target:
        return split_target(request.raw_path, request.headers.get("host", ""), self.vhost_domains)

    def vhost_bucket(self, request: HttpRequest) -> str | None:
        """The bucket the Host header names (virtual-host style), which SigV2 signs."""
        return host_bucket(request.headers.get("host", ""), self.vhost_domains)

    def operation_model(self, operation: str) -> OperationModel:
        op = self._operations.get(operation)
        if op is None:
            op = self._operations[operation] = self.model.operation_model(operation)
        return op

    def operation(self, request: HttpRequest, target: Target) -> str:
        scope = target.scope
        name = self.router.resolve(request.method, scope, request.query,
                                   request.headers.lower_names())
        if name is None:
            raise S3Error(
                "MethodNotAllowed",
                f"The specified method is not allowed against this resource: {request.method} "
                f"on {'the service' if scope == 'service' else 'a ' + scope} "
                "matches no S3 operation.",
                405,
                fields={"Method": request.method, "ResourceType": scope.upper()},
            )
        return name

    def handle(self, request: HttpRequest, ctx: RequestContext) -> Response:
        """Answer one S3 request; AWSError is turned into S3's error document by the caller."""
        target = self.target(request)
        bucket, key = target
        ctx.resource = "/" + "/".join(filter(None, target))
        if (self.browser_post is not None and request.method == "POST" and bucket is not None
                and key is None and self.router.resolve("POST", "bucket", request.query,
                                                        request.headers.lower_names()) is None):
            ctx.operation = POST_OBJECT
            _, body = decode_body(request, ctx.payload_check)
            return self.browser_post(request, body, bucket, ctx, self.handler)
        operation = self.operation(request, target)
        ctx.operation = operation
        self.authorize(request, target, operation, ctx)
        op = self.operation_model(operation)
        headers, body = decode_body(request, ctx.payload_check)
        uri = {"Bucket": bucket or "", "Key": key or ""}
        params = restxml.parse_request(op, uri, request.query, headers, body)
        result = self.handler(operation, params, ctx)
        _, out_headers, out_body = restxml.serialize_response(op, result)
        status = self.success_status(operation, result)
        if request.method == "HEAD":
            return status, out_headers, ()
        if isinstance(out_body, bytes):
            if out_body:
                out_headers.append(XML)
            out_headers.append(("Content-Length", str(len(out_body))))
            return status, out_headers, (out_body,)
        return status, out_headers, out_body

    def preflight(self, request: HttpRequest, ctx: RequestContext) -> Response:
        """Answer an OPTIONS request (a CORS preflight), which no one signs and anyone may send."""
        if self.cors is None:
            return self.handle(request, ctx)  # 405: no S3 operation answers OPTIONS
        target = self.target(request)
        ctx.resource = "/" + "/".join(filter(None, target))
        ctx.operation = PREFLIGHT
        get = request.headers.get
        params = {"Bucket": target.bucket or "", "Key": target.key or "", "Origin": get("origin"),
                  "AccessControlRequestMethod": get("access-control-request-method"),
                  "AccessControlRequestHeaders": get("access-control-request-headers")}
        headers = list(self.handler(PREFLIGHT, params, ctx)["Headers"])  # through the fault seam
        headers.append(("Content-Length", "0"))
        return 200, headers, ()

    def cors_headers(self, request: HttpRequest, origin: str) -> list[tuple[str, str]]:
        """The CORS headers of the answer to a request with an ``Origin`` (a preflight has its own)."""
        if self.cors is None or request.method == PREFLIGHT:
            return []
        bucket = self.target(request).bucket
        return [] if bucket is None else self.cors.actual(request, bucket, origin)

    def authorize(self, request: HttpRequest, target: Target, operation: str, ctx: RequestContext) -> None:
        """403 AccessDenied unless the principal may run ``operation`` (the access policy decides)."""
        access = self.access
        anonymous = ctx.account_id == ANONYMOUS
        if access is None and not anonymous:
            return  # no policy: signed requests go on
        version_id = request.query.get("versionId")
        copy_source = request.headers.get("x-amz-copy-source")
        if anonymous:
            allowed = anonymous_may_proceed("s3", operation, target.bucket, target.key, access,
                                            version_id=version_id, copy_source=copy_source,
                                            ctx=ctx, query=request.query)
        else:
            assert access is not None
            allowed = access.may_proceed(ctx.account_id, operation, target.bucket, target.key,
                                         version_id=version_id, copy_source=copy_source,
                                         ctx=ctx, query=request.query)
        if not allowed:
            raise auth_errors.access_denied()

    def success_status(self, operation: str, result: dict[str, Any]) -> int:
        if operation in _RANGED and result.get("ContentRange"):
            return 206
        status = self._statuses.get(operation)
        if status is None:
            if operation == POST_OBJECT:
                return int(result.get("Status", 204))
            http = self.operation_model(operation).http
            status = self._statuses[operation] = int(http.get("responseCode", 200))
        return status

    def error(self, request: HttpRequest, err: AWSError, ctx: RequestContext) -> Response:
        headers = list(err.headers.items())
        if request.method == "HEAD" or err.status == 304:
            return err.status, headers, ()  # S3 sends no body on HEAD errors
        fields = dict(err.fields)
        fields.setdefault("Resource", ctx.resource if err.status != 500 else None)
        body = restxml.serialize_error(err.code, err.message, fields, ctx.request_id, ctx.host_id)
        headers += [XML, ("Content-Length", str(len(body)))]
        return err.status, headers, (body,)


_RANGED = frozenset({"GetObject", "HeadObject"})  # 206 Partial Content when a range was served


def decode_body(request: HttpRequest,
                check: PayloadCheck | None = None) -> tuple[Headers, RequestBody]:
    """The body as the client meant it: ``aws-chunked`` framing removed, lengths corrected.

    ``check`` (from authentication) sees the raw body as it is read, and every aws-chunked chunk.
    """
    headers = request.headers
    encoding = headers.get("content-encoding", "")
    length = _length(headers.get("content-length"), "Content-Length")
    chunked = (headers.get("x-amz-content-sha256", "").startswith("STREAMING-")
               or "aws-chunked" in encoding.lower())
    stream = request.stream if check is None else check.wrap(request.stream, length)
    if not chunked:
        return headers, RequestBody(stream, length)
    decoded = _length(headers.get("x-amz-decoded-content-length"), "x-amz-decoded-content-length")
    rest = [e.strip() for e in encoding.split(",") if e.strip() not in ("", "aws-chunked")]
    fixed = headers.replaced({
        "Content-Length": None if decoded is None else str(decoded),
        "Content-Encoding": ",".join(rest) or None,
    })
    framed = RequestBody(stream, length)
    if check is None:
        return fixed, RequestBody(AwsChunkedReader(framed), decoded, framed=True)

    def observe(signature: str | None, data: bytes) -> None:
        # Called by the reader below; the final chunk comes after its trailers are parsed.
        check.chunk(signature, data, reader.trailers)

    reader = AwsChunkedReader(framed, observe)
    return fixed, RequestBody(reader, decoded, framed=True)


def _length(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise S3Error("InvalidArgument", f"{name} must be a non-negative integer, not {text!r}.",
                      fields={"ArgumentName": name, "ArgumentValue": text})
    return value
