"""Bucket policy ``Condition``: the operators, the request's keys, validation at PutBucketPolicy,
and what a condition does to "is this policy public", with real boto3 clients against strict auth.

Unsigned requests come from boto3 with ``signature_version=UNSIGNED``; the server listens on
127.0.0.1 over plain HTTP, so aws:SourceIp is 127.0.0.1 and aws:SecureTransport is false.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from s3_callers import denied, error_of

from fakes3 import FakeAWS
from fakes3.s3 import bucket_policy
from fakes3.s3.policy_conditions import Conditions, Request, RequestKeys

BUCKET = "cond-bkt"
OBJECTS = f"arn:aws:s3:::{BUCKET}/*"






def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def statement(action: str | list[str], resource: str | list[str], condition: dict[str, Any] | None,
              *, effect: str = "Allow", principal: Any = "*") -> dict[str, Any]:
    found = {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource}
    if condition is not None:
        found["Condition"] = condition
    return found


def public_bucket(s3: Any, name: str = BUCKET) -> None:
    """New buckets block public policies (as on AWS since April 2023): turn that off first."""
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)




# -- operators, without a server ------------------------------------------------------------------


class Keys:
    def __init__(self, **values: Any) -> None:
        self.values = {k.replace("__", ":").replace("_", "-").lower(): v for k, v in values.items()}

    def get(self, key: str) -> tuple[str, ...] | None:
        value = self.values.get(key)
        return None if value is None else tuple(value) if isinstance(value, list) else (value,)


def holds(block: dict[str, Any], keys: Keys) -> bool:
    return Conditions.parse(block, variables=True).hold(keys)


@pytest.mark.parametrize(("block", "expected"), [
    ({"StringEquals": {"aws:UserAgent": "boto3"}}, True),
    ({"StringEquals": {"aws:UserAgent": ["curl", "boto3"]}}, True),  # OR across a key's values
    ({"StringEquals": {"aws:UserAgent": "BOTO3"}}, False),  # values are case-sensitive
    ({"StringEqualsIgnoreCase": {"aws:useragent": "BOTO3"}}, True),  # key names are not
    ({"StringNotEquals": {"aws:UserAgent": "curl"}}, True),
    ({"StringNotEqualsIgnoreCase": {"aws:UserAgent": "BOTO3"}}, False),
    ({"StringLike": {"s3:prefix": "home/*"}}, True),
    ({"StringLike": {"s3:prefix": "home/?ob"}}, False),  # the whole value must match
    ({"StringNotLike": {"s3:prefix": "tmp/*"}}, True),
    ({"NumericLessThan": {"s3:max-keys": "100"}}, True),
    ({"NumericGreaterThanEquals": {"s3:max-keys": 10}}, True),
    ({"NumericNotEquals": {"s3:max-keys": "10"}}, False),
    ({"DateLessThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2026-06-01"}}, False),
    ({"DateGreaterThanEquals": {"aws:EpochTime": "2026-01-01T00:00:00Z"}}, True),
    ({"Bool": {"aws:SecureTransport": "false"}}, True),
    ({"Bool": {"aws:SecureTransport": True}}, False),
    ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, True),
    ({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}, False),
    ({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}, True),
    ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:root"}}, True),
    ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::999999999999:*"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:*"}}, True),
    ({"ArnLike": {"aws:SourceIp": "arn:aws:iam::*:root"}}, False),  # not an ARN
    # AND across operators and keys
    ({"StringEquals": {"aws:UserAgent": "boto3", "s3:prefix": "home/bob/"},
      "IpAddress": {"aws:SourceIp": "127.0.0.1"}}, True),
    ({"StringEquals": {"aws:UserAgent": "boto3", "s3:prefix": "nope"}}, False),
])
def test_operators(block, expected):
    keys = Keys(aws__UserAgent="boto3", s3__prefix="home/bob/", s3__max_keys="10",
                aws__CurrentTime="2026-03-01T12:00:00Z", aws__EpochTime="1772366400",
                aws__SecureTransport="false", aws__SourceIp="127.0.0.1",
                aws__PrincipalArn="arn:aws:iam::111122223333:root")
    assert holds(block, keys) is expected


@pytest.mark.parametrize(("block", "expected"), [
    ({"StringEquals": {"aws:Referer": "x"}}, False),  # an absent key: false
    ({"StringNotEquals": {"aws:Referer": "x"}}, True),  # ... but true for negated operators
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, True),
    ({"StringEqualsIfExists": {"aws:Referer": "x"}}, True),  # IfExists: true when absent
    ({"StringEqualsIfExists": {"aws:UserAgent": "curl"}}, False),  # ... a normal test when present
    ({"Null": {"aws:Referer": "true"}}, True),
    ({"Null": {"aws:Referer": "false"}}, False),
    ({"Null": {"aws:UserAgent": False}}, True),
    ({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["team", "cost"]}}, True),
    ({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "cost"]}}, False),
    ({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "cost", "env"]}}, True),
    ({"ForAllValues:StringEquals": {"aws:Referer": "x"}}, True),  # vacuously, when absent
    ({"ForAnyValue:StringEquals": {"aws:Referer": "x"}}, False),
])
def test_absent_keys_ifexists_null_and_sets(block, expected):
    keys = Keys(aws__UserAgent="boto3", s3__RequestObjectTagKeys=["team", "env"])
    assert holds(block, keys) is expected


def test_request_keys_come_from_the_request():
    when = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    request = Request(account_id="111122223333", operation="ListObjectsV2",
                      headers={"authorization": "AWS4-HMAC-SHA256 Credential=...", "user-agent": "ua",
                               "x-amz-tagging": "team=a&cost=b%2Fc"},
                      query={"prefix": "home/", "max-keys": "5"}, connection="127.0.0.1:5555",
                      now=lambda: when, existing_tags=lambda: {"Project": "x"})
    keys = RequestKeys(request)
    assert keys.get("aws:sourceip") == ("127.0.0.1",)
    assert keys.get("aws:securetransport") == ("false",)
    assert keys.get("aws:principalarn") == ("arn:aws:iam::111122223333:root",)
    assert keys.get("aws:currenttime") == ("2026-03-01T12:00:00Z",)
    assert keys.get("aws:epochtime") == (str(int(when.timestamp())),)
    assert keys.get("s3:prefix") == ("home/",) and keys.get("s3:delimiter") is None
    assert keys.get("s3:max-keys") == ("5",)
    assert keys.get("s3:signatureversion") == ("AWS4-HMAC-SHA256",)
    assert keys.get("s3:authtype") == ("REST-HEADER",)
    assert keys.get("s3:tlsversion") is None
    assert keys.get("s3:existingobjecttag/Project") == ("x",)
    assert keys.get("s3:existingobjecttag/project") is None  # tag keys are case-sensitive
    assert keys.get("s3:requestobjecttag/cost") == ("b/c",)
    assert keys.get("s3:requestobjecttagkeys") == ("team", "cost")
    anonymous = RequestKeys(Request(None, "GetObject", {}, {"prefix": "x"}, "[::1]:80",
                                    lambda: when, lambda: None))
    assert anonymous.get("aws:principalarn") is None and anonymous.get("s3:authtype") is None
    assert anonymous.get("aws:sourceip") == ("::1",)
    assert anonymous.get("s3:prefix") is None  # only listings have a prefix


# -- validation at PutBucketPolicy ----------------------------------------------------------------


@pytest.mark.parametrize(("condition", "message"), [
    ("aws:SecureTransport", "Invalid Condition"),
    ({"StringEquals": "aws:SecureTransport"}, "Invalid Condition"),
    ({}, "Invalid Condition"),
    ({"StringEqualz": {"aws:UserAgent": "x"}},
     "Policy has an invalid condition key (unknown condition operator StringEqualz"),
    ({"NullIfExists": {"aws:Referer": "true"}}, "unknown condition operator NullIfExists"),
    ({"BinaryEquals": {"aws:UserAgent": "eA=="}},
     "fakes3 does not evaluate the condition operator BinaryEquals"),
    ({"StringEquals": {"aws:UserAgent": {"a": 1}}}, "Invalid Condition value"),
    ({"StringEquals": {"aws:UserAgent": [None]}}, "Invalid Condition value"),
    ({"IpAddress": {"aws:SourceIp": "not-an-ip"}}, "Invalid IP address in Conditions"),
    ({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001::85a3::8a2e"]}},
     "Invalid IP address in Conditions"),
    ({"NumericLessThan": {"s3:max-keys": "ten"}}, "Invalid Condition value"),
    ({"DateLessThan": {"aws:CurrentTime": "tomorrow"}}, "Invalid Condition value"),
    ({"DateLessThan": {"aws:CurrentTime": "inf"}}, "Invalid Condition value"),
    ({"Bool": {"aws:SecureTransport": "maybe"}}, "Invalid Condition value"),
    ({"StringEquals": {"aws:UserAgent": "${aws:username}"}}, "fakes3 does not support policy variables"),
])
def test_malformed_conditions_are_refused(fakes3, s3_client, condition, message):
    public_bucket(s3_client)
    code, status, text = error_of(s3_client.put_bucket_policy, Bucket=BUCKET,
                                  Policy=policy(statement("s3:GetObject", OBJECTS, condition)))
    assert (code, status) == ("MalformedPolicy", 400)
    assert message in text


def test_every_supported_operator_is_accepted(fakes3, s3_client):
    public_bucket(s3_client)
    condition = {
        "StringEqualsIgnoreCaseIfExists": {"aws:UserAgent": "x"},
        "ForAnyValue:StringLike": {"s3:RequestObjectTagKeys": "t*"},
        "NumericLessThanEquals": {"s3:max-keys": 1000},
        "DateNotEquals": {"aws:EpochTime": 0},
        "ArnNotLikeIfExists": {"aws:PrincipalArn": "arn:aws:iam::*:root"},
        "Null": {"aws:Referer": "true"},
        "IpAddress": {"aws:SourceIp": []},  # S3 takes an empty list; it matches nothing
    }
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement("s3:GetObject", OBJECTS,
                                                                       condition, effect="Deny")))
    assert json.loads(s3_client.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"][0][
        "Condition"] == condition


# -- "is the policy public" -----------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "public"), [
    (None, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
    ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, True),
    ({"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}, False),
    ({"StringLike": {"aws:SourceVpc": "vpc-*"}}, True),  # the User Guide's own public example
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, False),
    ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, False),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}, False),
    ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
    ({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ({"StringLike": {"s3:prefix": "home/*"}}, True),
])
def test_a_condition_on_fixed_sources_makes_a_policy_non_public(condition, public):
    document = policy(statement("s3:GetObject", OBJECTS, condition))
    assert bucket_policy.parse(document, BUCKET).is_public is public


def test_block_public_policy_accepts_a_policy_limited_to_a_network(fakes3, s3_client):
    s3_client.create_bucket(Bucket=BUCKET)  # Block Public Access on
    narrowed = policy(statement("s3:GetObject", OBJECTS, {"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}}))
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=narrowed)
    assert s3_client.get_bucket_policy_status(Bucket=BUCKET)["PolicyStatus"]["IsPublic"] is False
    broad = policy(statement("s3:GetObject", OBJECTS, {"Bool": {"aws:SecureTransport": "false"}}))
    assert denied(s3_client.put_bucket_policy, Bucket=BUCKET, Policy=broad)


# -- end to end: keys fakes3 knows without the request --------------------------------------------


def test_deny_without_secure_transport_blocks_everyone_including_the_owner(fakes3, s3_client, anon):
    """The S3 User Guide's "require HTTPS" policy: fakes3 serves plain HTTP, so it denies all."""
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:GetObject", OBJECTS, None),
        statement("s3:*", [f"arn:aws:s3:::{BUCKET}", OBJECTS],
                  {"Bool": {"aws:SecureTransport": "false"}}, effect="Deny")))
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")
    assert denied(s3_client.get_object, Bucket=BUCKET, Key="k")  # an explicit Deny binds the owner
    assert denied(s3_client.put_object, Bucket=BUCKET, Key="k", Body=b"y")
    assert denied(s3_client.list_objects_v2, Bucket=BUCKET)
    # ... who can still manage the policy, as on AWS.
    s3_client.delete_bucket_policy(Bucket=BUCKET)
    assert s3_client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_principal_account_and_null_principal_arn(fakes3, s3_client, anon, other):
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:GetObject", OBJECTS, {"StringEquals": {"aws:PrincipalAccount": "222222222222"}}),
        # anonymous callers have no aws:PrincipalArn: deny them outright
        statement("s3:GetObject", OBJECTS, {"Null": {"aws:PrincipalArn": "true"}}, effect="Deny")))
    assert other.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")
    assert s3_client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_existing_object_tag(fakes3, s3_client, anon):
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="open", Body=b"o", Tagging="classification=public")
    s3_client.put_object(Bucket=BUCKET, Key="secret", Body=b"s", Tagging="classification=secret")
    s3_client.put_object(Bucket=BUCKET, Key="untagged", Body=b"u")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(
        "s3:GetObject", OBJECTS, {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}})))
    assert anon.get_object(Bucket=BUCKET, Key="open")["Body"].read() == b"o"
    assert denied(anon.get_object, Bucket=BUCKET, Key="secret")
    assert denied(anon.get_object, Bucket=BUCKET, Key="untagged")


def test_delete_objects_honours_conditions(fakes3, s3_client, anon):
    public_bucket(s3_client)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:DeleteObject", OBJECTS, {"Null": {"aws:PrincipalArn": "true"}})))
    anon.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "a"}]})
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:DeleteObject", OBJECTS, {"Null": {"aws:PrincipalArn": "false"}})))
    assert denied(anon.delete_objects, Bucket=BUCKET, Delete={"Objects": [{"Key": "a"}]})


# -- end to end: keys from the request ------------------------------------------------------------


def test_source_ip(fakes3, s3_client, anon):
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:GetObject", OBJECTS, {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})))
    assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:GetObject", OBJECTS, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})))
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")


def test_list_bucket_limited_to_a_prefix(fakes3, s3_client, anon):
    public_bucket(s3_client)
    for key in ("home/a", "home/b", "private/c"):
        s3_client.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(
        "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"StringLike": {"s3:prefix": "home/*"}})))
    listed = anon.list_objects_v2(Bucket=BUCKET, Prefix="home/")
    assert [o["Key"] for o in listed["Contents"]] == ["home/a", "home/b"]
    assert anon.list_objects(Bucket=BUCKET, Prefix="home/a")["Contents"][0]["Key"] == "home/a"
    assert denied(anon.list_objects_v2, Bucket=BUCKET, Prefix="private/")
    assert denied(anon.list_objects_v2, Bucket=BUCKET)  # no prefix: s3:prefix is ""


def test_max_keys_and_delimiter(fakes3, s3_client, anon):
    public_bucket(s3_client)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(
        "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"NumericLessThanEquals": {"s3:max-keys": "10"},
                                                    "StringEquals": {"s3:delimiter": "/"}})))
    anon.list_objects_v2(Bucket=BUCKET, MaxKeys=10, Delimiter="/")
    assert denied(anon.list_objects_v2, Bucket=BUCKET, MaxKeys=11, Delimiter="/")
    assert denied(anon.list_objects_v2, Bucket=BUCKET, MaxKeys=5)


def test_deny_put_object_without_bucket_owner_full_control(fakes3, s3_client, other):
    public_bucket(s3_client)
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:PutObject", OBJECTS, None, principal={"AWS": "222222222222"}),
        statement("s3:PutObject", OBJECTS,
                  {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}, effect="Deny")))
    assert denied(other.put_object, Bucket=BUCKET, Key="k", Body=b"x")  # no header: not equal
    other.put_object(Bucket=BUCKET, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert s3_client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_date_conditions_follow_the_servers_clock():
    offset = [0.0]
    with FakeAWS(clock=lambda: time.time() + offset[0]) as aws:
        s3 = aws.client("s3")
        anon = aws.client("s3", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
        public_bucket(s3)
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
        until = dt.datetime.fromtimestamp(time.time() + 3600, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        s3.put_bucket_policy(Bucket=BUCKET, Policy=policy(
            statement("s3:GetObject", OBJECTS, {"DateLessThan": {"aws:CurrentTime": until}})))
        assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"
        offset[0] = 7200  # two hours later, by the server's clock
        assert denied(anon.get_object, Bucket=BUCKET, Key="k")


def client_sending(aws: FakeAWS, header: str, value: str) -> Any:
    """An unsigned client that adds a header to every request (as a browser adds Referer)."""
    client = aws.client("s3", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    def add(request: Any, **_: Any) -> None:
        request.headers[header] = value

    client.meta.events.register("before-send.s3", add)
    return client


def test_if_exists_referer(fakes3, s3_client, anon):
    """Allow when the Referer, if there is one, is the site's own (no Referer: allowed too)."""
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(
        "s3:GetObject", OBJECTS, {"StringLikeIfExists": {"aws:Referer": "https://example.com/*"}})))
    assert anon.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"
    assert denied(client_sending(fakes3, "Referer", "https://evil.example/").get_object,
                  Bucket=BUCKET, Key="k")
    site = client_sending(fakes3, "Referer", "https://example.com/page")
    assert site.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_deny_if_exists_applies_when_the_key_is_absent(fakes3, s3_client, anon):
    """...IfExists is true for a request without the key: a Deny with it denies such requests."""
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(
        statement("s3:GetObject", OBJECTS, None),
        statement("s3:GetObject", OBJECTS,
                  {"StringNotEqualsIfExists": {"aws:UserAgent": "trusted-agent"}}, effect="Deny")))
    assert denied(anon.get_object, Bucket=BUCKET, Key="k")  # boto3's own User-Agent
    trusted = client_sending(fakes3, "User-Agent", "trusted-agent")
    assert trusted.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_signature_version_and_auth_type(fakes3, s3_client, other):
    public_bucket(s3_client)
    s3_client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=policy(statement(
        "s3:GetObject", OBJECTS, {"StringEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256",
                                                   "s3:authType": "REST-HEADER"}},
        principal={"AWS": "222222222222"})))
    assert other.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"
