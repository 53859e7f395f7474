"""Preconditions: If-Match / If-None-Match / If-(Un)Modified-Since on reads, copies and writes.

Reads follow S3's documented precedence: If-Match that holds overrides a failing
If-Unmodified-Since, and If-None-Match that fails overrides a holding If-Modified-Since.
Write conditions are returned as a ``Check`` that the model runs under the key's lock, so the
check and the write are one atomic step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.utils import format_datetime
from typing import Any

from fakes3.errors import S3Error
from fakes3.s3 import errors
from fakes3.s3.model import Check, ObjectVersion


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match/If-None-Match list names ``etag`` (quoted or not, or ``*``)."""
    bare = etag.strip('"')
    for candidate in header.split(","):
        c = candidate.strip()
        if c.startswith("W/"):
            c = c[2:]
        if c == "*" or c.strip('"') == bare:
            return True
    return False


def not_modified(version: ObjectVersion) -> S3Error:
    return S3Error(
        "NotModified",
        "Not Modified",
        304,
        headers={
            "ETag": version.etag,
            "Last-Modified": format_datetime(version.last_modified, usegmt=True),
        },
    )


def check_read(params: Mapping[str, Any], version: ObjectVersion, *, copy: bool = False) -> None:
    """GetObject/HeadObject (412 or 304) or CopyObject's x-amz-copy-source-* (412 only)."""
    if copy:
        shown = "x-amz-copy-source-"
        if_match = params.get("CopySourceIfMatch")
        if_none = params.get("CopySourceIfNoneMatch")
        since = params.get("CopySourceIfModifiedSince")
        unmodified = params.get("CopySourceIfUnmodifiedSince")
    else:
        shown = ""
        if_match = params.get("IfMatch")
        if_none = params.get("IfNoneMatch")
        since = params.get("IfModifiedSince")
        unmodified = params.get("IfUnmodifiedSince")
    if if_match is None and if_none is None and since is None and unmodified is None:
        return  # the common read: no precondition at all
    since = _aware(since)
    unmodified = _aware(unmodified)
    modified = version.last_modified
    if if_match is not None:
        if not etag_matches(if_match, version.etag):
            raise errors.precondition_failed(shown + "If-Match")
    elif unmodified is not None and modified > unmodified:
        raise errors.precondition_failed(shown + "If-Unmodified-Since")
    if if_none is not None:
        if etag_matches(if_none, version.etag):
            if copy:
                raise errors.precondition_failed(shown + "If-None-Match")
            raise not_modified(version)
    elif since is not None and modified <= since:
        if copy:
            raise errors.precondition_failed(shown + "If-Modified-Since")
        raise not_modified(version)


def _aware(value: Any) -> dt.datetime | None:
    if value is None or not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def write_check(params: Mapping[str, Any], key: str) -> Check | None:
    """The If-Match / If-None-Match condition of a PUT (or If-Match of a DELETE), if any."""
    if_match = params.get("IfMatch")
    if_none = params.get("IfNoneMatch")
    if if_none is not None and if_none.strip() != "*":
        raise S3Error(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented. "
            "If-None-Match on a write only accepts '*' (create only if the key is absent).",
            501,
            fields={"Header": "If-None-Match"},
        )
    if if_match is None and if_none is None:
        return None

    def check(current: ObjectVersion | None) -> None:
        if if_none is not None and current is not None:
            raise errors.precondition_failed("If-None-Match")
        if if_match is not None:
            if current is None:
                raise errors.no_such_key(key)
            if not etag_matches(if_match, current.etag):
                raise errors.precondition_failed("If-Match")

    return check


def delete_check(if_match: str | None, last_modified: Any, size: Any, key: str) -> Check | None:
    """DeleteObject's conditions (and each DeleteObjects entry's ETag / LastModifiedTime / Size).

    If-Match on a missing key is 404 NoSuchKey; the last-modified-time and size conditions let a
    missing key through (204), as AWS documents them.
    """
    etag_check = write_check({"IfMatch": if_match}, key)
    when = _aware(last_modified)
    if when is None and size is None:
        return etag_check

    def check(current: ObjectVersion | None) -> None:
        if etag_check is not None:
            etag_check(current)
        if current is None:
            return
        if when is not None and current.last_modified != when.replace(microsecond=0):
            raise errors.precondition_failed("x-amz-if-match-last-modified-time")
        if size is not None and current.size != int(size):
            raise errors.precondition_failed("x-amz-if-match-size")

    return check
