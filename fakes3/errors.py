"""Errors that reach the client: an AWS error code, an HTTP status and a message saying what to change.

Operation handlers raise these; the protocol layer turns them into the service's wire format
(S3's ``<Error>`` document, DynamoDB's JSON ``__type``). Anything else raised by a handler is a
bug in fakes3 and becomes a 500 InternalError with no traceback in the body.
"""

from __future__ import annotations

from typing import Any


class AWSError(Exception):
    """An error the client is meant to see."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        # Extra elements of S3's <Error> document, in order (BucketName, Key, Resource, ...).
        self.fields: dict[str, Any] = dict(fields or {})
        # Extra response headers (x-amz-delete-marker on a 404 for a delete marker, ...).
        self.headers: dict[str, str] = dict(headers or {})


class S3Error(AWSError):
    """An S3 error; ``fields`` become extra elements of the ``<Error>`` document."""


def not_implemented(operation: str) -> S3Error:
    return S3Error(
        "NotImplemented",
        f"fakes3 does not implement the {operation} operation yet.",
        501,
    )


def internal_error() -> AWSError:
    return AWSError(
        "InternalError",
        "We encountered an internal error. Please try again. (fakes3 logged the cause.)",
        500,
    )
