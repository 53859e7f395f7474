"""S3 Lifecycle (fakes3/s3/lifecycle.py, lifecycle_rules.py): configurations checked as S3 checks
them, and their rules acted on when asked, on the server's clock.

Sources (see lifecycle_rules.py's docstring for which behaviour comes from which):
- AWS: API_PutBucketLifecycleConfiguration, API_GetBucketLifecycleConfiguration,
  API_DeleteBucketLifecycle, API_LifecycleRule, API_LifecycleRuleFilter, API_LifecycleExpiration,
  API_NoncurrentVersionExpiration, API_Transition, ErrorResponses; user guide pages
  intro-lifecycle-rules ("rounding up the resulting time to the next day at midnight UTC",
  1/15/2014 10:30 + 3 days = 1/19/2014 00:00), intro-lifecycle-filters,
  lifecycle-expire-general-considerations, troubleshoot-lifecycle (created 00:05 Jan 2, 1 day:
  eligible at 00:00 Jan 4), mpu-abort-incomplete-mpu-lifecycle-config.
- ceph s3-tests (s3tests/functional/test_s3.py): test_lifecycle_get_no_id (an ID is made),
  test_lifecycle_id_too_long / _same_id / _expiration_days0 (InvalidArgument),
  test_lifecycle_invalid_status (MalformedXML), test_lifecycle_delete (404, then 204).
- S3's answers recorded by others: LocalStack's AWS-validated TestS3BucketLifecycle snapshots
  (ExpiredObjectDeleteMarker with Days, two predicates in a Filter: MalformedXML; the transition
  default minimum size header), terraform-provider-aws #35328 (NoncurrentDays 0), #23299 and
  ansible #53751 (V1/V2 mixes), terraform-aws-modules/s3-bucket #109 (abort with tags),
  cfn-lint #3554 and cloudposse/s3-bucket #137 (object size), noobaa-core #8628 (ID length),
  pingcap/tiflash #9889 (duplicate IDs), schubergphilis/mcaf-s3 #46 (a rule with no action),
  zenn.dev/thaim (STANDARD_IA and ONEZONE_IA at 30 days), CDK and Terraform users quoting
  "'Days' in the Expiration action for filter '(prefix=)' must be greater than 'Days' in the
  Transition action".

Sweeps run on a FakeAWS of their own with ``auth="open"``, so the clock can move days without
SigV4's 15-minute skew check refusing the requests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_callers import error_of

from fakes3 import FakeAWS
from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import lifecycle, versioning
from fakes3.s3.lifecycle_rules import due

BUCKET = "lifecycle-bkt"
UTC = dt.UTC
# 15 January 2026, 10:30 UTC: the user guide's example time of day.
START = dt.datetime(2026, 1, 15, 10, 30, tzinfo=UTC)
NOTHING = {"expired": 0, "delete_markers_removed": 0, "noncurrent_versions_removed": 0,
           "uploads_aborted": 0, "refused": 0}


def counts(**taken: int) -> dict[str, int]:
    return {**NOTHING, **taken}


def rule(**members: Any) -> dict[str, Any]:
    return {"Status": "Enabled", "Filter": {}, **members}


# -- configurations, through the session server -------------------------------------------------


@pytest.fixture
def s3(s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


def put(s3: Any, *rules: dict[str, Any], bucket: str = BUCKET, **extra: Any) -> Any:
    return s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)}, **extra)


def test_a_configuration_reads_back_as_put_with_ids_made_for_rules_without_one(s3: Any) -> None:
    answer = put(s3,
                 rule(ID="logs", Filter={"Prefix": "logs/"}, Expiration={"Days": 365},
                      Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"},
                                   {"Days": 60, "StorageClass": "GLACIER"}],
                      Status="Disabled"),
                 rule(Filter={"And": {"Prefix": "tmp/", "Tags": [{"Key": "k", "Value": "v"}],
                                      "ObjectSizeGreaterThan": 10}},
                      NoncurrentVersionExpiration={"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}),
                 rule(Expiration={"Date": dt.datetime(2099, 11, 10, tzinfo=UTC)},
                      AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7}))
    assert answer["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    logs, tagged, dated = got["Rules"]
    assert logs == {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Disabled",
                    "Expiration": {"Days": 365},
                    "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                                    {"Days": 60, "StorageClass": "GLACIER"}]}
    assert tagged["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert tagged["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}
    assert dated["Expiration"]["Date"] == dt.datetime(2099, 11, 10, tzinfo=UTC)
    for made in (tagged["ID"], dated["ID"]):  # 48 characters of base64 holding a UUID, as S3's
        assert len(made) == 48
        uuid.UUID(base64.b64decode(made).decode())
    assert tagged["ID"] != dated["ID"]


def test_a_lifecycle_v1_rule_keeps_its_prefix_and_a_put_replaces_the_whole_configuration(
        s3: Any) -> None:
    put(s3, {"ID": "old", "Prefix": "a/", "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "old2", "Prefix": "b/", "Status": "Enabled", "Expiration": {"Days": 1}})
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]] \
        == ["old", "old2"]
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]["Prefix"] == "a/"
    put(s3, rule(ID="new", Expiration={"ExpiredObjectDeleteMarker": True}))
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [
        {"ID": "new", "Filter": {}, "Status": "Enabled",
         "Expiration": {"ExpiredObjectDeleteMarker": True}}]


def test_no_configuration_is_404_and_delete_is_204_with_or_without_one(s3: Any) -> None:
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=BUCKET) == (
        "NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist")
    assert s3.delete_bucket_lifecycle(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 204
    put(s3, rule(Expiration={"Days": 1}))
    assert s3.delete_bucket_lifecycle(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=BUCKET)[0] \
        == "NoSuchLifecycleConfiguration"
    assert error_of(put, s3, rule(Expiration={"Days": 1}), bucket="no-such-bkt")[0] == "NoSuchBucket"


def test_the_transition_default_minimum_object_size_is_kept_and_checked(s3: Any) -> None:
    answer = put(s3, rule(Expiration={"Days": 1}),
                 TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert answer["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)[
        "TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert error_of(put, s3, rule(Expiration={"Days": 1}),
                    TransitionDefaultMinimumObjectSize="all_of_them") == (
        "InvalidRequest", 400, "Invalid TransitionDefaultMinimumObjectSize found: all_of_them")


def test_up_to_1000_rules(s3: Any) -> None:
    many = [rule(ID=f"r{i}", Filter={"Prefix": f"p{i}/"}, Expiration={"Days": 1})
            for i in range(1001)]
    assert error_of(put, s3, *many) == (
        "InvalidRequest", 400,
        "The number of lifecycle rules must not exceed the allowed limit of 1000 rules.")
    put(s3, *many[:1000])
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]) == 1000
    assert error_of(put, s3) == ("InvalidRequest", 400,
                                 "At least one lifecycle rule must be specified.")


V1 = {"Prefix": "a/", "Status": "Enabled", "Expiration": {"Days": 1}}
REFUSED = [
    # (rules, code, the message's start)
    ([rule(ID="x" * 256, Expiration={"Days": 1})], "InvalidArgument",
     "ID length should not exceed allowed limit of 255"),
    ([rule(ID="same", Expiration={"Days": 1}), rule(ID="same", Expiration={"Days": 2})],
     "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"),
    ([rule(Status="enabled", Expiration={"Days": 1})], "MalformedXML", "The XML you provided"),
    ([{"Status": "Enabled", "Expiration": {"Days": 1}}], "MalformedXML", "The XML you provided"),
    ([rule()], "InvalidRequest", "At least one action needs to be specified in a rule"),
    ([rule(Expiration={"Days": 0})], "InvalidArgument",
     "'Days' for Expiration action must be a positive integer"),
    ([rule(Expiration={"Date": dt.datetime(2099, 1, 1, 12, tzinfo=UTC)})], "InvalidArgument",
     "'Date' must be at midnight GMT"),
    ([rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})], "MalformedXML",
     "The XML you provided"),
    ([rule(Expiration={"Days": 1, "Date": dt.datetime(2099, 1, 1, tzinfo=UTC)})], "MalformedXML",
     "The XML you provided"),
    ([rule(Expiration={})], "MalformedXML", "The XML you provided"),
    ([rule(Filter={"Tag": {"Key": "k", "Value": "v"}},
           Expiration={"ExpiredObjectDeleteMarker": True})], "InvalidRequest",
     "ExpiredObjectDeleteMarker cannot be specified with Tags."),
    ([rule(Filter={"ObjectSizeLessThan": 10}, Expiration={"ExpiredObjectDeleteMarker": False})],
     "InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Object Size."),
    ([rule(Filter={"Tag": {"Key": "k", "Value": "v"}},
           AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})], "InvalidRequest",
     "AbortIncompleteMultipartUpload cannot be specified with Tags."),
    ([rule(Filter={"ObjectSizeGreaterThan": 10},
           AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})], "InvalidRequest",
     "AbortIncompleteMultipartUpload cannot be specified with Object Size."),
    ([rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})], "InvalidArgument",
     "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"),
    ([rule(NoncurrentVersionExpiration={"NoncurrentDays": 0})], "InvalidArgument",
     "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"),
    ([rule(NoncurrentVersionExpiration={"NewerNoncurrentVersions": 3})], "MalformedXML",
     "The XML you provided"),
    ([{**V1, "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}}],
     "InvalidRequest", "NewerNoncurrentVersions element can only be used in Lifecycle V2."),
    ([V1, rule(Expiration={"Days": 1})], "InvalidRequest",
     "Filter element can only be used in Lifecycle V2."),
    ([rule(Expiration={"Days": 1}), {**V1, "Prefix": "b/"}], "InvalidRequest",
     "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."),
    ([{**V1, "ID": "1"}, {**V1, "ID": "2", "Prefix": "a/b"}], "InvalidRequest",
     "Found overlapping prefixes 'a/' and 'a/b' for same action type 'Expiration'"),
    ([rule(Filter={"Prefix": "a/", "ObjectSizeGreaterThan": 1}, Expiration={"Days": 1})],
     "MalformedXML", "The XML you provided"),
    ([rule(Filter={"And": {"Prefix": "a/"}}, Expiration={"Days": 1})], "MalformedXML",
     "The XML you provided"),
    ([rule(Filter={"And": {"Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}},
           Expiration={"Days": 1})], "InvalidRequest", "Duplicate Tag Keys are not allowed."),
    ([rule(Filter={"ObjectSizeLessThan": 0}, Expiration={"Days": 1})], "InvalidRequest",
     "'ObjectSizeLessThan' should be between 1 and 1099511627776000."),
    ([rule(Filter={"And": {"ObjectSizeGreaterThan": 5, "ObjectSizeLessThan": 5}},
           Expiration={"Days": 1})], "InvalidRequest",
     "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."),
    ([rule(Transitions=[{"Days": 29, "StorageClass": "STANDARD_IA"}])], "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass "
     "'STANDARD_IA'"),
    ([rule(Transitions=[{"Days": 0, "StorageClass": "ONEZONE_IA"}])], "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass "
     "'ONEZONE_IA'"),
    ([rule(Filter={"Prefix": "logs/"}, Expiration={"Days": 30},
           Transitions=[{"Days": 30, "StorageClass": "GLACIER"}])], "InvalidArgument",
     "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than 'Days' in "
     "the Transition action"),
    ([rule(Transitions=[{"Days": 1, "StorageClass": "GLACIER"},
                        {"Days": 2, "StorageClass": "GLACIER"}])], "InvalidArgument",
     "'StorageClass' must be different for 'Transition' actions in same 'Rule'"),
    ([rule(Expiration={"Date": dt.datetime(2099, 1, 1, tzinfo=UTC)},
           Transitions=[{"Days": 1, "StorageClass": "GLACIER"}])], "InvalidRequest",
     "Found mixed 'Date' and 'Days' based Expiration and Transition actions"),
    ([rule(Transitions=[{"StorageClass": "GLACIER"}])], "MalformedXML", "The XML you provided"),
    ([rule(Transitions=[{"Days": 1, "StorageClass": "REDUCED_REDUNDANCY"}])], "MalformedXML",
     "The XML you provided"),
    ([rule(NoncurrentVersionTransitions=[{"NoncurrentDays": 10, "StorageClass": "STANDARD_IA"}])],
     "InvalidArgument", "'NoncurrentDays' in NoncurrentVersionTransition action must be greater "
     "than or equal to 30 for storageClass 'STANDARD_IA'"),
]


@pytest.mark.parametrize(("rules", "code", "message"), REFUSED,
                         ids=[f"{i}-{m[:40]}" for i, (_, _, m) in enumerate(REFUSED)])
def test_configurations_s3_refuses(s3: Any, rules: list[dict[str, Any]], code: str,
                                   message: str) -> None:
    got_code, status, got_message = error_of(put, s3, *rules)
    assert (got_code, status) == (code, 400)
    assert got_message.startswith(message), got_message
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=BUCKET)[0] \
        == "NoSuchLifecycleConfiguration"


def test_configurations_s3_accepts(s3: Any) -> None:
    put(s3,
        rule(ID="0", Transitions=[{"Days": 0, "StorageClass": "GLACIER_IR"}]),  # 0 is allowed
        rule(ID="and-of-empty-prefix", Filter={"And": {"Prefix": "", "ObjectSizeLessThan": 5}},
             Expiration={"Days": 1}),
        rule(ID="two-tags", Filter={"And": {"Tags": [{"Key": "a", "Value": "1"},
                                                     {"Key": "b", "Value": ""}]}},
             Expiration={"Days": 1}),
        rule(ID="500-newer", NoncurrentVersionExpiration={"NoncurrentDays": 40,
                                                           "NewerNoncurrentVersions": 500},
             NoncurrentVersionTransitions=[{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}]),
        rule(ID="overlap-in-v2", Filter={"Prefix": "a"}, Expiration={"Days": 2}))
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]) == 5


# -- acting on the rules ----------------------------------------------------------------------------


class Clock:
    """The server's clock, moved by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now.timestamp()

    def at(self, when: dt.datetime) -> None:
        self.now = when


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def aws(clock: Clock) -> Iterator[FakeAWS]:
    with FakeAWS(clock=clock, auth="open", imds=False) as fake:
        yield fake


@pytest.fixture
def c(aws: FakeAWS) -> Any:
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def keys(client: Any) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def versions(client: Any, key: str) -> list[tuple[str, bool]]:
    """(version ID, is a delete marker), newest first."""
    listed = client.list_object_versions(Bucket=BUCKET, Prefix=key)
    out = [(v["VersionId"], False, v["LastModified"]) for v in listed.get("Versions", [])]
    out += [(m["VersionId"], True, m["LastModified"]) for m in listed.get("DeleteMarkers", [])]
    return [(vid, marker) for vid, marker, _ in sorted(out, key=lambda v: v[2], reverse=True)]


def midnight(day: int) -> dt.datetime:
    """00:00 UTC on ``day`` January 2026."""
    return dt.datetime(2026, 1, day, tzinfo=UTC)


def test_an_action_falls_due_at_the_midnight_after_its_days_have_passed() -> None:
    assert due(START, 3) == midnight(19)  # the user guide's 1/15 10:30 + 3 days
    assert due(dt.datetime(2026, 1, 2, 0, 5, tzinfo=UTC), 1) == midnight(4)  # troubleshooting page
    assert due(midnight(15), 1) == midnight(17)  # at midnight already: the next one (as MinIO)


def test_expiration_removes_an_unversioned_object_at_the_midnight_it_falls_due(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_object(Bucket=BUCKET, Key="logs/a", Body=b"x")
    c.put_object(Bucket=BUCKET, Key="data/a", Body=b"x")
    put(c, rule(ID="logs", Filter={"Prefix": "logs/"}, Expiration={"Days": 1}))
    assert aws.s3.apply_lifecycle() == NOTHING
    clock.at(midnight(17) - dt.timedelta(seconds=1))
    assert aws.s3.apply_lifecycle() == NOTHING
    assert keys(c) == ["data/a", "logs/a"]  # due, not yet: still read
    clock.at(midnight(17))
    assert aws.s3.apply_lifecycle() == counts(expired=1)
    assert keys(c) == ["data/a"]
    assert aws.s3.apply_lifecycle() == NOTHING


def test_a_dated_expiration_applies_to_every_object_it_matches_from_that_date_on(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    put(c, rule(Filter={"Prefix": "tmp/"}, Expiration={"Date": midnight(20)}))
    c.put_object(Bucket=BUCKET, Key="tmp/old", Body=b"x")
    clock.at(midnight(19))
    assert aws.s3.apply_lifecycle() == NOTHING
    clock.at(midnight(21))
    c.put_object(Bucket=BUCKET, Key="tmp/new", Body=b"x")  # written after the date: goes too
    assert aws.s3.apply_lifecycle() == counts(expired=2)
    assert keys(c) == []


def test_in_a_versioned_bucket_expiration_adds_a_marker_then_the_rules_clean_up_behind_it(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = c.put_object(Bucket=BUCKET, Key="k", Body=b"x")["VersionId"]
    put(c, rule(ID="expire", Expiration={"Days": 1},
                NoncurrentVersionExpiration={"NoncurrentDays": 2}),
        rule(ID="markers", Expiration={"ExpiredObjectDeleteMarker": True}))
    clock.at(midnight(17))
    assert aws.s3.apply_lifecycle() == counts(expired=1)
    [(marker, is_marker), (kept, kept_is_marker)] = versions(c, "k")
    assert (is_marker, kept, kept_is_marker) == (True, first, False)
    assert aws.s3.apply_lifecycle() == NOTHING  # a marker in front of a version: nothing to do
    clock.at(midnight(19) + dt.timedelta(days=1))  # noncurrent since the 17th, 00:00: due the 20th
    assert aws.s3.apply_lifecycle() == counts(noncurrent_versions_removed=1)
    assert versions(c, "k") == [(marker, True)]
    assert aws.s3.apply_lifecycle() == counts(delete_markers_removed=1)  # now the only version
    assert versions(c, "k") == []


def test_a_lone_delete_marker_goes_once_a_days_expiration_is_old_enough_for_it(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    c.delete_object(Bucket=BUCKET, Key="gone")  # a marker with nothing behind it
    put(c, rule(Expiration={"Days": 3}))
    clock.at(midnight(18))
    assert aws.s3.apply_lifecycle() == NOTHING
    clock.at(midnight(19))
    assert aws.s3.apply_lifecycle() == counts(delete_markers_removed=1)


def test_expiration_in_a_suspended_bucket_replaces_the_null_version_with_a_null_marker(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    c.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    put(c, rule(Expiration={"Days": 1}))
    clock.at(midnight(17))
    assert aws.s3.apply_lifecycle() == counts(expired=1)
    assert versions(c, "k") == [("null", True)]


def test_newer_noncurrent_versions_are_kept_and_older_ones_go_once_old_enough(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    written = []
    for day in range(5):  # one version a day, 10:30 on the 15th to the 19th
        clock.at(START + dt.timedelta(days=day))
        written.append(c.put_object(Bucket=BUCKET, Key="k", Body=b"%d" % day)["VersionId"])
    put(c, rule(NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}))
    clock.at(midnight(30))
    assert aws.s3.apply_lifecycle() == counts(noncurrent_versions_removed=2)
    assert [vid for vid, _ in versions(c, "k")] == written[:1:-1]  # current + the 2 newest
    assert aws.s3.apply_lifecycle() == NOTHING


def test_noncurrent_days_count_from_when_the_next_version_was_written(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket=BUCKET, Key="k", Body=b"old")
    clock.at(midnight(20) + dt.timedelta(hours=11, minutes=30))  # noncurrent from the 20th 11:30
    c.put_object(Bucket=BUCKET, Key="k", Body=b"new")
    put(c, rule(NoncurrentVersionExpiration={"NoncurrentDays": 5}))
    clock.at(midnight(26) - dt.timedelta(seconds=1))
    assert aws.s3.apply_lifecycle() == NOTHING
    clock.at(midnight(26))
    assert aws.s3.apply_lifecycle() == counts(noncurrent_versions_removed=1)
    assert c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"new"


def test_filters_match_prefix_tags_and_sizes_with_exclusive_bounds(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    objects = {"p/tagged": (b"x" * 5, "team=a&keep=no"), "p/other-tag": (b"x" * 5, "team=b"),
               "q/tagged": (b"x" * 5, "team=a"), "small": (b"x" * 10, ""),
               "edge": (b"x" * 20, ""), "large": (b"x" * 21, "")}
    for key, (body, tagging) in objects.items():
        c.put_object(Bucket=BUCKET, Key=key, Body=body, Tagging=tagging)
    put(c, rule(ID="tags", Filter={"And": {"Prefix": "p/", "Tags": [{"Key": "team",
                                                                     "Value": "a"}]}},
                Expiration={"Days": 1}),
        rule(ID="sizes", Filter={"And": {"ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 21}},
             Expiration={"Days": 1}),
        rule(ID="off", Status="Disabled", Filter={"Prefix": "large"}, Expiration={"Days": 1}))
    clock.at(midnight(20))
    assert aws.s3.apply_lifecycle() == counts(expired=2)
    assert sorted(keys(c)) == ["large", "p/other-tag", "q/tagged", "small"]


def test_incomplete_multipart_uploads_are_aborted_days_after_they_began(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.create_multipart_upload(Bucket=BUCKET, Key="logs/big")
    c.create_multipart_upload(Bucket=BUCKET, Key="data/big")
    put(c, rule(Filter={"Prefix": "logs/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}))
    clock.at(midnight(17))
    assert aws.s3.apply_lifecycle() == NOTHING
    clock.at(midnight(18))
    assert aws.s3.apply_lifecycle() == counts(uploads_aborted=1)
    assert [u["Key"] for u in c.list_multipart_uploads(Bucket=BUCKET)["Uploads"]] == ["data/big"]


def test_an_upload_says_when_a_rule_will_abort_it(c: Any) -> None:
    """x-amz-abort-date and x-amz-abort-rule-id on CreateMultipartUpload and ListParts
    (API_CreateMultipartUpload): the earliest matching AbortIncompleteMultipartUpload rule."""
    put(c, rule(ID="logs", Filter={"Prefix": "logs/"},
                AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}),
        rule(ID="all", Filter={}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7}))
    logs = c.create_multipart_upload(Bucket=BUCKET, Key="logs/big")
    assert (logs["AbortDate"], logs["AbortRuleId"]) == (midnight(18), "logs")
    parts = c.list_parts(Bucket=BUCKET, Key="logs/big", UploadId=logs["UploadId"])
    assert (parts["AbortDate"], parts["AbortRuleId"]) == (midnight(18), "logs")
    other = c.create_multipart_upload(Bucket=BUCKET, Key="data/big")
    assert (other["AbortDate"], other["AbortRuleId"]) == (midnight(23), "all")
    c.delete_bucket_lifecycle(Bucket=BUCKET)
    assert "AbortDate" not in c.create_multipart_upload(Bucket=BUCKET, Key="logs/more")


def test_a_write_after_the_sweep_read_the_key_wins(aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_object(Bucket=BUCKET, Key="k", Body=b"old")
    bucket = aws.s3.store.bucket(BUCKET)
    seen = list(bucket.history("k"))  # the sweep has read the key ...
    c.put_object(Bucket=BUCKET, Key="k", Body=b"new")  # ... a client writes it again
    taken = dict(NOTHING)
    ctx = RequestContext("test", now=midnight(20))
    lifecycle._expire_current(bucket, "k", seen, ctx, taken)
    lifecycle._delete_version(bucket, "k", seen[0], seen, ctx, taken, "noncurrent_versions_removed")
    assert taken == NOTHING
    assert c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"new"


def test_object_lock_keeps_a_protected_version_and_the_refusal_is_counted(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.create_bucket(Bucket="vault", ObjectLockEnabledForBucket=True)
    held = c.put_object(Bucket="vault", Key="k", Body=b"1", ObjectLockLegalHoldStatus="ON")
    free = c.put_object(Bucket="vault", Key="k", Body=b"2")
    c.put_object(Bucket="vault", Key="k", Body=b"3")
    put(c, rule(NoncurrentVersionExpiration={"NoncurrentDays": 1}), bucket="vault")
    clock.at(midnight(25))
    assert aws.s3.apply_lifecycle() == counts(noncurrent_versions_removed=1, refused=1)
    left = [v["VersionId"] for v in c.list_object_versions(Bucket="vault")["Versions"]]
    assert held["VersionId"] in left and free["VersionId"] not in left and len(left) == 2


def test_a_deletion_refused_with_any_s3_error_keeps_the_version(
        aws: FakeAWS, c: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket=BUCKET, Key="k", Body=b"1")
    put(c, rule(Expiration={"Days": 1}))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise S3Error("AccessDenied", "Access Denied", 403)

    monkeypatch.setattr(versioning, "delete", refuse)
    clock.at(midnight(25))
    assert aws.s3.apply_lifecycle() == counts(refused=1)
    assert keys(c) == ["k"]


def test_the_control_plane_applies_the_rules_for_clients_in_any_language(
        aws: FakeAWS, c: Any, clock: Clock) -> None:
    c.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    put(c, rule(Expiration={"Days": 1}))
    clock.at(midnight(17))
    request = urllib.request.Request(f"{aws.endpoint_url}/_fakes3/s3/apply-lifecycle", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.load(response) == counts(expired=1)
    assert keys(c) == []


def test_a_put_without_content_md5_or_a_checksum_is_refused(aws: FakeAWS, c: Any) -> None:
    body = (b"<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status>"
            b"<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>")
    request = urllib.request.Request(f"{aws.endpoint_url}/{BUCKET}?lifecycle", data=body,
                                     method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    answer = refused.value.read().decode()
    assert "<Code>InvalidRequest</Code>" in answer and "Content-MD5" in answer


def test_the_configuration_and_a_sweeps_work_are_kept_across_a_restart(
        tmp_path: Path, clock: Clock) -> None:
    with FakeAWS(clock=clock, auth="open", imds=False, data_dir=tmp_path) as fake:
        client = fake.client("s3")
        client.create_bucket(Bucket=BUCKET)
        client.put_object(Bucket=BUCKET, Key="old", Body=b"x")
        put(client, rule(ID="one-day", Expiration={"Days": 1}),
            TransitionDefaultMinimumObjectSize="varies_by_storage_class")
        clock.at(midnight(17))
        client.put_object(Bucket=BUCKET, Key="new", Body=b"x")
        assert fake.s3.apply_lifecycle() == counts(expired=1)
    with FakeAWS(clock=clock, auth="open", imds=False, data_dir=tmp_path) as fake:
        client = fake.client("s3")
        got = client.get_bucket_lifecycle_configuration(Bucket=BUCKET)
        assert [r["ID"] for r in got["Rules"]] == ["one-day"]
        assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
        assert keys(client) == ["new"]
        clock.at(midnight(19))
        assert fake.s3.apply_lifecycle() == counts(expired=1)


def test_x_amz_expiration_is_offered_for_the_earliest_matching_rule(
        aws: FakeAWS, c: Any) -> None:
    c.put_object(Bucket=BUCKET, Key="logs/a", Body=b"x")
    put(c, rule(ID="ten", Expiration={"Days": 10}),
        rule(ID="three days", Filter={"Prefix": "logs/"}, Expiration={"Days": 3}))
    expected = 'expiry-date="Mon, 19 Jan 2026 00:00:00 GMT", rule-id="three days"'
    assert c.head_object(Bucket=BUCKET, Key="logs/a")["Expiration"] == expected
    assert c.get_object(Bucket=BUCKET, Key="logs/a")["Expiration"] == expected
    assert c.put_object(Bucket=BUCKET, Key="other", Body=b"x")["Expiration"].endswith('rule-id="ten"')
    c.delete_bucket_lifecycle(Bucket=BUCKET)
    assert "Expiration" not in c.head_object(Bucket=BUCKET, Key="logs/a")
