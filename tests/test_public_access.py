"""Who may do what: ACLs, bucket policies and other accounts, against strict auth.

Unsigned requests come from boto3 with ``signature_version=UNSIGNED`` (as ``aws --no-sign-request``
sends them) or from raw HTTP; another account signs with a key of its own.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from s3_callers import OTHER, denied, error_of

from fakes3 import FakeAWS
from fakes3.s3.acl import ALL_USERS, AUTHENTICATED_USERS


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str], principal: Any = "*",
          effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource}


def unblocked_bucket(s3: Any, name: str) -> None:
    """A bucket that may be made public by policy, as on AWS since April 2023: every new bucket has
    Block Public Access on, so it must be turned off first."""
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)


def acl_bucket(s3: Any, name: str, acl: str | None = None) -> None:
    """A bucket whose ACLs work, public ones too: a new bucket has ACLs disabled
    (BucketOwnerEnforced) and public ACLs blocked, so both are turned off before the ACL is put."""
    unblocked_bucket(s3, name)
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    if acl is not None:
        s3.put_bucket_acl(Bucket=name, ACL=acl)


def http_get(aws: FakeAWS, path: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(aws.endpoint_url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()




# -- unsigned requests --------------------------------------------------------------------------


def test_a_private_bucket_refuses_every_unsigned_request(fakes3, s3_client, anon):
    s3_client.create_bucket(Bucket="private-bkt")
    s3_client.put_object(Bucket="private-bkt", Key="k", Body=b"secret")
    assert denied(anon.get_object, Bucket="private-bkt", Key="k")
    assert denied(anon.head_object, Bucket="private-bkt", Key="k")
    assert denied(anon.list_objects_v2, Bucket="private-bkt")
    assert denied(anon.head_bucket, Bucket="private-bkt")
    assert denied(anon.put_object, Bucket="private-bkt", Key="k", Body=b"overwritten")
    assert denied(anon.delete_object, Bucket="private-bkt", Key="k")
    assert denied(anon.list_buckets)
    assert denied(anon.create_bucket, Bucket="anon-made")
    assert s3_client.get_object(Bucket="private-bkt", Key="k")["Body"].read() == b"secret"


def test_a_missing_bucket_is_404_even_to_anonymous_callers(fakes3, anon):
    status, body = http_get(fakes3, "/no-such-bkt/k")
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body
    assert error_of(anon.list_objects_v2, Bucket="no-such-bkt")[:2] == ("NoSuchBucket", 404)


def test_public_read_bucket_lists_to_anyone_but_publishes_only_public_objects(fakes3, s3_client, anon):
    acl_bucket(s3_client, "public-bkt", "public-read")
    s3_client.put_object(Bucket="public-bkt", Key="open", Body=b"o", ACL="public-read")
    s3_client.put_object(Bucket="public-bkt", Key="closed", Body=b"c")
    assert [o["Key"] for o in anon.list_objects_v2(Bucket="public-bkt")["Contents"]] == ["closed", "open"]
    assert [o["Key"] for o in anon.list_objects(Bucket="public-bkt")["Contents"]] == ["closed", "open"]
    anon.head_bucket(Bucket="public-bkt")
    assert anon.get_object(Bucket="public-bkt", Key="open")["Body"].read() == b"o"
    assert anon.head_object(Bucket="public-bkt", Key="open")["ContentLength"] == 1
    # As on AWS, a bucket's READ grant lists keys; reading one needs the object's own grant.
    assert denied(anon.get_object, Bucket="public-bkt", Key="closed")
    # Whoever may list may learn that a key is missing.
    assert error_of(anon.get_object, Bucket="public-bkt", Key="absent")[:2] == ("NoSuchKey", 404)
    assert denied(anon.put_object, Bucket="public-bkt", Key="new", Body=b"n")
    assert denied(anon.delete_object, Bucket="public-bkt", Key="open")
    assert denied(anon.get_bucket_location, Bucket="public-bkt")
    status, body = http_get(fakes3, "/public-bkt/open")
    assert (status, body) == (200, b"o")


def test_public_read_write_lets_anyone_put_and_delete(fakes3, s3_client, anon):
    acl_bucket(s3_client, "rw-bkt", "public-read-write")
    anon.put_object(Bucket="rw-bkt", Key="by-anyone", Body=b"hello")
    assert s3_client.get_object(Bucket="rw-bkt", Key="by-anyone")["Body"].read() == b"hello"
    anon.delete_object(Bucket="rw-bkt", Key="by-anyone")
    assert s3_client.list_objects_v2(Bucket="rw-bkt")["KeyCount"] == 0


def test_an_anonymous_copy_needs_read_access_to_its_source(fakes3, s3_client, anon):
    acl_bucket(s3_client, "rw-bkt", "public-read-write")
    acl_bucket(s3_client, "private-bkt")
    s3_client.put_object(Bucket="private-bkt", Key="secret", Body=b"s")
    assert denied(anon.copy_object, Bucket="rw-bkt", Key="leak",
                  CopySource={"Bucket": "private-bkt", "Key": "secret"})
    s3_client.put_object_acl(Bucket="private-bkt", Key="secret", ACL="public-read")
    anon.copy_object(Bucket="rw-bkt", Key="copied", CopySource={"Bucket": "private-bkt", "Key": "secret"})
    assert s3_client.get_object(Bucket="rw-bkt", Key="copied")["Body"].read() == b"s"


# -- ACLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("canned", "groups"), [
    ("private", []),
    ("public-read", [(ALL_USERS, "READ")]),
    ("public-read-write", [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")]),
    ("authenticated-read", [(AUTHENTICATED_USERS, "READ")]),
])
def test_get_bucket_acl_shows_the_canned_acls_grants(fakes3, s3_client, canned, groups):
    acl_bucket(s3_client, "acl-bkt", canned)
    acl = s3_client.get_bucket_acl(Bucket="acl-bkt")
    owner = acl["Owner"]
    assert len(owner["ID"]) == 64
    assert acl["Grants"][0] == {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"],
                                            "DisplayName": owner["DisplayName"]},
                                "Permission": "FULL_CONTROL"}
    assert [(g["Grantee"]["URI"], g["Permission"]) for g in acl["Grants"][1:]] == groups
    assert all(g["Grantee"]["Type"] == "Group" for g in acl["Grants"][1:])


def test_get_bucket_acl_xml_names_the_all_users_group(fakes3, s3_client):
    acl_bucket(s3_client, "acl-bkt", "public-read")
    url = s3_client.generate_presigned_url("get_bucket_acl", Params={"Bucket": "acl-bkt"})
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    assert ('<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">'
            f"<URI>{ALL_USERS}</URI></Grantee><Permission>READ</Permission>") in body
    assert body.count("<Grant>") == 2 and "<AccessControlList>" in body


def test_an_unknown_canned_acl_is_invalid_argument(fakes3, s3_client):
    code, status, _ = error_of(s3_client.create_bucket, Bucket="acl-bkt", ACL="bucket-owner-read")
    assert (code, status) == ("InvalidArgument", 400)
    assert "acl-bkt" not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    s3_client.create_bucket(Bucket="acl-bkt")
    assert error_of(s3_client.put_bucket_acl, Bucket="acl-bkt", ACL="wide-open")[:2] == \
        ("InvalidArgument", 400)


def test_put_bucket_acl_with_a_canned_acl_a_document_or_grant_headers(fakes3, s3_client, anon):
    acl_bucket(s3_client, "acl-bkt")
    assert denied(anon.list_objects_v2, Bucket="acl-bkt")
    s3_client.put_bucket_acl(Bucket="acl-bkt", ACL="public-read")
    assert anon.list_objects_v2(Bucket="acl-bkt")["KeyCount"] == 0
    s3_client.put_bucket_acl(Bucket="acl-bkt", ACL="private")
    assert denied(anon.list_objects_v2, Bucket="acl-bkt")
    owner = s3_client.get_bucket_acl(Bucket="acl-bkt")["Owner"]
    s3_client.put_bucket_acl(Bucket="acl-bkt", AccessControlPolicy={
        "Owner": owner,
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
        ]})
    assert anon.list_objects_v2(Bucket="acl-bkt")["KeyCount"] == 0
    grants = s3_client.get_bucket_acl(Bucket="acl-bkt")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    s3_client.put_bucket_acl(Bucket="acl-bkt", GrantFullControl=f'id="{owner["ID"]}"',
                             GrantWrite=f'uri="{ALL_USERS}"')
    anon.put_object(Bucket="acl-bkt", Key="written", Body=b"w")
    assert denied(anon.list_objects_v2, Bucket="acl-bkt")  # WRITE, not READ


def test_recreating_a_us_east_1_bucket_resets_its_acl(fakes3, s3_client):
    acl_bucket(s3_client, "acl-bkt", "public-read")
    s3_client.create_bucket(Bucket="acl-bkt")  # 200 in us-east-1, for legacy compatibility
    assert [g["Permission"] for g in s3_client.get_bucket_acl(Bucket="acl-bkt")["Grants"]] == ["FULL_CONTROL"]


def test_put_bucket_acl_refuses_ambiguous_or_missing_acls(fakes3, s3_client):
    s3_client.create_bucket(Bucket="acl-bkt")
    assert error_of(s3_client.put_bucket_acl, Bucket="acl-bkt")[:2] == ("MissingSecurityHeader", 400)
    assert error_of(s3_client.put_bucket_acl, Bucket="acl-bkt", ACL="public-read",
                    GrantRead=f'uri="{ALL_USERS}"')[:2] == ("InvalidRequest", 400)
    assert error_of(s3_client.put_bucket_acl, Bucket="acl-bkt", ACL="public-read",
                    AccessControlPolicy={"Owner": {"ID": "x"}, "Grants": []})[:2] == \
        ("UnexpectedContent", 400)
    assert error_of(s3_client.put_bucket_acl, Bucket="acl-bkt", GrantRead='emailAddress="a@b.example"'
                    )[:2] == ("UnresolvableGrantByEmailAddress", 400)
    nobody = 'uri="http://acs.amazonaws.com/groups/global/Nobody"'
    assert error_of(s3_client.put_bucket_acl, Bucket="acl-bkt", GrantRead=nobody)[:2] == \
        ("InvalidArgument", 400)


def test_object_acls_put_and_get(fakes3, s3_client, anon):
    acl_bucket(s3_client, "obj-acl")
    s3_client.put_object(Bucket="obj-acl", Key="k", Body=b"v")
    assert [g["Permission"] for g in s3_client.get_object_acl(Bucket="obj-acl", Key="k")["Grants"]] == \
        ["FULL_CONTROL"]
    assert denied(anon.get_object, Bucket="obj-acl", Key="k")
    s3_client.put_object_acl(Bucket="obj-acl", Key="k", ACL="public-read")
    assert anon.get_object(Bucket="obj-acl", Key="k")["Body"].read() == b"v"
    grants = s3_client.get_object_acl(Bucket="obj-acl", Key="k")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    s3_client.put_object_acl(Bucket="obj-acl", Key="k", ACL="private")
    assert denied(anon.get_object, Bucket="obj-acl", Key="k")
    # A new version of the key starts private again, as an overwrite does on S3.
    s3_client.put_object(Bucket="obj-acl", Key="k", Body=b"v2", ACL="public-read")
    s3_client.put_object(Bucket="obj-acl", Key="k", Body=b"v3")
    assert denied(anon.get_object, Bucket="obj-acl", Key="k")
    assert error_of(s3_client.get_object_acl, Bucket="obj-acl", Key="nope")[:2] == ("NoSuchKey", 404)


# -- bucket policies ----------------------------------------------------------------------------


def test_bucket_policy_put_get_delete_and_status(fakes3, s3_client):
    unblocked_bucket(s3_client, "pol-bkt")
    assert error_of(s3_client.get_bucket_policy, Bucket="pol-bkt")[:2] == ("NoSuchBucketPolicy", 404)
    assert error_of(s3_client.get_bucket_policy_status, Bucket="pol-bkt")[:2] == ("NoSuchBucketPolicy", 404)
    text = policy(allow("s3:GetObject", "arn:aws:s3:::pol-bkt/*"))
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=text)
    assert json.loads(s3_client.get_bucket_policy(Bucket="pol-bkt")["Policy"]) == json.loads(text)
    assert s3_client.get_bucket_policy_status(Bucket="pol-bkt")["PolicyStatus"] == {"IsPublic": True}
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(
        allow("s3:GetObject", "arn:aws:s3:::pol-bkt/*", {"AWS": "arn:aws:iam::222222222222:root"})))
    assert s3_client.get_bucket_policy_status(Bucket="pol-bkt")["PolicyStatus"] == {"IsPublic": False}
    s3_client.delete_bucket_policy(Bucket="pol-bkt")
    assert error_of(s3_client.get_bucket_policy, Bucket="pol-bkt")[:2] == ("NoSuchBucketPolicy", 404)
    s3_client.delete_bucket_policy(Bucket="pol-bkt")  # deleting no policy succeeds


def test_a_policy_publishes_a_prefix_for_reading(fakes3, s3_client, anon):
    unblocked_bucket(s3_client, "pol-bkt")
    for key in ("public/a", "private/b"):
        s3_client.put_object(Bucket="pol-bkt", Key=key, Body=key.encode())
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(
        allow("s3:GetObject", "arn:aws:s3:::pol-bkt/public/*")))
    assert anon.get_object(Bucket="pol-bkt", Key="public/a")["Body"].read() == b"public/a"
    assert denied(anon.get_object, Bucket="pol-bkt", Key="private/b")
    assert denied(anon.list_objects_v2, Bucket="pol-bkt")
    # Without s3:ListBucket, a missing key is 403, not 404: keys do not leak.
    assert denied(anon.get_object, Bucket="pol-bkt", Key="public/missing")
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(
        allow("s3:GetObject", "arn:aws:s3:::pol-bkt/public/*"),
        allow("s3:ListBucket", "arn:aws:s3:::pol-bkt")))
    assert anon.list_objects_v2(Bucket="pol-bkt")["KeyCount"] == 2
    assert error_of(anon.get_object, Bucket="pol-bkt", Key="public/missing")[:2] == ("NoSuchKey", 404)


def test_deny_wins_over_allow_and_binds_the_owner_too(fakes3, s3_client, anon):
    unblocked_bucket(s3_client, "pol-bkt")
    for key in ("docs/a", "docs/secret/b"):
        s3_client.put_object(Bucket="pol-bkt", Key=key, Body=b"x")
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(
        allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::pol-bkt", "arn:aws:s3:::pol-bkt/*"]),
        allow("s3:GetObject", "arn:aws:s3:::pol-bkt/docs/secret/*", effect="Deny")))
    anon.get_object(Bucket="pol-bkt", Key="docs/a")
    assert denied(anon.get_object, Bucket="pol-bkt", Key="docs/secret/b")
    assert denied(s3_client.get_object, Bucket="pol-bkt", Key="docs/secret/b")  # "*" names the owner
    s3_client.get_object(Bucket="pol-bkt", Key="docs/a")
    s3_client.delete_bucket_policy(Bucket="pol-bkt")  # the owner can always undo its policy
    s3_client.get_object(Bucket="pol-bkt", Key="docs/secret/b")


def test_a_policy_can_allow_anonymous_writes_and_deletes(fakes3, s3_client, anon):
    unblocked_bucket(s3_client, "pol-bkt")
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(
        allow(["s3:PutObject", "s3:DeleteObject"], "arn:aws:s3:::pol-bkt/inbox/*")))
    anon.put_object(Bucket="pol-bkt", Key="inbox/1", Body=b"1")
    assert denied(anon.put_object, Bucket="pol-bkt", Key="elsewhere", Body=b"1")
    anon.delete_object(Bucket="pol-bkt", Key="inbox/1")
    assert s3_client.list_objects_v2(Bucket="pol-bkt")["KeyCount"] == 0
    # DeleteObjects names its keys in the body: the policy must cover every key of the bucket.
    assert denied(anon.delete_objects, Bucket="pol-bkt", Delete={"Objects": [{"Key": "inbox/2"}]})
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(allow("s3:*", "arn:aws:s3:::pol-bkt/*")))
    anon.delete_objects(Bucket="pol-bkt", Delete={"Objects": [{"Key": "inbox/2"}]})


@pytest.mark.parametrize(("document", "message"), [
    ("{not json", "This policy contains invalid Json"),
    ("[]", "Policies must be valid JSON and the first byte must be '{'"),
    (json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
    (policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol-bkt/*"}),
     "Missing required field Principal"),
    (policy(allow("s3:GetObject", "arn:aws:s3:::pol-bkt/*", effect="Maybe")), "Invalid effect: Maybe"),
    (policy({**allow("s3:GetObject", "arn:aws:s3:::pol-bkt/*"),
             "Condition": {"Boolean": {"aws:SecureTransport": "false"}}}),
     "Policy has an invalid condition key"),
    (policy({"Effect": "Allow", "Principal": "*", "NotAction": "s3:GetObject",
             "Resource": "arn:aws:s3:::pol-bkt/*"}), "fakes3 does not support NotAction"),
    (policy(allow("ec2:RunInstances", "arn:aws:s3:::pol-bkt/*")), "Policy has invalid action"),
    (policy(allow("s3:PutLifecycleConfiguration", "arn:aws:s3:::pol-bkt")),
     "fakes3 does not evaluate s3:PutLifecycleConfiguration"),
    (policy(allow("s3:GetObject", "arn:aws:s3:::another-bucket/*")), "Policy has invalid resource"),
    (policy(allow("s3:GetObject", "arn:aws:s3:::pol-bkt")),
     "Action does not apply to any resource(s) in statement"),
    (policy(allow("s3:GetObject", "arn:aws:s3:::pol-bkt/*", {"AWS": "arn:aws:iam::222222222222:user/bob"})),
     "Invalid principal in policy"),
    (policy(allow("s3:GetObject", "arn:aws:s3:::pol-bkt/*", {"Service": "logging.s3.amazonaws.com"})),
     "fakes3 does not support Service principals"),
])
def test_policies_outside_the_subset_are_malformed(fakes3, s3_client, document, message):
    unblocked_bucket(s3_client, "pol-bkt")
    code, status, text = error_of(s3_client.put_bucket_policy, Bucket="pol-bkt", Policy=document)
    assert (code, status) == ("MalformedPolicy", 400)
    assert message in text
    assert error_of(s3_client.get_bucket_policy, Bucket="pol-bkt")[0] == "NoSuchBucketPolicy"


def test_policy_wildcards_in_actions_and_resources(fakes3, s3_client, anon):
    unblocked_bucket(s3_client, "pol-bkt")
    s3_client.put_object(Bucket="pol-bkt", Key="img/2024/a.png", Body=b"png")
    s3_client.put_object(Bucket="pol-bkt", Key="img/2024/a.txt", Body=b"txt")
    s3_client.put_bucket_policy(Bucket="pol-bkt", Policy=policy(
        allow("s3:Get*", "arn:aws:s3:::pol-bkt/img/*.png"), allow("s3:List*", "arn:aws:s3:::pol-bkt")))
    assert anon.get_object(Bucket="pol-bkt", Key="img/2024/a.png")["Body"].read() == b"png"
    assert denied(anon.get_object, Bucket="pol-bkt", Key="img/2024/a.txt")
    assert anon.list_objects_v2(Bucket="pol-bkt")["KeyCount"] == 2


# -- other accounts -----------------------------------------------------------------------------


def test_another_account_is_refused_a_private_bucket(fakes3, s3_client, other):
    s3_client.create_bucket(Bucket="mine-bkt")
    s3_client.put_object(Bucket="mine-bkt", Key="k", Body=b"v")
    assert denied(other.get_object, Bucket="mine-bkt", Key="k")
    assert denied(other.list_objects_v2, Bucket="mine-bkt")
    assert denied(other.put_object, Bucket="mine-bkt", Key="k", Body=b"theirs")
    assert denied(other.put_bucket_policy, Bucket="mine-bkt", Policy=policy(
        allow("s3:GetObject", "arn:aws:s3:::mine-bkt/*")))
    assert denied(other.delete_bucket, Bucket="mine-bkt")
    assert error_of(other.create_bucket, Bucket="mine-bkt")[:2] == ("BucketAlreadyExists", 409)


def test_grants_to_another_account_by_policy_acl_or_group(fakes3, s3_client, other, anon):
    acl_bucket(s3_client, "mine-bkt", "authenticated-read")
    s3_client.put_object(Bucket="mine-bkt", Key="k", Body=b"v")
    assert other.list_objects_v2(Bucket="mine-bkt")["KeyCount"] == 1  # any signed account
    assert denied(anon.list_objects_v2, Bucket="mine-bkt")
    assert denied(other.get_object, Bucket="mine-bkt", Key="k")
    s3_client.put_bucket_policy(Bucket="mine-bkt", Policy=policy(
        allow("s3:GetObject", "arn:aws:s3:::mine-bkt/*", {"AWS": ["222222222222"]})))
    assert other.get_object(Bucket="mine-bkt", Key="k")["Body"].read() == b"v"
    assert denied(anon.get_object, Bucket="mine-bkt", Key="k")
    s3_client.delete_bucket_policy(Bucket="mine-bkt")
    their_id = other.list_buckets()["Owner"]["ID"]
    s3_client.put_object_acl(Bucket="mine-bkt", Key="k", GrantRead=f'id="{their_id}"')
    assert other.get_object(Bucket="mine-bkt", Key="k")["Body"].read() == b"v"


def test_open_auth_checks_no_access():
    with FakeAWS(auth="open", credentials=[OTHER]) as aws:
        aws.client("s3").create_bucket(Bucket="open-bkt")
        aws.client("s3").put_object(Bucket="open-bkt", Key="k", Body=b"v")
        assert http_get(aws, "/open-bkt/k") == (200, b"v")
        theirs = aws.client("s3", **OTHER.client_kwargs())
        assert theirs.get_object(Bucket="open-bkt", Key="k")["Body"].read() == b"v"


def test_a_presigned_url_reads_a_private_object(fakes3, s3_client):
    s3_client.create_bucket(Bucket="private-bkt")
    s3_client.put_object(Bucket="private-bkt", Key="k", Body=b"v")
    url = s3_client.generate_presigned_url("get_object", Params={"Bucket": "private-bkt", "Key": "k"})
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"v"
