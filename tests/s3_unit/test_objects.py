"""PutObject, GetObject, HeadObject, DeleteObject: bodies, headers, ranges, limits, conditions."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from fakes3.s3 import S3Service

from .helpers import NOW, body, error_of, make_ctx, read_body


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_put_get_roundtrip_with_headers(call, bucket):
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    put = call(
        "PutObject",
        Bucket=bucket,
        Key="a/b.txt",
        Body=body(b"hello"),
        ContentType="text/plain",
        ContentEncoding="gzip",
        ContentDisposition="inline",
        ContentLanguage="en",
        CacheControl="no-cache",
        Expires=expires,
        Metadata={"colour": "blue"},
    )
    assert put["ETag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    got = call("GetObject", Bucket=bucket, Key="a/b.txt")
    assert read_body(got) == b"hello"
    assert got["ContentLength"] == 5
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "text/plain"
    assert got["ContentEncoding"] == "gzip"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "no-cache"
    assert got["Expires"] == expires
    assert got["Metadata"] == {"colour": "blue"}
    assert got["AcceptRanges"] == "bytes"
    assert got["LastModified"] == NOW.replace(microsecond=0)
    assert "ContentRange" not in got and "StorageClass" not in got


def test_head_matches_get_without_body(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"12345", Metadata={"a": "1"})
    head = call("HeadObject", Bucket=bucket, Key="k")
    get = call("GetObject", Bucket=bucket, Key="k")
    assert "Body" not in head
    get.pop("Body")
    assert head == get


def test_default_content_type_and_empty_body(call, bucket):
    call("PutObject", Bucket=bucket, Key="empty")
    got = call("GetObject", Bucket=bucket, Key="empty")
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ContentLength"] == 0 and read_body(got) == b""
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_overwrite_replaces(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"one", Metadata={"v": "1"})
    call("PutObject", Bucket=bucket, Key="k", Body=b"two")
    got = call("GetObject", Bucket=bucket, Key="k")
    assert read_body(got) == b"two" and got["Metadata"] == {}


def test_missing_key_and_bucket(call, bucket):
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="nope"))
    assert (err.code, err.status, err.fields) == ("NoSuchKey", 404, {"Key": "nope"})
    err = error_of(lambda: call("HeadObject", Bucket=bucket, Key="nope"))
    assert (err.code, err.status) == ("NoSuchKey", 404)
    for op in ("GetObject", "PutObject", "DeleteObject", "HeadObject"):
        err = error_of(lambda op=op: call(op, Bucket="no-such", Key="k"))
        assert (err.code, err.status, err.fields) == (
            "NoSuchBucket",
            404,
            {"BucketName": "no-such"},
        )


def test_delete_is_idempotent(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"x")
    assert call("DeleteObject", Bucket=bucket, Key="k") == {}
    assert call("DeleteObject", Bucket=bucket, Key="k") == {}
    assert error_of(lambda: call("GetObject", Bucket=bucket, Key="k")).code == "NoSuchKey"


def test_key_length_limit(call, bucket):
    call("PutObject", Bucket=bucket, Key="é" * 512, Body=b"")  # 1024 bytes: allowed
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="é" * 512 + "x", Body=b""))
    assert (err.code, err.status) == ("KeyTooLongError", 400)
    assert err.fields == {"Size": 1025, "MaxSizeAllowed": 1024}


def test_entity_too_large_before_reading(tmp_path):
    svc = S3Service(max_put_size=10, blob_dir=str(tmp_path))
    try:
        svc.handle("CreateBucket", {"Bucket": "bkt"}, make_ctx())

        class Unreadable:
            length = 11

            def read(self, n=-1):
                raise AssertionError("the body must not be read")

        err = error_of(
            lambda: svc.handle(
                "PutObject", {"Bucket": "bkt", "Key": "k", "Body": Unreadable()}, make_ctx()
            )
        )
        assert (err.code, err.status) == ("EntityTooLarge", 400)
        assert err.fields == {"ProposedSize": 11, "MaxSizeAllowed": 10}
        # A body of unknown length is cut off as soon as it passes the limit.
        import io

        err = error_of(
            lambda: svc.handle(
                "PutObject",
                {"Bucket": "bkt", "Key": "k", "Body": io.BytesIO(b"x" * 20)},
                make_ctx(),
            )
        )
        assert err.code == "EntityTooLarge"
        svc.handle("PutObject", {"Bucket": "bkt", "Key": "k", "Body": b"x" * 10}, make_ctx())
    finally:
        svc.close()


def test_incomplete_body(call, bucket):
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"abc", ContentLength=5))
    assert (err.code, err.status) == ("IncompleteBody", 400)


def test_metadata_too_large(call, bucket):
    err = error_of(
        lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"", Metadata={"big": "x" * 2046})
    )
    assert (err.code, err.status) == ("MetadataTooLarge", 400)
    call("PutObject", Bucket=bucket, Key="k", Body=b"", Metadata={"big": "x" * 2045})


def test_storage_class(call, bucket):
    call("PutObject", Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    assert call("HeadObject", Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    err = error_of(
        lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"x", StorageClass="GOLD")
    )
    assert (err.code, err.status) == ("InvalidStorageClass", 400)
    call("PutObject", Bucket=bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
    call("HeadObject", Bucket=bucket, Key="cold")
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="cold"))
    assert (err.code, err.status) == ("InvalidObjectState", 403)


# -- Content-MD5 ---------------------------------------------------------------------------------


def test_content_md5_ok_bad_and_invalid(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"data", ContentMD5=md5_b64(b"data"))
    err = error_of(
        lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"DATA", ContentMD5=md5_b64(b"data"))
    )
    assert (err.code, err.status) == ("BadDigest", 400)
    assert err.message == "The Content-MD5 you specified did not match what we received."
    assert err.fields["ExpectedDigest"] == hashlib.md5(b"data").hexdigest()
    assert err.fields["CalculatedDigest"] == md5_b64(b"DATA")
    assert read_body(call("GetObject", Bucket=bucket, Key="k")) == b"data"  # not replaced
    for bad in ("not base64!", base64.b64encode(b"short").decode(), ""):
        err = error_of(
            lambda bad=bad: call("PutObject", Bucket=bucket, Key="k", Body=b"x", ContentMD5=bad)
        )
        assert (err.code, err.status) == ("InvalidDigest", 400)


# -- ranges --------------------------------------------------------------------------------------

DATA = bytes(range(100))


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=90-", 90, 99),
        ("bytes=-10", 90, 99),
        ("bytes=-1000", 0, 99),
        ("bytes=95-1000", 95, 99),
        ("bytes=99-99", 99, 99),
        ("bytes=0-0", 0, 0),
    ],
)
def test_satisfiable_ranges(call, bucket, header, start, end):
    call("PutObject", Bucket=bucket, Key="k", Body=DATA)
    got = call("GetObject", Bucket=bucket, Key="k", Range=header)
    assert read_body(got) == DATA[start : end + 1]
    assert got["ContentRange"] == f"bytes {start}-{end}/100"
    assert got["ContentLength"] == end - start + 1
    head = call("HeadObject", Bucket=bucket, Key="k", Range=header)
    assert head["ContentRange"] == got["ContentRange"]


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=500-"])
def test_unsatisfiable_ranges(call, bucket, header):
    call("PutObject", Bucket=bucket, Key="k", Body=DATA)
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="k", Range=header))
    assert (err.code, err.status) == ("InvalidRange", 416)
    assert err.fields == {"RangeRequested": header, "ActualObjectSize": 100}
    assert err.headers == {"Content-Range": "bytes */100"}


@pytest.mark.parametrize(
    "header",
    [
        "bytes=10-5",
        "bytes=abc",
        "items=0-5",
        "bytes=0-1,5-6",
        "bytes=-",
        "nonsense",
    ],
)
def test_ignored_ranges_serve_whole_object(call, bucket, header):
    call("PutObject", Bucket=bucket, Key="k", Body=DATA)
    got = call("GetObject", Bucket=bucket, Key="k", Range=header)
    assert read_body(got) == DATA and "ContentRange" not in got


def test_ranges_on_empty_object(call, bucket):
    call("PutObject", Bucket=bucket, Key="e", Body=b"")
    for header in ("bytes=0-", "bytes=0-0"):
        err = error_of(
            lambda header=header: call("GetObject", Bucket=bucket, Key="e", Range=header)
        )
        assert err.code == "InvalidRange" and err.fields["ActualObjectSize"] == 0
    got = call("GetObject", Bucket=bucket, Key="e", Range="bytes=-5")
    assert read_body(got) == b"" and "ContentRange" not in got


def test_range_over_spilled_blob_streams_in_chunks(call, bucket, svc):
    data = bytes(i % 251 for i in range(3 * 1024 * 1024 + 7))
    call("PutObject", Bucket=bucket, Key="big", Body=body(data))
    got = call("GetObject", Bucket=bucket, Key="big", Range="bytes=1000-2099999")
    chunks = list(got["Body"])
    assert b"".join(chunks) == data[1000:2100000]
    assert max(len(c) for c in chunks) <= 1 << 20


def test_part_number(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=DATA)
    got = call("GetObject", Bucket=bucket, Key="k", PartNumber=1)
    assert read_body(got) == DATA and got["ContentRange"] == "bytes 0-99/100"
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="k", PartNumber=2))
    assert (err.code, err.status) == ("InvalidPartNumber", 416)
    err = error_of(
        lambda: call("GetObject", Bucket=bucket, Key="k", PartNumber=1, Range="bytes=0-1")
    )
    assert (err.code, err.status) == ("InvalidRequest", 400)


# -- response overrides --------------------------------------------------------------------------


def test_response_overrides(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"x", ContentType="text/plain")
    expires = dt.datetime(2031, 2, 3, tzinfo=dt.UTC)
    got = call(
        "GetObject",
        Bucket=bucket,
        Key="k",
        ResponseContentType="application/json",
        ResponseContentDisposition="attachment",
        ResponseCacheControl="max-age=5",
        ResponseContentEncoding="identity",
        ResponseContentLanguage="fr",
        ResponseExpires=expires,
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment"
    assert got["CacheControl"] == "max-age=5"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentLanguage"] == "fr"
    assert got["Expires"] == expires
    # Stored headers are untouched.
    assert call("HeadObject", Bucket=bucket, Key="k")["ContentType"] == "text/plain"
    err = error_of(
        lambda: call(
            "GetObject",
            ctx=make_ctx(account_id="anonymous"),
            Bucket=bucket,
            Key="k",
            ResponseContentType="x/y",
        )
    )
    assert (err.code, err.status) == ("InvalidRequest", 400)


# -- conditional reads and writes ----------------------------------------------------------------


def test_conditional_get(call, bucket):
    etag = call("PutObject", Bucket=bucket, Key="k", Body=b"x")["ETag"]
    modified = NOW.replace(microsecond=0)
    call("GetObject", Bucket=bucket, Key="k", IfMatch=etag)
    call("GetObject", Bucket=bucket, Key="k", IfMatch=etag.strip('"'))
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="k", IfMatch='"other"'))
    assert (err.code, err.status, err.fields) == (
        "PreconditionFailed",
        412,
        {"Condition": "If-Match"},
    )
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="k", IfNoneMatch=etag))
    assert (err.code, err.status) == ("NotModified", 304)
    assert err.headers["ETag"] == etag
    err = error_of(lambda: call("HeadObject", Bucket=bucket, Key="k", IfModifiedSince=modified))
    assert err.status == 304
    call("GetObject", Bucket=bucket, Key="k", IfModifiedSince=modified - dt.timedelta(seconds=1))
    err = error_of(
        lambda: call(
            "GetObject",
            Bucket=bucket,
            Key="k",
            IfUnmodifiedSince=modified - dt.timedelta(seconds=1),
        )
    )
    assert err.status == 412
    # If-Match that holds wins over a failing If-Unmodified-Since (S3's documented precedence).
    call(
        "GetObject",
        Bucket=bucket,
        Key="k",
        IfMatch=etag,
        IfUnmodifiedSince=modified - dt.timedelta(seconds=1),
    )


def test_conditional_put(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"1", IfNoneMatch="*")
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*"))
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    etag = call("HeadObject", Bucket=bucket, Key="k")["ETag"]
    call("PutObject", Bucket=bucket, Key="k", Body=b"3", IfMatch=etag)
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"4", IfMatch=etag))
    assert err.status == 412
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="absent", Body=b"4", IfMatch=etag))
    assert err.code == "NoSuchKey"
    assert read_body(call("GetObject", Bucket=bucket, Key="k")) == b"3"


def test_fault_hook_runs_between_check_and_act(svc, call, bucket):
    seen = []
    svc.fault_hook = lambda op, b, k, lock: seen.append((op, b, k))
    call("PutObject", Bucket=bucket, Key="k", Body=b"1")
    call("DeleteObject", Bucket=bucket, Key="k")
    assert seen == [("put", bucket, "k"), ("delete", bucket, "k")]


def test_version_id_null_reads_unversioned_object(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=b"x")
    got = call("GetObject", Bucket=bucket, Key="k", VersionId="null")
    assert got["VersionId"] == "null"
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="k", VersionId="abc"))
    assert (err.code, err.status) == ("InvalidArgument", 400)  # malformed, as on AWS
