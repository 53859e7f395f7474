"""S3 CORS: a bucket's CORSConfiguration, and how it answers browsers' preflights and requests.

What S3 does, from the S3 API reference (PutBucketCors, CORSRule, "Appendix: OPTIONS object"),
the user guide ("Using cross-origin resource sharing"), and S3's answers as recorded against it
(LocalStack's AWS-validated ``test_s3_cors`` snapshots, ceph s3-tests' CORS tests, versitygw's
issues; the tests in tests/test_s3_cors.py name the source of each wording):

* PutBucketCors replaces the configuration: 1 to 100 CORSRules, each with at least one
  AllowedMethod (GET, PUT, HEAD, POST or DELETE) and one AllowedOrigin (at most one ``*`` in
  each, as in each AllowedHeader; none in an ExposeHeader). GetBucketCors gives the rules back
  as put; without any it is 404 NoSuchCORSConfiguration. DeleteBucketCors is 204, configured or
  not.
* A rule matches a request when the ``Origin`` matches one of its AllowedOrigins (``*`` stands
  for any run of characters, the empty one too; case counts), the method (the
  ``Access-Control-Request-Method`` header's, when the request has one) is one of its methods,
  and every name in ``Access-Control-Request-Headers`` matches an AllowedHeader (case does not
  count). The first matching rule wins.
* A preflight (``OPTIONS``, never signed, even to a presigned URL) is answered 200 with the
  matched rule's headers, or refused: no Origin 400 BadRequest; no bucket, or no configuration,
  403 AccessForbidden; no or another method than S3's five 400 BadRequest; no matching rule 403
  AccessForbidden. The 403s carry the method asked for and ResourceType (BUCKET, or OBJECT when
  the rules were checked for a key).
* Any other request with an ``Origin`` gets the first matching rule's headers, on errors too; a
  request no rule matches is served as it would be, without them.
* The headers: Access-Control-Allow-Origin (the Origin; ``*`` when the rule allows every origin,
  and then no Access-Control-Allow-Credentials, otherwise ``true``), -Allow-Methods (the rule's,
  joined by ", "), -Allow-Headers (the requested names, lower case), -Expose-Headers, -Max-Age,
  and ``Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.protocol.http import HttpRequest
from fakes3.s3 import errors, ingest
from fakes3.s3.model import Backend, Store

Params = dict[str, Any]
Headers = list[tuple[str, str]]

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
# S3's text, its typo ("evalution") included: clients and people search for it.
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the "
               "evalution of Origin, request method / Access-Control-Request-Method or "
               "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")


@dataclass(frozen=True, slots=True)
class CorsRule:
    """One CORSRule, as put (kept on ``Bucket.cors`` as a tuple of them; None: no configuration)."""

    allowed_methods: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    def to_dict(self) -> Params:
        """The CORSRule as boto3 shows it: only the members that were set."""
        out: Params = {"AllowedMethods": list(self.allowed_methods),
                       "AllowedOrigins": list(self.allowed_origins)}
        if self.id is not None:
            out["ID"] = self.id
        if self.allowed_headers:
            out["AllowedHeaders"] = list(self.allowed_headers)
        if self.expose_headers:
            out["ExposeHeaders"] = list(self.expose_headers)
        if self.max_age_seconds is not None:
            out["MaxAgeSeconds"] = self.max_age_seconds
        return out

    def allowed_origin(self, origin: str) -> str | None:
        """The first AllowedOrigin ``origin`` matches (None: it matches none)."""
        return next((p for p in self.allowed_origins if _matches(p, origin)), None)

    def allows_headers(self, requested: Sequence[str]) -> bool:
        """Every requested (lower-case) header name matches an AllowedHeader."""
        if not requested:
            return True
        patterns = [p.lower() for p in self.allowed_headers]
        return all(any(_matches(p, name) for p in patterns) for name in requested)


def _matches(pattern: str, value: str) -> bool:
    """``pattern`` with at most one ``*`` (any run of characters, the empty one too)."""
    star = pattern.find("*")
    if star < 0:
        return pattern == value
    head, tail = pattern[:star], pattern[star + 1:]
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


# -- errors ---------------------------------------------------------------------------------------


def _bad_request(message: str) -> S3Error:
    return S3Error("BadRequest", message, 400, fields={"Resource": None})


def _forbidden(message: str, method: str, resource_type: str) -> S3Error:
    # S3's element order: Code, Message, Method, ResourceType, RequestId, HostId (no Resource).
    return S3Error("AccessForbidden", message, 403,
                   fields={"Method": method, "ResourceType": resource_type, "Resource": None})


def no_such_cors_configuration(bucket: str) -> S3Error:
    return S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404,
                   fields={"BucketName": bucket})


# -- PutBucketCors / Get / Delete -----------------------------------------------------------------


def parse_rules(given: Any) -> tuple[CorsRule, ...]:
    """A PutBucketCors's CORSRules, validated as S3 validates them."""
    if not isinstance(given, list) or not given:
        raise errors.malformed_xml("A CORSConfiguration needs at least one CORSRule.")
    if len(given) > MAX_RULES:
        raise errors.invalid_request(f"The number of CORS rules should not exceed allowed limit of "
                                     f"{MAX_RULES} rules. This one has {len(given)}.")
    return tuple(_parse_rule(rule) for rule in given)


def _parse_rule(rule: Mapping[str, Any]) -> CorsRule:
    methods = _strings(rule.get("AllowedMethods"))
    origins = _strings(rule.get("AllowedOrigins"))
    if not methods or not origins:
        raise errors.malformed_xml("Each CORSRule needs at least one AllowedMethod and one "
                                   "AllowedOrigin.")
    for method in methods:
        if method not in METHODS:
            raise errors.invalid_request("Found unsupported HTTP method in CORS config. Unsupported "
                                         f"method is {method}")
    headers = _strings(rule.get("AllowedHeaders"))
    for kind, values in (("AllowedOrigin", origins), ("AllowedHeader", headers)):
        for value in values:
            if value.count("*") > 1:
                raise errors.invalid_request(f'{kind} "{value}" can not have more than one wildcard.')
    expose = _strings(rule.get("ExposeHeaders"))
    for value in expose:
        if "*" in value:
            raise errors.invalid_request(f'ExposeHeader "{value}" contains wildcard. We currently do '
                                         "not support wildcard for ExposeHeader.")
    max_age = rule.get("MaxAgeSeconds")
    return CorsRule(methods, origins, headers, expose,
                    None if max_age is None else int(max_age), rule.get("ID"))


def _strings(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in values or ())


def put_bucket_cors(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)  # PutBucketCors is requestChecksumRequired
    rules = parse_rules((params.get("CORSConfiguration") or {}).get("CORSRules"))
    with bucket.lock:
        bucket.cors = rules
    return {}


def get_bucket_cors(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    rules: tuple[CorsRule, ...] | None = bucket.cors
    if rules is None:
        raise no_such_cors_configuration(bucket.name)
    return {"CORSRules": [rule.to_dict() for rule in rules]}


def delete_bucket_cors(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.cors = None
    return {}


# -- requests: preflights and actual requests -----------------------------------------------------


def requested_headers(value: str | None) -> list[str]:
    """``Access-Control-Request-Headers``: names, lower case, in the order asked for."""
    if not value:
        return []
    return [name for name in (part.strip().lower() for part in value.split(",")) if name]


def first_match(rules: Iterable[CorsRule], origin: str, method: str,
                requested: Sequence[str]) -> tuple[CorsRule, str] | None:
    """The first rule allowing the request, and the AllowedOrigin that let it in."""
    for rule in rules:
        if method in rule.allowed_methods and rule.allows_headers(requested):
            allowed = rule.allowed_origin(origin)
            if allowed is not None:
                return rule, allowed
    return None


def response_headers(rule: CorsRule, allowed_origin: str, origin: str,
                     requested: Sequence[str]) -> Headers:
    """The headers S3 answers a request the rule allows with."""
    everyone = allowed_origin == "*"  # S3 then answers "*", and no credentials
    headers = [("Access-Control-Allow-Origin", "*" if everyone else origin),
               ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods))]
    if requested:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    if rule.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    if not everyone:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    headers.append(("Vary", VARY))
    return headers


class HasStore(Protocol):
    @property
    def store(self) -> Store: ...


class BucketCors:
    """Applies buckets' CORS rules to requests (``fakes3.protocol.s3_http.CorsRules``)."""

    def __init__(self, service: HasStore) -> None:
        self._service = service  # read .store on every call, as access.AccessControl does

    def actual(self, request: HttpRequest, bucket: str, origin: str) -> Headers:
        found = self._service.store.buckets.get(bucket)  # one atomic read
        rules = found.cors if found is not None else None
        if rules is None:
            return []
        headers = request.headers
        # S3 matches the method a preflight header names, when a request carries one.
        method = headers.get("access-control-request-method") or request.method
        requested = requested_headers(headers.get("access-control-request-headers"))
        match = first_match(rules, origin, method, requested)
        return [] if match is None else response_headers(*match, origin, requested)


def preflight(b: Backend, params: Params, ctx: RequestContext) -> Params:
    """The ``OPTIONS`` pseudo-operation (S3Protocol.preflight sends it through the fault seam, so it
    is journaled and faults can target it): ``{"Headers": [...]}`` for the 200, or S3's refusal."""
    bucket, key = params.get("Bucket") or None, params.get("Key") or None
    origin = params.get("Origin")
    if origin is None:
        raise _bad_request("Insufficient information. Origin request header needed.")
    method = params.get("AccessControlRequestMethod")
    found = b.store.buckets.get(bucket) if bucket else None  # one atomic read
    rules = found.cors if found is not None else None
    if found is None:
        raise _forbidden("CORSResponse: Bucket not found", method or "OPTIONS", "BUCKET")
    if rules is None:
        raise _forbidden("CORSResponse: CORS is not enabled for this bucket. Call "
                         "put_bucket_cors with a rule for this origin and method first.",
                         method or "OPTIONS", "BUCKET")
    if method not in METHODS:
        raise _bad_request(f"Invalid Access-Control-Request-Method: {method or 'null'}. Send "
                           f"one of {', '.join(METHODS)}: the method the request will use.")
    requested = requested_headers(params.get("AccessControlRequestHeaders"))
    match = first_match(rules, origin, method, requested)
    if match is None:
        raise _forbidden(f"{NOT_ALLOWED} No CORSRule allows origin {origin!r} with method "
                         f"{method}" + (f" and headers {', '.join(requested)}" if requested else "")
                         + ": add one with put_bucket_cors.",
                         method, "OBJECT" if key else "BUCKET")
    return {"Headers": response_headers(*match, origin, requested)}

