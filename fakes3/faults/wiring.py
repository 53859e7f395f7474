"""What the seam needs to know of each service: how to name a call, how to raise its errors."""

from __future__ import annotations

from typing import Any

from fakes3.errors import AWSError, S3Error
from fakes3.faults.rules import Call


def describe_s3_call(operation: str, params: dict[str, Any]) -> Call:
    return Call("s3", operation, bucket=params.get("Bucket") or None, key=params.get("Key") or None)


def s3_error(code: str, message: str, status: int) -> AWSError:
    return S3Error(code, message, status)
