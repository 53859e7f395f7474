"""Object operations through boto3: what users store, read back, copy and delete."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import zlib

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def bucket(s3_client):
    s3_client.create_bucket(Bucket="objs")
    return "objs"


def code_of(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def test_put_get_head_round_trip_with_headers_and_metadata(s3_client, bucket):
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    put = s3_client.put_object(
        Bucket=bucket, Key="dir/ключ ü+&.txt", Body=b"hello world",
        ContentType="text/plain", ContentEncoding="identity", ContentDisposition="inline",
        ContentLanguage="en", CacheControl="max-age=60", Expires=expires,
        Metadata={"Owner": "me", "update_at": "now"},
    )
    assert put["ETag"] == f'"{hashlib.md5(b"hello world").hexdigest()}"'
    got = s3_client.get_object(Bucket=bucket, Key="dir/ключ ü+&.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == 11
    assert got["ContentType"] == "text/plain"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "max-age=60"
    assert got["Expires"] == expires
    assert got["Metadata"] == {"owner": "me", "update_at": "now"}
    head = s3_client.head_object(Bucket=bucket, Key="dir/ключ ü+&.txt")
    assert head["ContentLength"] == 11 and head["ETag"] == put["ETag"]
    assert head["LastModified"] == got["LastModified"]


def test_default_content_type(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3_client.head_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"


def test_missing_key(s3_client, bucket):
    with pytest.raises(s3_client.exceptions.NoSuchKey) as err:
        s3_client.get_object(Bucket=bucket, Key="nope")
    assert err.value.response["Error"]["Key"] == "nope"
    with pytest.raises(ClientError) as err2:
        s3_client.head_object(Bucket=bucket, Key="nope")
    assert err2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    ("range_header", "body", "content_range"),
    [
        ("bytes=0-3", b"0123", "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
        ("bytes=-20", b"0123456789", "bytes 0-9/10"),
    ],
)
def test_ranged_gets(s3_client, bucket, range_header, body, content_range):
    s3_client.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    got = s3_client.get_object(Bucket=bucket, Key="r", Range=range_header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == body
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(body)


def test_unsatisfiable_range_is_416(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    with pytest.raises(ClientError) as err:
        s3_client.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert code_of(err) == "InvalidRange"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_response_header_overrides(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="k", Body=b"x", ContentType="text/plain")
    got = s3_client.get_object(Bucket=bucket, Key="k", ResponseContentType="application/json",
                               ResponseContentDisposition="attachment; filename=x.json",
                               ResponseCacheControl="no-cache")
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment; filename=x.json"
    assert got["CacheControl"] == "no-cache"


def test_delete_is_204_whether_or_not_the_key_exists(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3_client.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3_client.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(s3_client.exceptions.NoSuchKey):
        s3_client.get_object(Bucket=bucket, Key="k")


def test_delete_objects_reports_each_key(s3_client, bucket):
    for key in ("a", "b"):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"},
                                                                         {"Key": "never"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "never"]
    assert s3_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    quiet = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "z"}], "Quiet": True})
    assert "Deleted" not in quiet


def test_delete_objects_accepts_at_most_1000_keys(s3_client, bucket):
    with pytest.raises(ClientError) as err:
        s3_client.delete_objects(Bucket=bucket,
                                 Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert code_of(err) == "MalformedXML"


def test_copy_object_keeps_or_replaces_metadata(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/plain",
                         Metadata={"a": "1"})
    copied = s3_client.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    dst = s3_client.get_object(Bucket=bucket, Key="dst")
    assert dst["Body"].read() == b"payload"
    assert dst["Metadata"] == {"a": "1"} and dst["ContentType"] == "text/plain"
    s3_client.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "src"},
                          MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="x/y")
    dst2 = s3_client.head_object(Bucket=bucket, Key="dst2")
    assert dst2["Metadata"] == {"b": "2"} and dst2["ContentType"] == "x/y"


def test_copying_an_object_onto_itself_unchanged_is_invalid(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="self", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3_client.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self")
    assert code_of(err) == "InvalidRequest"
    s3_client.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self",
                          MetadataDirective="REPLACE", Metadata={"new": "yes"})
    assert s3_client.head_object(Bucket=bucket, Key="self")["Metadata"] == {"new": "yes"}


def test_copy_from_a_missing_source(s3_client, bucket):
    with pytest.raises(s3_client.exceptions.NoSuchKey):
        s3_client.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/missing")


def test_content_md5_is_checked(s3_client, bucket):
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    s3_client.put_object(Bucket=bucket, Key="ok", Body=b"data", ContentMD5=good)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as err:
        s3_client.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5=wrong)
    assert code_of(err) == "BadDigest"
    with pytest.raises(ClientError) as err:
        s3_client.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5="bm90LW1kNQ==")
    assert code_of(err) == "InvalidDigest"
    with pytest.raises(s3_client.exceptions.NoSuchKey):
        s3_client.get_object(Bucket=bucket, Key="bad")  # nothing was stored


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_checksums_are_computed_stored_and_returned(s3_client, bucket, algorithm):
    put = s3_client.put_object(Bucket=bucket, Key="c", Body=b"checksummed", ChecksumAlgorithm=algorithm)
    value = put[f"Checksum{algorithm}"]
    got = s3_client.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == value
    assert got["Body"].read() == b"checksummed"  # botocore validates the checksum on read too
    if algorithm == "CRC32":
        assert value == base64.b64encode(zlib.crc32(b"checksummed").to_bytes(4, "big")).decode()
    if algorithm == "SHA256":
        assert value == base64.b64encode(hashlib.sha256(b"checksummed").digest()).decode()


def test_a_wrong_checksum_is_bad_digest(s3_client, bucket):
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as err:
        s3_client.put_object(Bucket=bucket, Key="c", Body=b"payload", ChecksumCRC32=wrong)
    assert code_of(err) == "BadDigest"


def test_key_longer_than_1024_bytes(s3_client, bucket):
    with pytest.raises(ClientError) as err:
        s3_client.put_object(Bucket=bucket, Key="é" * 513, Body=b"x")  # 1026 UTF-8 bytes
    assert code_of(err) == "KeyTooLongError"
    s3_client.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")


def test_oversized_put_is_entity_too_large(fakes3):
    from fakes3 import FakeAWS

    with FakeAWS(max_put_size=1000) as aws:
        client = aws.client("s3")
        client.create_bucket(Bucket="bkt")
        client.put_object(Bucket="bkt", Key="fits", Body=b"x" * 1000)
        with pytest.raises(ClientError) as err:
            client.put_object(Bucket="bkt", Key="big", Body=b"x" * 1001)
        assert code_of(err) == "EntityTooLarge"


def test_empty_object(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3_client.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
