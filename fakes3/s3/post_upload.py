"""Browser-based uploads: a ``multipart/form-data`` form POSTed to a bucket (S3's POST Object).

``boto3.client("s3").generate_presigned_post(...)`` builds such forms (SigV2 fields by default in
us-east-1, SigV4 with ``signature_version="s3v4"``); a web page posts them. The form is read as a
stream: the fields before ``file`` (at most 20 KB of them) are held, the file part goes straight
into the same ingest path as PutObject (the ``PostObject`` operation, through the fault seam and
the journal), so a large upload is never held in memory.

Behaviour, as the S3 API reference ("POST Object", "POST Policy", "Browser-Based Uploads Using
POST") and S3's observed answers give it:

* Fields: ``key`` (``${filename}`` becomes the file's name), ``file`` (last; fields after it are
  ignored), ``policy`` (base64 JSON: ``expiration`` and ``conditions``), its signature (SigV4:
  ``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``, ``x-amz-signature``; SigV2:
  ``AWSAccessKeyId``, ``signature``), ``x-amz-security-token``, ``acl``, ``Content-Type``,
  ``Cache-Control``, ``Content-Disposition``, ``Content-Encoding``, ``Expires``, ``x-amz-meta-*``,
  ``x-amz-storage-class``, ``x-amz-website-redirect-location``, ``tagging`` (a Tagging document),
  ``success_action_status`` (200, 201 with a PostResponse document, or 204, the default),
  ``success_action_redirect`` / ``redirect`` (303 to that URL with bucket, key and etag added).
  Field names are case-insensitive.
* Conditions: ``{"field": "value"}`` and ``["eq", "$field", "value"]`` (exact), ``["starts-with",
  "$field", "prefix"]`` ("" accepts anything), ``["content-length-range", min, max]`` (the file's
  size, enforced while it streams). ``{"bucket": ...}`` is the bucket posted to. Every field must be
  named by a condition except policy, the signature fields, ``file`` and ``x-ignore-*``.
* Errors: a body that is not multipart/form-data is 412 PreconditionFailed; a malformed one 400
  MalformedPOSTRequest; no file 400 IncorrectNumberOfFilesInPostRequest; too many bytes before the
  file 400 MaxPostPreDataLengthExceededError; no key, or an incomplete signature, 400
  InvalidArgument "Bucket POST must contain a field named '...'"; a policy that is not base64 JSON
  with expiration and conditions 400 InvalidPolicyDocument; a wrong signature 403
  SignatureDoesNotMatch (an unknown key 403 InvalidAccessKeyId); an expired policy 403 AccessDenied
  "Invalid according to Policy: Policy expired."; a failed condition 403 AccessDenied "Invalid
  according to Policy: Policy Condition failed: [...]"; an unnamed field 403 AccessDenied "Invalid
  according to Policy: Extra input fields: ..."; a file outside content-length-range 400
  EntityTooSmall / EntityTooLarge. The policy's expiration is checked against the server's clock.
* Who uploads: the account whose key signed the policy; a form without a policy is anonymous and
  needs a publicly writable bucket (``public-read-write``, or a bucket policy allowing
  ``s3:PutObject`` to ``"*"``). ``--auth open`` checks no signature, but still the policy.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Event, Field, File, MultipartDecoder, NeedData

from fakes3.auth import errors as auth_errors
from fakes3.auth.anonymous import ANONYMOUS, AccessPolicy, anonymous_may_proceed
from fakes3.auth.verifier import Verifier
from fakes3.context import RequestContext
from fakes3.errors import AWSError, S3Error
from fakes3.protocol.body import RequestBody
from fakes3.protocol.http import HttpRequest
from fakes3.protocol.s3_http import POST_OBJECT, Handler, Response
from fakes3.s3 import errors, objects

CHUNK = 64 * 1024
MAX_PRE_FILE_BYTES = 20 * 1024
MAX_BUFFERED = 4 * CHUNK
STATUSES = (200, 201, 204)
_ENCLOSURE = "Bucket POST must be of the enclosure-type-multipart/form-data"  # sic: S3's text

# Fields no condition has to name.
_EXEMPT = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"}
_V4_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
_V2_FIELDS = ("awsaccesskeyid", "signature")
_SPELLING = {"awsaccesskeyid": "AWSAccessKeyId", "policy": "Policy", "signature": "Signature", "key": "key"}
# form field -> PutObject parameter
_PARAMS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "expires": "Expires",
    "acl": "ACL",
    "x-amz-storage-class": "StorageClass",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-server-side-encryption-customer-algorithm": "SSECustomerAlgorithm",
    "x-amz-server-side-encryption-customer-key": "SSECustomerKey",
    "x-amz-server-side-encryption-customer-key-md5": "SSECustomerKeyMD5",
}


def post_object(b: Any, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """The PostObject operation (S3Service dispatches it): PutObject's semantics, POST's answer."""
    out = objects.put_object(b, params, ctx)
    result = {"ETag": out["ETag"], "Bucket": params["Bucket"], "Key": params["Key"],
              "Status": params.get("SuccessActionStatus", 204)}
    if out.get("VersionId") is not None:
        result["VersionId"] = out["VersionId"]
    return result


# -- errors -----------------------------------------------------------------------------------------


def _missing(name: str) -> S3Error:
    spelled = _SPELLING.get(name) or "-".join(p.capitalize() for p in name.split("-"))
    return errors.invalid_argument(
        f"Bucket POST must contain a field named '{spelled}'.  If it is specified, please check the "
        "order of the fields.", spelled, "")


def _violation(detail: str) -> AWSError:
    return auth_errors.access_denied(f"Invalid according to Policy: {detail}", reason="malformed")


def _invalid_policy(detail: str) -> S3Error:
    return S3Error("InvalidPolicyDocument", f"Invalid Policy: {detail}", 400)


def _malformed() -> S3Error:
    return S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed "
                   "multipart/form-data.", 400)


# -- reading the form -------------------------------------------------------------------------------


class _Form:
    """The form's parts, as events, read from the body as they are needed."""

    def __init__(self, body: RequestBody, boundary: bytes) -> None:
        self._body = body
        # The decoder holds what it has not yet handed out: one chunk and a part's headers.
        self._decoder = MultipartDecoder(boundary, max_form_memory_size=MAX_BUFFERED)
        self._ended = False

    def next_event(self) -> Event:
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError:
                raise _malformed() from None
            if not isinstance(event, NeedData):
                return event
            chunk = b"" if self._ended else self._body.read(CHUNK)
            if not chunk:
                self._ended = True
                self._decoder.receive_data(None)
                continue
            try:
                self._decoder.receive_data(chunk)
            except RequestEntityTooLarge:  # no boundary or no end of a part's headers in sight
                raise _malformed() from None

    def fields(self) -> tuple[dict[str, str], str]:
        """The fields before the file part (names lower-cased) and the file's name."""
        fields: dict[str, str] = {}
        size = 0
        while True:
            event = self.next_event()
            if isinstance(event, Epilogue):
                raise S3Error("IncorrectNumberOfFilesInPostRequest",
                              "POST requires exactly one file upload per request: add a field named "
                              "'file', after the others.", 400)
            if not isinstance(event, Field | File):
                continue
            name = (event.name or "").lower()
            if name == "file":
                return fields, event.filename if isinstance(event, File) else ""
            value = bytearray()
            while True:
                data = self.next_event()
                if not isinstance(data, Data):
                    raise _malformed()
                value += data.data
                size += len(data.data)
                if size > MAX_PRE_FILE_BYTES:
                    raise S3Error("MaxPostPreDataLengthExceededError", "Your POST request fields "
                                  "preceeding the upload file was too large: at most "
                                  f"{MAX_PRE_FILE_BYTES} bytes may come before the file.", 400)
                if not data.more_data:
                    break
            fields.setdefault(name, value.decode("utf-8", "replace"))


class FilePart:
    """The file part as a readable stream, sized within ``content-length-range`` as it is read."""

    def __init__(self, form: _Form, low: int | None, high: int | None) -> None:
        self._form = form
        self._pending = bytearray()
        self._ended = False
        self.low, self.high = low, high
        self.size = 0

    def _fill(self) -> None:
        while not self._pending and not self._ended:
            event = self._form.next_event()
            if isinstance(event, Data):
                self._pending += event.data
                self._ended = not event.more_data
            else:
                self._ended = True

    def read(self, size: int = -1) -> bytes:
        self._fill()
        if size is None or size < 0:
            size = len(self._pending)
        data = bytes(self._pending[:size])
        del self._pending[:size]
        self.size += len(data)
        if self.high is not None and self.size > self.high:
            while not self._ended:  # S3 names the whole upload's size: count the rest, keep none
                self._pending.clear()
                self._fill()
                self.size += len(self._pending)
            raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size "
                          f"(the policy's content-length-range allows at most {self.high} bytes).",
                          400, fields={"ProposedSize": self.size, "MaxSizeAllowed": self.high})
        if not data and self.low is not None and self.size < self.low:
            raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                          f"size (the policy's content-length-range wants at least {self.low} bytes).",
                          400, fields={"ProposedSize": self.size, "MinSizeAllowed": self.low})
        return data


# -- the policy -------------------------------------------------------------------------------------


def _decode_policy(text: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(text.encode("ascii"), validate=False))
    except (ValueError, UnicodeError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise _invalid_policy("Invalid JSON.")
    if "expiration" not in document:
        raise _invalid_policy("Policy missing expiration.")
    if not isinstance(document.get("conditions"), list):
        raise _invalid_policy("Policy missing conditions.")
    return document


def _expiration(value: Any) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_policy(f"Invalid 'expiration' value: '{value}'") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def check_policy(document: Mapping[str, Any], fields: Mapping[str, str], bucket: str,
                 now: dt.datetime) -> tuple[int | None, int | None]:
    """Enforce expiration and every condition but the file's size; returns content-length-range."""
    if _expiration(document["expiration"]) < now:
        raise _violation("Policy expired.")
    named: set[str] = set()
    low = high = None
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _invalid_policy("Invalid Simple-Condition: Simple-Conditions must have exactly "
                                      "one property specified.")
            (name, value), = condition.items()
            operation, name = "eq", "$" + str(name)
        elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[0], str):
            operation, name, value = condition[0].lower(), condition[1], condition[2]
        else:
            raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
        if operation == "content-length-range":
            try:
                low, high = int(name), int(value)
            except (TypeError, ValueError):
                raise _invalid_policy(f"Invalid content-length-range: {json.dumps(condition)}") from None
            continue
        if operation not in ("eq", "starts-with") or not isinstance(name, str) or not name.startswith("$"):
            raise _invalid_policy(f"Invalid Condition: {json.dumps(condition)}")
        field = name[1:].lower()
        named.add(field)
        actual = bucket if field == "bucket" else fields.get(field, "")
        if not _holds(operation, field, actual, str(value)):
            raise _violation(f"Policy Condition failed: {json.dumps([operation, name, value])}")
    extra = [n for n in fields if n not in named and n not in _EXEMPT and not n.startswith("x-ignore-")]
    if extra:
        raise _violation(f"Extra input fields: {extra[0]}")
    return low, high


def _holds(operation: str, field: str, actual: str, expected: str) -> bool:
    if operation == "eq":
        return actual == expected
    if field == "content-type":  # each of a comma-separated list of types must match
        return all(part.strip().startswith(expected) for part in actual.split(","))
    return actual.startswith(expected)


# -- the request ------------------------------------------------------------------------------------


class BrowserPostUploads:
    """Answers browser form uploads (``fakes3.protocol.s3_http.BrowserPost``)."""

    def __init__(self, verifier: Verifier, access: AccessPolicy | None = None) -> None:
        self.verifier = verifier
        self.access = access

    def __call__(self, request: HttpRequest, body: RequestBody, bucket: str, ctx: RequestContext,
                 invoke: Handler) -> Response:
        kind, options = parse_options_header(request.headers.get("content-type", ""))
        if kind.lower() != "multipart/form-data" or not options.get("boundary"):
            raise S3Error("PreconditionFailed", "Bucket POST must be of the enclosure-type "
                          "multipart/form-data", 412, fields={"Condition": _ENCLOSURE})
        form = _Form(body, options["boundary"].encode("latin-1"))
        fields, filename = form.fields()
        if not fields.get("key"):
            raise _missing("key")
        self._authenticate(fields, ctx)
        low = high = None
        if "policy" in fields:
            low, high = check_policy(_decode_policy(fields["policy"]), fields, bucket, ctx.now)
        key = fields["key"].replace("${filename}", filename)
        self._authorize(bucket, key, ctx)
        params = self._params(fields, bucket, key, FilePart(form, low, high))
        result = invoke(POST_OBJECT, params, ctx)
        return _response(request, bucket, key, result, fields)

    def _authenticate(self, fields: Mapping[str, str], ctx: RequestContext) -> None:
        v4 = [f for f in _V4_FIELDS if f in fields]
        v2 = [f for f in _V2_FIELDS if f in fields]
        if not v4 and not v2:
            if "policy" in fields and self.verifier.mode == "strict":
                raise auth_errors.access_denied()  # a policy nobody signed grants nothing
            return  # the request's own principal: anonymous (strict) or the default account (open)
        wanted = (*_V4_FIELDS, "policy") if v4 else (*_V2_FIELDS, "policy")
        for name in wanted:
            if name not in fields:
                raise _missing(name)
        if v4 and fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
            raise errors.invalid_argument("Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm.",
                                          "X-Amz-Algorithm", fields["x-amz-algorithm"])
        principal = self.verifier.authenticate_post_policy(
            fields["policy"], fields["x-amz-signature"] if v4 else fields["signature"],
            credential=fields["x-amz-credential"] if v4 else None,
            access_key=None if v4 else fields["awsaccesskeyid"],
            token=fields.get("x-amz-security-token"))
        ctx.account_id = principal.account_id
        ctx.access_key = principal.access_key

    def _authorize(self, bucket: str, key: str, ctx: RequestContext) -> None:
        if ctx.account_id == ANONYMOUS:
            allowed = anonymous_may_proceed("s3", POST_OBJECT, bucket, key, self.access, ctx=ctx)
        else:
            allowed = self.access is None or self.access.may_proceed(ctx.account_id, POST_OBJECT,
                                                                     bucket, key, ctx=ctx)
        if not allowed:
            raise auth_errors.access_denied()

    @staticmethod
    def _params(fields: Mapping[str, str], bucket: str, key: str, file: FilePart) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": file}
        for name, member in _PARAMS.items():
            if fields.get(name):
                params[member] = fields[name]
        metadata = {n[len("x-amz-meta-"):]: v for n, v in fields.items() if n.startswith("x-amz-meta-")}
        if metadata:
            params["Metadata"] = metadata
        if fields.get("tagging"):
            params["Tagging"] = _tagging(fields["tagging"])
        status = fields.get("success_action_status", "")
        params["SuccessActionStatus"] = int(status) if status.isdigit() and int(status) in STATUSES else 204
        return params


def _tagging(document: str) -> str:
    """The ``tagging`` field (a Tagging XML document) as PutObject's x-amz-tagging query string."""
    try:
        root = SafeET.fromstring(document)
    except Exception as exc:  # defusedxml raises ParseError and its own DTD/entity errors
        raise errors.malformed_xml("The tagging field must be a <Tagging><TagSet>... document.") from exc
    pairs = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            parts = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in tag}
            if "Key" not in parts:
                raise errors.malformed_xml("Every Tag must have a Key and a Value.")
            pairs.append((parts["Key"], parts.get("Value", "")))
    return urlencode(pairs)


def _response(request: HttpRequest, bucket: str, key: str, result: Mapping[str, Any],
              fields: Mapping[str, str]) -> Response:
    host = request.headers.get("host", "")
    path_style = request.raw_path.strip("/") != ""
    location = f"http://{host}/" + (f"{quote(bucket)}/" if path_style else "") + quote(key, safe="/~")
    etag = result["ETag"]
    headers = [("ETag", etag), ("Location", location)]
    if result.get("VersionId") is not None:
        headers.append(("x-amz-version-id", result["VersionId"]))
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect and redirect.startswith(("http://", "https://")):
        query = urlencode({"bucket": bucket, "key": key, "etag": etag})
        target = redirect + ("&" if "?" in redirect else "?") + query
        headers = [h for h in headers if h[0] != "Location"] + [("Location", target),
                                                                ("Content-Length", "0")]
        return 303, headers, ()
    status = int(result.get("Status", 204))
    if status != 201:
        return status, headers + [("Content-Length", "0")], ()
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
            f"<Location>{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket>"
            f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>").encode()
    return 201, headers + [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], (body,)
