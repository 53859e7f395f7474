"""DeleteObjects: per-key results, Quiet, the 1000-key limit and the integrity header."""

from __future__ import annotations

from .helpers import error_of, make_ctx, read_body

# botocore's model has no Content-MD5 member for DeleteObjects: the handler reads the header.
MD5 = {"ctx": make_ctx(headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="})}


def test_deletes_and_reports(call, bucket):
    for key in ("a", "b"):
        call("PutObject", Bucket=bucket, Key=key, Body=b"x")
    out = call(
        "DeleteObjects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "missing"}]},
        **MD5,
    )
    assert out == {"Deleted": [{"Key": "a"}, {"Key": "missing"}]}
    assert error_of(lambda: call("HeadObject", Bucket=bucket, Key="a")).code == "NoSuchKey"
    assert read_body(call("GetObject", Bucket=bucket, Key="b")) == b"x"


def test_quiet_reports_only_errors(call, bucket):
    call("PutObject", Bucket=bucket, Key="a", Body=b"x")
    out = call(
        "DeleteObjects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "k" * 1025}], "Quiet": True},
        **MD5,
    )
    assert "Deleted" not in out
    assert out["Errors"] == [
        {"Key": "k" * 1025, "Code": "KeyTooLongError", "Message": out["Errors"][0]["Message"]}
    ]


def test_version_ids_echoed(call, bucket):
    call("PutObject", Bucket=bucket, Key="a", Body=b"x")
    out = call(
        "DeleteObjects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a", "VersionId": "null"}]},
        **MD5,
    )
    assert out == {"Deleted": [{"Key": "a", "VersionId": "null"}]}
    assert error_of(lambda: call("HeadObject", Bucket=bucket, Key="a")).code == "NoSuchKey"


def test_etag_condition_per_key(call, bucket):
    etag = call("PutObject", Bucket=bucket, Key="a", Body=b"x")["ETag"]
    out = call(
        "DeleteObjects", Bucket=bucket, **MD5, Delete={"Objects": [{"Key": "a", "ETag": '"0000"'}]}
    )
    assert out["Errors"][0]["Code"] == "PreconditionFailed"
    out = call(
        "DeleteObjects", Bucket=bucket, **MD5, Delete={"Objects": [{"Key": "a", "ETag": etag}]}
    )
    assert out == {"Deleted": [{"Key": "a"}]}


def test_limits(call, bucket):
    objects = [{"Key": f"k{i}"} for i in range(1001)]
    err = error_of(lambda: call("DeleteObjects", Bucket=bucket, Delete={"Objects": objects}, **MD5))
    assert (err.code, err.status) == ("MalformedXML", 400)
    out = call(
        "DeleteObjects", Bucket=bucket, Delete={"Objects": objects[:1000], "Quiet": True}, **MD5
    )
    assert out == {}
    err = error_of(lambda: call("DeleteObjects", Bucket=bucket, Delete={"Objects": []}, **MD5))
    assert err.code == "MalformedXML"


def test_integrity_header_required(call, bucket):
    err = error_of(lambda: call("DeleteObjects", Bucket=bucket, Delete={"Objects": [{"Key": "a"}]}))
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert err.message == "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"
    crc = make_ctx(headers={"x-amz-checksum-crc32": "AAAAAA=="})
    call("DeleteObjects", ctx=crc, Bucket=bucket, Delete={"Objects": [{"Key": "a"}]})


def test_no_such_bucket(call):
    err = error_of(
        lambda: call("DeleteObjects", Bucket="nope", Delete={"Objects": [{"Key": "a"}]}, **MD5)
    )
    assert (err.code, err.status) == ("NoSuchBucket", 404)
