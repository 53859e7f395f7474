"""What an operation handler knows about the request besides its parameters."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakes3.auth.payload import PayloadCheck


class RequestContext:
    """One request's context, built per request: a plain class with slots, whose ``now`` is
    only made a datetime if a handler asks for it (reads of an object never do)."""

    __slots__ = ("request_id", "host_id", "region", "account_id", "access_key", "operation",
                 "resource", "headers", "signing_region", "payload_check", "connection",
                 "_now", "_clock")

    def __init__(
        self,
        request_id: str,
        host_id: str = "",
        region: str = "us-east-1",
        account_id: str = "000000000000",
        access_key: str | None = None,
        operation: str = "",
        resource: str = "/",
        headers: Mapping[str, str] | None = None,
        now: dt.datetime | None = None,
        signing_region: str | None = None,
        payload_check: PayloadCheck | None = None,
        connection: str = "",
        *,
        clock: float | None = None,
    ) -> None:
        self.request_id = request_id
        self.host_id = host_id
        self.region = region
        # The account that signed the request (owner of buckets it creates); "anonymous" when
        # unsigned.
        self.account_id = account_id
        self.access_key = access_key
        self.operation = operation
        # Host and path as the client sent them, for S3's <Resource> and Location headers.
        self.resource = resource
        # Raw request headers, for the few a handler needs that the service model does not
        # describe (DeleteObjects' Content-MD5, which botocore computes itself).
        self.headers: Mapping[str, str] = {} if headers is None else headers
        # The request's time: ``now`` as given, else the POSIX time ``clock`` (default: the
        # current time), turned into a datetime when first read.
        self._now = now
        self._clock = time.time() if clock is None else clock
        # The region in the request's SigV4 credential scope (None when unsigned).
        self.signing_region = signing_region
        # Checks on the body that finish as it is read (x-amz-content-sha256, chunk signatures).
        self.payload_check = payload_check
        # The client's address and port: which connection the request came on (for the journal).
        self.connection = connection

    @property
    def now(self) -> dt.datetime:
        now = self._now
        if now is None:
            now = self._now = dt.datetime.fromtimestamp(self._clock, dt.UTC)
        return now

    @now.setter
    def now(self, value: dt.datetime) -> None:
        self._now = value

    def __repr__(self) -> str:
        return (f"RequestContext(request_id={self.request_id!r}, operation={self.operation!r}, "
                f"account_id={self.account_id!r}, resource={self.resource!r})")
