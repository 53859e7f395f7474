"""S3 Object Ownership and bucket-level Block Public Access, as AWS has them since April 2023.

A new bucket has ObjectOwnership BucketOwnerEnforced (ACLs disabled) and all four Block Public
Access settings on; a bucket read back from a data dir written before fakes3 had them keeps the
old behaviour (ACLs enabled, nothing blocked). Real boto3 clients; unsigned requests with
botocore's UNSIGNED config or raw HTTP; another account signs with a key of its own.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from s3_callers import OTHER, denied, error_of

from fakes3 import FakeAWS
from fakes3.s3.acl import ALL_USERS

BUCKET = "own-bkt"
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}
ALL_OFF = dict.fromkeys(ALL_ON, False)






def rules(ownership: str) -> dict[str, Any]:
    return {"Rules": [{"ObjectOwnership": ownership}]}


def ownership_of(s3: Any, bucket: str = BUCKET) -> str:
    return str(s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]
               ["ObjectOwnership"])


def block_of(s3: Any, bucket: str = BUCKET) -> dict[str, bool]:
    return dict(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])


def only(**flags: bool) -> dict[str, bool]:
    return {**ALL_OFF, **flags}


def public_read_policy(bucket: str = BUCKET) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def http_get(aws: FakeAWS, path: str) -> int:
    try:
        with urllib.request.urlopen(aws.endpoint_url + path, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code




@pytest.fixture
def acl_bucket(s3_client: Any) -> str:
    """BUCKET with ACLs enabled (ObjectWriter) and Block Public Access off."""
    s3_client.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    s3_client.delete_public_access_block(Bucket=BUCKET)
    return BUCKET


# -- defaults -----------------------------------------------------------------------------------


def test_a_new_bucket_has_acls_disabled_and_public_access_blocked(fakes3, s3_client, anon):
    s3_client.create_bucket(Bucket=BUCKET)
    assert ownership_of(s3_client) == "BucketOwnerEnforced"
    assert block_of(s3_client) == ALL_ON
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")
    assert http_get(fakes3, f"/{BUCKET}/k") == 403


@pytest.mark.parametrize("acl", ["public-read", "private", "authenticated-read", "bucket-owner-read"])
def test_a_put_with_an_acl_is_refused_when_acls_are_disabled(s3_client, acl):
    s3_client.create_bucket(Bucket=BUCKET)
    code, status, message = error_of(s3_client.put_object, Bucket=BUCKET, Key="k", Body=b"v", ACL=acl)
    assert (code, status) == ("AccessControlListNotSupported", 400)
    assert message.startswith("The bucket does not allow ACLs")
    assert "put_bucket_ownership_controls" in message  # says what to change
    assert error_of(s3_client.head_object, Bucket=BUCKET, Key="k")[1] == 404  # nothing stored


def test_every_way_of_setting_an_acl_is_refused_when_acls_are_disabled(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    owner = s3_client.get_bucket_acl(Bucket=BUCKET)["Owner"]["ID"]
    refusals = [
        (s3_client.put_object, {"Key": "g", "Body": b"v", "GrantRead": f'uri="{ALL_USERS}"'}),
        (s3_client.copy_object, {"Key": "c", "CopySource": {"Bucket": BUCKET, "Key": "k"},
                                 "ACL": "public-read"}),
        (s3_client.create_multipart_upload, {"Key": "m", "ACL": "public-read"}),
        (s3_client.put_object_acl, {"Key": "k", "ACL": "public-read"}),
        (s3_client.put_bucket_acl, {"ACL": "public-read"}),
        (s3_client.put_bucket_acl, {"GrantRead": f'id="{owner}"'}),
    ]
    for call, kwargs in refusals:
        assert error_of(call, Bucket=BUCKET, **kwargs)[:2] == ("AccessControlListNotSupported", 400), kwargs


def test_bucket_owner_full_control_acls_are_accepted_when_acls_are_disabled(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    owner = s3_client.get_bucket_acl(Bucket=BUCKET)["Owner"]["ID"]
    s3_client.put_object(Bucket=BUCKET, Key="canned", Body=b"v", ACL="bucket-owner-full-control")
    s3_client.put_object(Bucket=BUCKET, Key="granted", Body=b"v", GrantFullControl=f'id="{owner}"')
    s3_client.put_object_acl(Bucket=BUCKET, Key="canned", ACL="bucket-owner-full-control")
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="private")
    for key in ("canned", "granted"):
        grants = s3_client.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
        assert [(g["Grantee"]["ID"], g["Permission"]) for g in grants] == [(owner, "FULL_CONTROL")]


def test_create_bucket_with_a_public_acl_and_acls_disabled_is_refused(s3_client):
    code, status, message = error_of(s3_client.create_bucket, Bucket=BUCKET, ACL="public-read")
    assert (code, status) == ("InvalidBucketAclWithObjectOwnership", 400)
    assert message.startswith("Bucket cannot have ACLs set with ObjectOwnership's "
                              "BucketOwnerEnforced setting")
    assert BUCKET not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    s3_client.create_bucket(Bucket=BUCKET, ACL="private")  # the owner's full control alone is fine
    assert ownership_of(s3_client) == "BucketOwnerEnforced"


def test_create_bucket_with_a_public_acl_is_blocked_even_with_acls_enabled(s3_client):
    code, status, message = error_of(s3_client.create_bucket, Bucket=BUCKET, ACL="public-read",
                                     ObjectOwnership="ObjectWriter")
    assert (code, status) == ("AccessDenied", 403) and "delete_public_access_block" in message
    s3_client.create_bucket(Bucket=BUCKET, ACL="log-delivery-write", ObjectOwnership="ObjectWriter")
    assert ownership_of(s3_client) == "ObjectWriter"


@pytest.mark.parametrize("ownership", ["ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"])
def test_create_bucket_takes_its_object_ownership(s3_client, ownership):
    s3_client.create_bucket(Bucket=BUCKET, ObjectOwnership=ownership)
    assert ownership_of(s3_client) == ownership
    assert block_of(s3_client) == ALL_ON  # Block Public Access stays on whatever the ownership


def test_an_unknown_object_ownership_is_refused(s3_client):
    assert error_of(s3_client.create_bucket, Bucket=BUCKET, ObjectOwnership="Nobody")[:2] == \
        ("InvalidArgument", 400)
    s3_client.create_bucket(Bucket=BUCKET)
    assert error_of(s3_client.put_bucket_ownership_controls, Bucket=BUCKET,
                    OwnershipControls=rules("Nobody"))[:2] == ("InvalidArgument", 400)


# -- ownership controls -------------------------------------------------------------------------


def test_ownership_controls_put_get_delete(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=rules("BucketOwnerPreferred"))
    assert ownership_of(s3_client) == "BucketOwnerPreferred"
    s3_client.delete_bucket_ownership_controls(Bucket=BUCKET)
    assert error_of(s3_client.get_bucket_ownership_controls, Bucket=BUCKET)[:2] == \
        ("OwnershipControlsNotFoundError", 404)
    # With no ownership controls, ACLs work as under ObjectWriter.
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v", ACL="private")  # refused if enforced
    s3_client.delete_bucket_ownership_controls(Bucket=BUCKET)  # deleting none is fine
    assert error_of(s3_client.get_bucket_ownership_controls, Bucket="no-such-bkt")[:2] == \
        ("NoSuchBucket", 404)


def test_acls_cannot_be_disabled_while_the_bucket_acl_grants_others(s3_client, acl_bucket):
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    assert error_of(s3_client.put_bucket_ownership_controls, Bucket=BUCKET,
                    OwnershipControls=rules("BucketOwnerEnforced"))[:2] == \
        ("InvalidBucketAclWithObjectOwnership", 400)
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="private")
    s3_client.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=rules("BucketOwnerEnforced"))
    assert ownership_of(s3_client) == "BucketOwnerEnforced"


def test_disabling_acls_stops_existing_acls_from_granting(s3_client, acl_bucket, anon):
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v", ACL="public-read")
    assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
    s3_client.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=rules("BucketOwnerEnforced"))
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")
    grants = s3_client.get_object_acl(Bucket=BUCKET, Key="k")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # reads show the owner's alone
    # Enabling them again brings the stored ACL back.
    s3_client.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=rules("ObjectWriter"))
    assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"


def test_who_owns_what_another_account_writes(fakes3, s3_client, other):
    s3_client.create_bucket(Bucket=BUCKET, ObjectOwnership="ObjectWriter")
    s3_client.delete_public_access_block(Bucket=BUCKET)
    s3_client.put_bucket_acl(Bucket=BUCKET, GrantWrite='id="' + other.list_buckets()["Owner"]["ID"] + '"',
                             GrantFullControl='id="' + s3_client.list_buckets()["Owner"]["ID"] + '"')
    mine, theirs = s3_client.list_buckets()["Owner"]["ID"], other.list_buckets()["Owner"]["ID"]

    def owner_of(key: str) -> str:
        return str(s3_client.get_object_acl(Bucket=BUCKET, Key=key)["Owner"]["ID"])

    other.put_object(Bucket=BUCKET, Key="writer", Body=b"v")
    other.put_object(Bucket=BUCKET, Key="writer-full", Body=b"v", ACL="bucket-owner-full-control")
    assert (owner_of("writer"), owner_of("writer-full")) == (theirs, theirs)
    s3_client.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=rules("BucketOwnerPreferred"))
    other.put_object(Bucket=BUCKET, Key="preferred", Body=b"v")
    other.put_object(Bucket=BUCKET, Key="preferred-full", Body=b"v", ACL="bucket-owner-full-control")
    assert (owner_of("preferred"), owner_of("preferred-full")) == (theirs, mine)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": OTHER.account_id}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="private")
    s3_client.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=rules("BucketOwnerEnforced"))
    other.put_object(Bucket=BUCKET, Key="enforced", Body=b"v")
    assert owner_of("enforced") == mine


# -- Block Public Access ------------------------------------------------------------------------


def test_public_access_block_put_get_delete(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True})
    assert block_of(s3_client) == only(BlockPublicAcls=True)  # members not sent are False
    s3_client.delete_public_access_block(Bucket=BUCKET)
    assert error_of(s3_client.get_public_access_block, Bucket=BUCKET)[:2] == \
        ("NoSuchPublicAccessBlockConfiguration", 404)
    s3_client.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=ALL_OFF)
    assert block_of(s3_client) == ALL_OFF


def test_block_public_acls_refuses_requests_that_set_public_acls(s3_client, acl_bucket):
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    s3_client.put_public_access_block(Bucket=BUCKET,
                                      PublicAccessBlockConfiguration=only(BlockPublicAcls=True))
    refusals = [
        (s3_client.put_object, {"Key": "p", "Body": b"v", "ACL": "public-read"}),
        (s3_client.put_object, {"Key": "a", "Body": b"v", "ACL": "authenticated-read"}),
        (s3_client.put_object, {"Key": "g", "Body": b"v", "GrantRead": f'uri="{ALL_USERS}"'}),
        (s3_client.copy_object, {"Key": "c", "CopySource": {"Bucket": BUCKET, "Key": "k"},
                                 "ACL": "public-read-write"}),
        (s3_client.create_multipart_upload, {"Key": "m", "ACL": "public-read"}),
        (s3_client.put_object_acl, {"Key": "k", "ACL": "public-read"}),
        (s3_client.put_bucket_acl, {"ACL": "public-read"}),
    ]
    for call, kwargs in refusals:
        code, status, message = error_of(call, Bucket=BUCKET, **kwargs)
        assert (code, status) == ("AccessDenied", 403), kwargs
        assert "BlockPublicAcls" in message
    # Private ACLs still go through.
    s3_client.put_object(Bucket=BUCKET, Key="private", Body=b"v", ACL="private")
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="private")


def test_block_public_acls_leaves_existing_public_acls_in_force(s3_client, acl_bucket, anon):
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v", ACL="public-read")
    s3_client.put_public_access_block(Bucket=BUCKET,
                                      PublicAccessBlockConfiguration=only(BlockPublicAcls=True))
    assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"


def test_ignore_public_acls_makes_public_acls_grant_nothing(s3_client, acl_bucket, anon, other):
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v", ACL="public-read")
    theirs = other.list_buckets()["Owner"]["ID"]
    s3_client.put_object(Bucket=BUCKET, Key="theirs", Body=b"v", GrantRead=f'id="{theirs}"')
    s3_client.put_public_access_block(Bucket=BUCKET,
                                      PublicAccessBlockConfiguration=only(IgnorePublicAcls=True))
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")
    assert denied(anon.list_objects_v2, Bucket=BUCKET)
    assert denied(other.get_object, Bucket=BUCKET, Key="k")
    assert other.get_object(Bucket=BUCKET, Key="theirs")["Body"].read() == b"v"  # not public: counts
    s3_client.put_object(Bucket=BUCKET, Key="new", Body=b"v", ACL="public-read")  # still settable
    s3_client.delete_public_access_block(Bucket=BUCKET)
    assert anon.get_object(Bucket=BUCKET, Key="new")["Body"].read() == b"v"


def test_block_public_policy_refuses_public_policies_only(s3_client):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_public_access_block(Bucket=BUCKET,
                                      PublicAccessBlockConfiguration=only(BlockPublicPolicy=True))
    code, status, message = error_of(s3_client.put_bucket_policy, Bucket=BUCKET,
                                     Policy=public_read_policy())
    assert (code, status) == ("AccessDenied", 403) and "BlockPublicPolicy" in message
    assert error_of(s3_client.get_bucket_policy, Bucket=BUCKET)[:2] == ("NoSuchBucketPolicy", 404)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": OTHER.account_id}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))  # one account: not public


def test_the_default_blocks_a_public_policy_until_the_block_is_removed(s3_client, anon):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert error_of(s3_client.put_bucket_policy, Bucket=BUCKET, Policy=public_read_policy())[:2] == \
        ("AccessDenied", 403)
    s3_client.delete_public_access_block(Bucket=BUCKET)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=public_read_policy())
    assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"  # ACLs still disabled


def test_restrict_public_buckets_makes_a_public_policy_grant_nothing_outside(s3_client, anon, other):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    s3_client.delete_public_access_block(Bucket=BUCKET)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=public_read_policy())
    assert other.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
    s3_client.put_public_access_block(Bucket=BUCKET,
                                      PublicAccessBlockConfiguration=only(RestrictPublicBuckets=True))
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")
    assert denied(other.get_object, Bucket=BUCKET, Key="k")  # cross-account too
    assert s3_client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"  # the owner may
    assert s3_client.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"]


def test_restrict_public_buckets_leaves_a_policy_naming_accounts_alone(s3_client, other):
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": OTHER.account_id}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    assert other.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"


def test_only_the_bucket_owner_manages_these_settings(s3_client, other):
    s3_client.create_bucket(Bucket=BUCKET)
    for call, kwargs in [
        (other.get_bucket_ownership_controls, {}),
        (other.put_bucket_ownership_controls, {"OwnershipControls": rules("ObjectWriter")}),
        (other.delete_bucket_ownership_controls, {}),
        (other.get_public_access_block, {}),
        (other.put_public_access_block, {"PublicAccessBlockConfiguration": ALL_OFF}),
        (other.delete_public_access_block, {}),
    ]:
        assert denied(call, Bucket=BUCKET, **kwargs)
    assert block_of(s3_client) == ALL_ON


# -- a data dir ---------------------------------------------------------------------------------


def test_the_settings_survive_a_restart(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket=BUCKET, ObjectOwnership="BucketOwnerPreferred")
        s3.put_public_access_block(Bucket=BUCKET,
                                   PublicAccessBlockConfiguration=only(IgnorePublicAcls=True))
        s3.create_bucket(Bucket="plain-bkt")
        s3.create_bucket(Bucket="cleared-bkt")
        s3.delete_bucket_ownership_controls(Bucket="cleared-bkt")
        s3.delete_public_access_block(Bucket="cleared-bkt")
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        assert ownership_of(s3) == "BucketOwnerPreferred"
        assert block_of(s3) == only(IgnorePublicAcls=True)
        assert (ownership_of(s3, "plain-bkt"), block_of(s3, "plain-bkt")) == ("BucketOwnerEnforced", ALL_ON)
        assert error_of(s3.get_bucket_ownership_controls, Bucket="cleared-bkt")[1] == 404
        assert error_of(s3.get_public_access_block, Bucket="cleared-bkt")[1] == 404
        assert error_of(s3.put_object, Bucket="plain-bkt", Key="k", Body=b"v", ACL="public-read")[0] == \
            "AccessControlListNotSupported"


def _forget_the_new_settings(data_dir: Path) -> None:
    """Rewrite every bucket's settings record as fakes3 wrote it before it had these settings."""
    db = sqlite3.connect(data_dir / "s3" / "metadata.sqlite3")
    with db:
        for bid, settings in db.execute("SELECT id, settings FROM buckets").fetchall():
            record = json.loads(settings)
            assert "object_ownership" in record and "public_access_block" in record
            del record["object_ownership"], record["public_access_block"]
            db.execute("UPDATE buckets SET settings = ? WHERE id = ?", (json.dumps(record), bid))
    db.close()


def test_a_bucket_from_an_older_data_dir_keeps_acls_and_no_block(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        aws.client().create_bucket(Bucket=BUCKET)
    _forget_the_new_settings(tmp_path)
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        anon = aws.client("s3", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
        assert error_of(s3.get_bucket_ownership_controls, Bucket=BUCKET)[:2] == \
            ("OwnershipControlsNotFoundError", 404)
        assert error_of(s3.get_public_access_block, Bucket=BUCKET)[:2] == \
            ("NoSuchPublicAccessBlockConfiguration", 404)
        s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"v", ACL="public-read")
        assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
        assert anon.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:  # and it stays so after another restart
        anon = aws.client("s3", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
        assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
