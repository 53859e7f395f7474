"""Callers other than a bucket's owner, for the S3 access tests: an unsigned client, a client of
another account, and how their refusals look."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from fakes3 import FakeAWS
from fakes3.auth import Credential

NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})
# A second account (the fixture ``other`` signs with it): not the owner of the tests' buckets.
OTHER = Credential("AKIAOTHERACCOUNT0002", "other-secret", account_id="222222222222")


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    """The error code, HTTP status and message ``call`` fails with."""
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    response = err.value.response
    return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"].get("Message", ""))


def denied(call: Any, *args: Any, **kwargs: Any) -> bool:
    code, status, _ = error_of(call, *args, **kwargs)
    return (code, status) in (("AccessDenied", 403), ("403", 403))  # a HEAD's error has no body


def anonymous_client(fake: FakeAWS) -> Any:
    return fake.client("s3", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


@contextlib.contextmanager
def other_account_client(fake: FakeAWS, credential: Credential) -> Iterator[Any]:
    """An S3 client signing with ``credential``, a key of another account the fake knows meanwhile."""
    fake.credential_store.add(credential)
    try:
        yield fake.client("s3", config=NO_RETRY, **credential.client_kwargs())
    finally:
        fake.credential_store.remove(credential.access_key)
