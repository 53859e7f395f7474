"""Who sent this request? SigV4 verification against the credential store, as AWS does it.

``Verifier.authenticate`` takes the request as sent (method, raw path, raw query, headers) and
returns the principal (account and access key) plus a ``PayloadCheck`` for what can only be
checked while the body is read; or it raises ``AuthError`` with S3's code and fields. The order of
checks follows S3: the form of the signature, then the key and its session token, then the clock,
then the signature itself, and the body last.

Modes: ``strict`` verifies everything; ``open`` accepts any key and signature (the account is the
key's if the store knows it, else the default account) and still checks the body's SHA-256.
SigV2 (``Authorization: AWS ...`` and ``AWSAccessKeyId``/``Signature``/``Expires`` query strings,
which boto3 and the AWS CLI presign with by default in us-east-1) is verified too, for S3.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from fakes3.auth import errors, sigv2
from fakes3.auth.credentials import DEFAULT_ACCOUNT_ID, Clock, Credential, CredentialStore
from fakes3.auth.payload import ChunkSignatureCheck, PayloadCheck, Sha256Check
from fakes3.auth.sigv4 import (
    ALGORITHM,
    EMPTY_SHA256_HASH,
    Scope,
    amz_timestamp,
    canonical_path,
    canonical_query,
    canonical_request,
    normalized_path,
    parse_amz_date,
    query_pairs,
    same_signature,
    sign,
    signed_header_names,
    signing_key,
    string_to_sign,
)

if TYPE_CHECKING:
    from fakes3.protocol.http import Headers

AuthMode = Literal["strict", "open"]
MODES: tuple[AuthMode, ...] = ("strict", "open")

ANONYMOUS = "anonymous"
MAX_PRESIGN_EXPIRES = 604800  # seven days: a signing key is valid no longer

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
_ECDSA = ("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER")
# What x-amz-content-sha256 may hold besides a hex SHA-256 of the body.
_PAYLOAD_LITERALS = frozenset((UNSIGNED_PAYLOAD, STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED,
                               STREAMING_SIGNED_TRAILER))
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date",
                   "X-Amz-SignedHeaders", "X-Amz-Expires")
_V4_QUERY_PARAMS = frozenset(("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"))
_CREDENTIAL_FORM = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an account (``"anonymous"`` when unsigned) and the key it used."""

    account_id: str
    access_key: str | None = None
    credential: Credential | None = None

    @property
    def anonymous(self) -> bool:
        return self.account_id == ANONYMOUS

    @classmethod
    def of(cls, credential: Credential) -> Principal:
        """Who a verified credential acts as."""
        return cls(credential.account_id, credential.access_key, credential)


ANONYMOUS_PRINCIPAL = Principal(ANONYMOUS)


@dataclass(slots=True)  # not frozen: made on every request, and a frozen init costs 3x as much
class Authentication:
    principal: Principal
    # What remains to check while the body is read (None: nothing).
    payload: PayloadCheck | None = None
    # The region in the request's credential scope (None when unsigned).
    region: str | None = None


@dataclass(frozen=True)
class _Claim:
    """What a SigV4 request says about itself, before any of it is believed; but its signature
    and session token, so that a header's claim can be cached (see _header_claim)."""

    scope: Scope
    signed_headers: tuple[str, ...]  # as signed_header_names gives them
    timestamp: str  # 20130524T000000Z
    when: float
    presigned: bool
    expires: int = 0
    expires_text: str = ""


class Verifier:
    def __init__(self, store: CredentialStore, *, mode: AuthMode = "strict",
                 clock: Clock = time.time) -> None:
        if mode not in MODES:
            raise ValueError(f"auth mode {mode!r}: use 'strict' or 'open'")
        self.store = store
        self.mode: AuthMode = mode
        self.clock = clock
        self._principals: dict[str, Principal] = {}  # see _principal

    def authenticate(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Headers,
        *,
        service: str = "s3",
        payload_hash: str | None = None,
        vhost_bucket: str | None = None,
    ) -> Authentication:
        """Verify one request as sent: ``raw_path`` and ``raw_query`` still percent-encoded.

        ``payload_hash``: the body's SHA-256, for services whose clients send no
        x-amz-content-sha256 (JSON protocols hash the body they have already read).
        ``vhost_bucket``: the bucket named by the Host header (SigV2 signs ``/bucket/key``)."""
        if raw_query:
            pairs = query_pairs(raw_query)
            params = {k.decode("latin-1"): v.decode("utf-8", "replace") for k, v in pairs}
        else:  # most requests
            pairs, params = [], {}
        if self.mode == "open":
            return self._open(headers, params)
        mechanism = _mechanism(headers, params)
        if mechanism is None:
            return Authentication(ANONYMOUS_PRINCIPAL,
                                  _payload_check(headers, headers.get("x-amz-content-sha256")))
        if mechanism in ("v2-header", "v2-query"):
            if service != "s3":
                raise errors.unsupported_mechanism()
            return self._sigv2(mechanism == "v2-query", method, raw_path, raw_query, headers,
                               params, vhost_bucket)
        if mechanism == "v4-header":
            claim, signature = _header_claim(headers["authorization"], headers, service)
            token = headers.get("x-amz-security-token")
        else:
            claim = _query_claim(params, service)
            signature, token = params["X-Amz-Signature"], params.get("X-Amz-Security-Token")
        scope = claim.scope
        credential = self._credential(scope.access_key, token)
        self._check_time(claim)
        if not claim.presigned and service == "s3":
            _check_all_amz_headers_signed(headers, claim.signed_headers)
        sent_hash = _signed_payload_hash(headers, claim.presigned, service, payload_hash)
        key = signing_key(credential.secret_key, scope.date, scope.region, scope.service)
        path = canonical_path(raw_path) if service == "s3" else normalized_path(raw_path)
        query = canonical_query(pairs, "X-Amz-Signature" if claim.presigned else None) if pairs else ""
        canonical = canonical_request(method, path, query, headers, claim.signed_headers, sent_hash)
        to_sign = string_to_sign(claim.timestamp, scope, canonical)
        if not same_signature(sign(key, to_sign), signature):
            raise errors.signature_mismatch(scope.access_key, to_sign, signature, canonical)
        check: PayloadCheck | None = None
        if sent_hash in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
            check = ChunkSignatureCheck(key, claim.timestamp, scope, signature,
                                        trailer=sent_hash == STREAMING_SIGNED_TRAILER)
        elif sent_hash not in _PAYLOAD_LITERALS and sent_hash != payload_hash:
            # A hex SHA-256 (checked in _signed_payload_hash) the caller has not computed itself.
            check = _hash_check(headers, sent_hash)
        return Authentication(self._principal(credential), check, scope.region)

    def authenticate_post_policy(self, policy: str, signature: str, *, credential: str | None = None,
                                 access_key: str | None = None, token: str | None = None) -> Principal:
        """A browser POST form's signature over its base64 ``policy`` field, as sent.

        SigV4: ``credential`` is the x-amz-credential field (``AKID/date/region/s3/aws4_request``)
        and ``signature`` the hex HMAC-SHA256 of the policy with that scope's signing key. SigV2:
        ``access_key`` is the AWSAccessKeyId field and ``signature`` the base64 HMAC-SHA1 of the
        policy. ``token``: the x-amz-security-token field of temporary credentials. The time is
        the policy's own ``expiration`` (checked by the caller), not the signature's date."""
        if self.mode == "open":
            claimed = (credential or "").split("/", 1)[0] or access_key
            known = self.store.get(claimed) if claimed else None
            return Principal(known.account_id if known else DEFAULT_ACCOUNT_ID, claimed, known)
        if credential is not None:
            scope = Scope.parse(credential)
            if scope is None or not scope.access_key:
                raise errors.query_malformed(
                    f"Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                    f"{_CREDENTIAL_FORM}")
            if scope.service != "s3":
                raise errors.query_malformed(
                    f'Error parsing the X-Amz-Credential parameter; incorrect service '
                    f'"{scope.service}". This endpoint belongs to "s3".')
            access_key = scope.access_key
            found = self._credential(access_key, token)
            expected = sign(signing_key(found.secret_key, scope.date, scope.region, scope.service), policy)
        else:
            if not access_key:
                raise errors.v2_query_incomplete()
            found = self._credential(access_key, token)
            expected = sigv2.signature(found.secret_key, policy)
        if not same_signature(expected, signature):
            raise errors.signature_mismatch(access_key, policy, signature)
        return Principal.of(found)

    # -- the steps ------------------------------------------------------------------------------

    def _open(self, headers: Mapping[str, str], params: Mapping[str, str]) -> Authentication:
        access_key = _claimed_access_key(headers, params)
        credential = self.store.get(access_key) if access_key else None
        account = credential.account_id if credential else DEFAULT_ACCOUNT_ID
        sent_hash = headers.get("x-amz-content-sha256")
        return Authentication(Principal(account, access_key, credential),
                              _payload_check(headers, sent_hash))

    def _principal(self, credential: Credential) -> Principal:
        """``Principal.of(credential)``, made once per credential. The store replaces a key's
        credential rather than change it, so a stale entry is told by identity."""
        principal = self._principals.get(credential.access_key)
        if principal is None or principal.credential is not credential:
            principal = self._principals[credential.access_key] = Principal.of(credential)
        return principal

    def _credential(self, access_key: str, token: str | None) -> Credential:
        if token is not None:
            owner = self.store.by_token(token)
            if owner is None or owner.access_key != access_key:
                raise errors.invalid_token(token)
            if owner.expired(self.clock()):
                raise errors.expired_token(token)
            return owner
        credential = self.store.get(access_key)
        if credential is None or credential.temporary:  # a temporary key needs its token
            raise errors.invalid_access_key(access_key)
        return credential

    def _check_time(self, claim: _Claim) -> None:
        now = self.clock()
        if not claim.presigned:
            if abs(now - claim.when) > errors.MAX_SKEW_SECONDS:
                raise errors.time_too_skewed(claim.timestamp, now)
            return
        expires_at = claim.when + claim.expires
        if claim.when - now > errors.MAX_SKEW_SECONDS:
            raise errors.request_not_yet_valid(claim.when, expires_at, now)
        if now > expires_at:
            raise errors.request_expired(claim.expires_text, expires_at, now)

    def _sigv2(self, presigned: bool, method: str, raw_path: str, raw_query: str,
               headers: Mapping[str, str], params: Mapping[str, str],
               vhost_bucket: str | None) -> Authentication:
        now = self.clock()
        if presigned:
            if not all(params.get(name) for name in ("AWSAccessKeyId", "Signature", "Expires")):
                raise errors.v2_query_incomplete()
            access_key, provided = params["AWSAccessKeyId"], params["Signature"]
            token = params.get("x-amz-security-token") or headers.get("x-amz-security-token")
        else:
            value = headers["authorization"]
            access_key, sep, provided = value[4:].strip().partition(":")
            if not (sep and access_key and provided):
                raise errors.v2_header_malformed(value)
            token = headers.get("x-amz-security-token")
        credential = self._credential(access_key, token)
        if presigned:
            date_line = params["Expires"]
            try:
                expires_at = int(date_line)
            except ValueError:
                raise errors.v2_bad_expires(date_line) from None
            if now > expires_at:
                raise errors.request_expired(None, expires_at, now)
            # botocore moves the x-amz-* headers it signed (the session token) into the query.
            amz = sigv2.amz_headers([*headers.items(), *((k, v) for k, v in params.items()
                                                       if k.lower().startswith("x-amz-"))])
        else:
            amz_date, date = headers.get("x-amz-date"), headers.get("date")
            sent = amz_date or date or ""
            when = parse_amz_date(sent) if sent else None
            if when is None:
                raise errors.missing_date()
            if abs(now - when) > errors.MAX_SKEW_SECONDS:
                raise errors.time_too_skewed(sent, now)
            date_line = "" if amz_date else sent  # x-amz-date replaces Date
            amz = sigv2.amz_headers(headers.items())
        resource = (f"/{vhost_bucket}" if vhost_bucket else "") + raw_path
        if resource.count("/") == 1 and resource != "/":
            resource += "/"  # a bucket is signed as /bucket/, as botocore and S3 do
        string_to_sign = sigv2.string_to_sign(method, headers, amz, date_line, resource, raw_query)
        if not same_signature(sigv2.signature(credential.secret_key, string_to_sign), provided):
            raise errors.signature_mismatch(access_key, string_to_sign, provided)
        return Authentication(self._principal(credential),
                              _payload_check(headers, headers.get("x-amz-content-sha256")))


def _mechanism(headers: Mapping[str, str], params: Mapping[str, str]) -> str | None:
    """v4-header, v4-query, v2-header, v2-query, or None (unsigned)."""
    authorization = headers.get("authorization")
    v4_query = not _V4_QUERY_PARAMS.isdisjoint(params)
    v2_query = "AWSAccessKeyId" in params or "Signature" in params
    if authorization is not None:
        if v4_query or v2_query:
            raise errors.one_mechanism_only(authorization)
        algorithm = authorization.strip().partition(" ")[0]
        if algorithm == "AWS":
            return "v2-header"
        if algorithm == ALGORITHM:
            return "v4-header"
        if algorithm == "AWS4-ECDSA-P256-SHA256":  # SigV4a: multi-region access points only
            raise errors.unsupported_mechanism()
        raise errors.unsupported_authorization_type(authorization)
    if v4_query:
        return "v4-query"
    return "v2-query" if v2_query else None


# -- parsing ------------------------------------------------------------------------------------


def _header_claim(authorization: str, headers: Mapping[str, str], service: str) -> tuple[_Claim, str]:
    """The claim of an ``Authorization: AWS4-HMAC-SHA256 ...`` header, and its signature."""
    date_text: str = headers.get("x-amz-date") or headers.get("date") or ""
    components = authorization.strip().partition(" ")[2]
    rest, comma, last = components.rpartition(",")
    last = last.strip()
    if comma and last.startswith("Signature="):
        # The signature last, as every SDK writes it: what comes before it is the same on every
        # request of a client, and its date changes once a second, so their parse is cached.
        return _cached_claim(rest, date_text, service, True)[0], last[10:].strip()
    return _parse_header_claim(components, date_text, service, False)


def _parse_header_claim(components_text: str, date_text: str, service: str,
                        signature_apart: bool) -> tuple[_Claim, str]:
    """The claim of an Authorization header's components (``signature_apart``: but its
    Signature, taken off by the caller) and x-amz-date (or Date); the Signature if among them."""
    components: dict[str, str] = {}
    for part in components_text.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise errors.header_malformed(
                f'the authorization component "{part.strip()}" is malformed.')
        components[name] = value.strip()
    if not ({"Credential", "SignedHeaders"} <= components.keys()
            and (signature_apart or "Signature" in components)):
        raise errors.header_malformed("the authorization header requires three components: "
                                      "Credential, SignedHeaders, and Signature.")
    scope = Scope.parse(components["Credential"])
    if scope is None:
        raise errors.header_malformed(f"the Credential is mal-formed; {_CREDENTIAL_FORM}")
    if not scope.access_key:
        raise errors.header_malformed("a non-empty Access Key (AKID) must be provided in the "
                                      "credential.")
    when = parse_amz_date(date_text) if date_text else None
    if when is None:
        raise errors.missing_date()
    timestamp = date_text if len(date_text) == 16 else amz_timestamp(when)  # as sent, if ISO 8601
    if scope.date != timestamp[:8]:
        raise errors.header_malformed(f'Invalid credential date "{scope.date}". This date is not '
                                      f'the same as X-Amz-Date: "{timestamp[:8]}".')
    if scope.service != service:
        raise errors.header_malformed(f'incorrect service "{scope.service}". This endpoint '
                                      f'belongs to "{service}".')
    claim = _Claim(scope, signed_header_names(components["SignedHeaders"]), timestamp, when,
                   presigned=False)
    return claim, components.get("Signature", "")


# Errors are raised, not cached: only well-formed claims fill the cache.
_cached_claim = functools.lru_cache(maxsize=1024)(_parse_header_claim)


def _query_claim(params: Mapping[str, str], service: str) -> _Claim:
    if any(not params.get(name) for name in _PRESIGN_PARAMS):
        raise errors.query_malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise errors.query_malformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    timestamp = params["X-Amz-Date"]
    when = parse_amz_date(timestamp) if len(timestamp) == 16 else None
    if when is None:
        raise errors.query_malformed(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    expires_text = params["X-Amz-Expires"]
    try:
        expires = int(expires_text)
    except ValueError:
        raise errors.query_malformed("X-Amz-Expires should be a number") from None
    if expires < 0:
        raise errors.query_malformed("X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_EXPIRES:
        raise errors.query_malformed(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given "
            f"X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds")
    scope = Scope.parse(params["X-Amz-Credential"])
    if scope is None or not scope.access_key:
        raise errors.query_malformed(
            f"Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            f"{_CREDENTIAL_FORM}")
    if scope.date != timestamp[:8]:
        raise errors.query_malformed(
            f'Error parsing the X-Amz-Credential parameter; Invalid credential date "{scope.date}". '
            f'This date is not the same as X-Amz-Date: "{timestamp[:8]}".')
    if scope.service != service:
        raise errors.query_malformed(
            f'Error parsing the X-Amz-Credential parameter; incorrect service "{scope.service}". '
            f'This endpoint belongs to "{service}".')
    return _Claim(scope, signed_header_names(params["X-Amz-SignedHeaders"]), timestamp, when,
                  presigned=True, expires=expires, expires_text=expires_text)


def _claimed_access_key(headers: Mapping[str, str], params: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    if "Credential=" in authorization:
        return authorization.split("Credential=", 1)[1].split("/", 1)[0].strip() or None
    if authorization.startswith("AWS "):
        return authorization[4:].split(":", 1)[0].strip() or None
    credential = params.get("X-Amz-Credential") or params.get("AWSAccessKeyId") or ""
    return credential.split("/", 1)[0] or None


# -- headers and body ---------------------------------------------------------------------------


def _check_all_amz_headers_signed(headers: Headers, signed: tuple[str, ...]) -> None:
    missing = [name for name in headers.lower_names()
               if name.startswith("x-amz-") and name not in signed]
    if missing:
        raise errors.headers_not_signed(sorted(missing))


def _signed_payload_hash(headers: Mapping[str, str], presigned: bool, service: str,
                         payload_hash: str | None) -> str:
    """The payload hash the signature covers: x-amz-content-sha256 as sent, else UNSIGNED-PAYLOAD
    for a presigned URL, else (not for S3) the hash of the body the caller has read."""
    sent_hash = headers.get("x-amz-content-sha256")
    if sent_hash is None:
        if presigned:
            sent_hash = UNSIGNED_PAYLOAD
        elif service == "s3" or payload_hash is None:
            raise errors.missing_content_sha256()
        else:
            sent_hash = payload_hash
    _check_payload_value(sent_hash)
    return sent_hash


def _check_payload_value(value: str) -> None:
    if value in _PAYLOAD_LITERALS:
        return
    if value in _ECDSA:
        raise errors.unsupported_mechanism()
    if not _HEX_SHA256.fullmatch(value):
        raise errors.invalid_content_sha256(value)


def _payload_check(headers: Mapping[str, str], sent_hash: str | None) -> PayloadCheck | None:
    """A hex x-amz-content-sha256 (anything else is let be): see _hash_check."""
    if sent_hash is None or not _HEX_SHA256.fullmatch(sent_hash):
        return None
    return _hash_check(headers, sent_hash)


def _hash_check(headers: Mapping[str, str], sent_hash: str) -> PayloadCheck | None:
    """A hex x-amz-content-sha256: checked now if the body is empty, else as it is read."""
    length = headers.get("content-length")
    if length == "0" or (length is None and "transfer-encoding" not in headers):
        if sent_hash.lower() != EMPTY_SHA256_HASH:
            raise errors.content_sha256_mismatch(sent_hash, EMPTY_SHA256_HASH)
        return None
    return Sha256Check(sent_hash)
