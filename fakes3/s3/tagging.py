"""Tags: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging and the x-amz-tagging header.

An object's tags belong to one version: PutObjectTagging swaps in a copy of that version with new
tags, under the key's lock (model.Bucket.update_version), without a new version ID, ETag or
Last-Modified, as in S3. Limits and errors as S3 gives them (User Guide, "Categorizing your storage
using tags"; S3 observed): at most 10 tags per object (400 BadRequest) and 50 per bucket; a key of
1 to 128 and a value of 0 to 256 characters counted in UTF-16 code units (S3 stores tags as
UTF-16), made of letters, digits, white space and ``+ - = . _ : / @`` (400 InvalidTag); keys unique
(400 InvalidTag; in the header, 400 InvalidArgument).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors, ingest, versioning
from fakes3.s3.model import Backend

Params = dict[str, Any]

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
_SYMBOLS = frozenset("+-=._:/@")
_HEADER = "x-amz-tagging"


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _allowed(text: str) -> bool:
    return all(c in _SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text)


def _invalid_tag(message: str, key: str, value: str | None = None) -> S3Error:
    fields = {"TagKey": key} if value is None else {"TagKey": key, "TagValue": value}
    return S3Error("InvalidTag", message, 400, fields=fields)


def check_tags(pairs: list[tuple[str, str]], limit: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """A tag set as S3 validates it; returns the tags in the order given."""
    if len(pairs) > limit:
        what = "Object tags" if limit == MAX_OBJECT_TAGS else "Bucket tag count"
        raise S3Error("BadRequest", f"{what} cannot be greater than {limit}", 400)
    tags: dict[str, str] = {}
    for key, value in pairs:
        if not 1 <= _utf16_length(key) <= MAX_KEY_LENGTH or not _allowed(key):
            raise _invalid_tag(
                "The TagKey you have provided is invalid. A tag key is 1 to 128 characters: "
                "letters, digits, spaces and + - = . _ : / @", key)
        if _utf16_length(value) > MAX_VALUE_LENGTH or not _allowed(value):
            raise _invalid_tag(
                "The TagValue you have provided is invalid. A tag value is up to 256 characters: "
                "letters, digits, spaces and + - = . _ : / @", key, value)
        if key in tags:
            raise _invalid_tag("Cannot provide multiple Tags with the same key", key)
        tags[key] = value
    return tags


def from_tag_set(tagging: Mapping[str, Any] | None, limit: int = MAX_OBJECT_TAGS) -> dict[str, str]:
    """The tags of a <Tagging> document (boto3's ``Tagging={"TagSet": [...]}``)."""
    if tagging is None or tagging.get("TagSet") is None:
        raise errors.malformed_xml("A Tagging document must contain a TagSet.")
    pairs = []
    for tag in tagging["TagSet"]:
        if tag.get("Key") is None or tag.get("Value") is None:
            raise errors.malformed_xml("Every Tag must have a Key and a Value.")
        pairs.append((str(tag["Key"]), str(tag["Value"])))
    return check_tags(pairs, limit)


def from_header(value: str | None) -> dict[str, str]:
    """The tags of an ``x-amz-tagging`` header: a URL-encoded query string, ``k1=v1&k2=v2``."""
    if value is None or value == "":
        return {}
    pairs = parse_qsl(value, keep_blank_values=True)
    if len({key for key, _ in pairs}) != len(pairs):
        raise errors.invalid_argument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates.",
            _HEADER,
            value,
        )
    return check_tags(pairs)


def tag_set(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


# -- object tagging -------------------------------------------------------------------------


def _retag(b: Backend, params: Params, tags: dict[str, str], method: str) -> Params:
    return versioning.update_subresource(
        b, params, method, lambda bucket, version: dataclasses.replace(version, tags=tags))


def put_object_tagging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    ingest.require_integrity(params, ctx)
    tags = from_tag_set(params.get("Tagging"))
    return _retag(b, params, tags, versioning.SUB_PUT)


def delete_object_tagging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    return _retag(b, params, {}, versioning.SUB_DELETE)


def get_object_tagging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket, version = versioning.subresource_version(b, params)
    out: Params = {"TagSet": tag_set(version.tags)}
    return versioning.add_version_id(out, bucket, version)


# -- bucket tagging -------------------------------------------------------------------------


def put_bucket_tagging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)
    tags = from_tag_set(params.get("Tagging"), MAX_BUCKET_TAGS)
    with bucket.lock:
        bucket.tags = tags or None  # an empty TagSet leaves the bucket without tags
    return {}


def get_bucket_tagging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        tags = bucket.tags
    if tags is None:
        raise S3Error("NoSuchTagSet", "The TagSet does not exist. The bucket has no tags: put "
                      "them with PutBucketTagging.", 404,
                      fields={"BucketName": bucket.name})
    return {"TagSet": tag_set(tags)}


def delete_bucket_tagging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.tags = None
    return {}
