"""The seam for unsigned requests: may the anonymous principal go on to the service?

S3 lets anyone read or write where a bucket policy or ACL grants public access. fakes3 has no
policies or ACLs yet, so every unsigned S3 request is answered 403 AccessDenied (in ``strict``
mode; ``open`` mode treats unsigned requests as the default account). When the S3 layer grows
public access, this is the one function to teach it.
"""

from __future__ import annotations


def anonymous_may_proceed(service: str, operation: str, bucket: str | None, key: str | None) -> bool:
    """Whether an unsigned ``operation`` on ``bucket``/``key`` may run as ``"anonymous"``."""
    return False
