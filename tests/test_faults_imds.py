"""Faults on the credential endpoints, seen through boto3's credential chain."""

from __future__ import annotations

import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from fakes3.faults import endpoint, error


def credentials_path(fakes3) -> str:
    role = urllib.request.urlopen(f"{fakes3.imds_url}/latest/meta-data/iam/security-credentials/",
                                  timeout=10).read().decode().strip()
    return f"{fakes3.imds_url}/latest/meta-data/iam/security-credentials/{role}"


@pytest.mark.parametrize("action", [endpoint("500"), endpoint("down"), error(500)])
def test_a_failing_metadata_endpoint_leaves_boto3_without_credentials(fakes3, faults, imds_env, action):
    faults.add(action, service="imds")
    with pytest.raises(NoCredentialsError):
        boto3.session.Session().client("s3").list_buckets()
    imds = [e for e in fakes3.journal.entries() if e.service == "imds"]
    assert imds and all(e.faults for e in imds)


def test_credentials_expired_now_are_refused_by_s3_until_refreshed(fakes3, faults, imds_env):
    session = boto3.session.Session()
    s3 = session.client("s3")
    s3.create_bucket(Bucket="before-expiry")
    faults.add(endpoint("expired"), service="imds", times=1)
    urllib.request.urlopen(credentials_path(fakes3), timeout=10).read()  # the fault fires here
    with pytest.raises(ClientError) as err:
        s3.list_buckets()
    assert err.value.response["Error"]["Code"] == "ExpiredToken"
    fresh = boto3.session.Session().client("s3")  # a new chain fetches new credentials
    assert [b["Name"] for b in fresh.list_buckets()["Buckets"]] == ["before-expiry"]


def test_a_slow_endpoint_still_answers(fakes3, faults, imds_env):
    faults.add(endpoint("slow", seconds=0.05), service="imds")
    boto3.session.Session().client("s3").list_buckets()
    assert any(e.faults for e in fakes3.journal.entries() if e.service == "imds")


def test_ecs_endpoint_faults(fakes3, faults, ecs_env):
    faults.add(endpoint("500"), service="ecs")
    with pytest.raises(Exception) as err:  # botocore: CredentialRetrievalError after its retries
        boto3.session.Session().client("s3").list_buckets()
    assert "credential" in type(err.value).__name__.lower() or "Credential" in str(err.value)
