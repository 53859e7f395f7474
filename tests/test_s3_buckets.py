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
