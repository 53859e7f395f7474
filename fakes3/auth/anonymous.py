"""The seam for requests that are not the resource owner's: may the principal go on to the service?

S3 lets anyone read or write where a bucket policy or ACL grants public access, and another
account only where one grants it that account. The decision needs the bucket's ACL and policy, so
it belongs to the S3 layer (``fakes3.s3.access.AccessControl``); the protocol layer is handed an
``AccessPolicy`` at construction and asks it here. Without one, every unsigned S3 request is
answered 403 AccessDenied (in ``strict`` mode; ``open`` mode treats unsigned requests as the
default account and checks nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from fakes3.auth.verifier import ANONYMOUS

if TYPE_CHECKING:
    from fakes3.context import RequestContext

__all__ = ["ANONYMOUS", "AccessPolicy", "anonymous_may_proceed"]


class AccessPolicy(Protocol):
    """Decides whether ``account_id`` ("anonymous" when unsigned) may run ``operation``."""

    def may_proceed(self, account_id: str, operation: str, bucket: str | None, key: str | None, *,
                    version_id: str | None = None, copy_source: str | None = None,
                    ctx: RequestContext | None = None, query: Mapping[str, str] | None = None) -> bool:
        """``copy_source``: the x-amz-copy-source header as sent (CopyObject, UploadPartCopy);
        ``ctx`` and ``query``: the request, for bucket policy conditions."""
        ...


def anonymous_may_proceed(service: str, operation: str, bucket: str | None, key: str | None,
                          policy: AccessPolicy | None = None, *, version_id: str | None = None,
                          copy_source: str | None = None, ctx: RequestContext | None = None,
                          query: Mapping[str, str] | None = None) -> bool:
    """Whether an unsigned ``operation`` on ``bucket``/``key`` may run as ``"anonymous"``: only where
    ``policy`` (the S3 layer's ACLs and bucket policies) grants public access; never without one."""
    if service != "s3" or policy is None:
        return False
    return policy.may_proceed(ANONYMOUS, operation, bucket, key, version_id=version_id,
                              copy_source=copy_source, ctx=ctx, query=query)
