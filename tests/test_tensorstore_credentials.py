"""TensorStore's ``aws_credentials`` types, each writing and reading through the fake with strict auth.

The real ``tensorstore`` package opens an ``s3`` kvstore against the session's FakeAWS with one
credential source in place (the pytest plugin's credential fixtures clear every other source);
the server's journal, which records the access key that signed each request, shows which source
TensorStore used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from fakes3 import FakeAWS
from fakes3.auth import Credential

ts = pytest.importorskip("tensorstore")

BUCKET = "ts-credentials"
PROFILE_KEY = Credential("AKIATSPROFILE0000001", "profile-secret")


def open_kvstore(fakes3: FakeAWS, credentials: dict[str, Any]) -> Any:
    return ts.KvStore.open({
        "driver": "s3", "bucket": BUCKET, "path": "p/",
        "endpoint": fakes3.endpoint_url, "aws_region": "us-east-1",
        "context": {
            "aws_credentials": credentials,
            "s3_request_retries": {"max_retries": 2, "initial_delay": "10ms", "max_delay": "50ms"},
        },
    }).result()


def write_and_read(kv: Any) -> None:
    kv.write("k", b"value").result()
    assert kv.read("k").result().value == b"value"
    assert kv.list().result() == [b"k"]


def signing_keys(fakes3: FakeAWS, operations: tuple[str, ...] = ("PutObject", "GetObject")) -> set[Any]:
    return {e.access_key for e in fakes3.journal.entries()
            if e.operation in operations and e.bucket == BUCKET}


@pytest.fixture
def bucket(fakes3: FakeAWS) -> str:
    fakes3.client("s3").create_bucket(Bucket=BUCKET)
    fakes3.journal.clear()
    return BUCKET


@pytest.fixture
def profile_files(aws_profile_env: dict[str, str], fakes3: FakeAWS) -> Iterator[dict[str, str]]:
    """The plugin's profile, holding a key of its own (so the journal can tell it from the rest)."""
    fakes3.credential_store.add(PROFILE_KEY)
    Path(aws_profile_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        f"[fakes3]\naws_access_key_id = {PROFILE_KEY.access_key}\n"
        f"aws_secret_access_key = {PROFILE_KEY.secret_key}\n")
    yield aws_profile_env
    fakes3.credential_store.remove(PROFILE_KEY.access_key)


def test_environment(fakes3, aws_env, bucket):
    write_and_read(open_kvstore(fakes3, {"type": "environment"}))
    assert signing_keys(fakes3) == {aws_env["AWS_ACCESS_KEY_ID"]}


def test_profile_needs_the_credentials_file_and_the_config_file(fakes3, profile_files, bucket):
    files = {"credentials_file": profile_files["AWS_SHARED_CREDENTIALS_FILE"],
             "config_file": profile_files["AWS_CONFIG_FILE"]}
    write_and_read(open_kvstore(fakes3, {"type": "profile", "profile": "fakes3", **files}))
    assert signing_keys(fakes3) == {PROFILE_KEY.access_key}
    # TensorStore 0.1.86: without a config file (or without naming the files) it cannot start.
    with pytest.raises(ValueError, match="credentials provider"):
        open_kvstore(fakes3, {"type": "profile", "profile": "fakes3",
                              "credentials_file": files["credentials_file"]}).write("x", b"").result()
    with pytest.raises(ValueError, match="credentials provider"):
        open_kvstore(fakes3, {"type": "profile", "profile": "fakes3"}).write("x", b"").result()


def test_default_chain_ignores_aws_profile_unless_the_spec_names_it(fakes3, profile_files, bucket):
    # The quirk: AWS_PROFILE and the file variables are set, yet {"type": "default"} finds no
    # credentials, falls back to anonymous, and the private bucket refuses the unsigned request.
    with pytest.raises(ValueError, match="PERMISSION_DENIED.*AccessDenied"):
        open_kvstore(fakes3, {"type": "default"}).write("quirk", b"v").result()
    assert not signing_keys(fakes3)  # refused before the operation: nothing was written
    # The workaround: name the profile; the chain then reads AWS_SHARED_CREDENTIALS_FILE.
    write_and_read(open_kvstore(fakes3, {"type": "default", "profile": "fakes3"}))
    assert signing_keys(fakes3) == {PROFILE_KEY.access_key}


def test_default_chain_reads_the_environment(fakes3, aws_env, bucket):
    write_and_read(open_kvstore(fakes3, {"type": "default"}))
    assert signing_keys(fakes3) == {aws_env["AWS_ACCESS_KEY_ID"]}


@pytest.mark.parametrize("source", ["imds_env", "imds_v2_only_env", "ecs_env"])
def test_instance_and_container_credentials(fakes3, request, bucket, source):
    request.getfixturevalue(source)
    kind = "ecs" if source == "ecs_env" else "imds"
    write_and_read(open_kvstore(fakes3, {"type": kind}))
    # The endpoint serves the same cached credentials to botocore: the key TensorStore signed with.
    vended = boto3.session.Session().get_credentials().get_frozen_credentials()
    assert vended.access_key.startswith("ASIA") and vended.token
    assert signing_keys(fakes3) == {vended.access_key}
    held = fakes3.credential_store.get(vended.access_key)
    assert held is not None and held.temporary


def test_anonymous_reads_a_public_bucket_and_cannot_write(fakes3, aws_env):
    s3 = fakes3.client("s3")
    # As on AWS since April 2023: ACLs on and Block Public Access off before a bucket goes public.
    s3.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")  # anyone may list
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/p/*"}]}))  # anyone may read p/
    s3.put_object(Bucket=BUCKET, Key="p/k", Body=b"public")
    fakes3.journal.clear()
    kv = open_kvstore(fakes3, {"type": "anonymous"})
    assert kv.read("k").result().value == b"public"
    assert kv.read("missing").result().state == "missing"  # may list, so a missing key is 404
    assert kv.list().result() == [b"k"]
    with pytest.raises(ValueError, match="PERMISSION_DENIED.*AccessDenied"):
        kv.write("new", b"nope").result()
    assert signing_keys(fakes3, ("GetObject", "ListObjectsV2")) == {None}  # unsigned
    assert not any(e.operation == "PutObject" for e in fakes3.journal.entries())
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1


def test_anonymous_against_a_private_bucket_is_refused(fakes3, aws_env, bucket):
    fakes3.client("s3").put_object(Bucket=BUCKET, Key="p/k", Body=b"private")
    kv = open_kvstore(fakes3, {"type": "anonymous"})
    with pytest.raises(ValueError, match="PERMISSION_DENIED.*AccessDenied"):
        kv.read("k").result()
