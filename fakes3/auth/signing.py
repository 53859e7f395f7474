"""Sign a raw HTTP request the way botocore does: for tests and tools that talk HTTP directly.

    headers = sign_headers("PUT", f"{aws.endpoint_url}/bkt/key", body=b"data")
    http.client.HTTPConnection(...).request("PUT", "/bkt/key", body=b"data", headers=headers)

The URL's path and query must be percent-encoded as they will be sent (as SigV4 wants it:
``urllib.parse.quote(key, safe="/~")``); the server re-encodes what it receives the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fakes3.auth.credentials import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, Credential
from fakes3.auth.sigv4 import amz_timestamp

_DEFAULT = Credential(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)


class _Signer(S3SigV4Auth):
    payload_value: str | None = None

    def payload(self, request: Any) -> str:
        if self.payload_value is not None:
            return self.payload_value
        return str(super().payload(request))


def sign_headers(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    credential: Credential = _DEFAULT,
    region: str = "us-east-1",
    service: str = "s3",
    payload: str | None = None,
    when: float | None = None,
) -> dict[str, str]:
    """``headers`` plus Authorization, X-Amz-Date, x-amz-content-sha256 (the body's SHA-256,
    or ``payload``: UNSIGNED-PAYLOAD, STREAMING-...) and x-amz-security-token if temporary.
    ``when`` (epoch seconds) signs as of another time than now."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    creds = Credentials(credential.access_key, credential.secret_key, credential.session_token)
    signer: SigV4Auth
    if service == "s3":
        signer = _Signer(creds, service, region)
        signer.payload_value = payload
    else:
        signer = SigV4Auth(creds, service, region)
    request.context["timestamp"] = amz_timestamp(time.time() if when is None else when)
    signer._modify_request_before_signing(request)  # noqa: SLF001 - botocore's own signing steps
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)  # noqa: SLF001
    return {name: str(value) for name, value in request.headers.items()}


def seed_signature(headers: Mapping[str, str]) -> str:
    """The Signature= of a signed request's Authorization header (the seed of a chunk chain)."""
    return headers["Authorization"].rsplit("Signature=", 1)[1].strip()
