"""Opaque continuation tokens: they name where the next page starts, and nothing else.

A token is base64 of a tag, the listing it belongs to (operation and bucket, or account) and the
last name returned, so a token from another listing is refused instead of silently listing the
wrong range.
"""

from __future__ import annotations

import base64
import binascii

from fakes3.errors import S3Error
from fakes3.s3 import errors

_TAG = "fakes3.1"


def encode(scope: str, last: str) -> str:
    raw = "\x00".join((_TAG, scope, last)).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode(scope: str, token: str, argument: str = "continuation-token") -> str:
    """The last name a token's page returned; InvalidArgument if it is not ours."""
    try:
        parts = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8").split("\x00", 2)
    except (binascii.Error, UnicodeError, ValueError):
        parts = []
    if len(parts) != 3 or parts[0] != _TAG or parts[1] != scope:
        raise invalid(token, argument)
    return parts[2]


def invalid(token: str, argument: str) -> S3Error:
    return errors.invalid_argument(
        "The continuation token provided is incorrect. Pass back the NextContinuationToken of "
        "the previous page of the same listing, unchanged.",
        argument,
        token,
    )
