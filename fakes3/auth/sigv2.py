"""SigV2 (``Authorization: AWS AKID:sig`` and ``AWSAccessKeyId``/``Signature``/``Expires`` URLs).

S3 still takes SigV2 in the regions that had it, and boto3 and the AWS CLI presign with it by
default there (``generate_presigned_url`` in us-east-1 gives a SigV2 URL unless the client is
configured with ``signature_version="s3v4"``), so the fake verifies it rather than refuse it.

String to sign (AWS's "Signing and authenticating REST requests"):
``METHOD\\nContent-MD5\\nContent-Type\\nDate\\n<x-amz-* headers, sorted>\\n<resource>`` where Date is
the Expires parameter for a presigned URL and empty when x-amz-date is sent, and the resource is
``/bucket/key`` as sent plus the sub-resources botocore signs (``?acl``, ``?uploadId=...``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

from botocore.auth import HmacV1Auth

SUBRESOURCES = frozenset(HmacV1Auth.QSAOfInterest)


def string_to_sign(
    method: str,
    headers: Mapping[str, str],
    amz: Mapping[str, str],
    date_line: str,
    resource_path: str,
    raw_query: str,
) -> str:
    """``amz``: x-amz-* name (lowercase) -> value, from headers (and, presigned, the query)."""
    amz_lines = "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))
    return (f"{method.upper()}\n{headers.get('content-md5', '').strip()}\n"
            f"{headers.get('content-type', '').strip()}\n{date_line}\n{amz_lines}"
            f"{resource_path}{_subresources(raw_query)}")


def amz_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for name, value in items:
        if name.lower().startswith("x-amz-"):
            out.setdefault(name.lower(), []).append(value.strip())
    return {name: ",".join(values) for name, values in out.items()}


def _subresources(raw_query: str) -> str:
    found = []
    for item in raw_query.split("&"):
        name, eq, value = item.partition("=")
        if name in SUBRESOURCES:
            found.append((name, f"{name}={unquote(value)}" if eq else name))
    found.sort(key=lambda pair: pair[0])
    return "?" + "&".join(text for _, text in found) if found else ""


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
