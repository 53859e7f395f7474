"""CopyObject: sources, metadata directives, copy-to-self, conditions, checksums."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import NOW, error_of, make_ctx, read_body

LATER = NOW + dt.timedelta(minutes=5)


@pytest.fixture
def src(call, bucket):
    call(
        "PutObject",
        Bucket=bucket,
        Key="src key+ü",
        Body=b"payload" * 20,
        ContentType="text/plain",
        Metadata={"m": "1"},
        CacheControl="max-age=1",
        ChecksumAlgorithm="SHA256",
    )
    return "src key+ü"


def test_copy_keeps_metadata_by_default(call, bucket, src):
    out = call(
        "CopyObject",
        ctx=make_ctx(now=LATER),
        Bucket=bucket,
        Key="dst",
        CopySource="bkt/src%20key%2B%C3%BC",
        ContentType="ignored/with-copy",
    )
    result = out["CopyObjectResult"]
    source = call("HeadObject", Bucket=bucket, Key=src, ChecksumMode="ENABLED")
    assert result["ETag"] == source["ETag"]
    assert result["LastModified"] == LATER.replace(microsecond=0)
    assert result["ChecksumSHA256"] == source["ChecksumSHA256"]
    dst = call("GetObject", Bucket=bucket, Key="dst")
    assert read_body(dst) == b"payload" * 20
    assert dst["ContentType"] == "text/plain"
    assert dst["Metadata"] == {"m": "1"} and dst["CacheControl"] == "max-age=1"
    assert dst["LastModified"] == LATER.replace(microsecond=0)


def test_copy_replace_metadata(call, bucket, src):
    call(
        "CopyObject",
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": src},
        MetadataDirective="REPLACE",
        Metadata={"n": "2"},
        ContentType="application/json",
    )
    dst = call("HeadObject", Bucket=bucket, Key="dst")
    assert dst["Metadata"] == {"n": "2"}
    assert dst["ContentType"] == "application/json"
    assert "CacheControl" not in dst


def test_copy_across_buckets_and_leading_slash(call, bucket, src):
    call("CreateBucket", Bucket="other")
    call("CopyObject", Bucket="other", Key="copy", CopySource="/bkt/src%20key%2B%C3%BC")
    assert read_body(call("GetObject", Bucket="other", Key="copy")) == b"payload" * 20


def test_copy_to_itself(call, bucket, src):
    err = error_of(
        lambda: call(
            "CopyObject", Bucket=bucket, Key=src, CopySource={"Bucket": bucket, "Key": src}
        )
    )
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert err.message == (
        "This copy request is illegal because it is trying to copy an object to itself without "
        "changing the object's metadata, storage class, website redirect location or encryption "
        "attributes."
    )
    same = {"Bucket": bucket, "Key": src, "CopySource": {"Bucket": bucket, "Key": src}}
    err = error_of(lambda: call("CopyObject", StorageClass="STANDARD", **same))
    assert err.code == "InvalidRequest"
    call("CopyObject", MetadataDirective="REPLACE", Metadata={"x": "y"}, **same)
    assert call("HeadObject", Bucket=bucket, Key=src)["Metadata"] == {"x": "y"}
    call("CopyObject", StorageClass="STANDARD_IA", **same)
    assert call("HeadObject", Bucket=bucket, Key=src)["StorageClass"] == "STANDARD_IA"


def test_copy_errors(call, bucket, src):
    err = error_of(lambda: call("CopyObject", Bucket=bucket, Key="d", CopySource="bkt/missing"))
    assert (err.code, err.status, err.fields) == ("NoSuchKey", 404, {"Key": "missing"})
    err = error_of(lambda: call("CopyObject", Bucket=bucket, Key="d", CopySource="nobucket/k"))
    assert (err.code, err.status) == ("NoSuchBucket", 404)
    err = error_of(lambda: call("CopyObject", Bucket="nobucket", Key="d", CopySource="bkt/k"))
    assert err.code == "NoSuchBucket"
    for bad in ("just-a-bucket", "bkt/", "/"):
        err = error_of(lambda bad=bad: call("CopyObject", Bucket=bucket, Key="d", CopySource=bad))
        assert (err.code, err.status) == ("InvalidArgument", 400)
        assert err.fields["ArgumentName"] == "x-amz-copy-source"
    err = error_of(
        lambda: call(
            "CopyObject", Bucket=bucket, Key="d", CopySource="bkt/x", MetadataDirective="MERGE"
        )
    )
    assert err.code == "InvalidArgument"


def test_copy_version_id(call, bucket, src):
    out = call(
        "CopyObject", Bucket=bucket, Key="d", CopySource="bkt/src%20key%2B%C3%BC?versionId=null"
    )
    assert out["CopySourceVersionId"] == "null"
    err = error_of(
        lambda: call(
            "CopyObject", Bucket=bucket, Key="d", CopySource="bkt/src%20key%2B%C3%BC?versionId=zzz"
        )
    )
    assert (err.code, err.status) == ("InvalidRequest", 400)  # AWS: a bare 400 for a malformed id


def test_copy_source_conditions(call, bucket, src):
    etag = call("HeadObject", Bucket=bucket, Key=src)["ETag"]
    source = {"Bucket": bucket, "Key": src}
    call("CopyObject", Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch=etag)
    err = error_of(
        lambda: call(
            "CopyObject", Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch='"nope"'
        )
    )
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    assert err.fields == {"Condition": "x-amz-copy-source-If-Match"}
    err = error_of(
        lambda: call(
            "CopyObject", Bucket=bucket, Key="d", CopySource=source, CopySourceIfNoneMatch=etag
        )
    )
    assert err.status == 412  # not 304: a copy has nothing to "not modify"
    err = error_of(
        lambda: call(
            "CopyObject", Bucket=bucket, Key="d", CopySource=source, CopySourceIfModifiedSince=LATER
        )
    )
    assert err.status == 412


def test_copy_with_new_checksum_algorithm(call, bucket, src):
    from .test_checksums import reference

    out = call(
        "CopyObject",
        Bucket=bucket,
        Key="d",
        CopySource={"Bucket": bucket, "Key": src},
        ChecksumAlgorithm="CRC32C",
    )
    assert out["CopyObjectResult"]["ChecksumCRC32C"] == reference("CRC32C", b"payload" * 20)
    head = call("HeadObject", Bucket=bucket, Key="d", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == reference("CRC32C", b"payload" * 20)


def test_copy_shares_the_blob_and_survives_source_delete(call, bucket, src, svc):
    call("CopyObject", Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": src})
    files = svc.blobs.files()
    call("DeleteObject", Bucket=bucket, Key=src)
    assert svc.blobs.files() == files  # the copy still holds the one file
    assert read_body(call("GetObject", Bucket=bucket, Key="d")) == b"payload" * 20
    call("DeleteObject", Bucket=bucket, Key="d")
    assert svc.blobs.files() == []
