"""Tagging, called directly: object tags per version, the x-amz-tagging header, copies and
multipart uploads, S3's limits and errors, and bucket tags."""

from __future__ import annotations

import pytest

from .helpers import body, error_of

MD5 = {"ContentMD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}


def tagging(**tags):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def put_tags(call, bucket, key, tags, **params):
    return call("PutObjectTagging", Bucket=bucket, Key=key, Tagging=tags, **MD5, **params)


def tags_of(call, bucket, key, **params):
    return {t["Key"]: t["Value"] for t in call("GetObjectTagging", Bucket=bucket, Key=key,
                                                **params)["TagSet"]}


@pytest.fixture
def obj(call, bucket):
    call("PutObject", Bucket=bucket, Key="k", Body=body(b"data"))
    return "k"


def test_put_get_delete_object_tagging(call, bucket, obj):
    assert call("GetObjectTagging", Bucket=bucket, Key=obj) == {"TagSet": []}
    assert put_tags(call, bucket, obj, tagging(project="blue", owner="me")) == {}
    got = call("GetObjectTagging", Bucket=bucket, Key=obj)
    assert got == {"TagSet": [{"Key": "project", "Value": "blue"}, {"Key": "owner", "Value": "me"}]}
    head = call("HeadObject", Bucket=bucket, Key=obj)
    assert head["TagCount"] == 2 and call("GetObject", Bucket=bucket, Key=obj)["TagCount"] == 2
    put_tags(call, bucket, obj, tagging(only="one"))  # a PUT replaces the whole set
    assert tags_of(call, bucket, obj) == {"only": "one"}
    assert call("DeleteObjectTagging", Bucket=bucket, Key=obj) == {}
    assert tags_of(call, bucket, obj) == {}
    assert "TagCount" not in call("HeadObject", Bucket=bucket, Key=obj)  # untagged: no header


def test_tagging_keeps_etag_and_last_modified(call, bucket, obj):
    before = call("HeadObject", Bucket=bucket, Key=obj)
    put_tags(call, bucket, obj, tagging(a="1"))
    after = call("HeadObject", Bucket=bucket, Key=obj)
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])


def test_tagging_a_missing_object(call, bucket):
    for op in ("GetObjectTagging", "DeleteObjectTagging"):
        assert error_of(lambda op=op: call(op, Bucket=bucket, Key="nope")).code == "NoSuchKey"
    assert error_of(lambda: put_tags(call, bucket, "nope", tagging(a="1"))).code == "NoSuchKey"
    err = error_of(lambda: call("GetObjectTagging", Bucket="nobucket", Key="k"))
    assert err.code == "NoSuchBucket"


def test_put_object_tagging_needs_an_integrity_header(call, bucket, obj):
    err = error_of(lambda: call("PutObjectTagging", Bucket=bucket, Key=obj, Tagging=tagging(a="1")))
    assert err.code == "InvalidRequest"


@pytest.mark.parametrize(
    ("tags", "code", "message"),
    [
        ([(f"k{i}", "v") for i in range(11)], "BadRequest", "Object tags cannot be greater than 10"),
        ([("k" * 129, "v")], "InvalidTag", "The TagKey you have provided is invalid"),
        ([("", "v")], "InvalidTag", "The TagKey you have provided is invalid"),
        ([("k", "v" * 257)], "InvalidTag", "The TagValue you have provided is invalid"),
        ([("user!name", "v")], "InvalidTag", "The TagKey you have provided is invalid"),
        ([("key", "a,b")], "InvalidTag", "The TagValue you have provided is invalid"),
        ([("same", "1"), ("same", "2")], "InvalidTag", "Cannot provide multiple Tags with the same key"),
    ],
)
def test_tag_limits(call, bucket, obj, tags, code, message):
    tag_set = {"TagSet": [{"Key": k, "Value": v} for k, v in tags]}
    err = error_of(lambda: put_tags(call, bucket, obj, tag_set))
    assert (err.code, err.status) == (code, 400) and err.message.startswith(message)
    if code == "InvalidTag":
        assert err.fields["TagKey"] == tags[-1][0]


def test_tag_limits_accept_the_maximum(call, bucket, obj):
    tags = {f"k{i}": "v" for i in range(9)}
    tags["k" * 128] = "v" * 256
    put_tags(call, bucket, obj, tagging(**tags))
    assert tags_of(call, bucket, obj) == tags
    # Letters of any script, digits, spaces and + - = . _ : / @ are allowed; "" is a valid value.
    unusual = {"ключ 1": "значение+-=._:/@", "日本": "", "emoji-free": "Ünïcödé"}
    put_tags(call, bucket, obj, tagging(**unusual))
    assert tags_of(call, bucket, obj) == unusual
    # Length counts UTF-16 code units: a character outside the BMP counts twice.
    err = error_of(lambda: put_tags(call, bucket, obj, tagging(**{"𝔸" * 65: "v"})))
    assert err.code == "InvalidTag"


def test_tagging_header_on_put_object(call, bucket):
    call("PutObject", Bucket=bucket, Key="t", Body=body(b"x"), Tagging="a=1&b=two+words&c=%2F&d=")
    assert tags_of(call, bucket, "t") == {"a": "1", "b": "two words", "c": "/", "d": ""}
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="t", Body=body(b"x"),
                                Tagging="a=1&a=2"))
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "x-amz-tagging")
    err = error_of(lambda: call("PutObject", Bucket=bucket, Key="t", Body=body(b"x"),
                                Tagging="&".join(f"k{i}=v" for i in range(11))))
    assert err.code == "BadRequest"
    assert tags_of(call, bucket, "t") == {"a": "1", "b": "two words", "c": "/", "d": ""}


def test_overwrite_without_tags_drops_them(call, bucket):
    call("PutObject", Bucket=bucket, Key="t", Body=body(b"x"), Tagging="a=1")
    call("PutObject", Bucket=bucket, Key="t", Body=body(b"y"))
    assert tags_of(call, bucket, "t") == {}


def test_copy_object_tagging_directive(call, bucket):
    call("PutObject", Bucket=bucket, Key="src", Body=body(b"x"), Tagging="from=source")
    call("CopyObject", Bucket=bucket, Key="copied", CopySource=f"{bucket}/src", Tagging="x=ignored")
    assert tags_of(call, bucket, "copied") == {"from": "source"}  # COPY is the default
    call("CopyObject", Bucket=bucket, Key="replaced", CopySource=f"{bucket}/src",
         TaggingDirective="REPLACE", Tagging="new=tags")
    assert tags_of(call, bucket, "replaced") == {"new": "tags"}
    call("CopyObject", Bucket=bucket, Key="cleared", CopySource=f"{bucket}/src",
         TaggingDirective="REPLACE")
    assert tags_of(call, bucket, "cleared") == {}
    err = error_of(lambda: call("CopyObject", Bucket=bucket, Key="d", CopySource=f"{bucket}/src",
                                TaggingDirective="MERGE"))
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "x-amz-tagging-directive")


def test_multipart_upload_tagging(svc, call, bucket):
    svc._backend.min_part_size = 1
    upload = call("CreateMultipartUpload", Bucket=bucket, Key="mp", Tagging="stage=raw")["UploadId"]
    etag = call("UploadPart", Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
                Body=body(b"part"))["ETag"]
    call("CompleteMultipartUpload", Bucket=bucket, Key="mp", UploadId=upload,
         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert tags_of(call, bucket, "mp") == {"stage": "raw"}
    err = error_of(lambda: call("CreateMultipartUpload", Bucket=bucket, Key="mp",
                                Tagging="bad!key=1"))
    assert err.code == "InvalidTag"


def test_tags_belong_to_a_version(call, bucket):
    call("PutBucketVersioning", Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **MD5)
    v1 = call("PutObject", Bucket=bucket, Key="k", Body=body(b"1"), Tagging="v=1")["VersionId"]
    v2 = call("PutObject", Bucket=bucket, Key="k", Body=body(b"2"))["VersionId"]
    assert put_tags(call, bucket, "k", tagging(v="2")) == {"VersionId": v2}
    assert put_tags(call, bucket, "k", tagging(old="yes"), VersionId=v1) == {"VersionId": v1}
    assert tags_of(call, bucket, "k") == {"v": "2"}
    assert tags_of(call, bucket, "k", VersionId=v1) == {"old": "yes"}
    assert call("GetObjectTagging", Bucket=bucket, Key="k")["VersionId"] == v2
    assert call("DeleteObjectTagging", Bucket=bucket, Key="k", VersionId=v1) == {"VersionId": v1}
    assert tags_of(call, bucket, "k", VersionId=v1) == {}
    assert call("HeadObject", Bucket=bucket, Key="k")["TagCount"] == 1
    # The versions stay where they were: tagging makes no new version.
    listed = call("ListObjectVersions", Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in listed] == [v2, v1]
    err = error_of(lambda: call("GetObjectTagging", Bucket=bucket, Key="k", VersionId="abc"))
    assert (err.code, err.message) == ("InvalidArgument", "Invalid version id specified")


def test_tagging_and_delete_markers(call, bucket):
    call("PutBucketVersioning", Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **MD5)
    call("PutObject", Bucket=bucket, Key="k", Body=body(b"1"))
    marker = call("DeleteObject", Bucket=bucket, Key="k")["VersionId"]
    err = error_of(lambda: call("GetObjectTagging", Bucket=bucket, Key="k"))
    assert (err.code, err.headers["x-amz-delete-marker"]) == ("NoSuchKey", "true")
    err = error_of(lambda: call("GetObjectTagging", Bucket=bucket, Key="k", VersionId=marker))
    assert (err.status, err.fields["Method"]) == (405, "GET")
    err = error_of(lambda: put_tags(call, bucket, "k", tagging(a="1")))
    assert (err.status, err.fields["Method"], err.headers) == (405, "PUT", {"Allow": "DELETE"})
    err = error_of(lambda: put_tags(call, bucket, "k", tagging(a="1"), VersionId=marker))
    assert (err.status, err.headers["x-amz-version-id"]) == (405, marker)
    err = error_of(lambda: call("DeleteObjectTagging", Bucket=bucket, Key="k"))
    assert (err.status, err.fields["Method"]) == (405, "DELETE")


def test_bucket_tagging(call, bucket):
    err = error_of(lambda: call("GetBucketTagging", Bucket=bucket))
    assert (err.code, err.status) == ("NoSuchTagSet", 404)
    assert call("PutBucketTagging", Bucket=bucket, Tagging=tagging(team="s3", env="test"), **MD5) == {}
    assert call("GetBucketTagging", Bucket=bucket) == {
        "TagSet": [{"Key": "team", "Value": "s3"}, {"Key": "env", "Value": "test"}]}
    many = {f"k{i}": "v" for i in range(50)}
    call("PutBucketTagging", Bucket=bucket, Tagging=tagging(**many), **MD5)  # 50 is the limit
    err = error_of(lambda: call("PutBucketTagging", Bucket=bucket,
                                Tagging=tagging(**many, extra="v"), **MD5))
    assert (err.code, err.message) == ("BadRequest", "Bucket tag count cannot be greater than 50")
    assert call("DeleteBucketTagging", Bucket=bucket) == {}
    assert error_of(lambda: call("GetBucketTagging", Bucket=bucket)).code == "NoSuchTagSet"
    assert error_of(lambda: call("PutBucketTagging", Bucket=bucket,
                                 Tagging=tagging(a="1"))).code == "InvalidRequest"
    assert error_of(lambda: call("GetBucketTagging", Bucket="nobucket")).code == "NoSuchBucket"
