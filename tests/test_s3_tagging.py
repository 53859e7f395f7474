"""Tagging through boto3: object tags and their count header, x-amz-tagging on uploads and copies,
S3's errors, tags per version, and bucket tags."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def bucket(s3_client):
    s3_client.create_bucket(Bucket="tagged")
    return "tagged"


def code_of(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def tag_set(**tags):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def tags_of(s3_client, bucket, key, **params):
    got = s3_client.get_object_tagging(Bucket=bucket, Key=key, **params)["TagSet"]
    return {t["Key"]: t["Value"] for t in got}


def test_object_tagging_round_trip(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="team=storage&tier=hot%20data")
    assert tags_of(s3_client, bucket, "k") == {"team": "storage", "tier": "hot data"}
    got = s3_client.get_object(Bucket=bucket, Key="k")
    assert got["TagCount"] == 2
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert s3_client.head_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3_client.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(owner="ünïcode user"))
    assert tags_of(s3_client, bucket, "k") == {"owner": "ünïcode user"}
    s3_client.delete_object_tagging(Bucket=bucket, Key="k")
    assert tags_of(s3_client, bucket, "k") == {}
    assert "TagCount" not in s3_client.get_object(Bucket=bucket, Key="k")


def test_tagging_errors_as_s3_gives_them(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3_client.put_object_tagging(Bucket=bucket, Key="k",
                                     Tagging=tag_set(**{f"k{i}": "v" for i in range(11)}))
    assert code_of(err) == "BadRequest"
    with pytest.raises(ClientError) as err:
        s3_client.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(**{"k" * 129: "v"}))
    assert code_of(err) == "InvalidTag" and err.value.response["Error"]["TagKey"] == "k" * 129
    with pytest.raises(ClientError) as err:
        s3_client.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [
            {"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert code_of(err) == "InvalidTag"
    with pytest.raises(ClientError) as err:
        s3_client.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&a=2")
    assert code_of(err) == "InvalidArgument"
    with pytest.raises(ClientError) as err:
        s3_client.get_object_tagging(Bucket=bucket, Key="missing")
    assert code_of(err) == "NoSuchKey"


def test_copy_and_multipart_tagging(s3_client, bucket):
    s3_client.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="origin=src")
    s3_client.copy_object(Bucket=bucket, Key="same", CopySource=f"{bucket}/src")
    assert tags_of(s3_client, bucket, "same") == {"origin": "src"}
    s3_client.copy_object(Bucket=bucket, Key="new", CopySource=f"{bucket}/src",
                          TaggingDirective="REPLACE", Tagging="origin=copy")
    assert tags_of(s3_client, bucket, "new") == {"origin": "copy"}
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="kind=multipart")
    part = s3_client.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                 PartNumber=1, Body=b"part")
    s3_client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [
                                            {"PartNumber": 1, "ETag": part["ETag"]}]})
    assert tags_of(s3_client, bucket, "mp") == {"kind": "multipart"}


def test_tags_of_versions(s3_client, bucket):
    s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3_client.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    v2 = s3_client.put_object(Bucket=bucket, Key="k", Body=b"2", Tagging="v=2")["VersionId"]
    put = s3_client.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1,
                                       Tagging=tag_set(v="one"))
    assert put["VersionId"] == v1
    got = s3_client.get_object_tagging(Bucket=bucket, Key="k")
    assert got["VersionId"] == v2 and got["TagSet"] == [{"Key": "v", "Value": "2"}]
    assert tags_of(s3_client, bucket, "k", VersionId=v1) == {"v": "one"}
    marker = s3_client.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as err:
        s3_client.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(a="1"))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    with pytest.raises(ClientError) as err:
        s3_client.get_object_tagging(Bucket=bucket, Key="k", VersionId=marker)
    assert code_of(err) == "MethodNotAllowed"


def test_bucket_tagging(s3_client, bucket):
    with pytest.raises(ClientError) as err:
        s3_client.get_bucket_tagging(Bucket=bucket)
    assert code_of(err) == "NoSuchTagSet"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3_client.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(cost="center-1", env="dev"))
    assert s3_client.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "cost", "Value": "center-1"}, {"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as err:
        s3_client.put_bucket_tagging(Bucket=bucket,
                                     Tagging=tag_set(**{f"k{i}": "v" for i in range(51)}))
    assert code_of(err) == "BadRequest"
    s3_client.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as err:
        s3_client.get_bucket_tagging(Bucket=bucket)
    assert code_of(err) == "NoSuchTagSet"
