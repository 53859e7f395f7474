"""Authentication errors, as S3 returns them, and their JSON-service (DynamoDB) equivalents.

Every error carries S3's code, status, message and the extra ``<Error>`` fields S3 adds to help
users debug (SignatureDoesNotMatch names the StringToSign and CanonicalRequest it computed).
``Resource`` is set to None because S3 does not name the resource in authentication errors.

``AuthError.reason`` names the failure independently of the wire format; ``JSON_SERVICE_ERRORS``
maps it to the error a JSON protocol service (DynamoDB) answers instead, and
``for_json_service`` does the translation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fakes3.errors import AWSError

MAX_SKEW_SECONDS = 15 * 60

SUPPORTED_PAYLOAD_VALUES = (
    "UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
)


class AuthError(AWSError):
    """An authentication failure; ``reason`` is one of JSON_SERVICE_ERRORS' keys."""

    def __init__(self, reason: str, code: str, message: str, status: int,
                 fields: dict[str, Any] | None = None) -> None:
        super().__init__(code, message, status, fields={**(fields or {}), "Resource": None})
        self.reason = reason


def iso(when: float) -> str:
    """S3's ServerTime/Expires format: 2013-05-24T00:00:00Z."""
    return dt.datetime.fromtimestamp(int(when), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def byte_dump(text: str) -> str:
    """S3's *Bytes fields: each UTF-8 byte as two hex digits, space-separated."""
    return " ".join(f"{b:02x}" for b in text.encode("utf-8"))


# -- S3 ---------------------------------------------------------------------------------------


def invalid_access_key(access_key: str) -> AuthError:
    return AuthError("unknown_key", "InvalidAccessKeyId",
                     "The AWS Access Key Id you provided does not exist in our records.", 403,
                     {"AWSAccessKeyId": access_key})


def signature_mismatch(access_key: str, string_to_sign: str, provided: str,
                       canonical_request: str | None = None) -> AuthError:
    fields: dict[str, Any] = {
        "AWSAccessKeyId": access_key,
        "StringToSign": string_to_sign,
        "SignatureProvided": provided,
        "StringToSignBytes": byte_dump(string_to_sign),
    }
    if canonical_request is not None:
        fields["CanonicalRequest"] = canonical_request
        fields["CanonicalRequestBytes"] = byte_dump(canonical_request)
    return AuthError("bad_signature", "SignatureDoesNotMatch",
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your key and signing method.", 403, fields)


def access_denied(message: str = "Access Denied", fields: dict[str, Any] | None = None,
                  reason: str = "anonymous") -> AuthError:
    return AuthError(reason, "AccessDenied", message, 403, fields)


def header_malformed(detail: str, region: str | None = None) -> AuthError:
    return AuthError("malformed", "AuthorizationHeaderMalformed",
                     f"The authorization header is malformed; {detail}", 400,
                     {"Region": region} if region else None)


def query_malformed(message: str) -> AuthError:
    return AuthError("malformed", "AuthorizationQueryParametersError", message, 400)


def request_expired(expires_param: str | None, expires_at: float, now: float) -> AuthError:
    """``expires_param``: X-Amz-Expires as sent (SigV4); None for SigV2's absolute Expires."""
    return access_denied("Request has expired", {"X-Amz-Expires": expires_param,
                                                 "Expires": iso(expires_at),
                                                 "ServerTime": iso(now)}, reason="expired_request")


def request_not_yet_valid(signed_at: float, expires_at: float, now: float) -> AuthError:
    # S3 really does give X-Amz-Date here in epoch milliseconds.
    return access_denied("Request is not yet valid", {"X-Amz-Date": str(int(signed_at) * 1000),
                                                      "Expires": iso(expires_at),
                                                      "ServerTime": iso(now)},
                         reason="expired_request")


def time_too_skewed(request_time: str, now: float) -> AuthError:
    return AuthError("skewed", "RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large.",
                     403, {"RequestTime": request_time, "ServerTime": iso(now),
                           "MaxAllowedSkewMilliseconds": str(MAX_SKEW_SECONDS * 1000)})


def expired_token(token: str) -> AuthError:
    return AuthError("expired_token", "ExpiredToken", "The provided token has expired.", 400,
                     {"Token-0": token})


def invalid_token(token: str) -> AuthError:
    return AuthError("invalid_token", "InvalidToken",
                     "The provided token is malformed or otherwise invalid.", 400, {"Token-0": token})


def unsupported_mechanism() -> AuthError:
    return AuthError("malformed", "InvalidRequest",
                     "The authorization mechanism you have provided is not supported. "
                     "Please use AWS4-HMAC-SHA256.", 400)


def unsupported_authorization_type(value: str) -> AuthError:
    return AuthError("malformed", "InvalidArgument", "Unsupported Authorization Type", 400,
                     {"ArgumentName": "Authorization", "ArgumentValue": value})


def one_mechanism_only(value: str) -> AuthError:
    return AuthError("malformed", "InvalidArgument",
                     "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                     "Signature query string parameter or the Authorization header should be "
                     "specified", 400, {"ArgumentName": "Authorization", "ArgumentValue": value})


def v2_header_malformed(value: str) -> AuthError:
    return AuthError("malformed", "InvalidArgument",
                     "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature", 400,
                     {"ArgumentName": "Authorization", "ArgumentValue": value})


def v2_query_incomplete() -> AuthError:
    return access_denied("Query-string authentication requires the Signature, Expires and "
                         "AWSAccessKeyId parameters", reason="malformed")


def v2_bad_expires(value: str) -> AuthError:
    return access_denied(f"Invalid date (should be seconds since epoch): {value}",
                         reason="malformed")


def missing_date() -> AuthError:
    return access_denied("AWS authentication requires a valid Date or x-amz-date header",
                         reason="malformed")


def headers_not_signed(names: list[str]) -> AuthError:
    return access_denied("There were headers present in the request which were not signed",
                         {"HeadersNotSigned": ", ".join(names)}, reason="malformed")


def missing_content_sha256() -> AuthError:
    return AuthError("malformed", "InvalidRequest",
                     "Missing required header for this request: x-amz-content-sha256", 400)


def invalid_content_sha256(value: str) -> AuthError:
    return AuthError("malformed", "InvalidArgument",
                     f"x-amz-content-sha256 must be {SUPPORTED_PAYLOAD_VALUES} or a valid sha256 "
                     "value.", 400, {"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value})


def content_sha256_mismatch(client: str, computed: str) -> AuthError:
    return AuthError("payload_hash", "XAmzContentSHA256Mismatch",
                     "The provided 'x-amz-content-sha256' header does not match what was computed.",
                     400, {"ClientComputedContentSHA256": client, "S3ComputedContentSHA256": computed})


# -- JSON protocol services (DynamoDB) ---------------------------------------------------------

_INVALID_SIGNATURE = ("The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult the "
                      "service documentation for details.")

# reason -> (error code, HTTP status, message). Not used by S3; JSON services (DynamoDB) answer these.
JSON_SERVICE_ERRORS: dict[str, tuple[str, int, str]] = {
    "unknown_key": ("UnrecognizedClientException", 400,
                    "The security token included in the request is invalid."),
    "invalid_token": ("UnrecognizedClientException", 400,
                      "The security token included in the request is invalid."),
    "expired_token": ("ExpiredTokenException", 400,
                      "The security token included in the request is expired"),
    "bad_signature": ("InvalidSignatureException", 400, _INVALID_SIGNATURE),
    "payload_hash": ("InvalidSignatureException", 400, _INVALID_SIGNATURE),
    "skewed": ("InvalidSignatureException", 400,
               "Signature expired: the request time is more than 15 minutes away from the "
               "server's time."),
    "expired_request": ("InvalidSignatureException", 400, "Signature expired."),
    "malformed": ("IncompleteSignatureException", 400,
                  "The request signature does not conform to AWS standards."),
    "anonymous": ("MissingAuthenticationTokenException", 400,
                  "Request is missing Authentication Token"),
}


def for_json_service(err: AuthError) -> AWSError:
    """The error a JSON protocol service answers for this authentication failure."""
    code, status, message = JSON_SERVICE_ERRORS[err.reason]
    return AWSError(code, message, status)
