"""What an operation handler knows about the request besides its parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


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
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
