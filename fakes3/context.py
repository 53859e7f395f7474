"""What an operation handler knows about the request besides its parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakes3.auth.payload import PayloadCheck


@dataclass
class RequestContext:
    request_id: str
    host_id: str = ""
    region: str = "us-east-1"
    # The account that signed the request (owner of buckets it creates); "anonymous" when unsigned.
    account_id: str = "000000000000"
    access_key: str | None = None
    operation: str = ""
    # Host and path as the client sent them, for S3's <Resource> and Location headers.
    resource: str = "/"
    # Raw request headers, for the few a handler needs that the service model does not describe
    # (DeleteObjects' Content-MD5, which botocore computes itself).
    headers: Mapping[str, str] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # The region in the request's SigV4 credential scope (None when unsigned).
    signing_region: str | None = None
    # Checks on the body that finish as it is read (x-amz-content-sha256, chunk signatures).
    payload_check: PayloadCheck | None = None
    # The client's address and port: which connection the request came on (for the journal).
    connection: str = ""
