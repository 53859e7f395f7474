"""Bucket operations through boto3, as users call them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def test_create_list_head_and_delete_buckets(s3_client):
    s3_client.create_bucket(Bucket="beta")
    s3_client.create_bucket(Bucket="alpha")
    listed = s3_client.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["alpha", "beta"]
    assert listed["Owner"]["ID"]
    assert all(b["CreationDate"] for b in listed["Buckets"])
    assert s3_client.head_bucket(Bucket="alpha")["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3_client.delete_bucket(Bucket="alpha")
    assert [b["Name"] for b in s3_client.list_buckets()["Buckets"]] == ["beta"]


def test_missing_bucket_errors(s3_client):
    with pytest.raises(ClientError) as err:
        s3_client.head_bucket(Bucket="missing")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(s3_client.exceptions.NoSuchBucket):
        s3_client.list_objects_v2(Bucket="missing")
    with pytest.raises(ClientError) as err:
        s3_client.delete_bucket(Bucket="missing")
    assert error_code(err) == "NoSuchBucket"


def test_location_constraint(fakes3):
    client = fakes3.client("s3", region_name="eu-west-1")
    client.create_bucket(Bucket="eu-bkt", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert client.get_bucket_location(Bucket="eu-bkt")["LocationConstraint"] == "eu-west-1"
    us = fakes3.client("s3")
    us.create_bucket(Bucket="us-bkt")
    assert us.get_bucket_location(Bucket="us-bkt")["LocationConstraint"] is None


def test_creating_an_owned_bucket_again(fakes3):
    # Outside us-east-1 S3 answers 409 BucketAlreadyOwnedByYou.
    client = fakes3.client("s3", region_name="eu-west-1")
    client.create_bucket(Bucket="mine", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket="mine", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})


@pytest.mark.parametrize("name", ["ab", "a" * 64, "UPPER", "under_score", "-start", "end-",
                                  "two..dots", "192.168.5.4", "xn--punycode", "bucket-s3alias"])
def test_invalid_bucket_names_are_rejected(s3_client, name):
    with pytest.raises(ClientError) as err:
        s3_client.create_bucket(Bucket=name)
    assert error_code(err) == "InvalidBucketName"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_bucket_with_objects_cannot_be_deleted(s3_client):
    s3_client.create_bucket(Bucket="full")
    s3_client.put_object(Bucket="full", Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3_client.delete_bucket(Bucket="full")
    assert error_code(err) == "BucketNotEmpty"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    s3_client.delete_object(Bucket="full", Key="k")
    s3_client.delete_bucket(Bucket="full")


def test_reset_empties_everything(fakes3, s3_client):
    s3_client.create_bucket(Bucket="gone")
    s3_client.put_object(Bucket="gone", Key="k", Body=b"x")
    fakes3.reset()
    assert s3_client.list_buckets()["Buckets"] == []


def test_a_request_expecting_another_bucket_owner_is_refused(s3_client):
    """x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner ("Verifying bucket
    ownership with bucket owner condition", S3 User Guide): 403 when another account owns it."""
    from s3_callers import error_of

    owner, stranger = "000000000000", "111122223333"
    s3_client.create_bucket(Bucket="owned-bkt")
    s3_client.put_object(Bucket="owned-bkt", Key="k", Body=b"v", ExpectedBucketOwner=owner)
    assert s3_client.get_object(Bucket="owned-bkt", Key="k", ExpectedBucketOwner=owner)["Body"].read() == b"v"
    for call, kwargs in [(s3_client.put_object, {"Key": "k2", "Body": b"v"}),
                         (s3_client.get_object, {"Key": "k"}),
                         (s3_client.head_object, {"Key": "k"}),
                         (s3_client.list_objects_v2, {}),
                         (s3_client.get_bucket_versioning, {}),
                         (s3_client.delete_object, {"Key": "k"})]:
        code, status, _ = error_of(call, Bucket="owned-bkt", ExpectedBucketOwner=stranger, **kwargs)
        assert status == 403 and code in ("AccessDenied", "403"), call  # a HEAD's error has no body
    assert error_of(s3_client.copy_object, Bucket="owned-bkt", Key="c", CopySource="owned-bkt/k",
                    ExpectedSourceBucketOwner=stranger)[:2] == ("AccessDenied", 403)
    s3_client.copy_object(Bucket="owned-bkt", Key="c", CopySource="owned-bkt/k",
                          ExpectedBucketOwner=owner, ExpectedSourceBucketOwner=owner)
    assert [o["Key"] for o in s3_client.list_objects_v2(Bucket="owned-bkt")["Contents"]] == ["c", "k"]
    assert error_of(s3_client.head_bucket, Bucket="no-such-bkt", ExpectedBucketOwner=owner)[1] == 404
