"""S3 Object Lock (fakes3/s3/object_lock.py): a version under retention or legal hold cannot be
deleted for good; GOVERNANCE yields to the owner's bypass header, COMPLIANCE and legal holds to
nothing; retention only grows. Real boto3 clients; the wordings are S3's ("Access Denied because
object protected by object lock." as the AWS CLI prints it against AWS; the others as S3-compatible
stores reproduce them)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from s3_callers import error_of

from fakes3 import FakeAWS

BUCKET = "lock-bkt"
PROTECTED = ("AccessDenied", 403, "Access Denied because object protected by object lock.")
DEFAULT_1_DAY = {"ObjectLockEnabled": "Enabled",
                 "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}


def later(seconds: float = 3600) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


@pytest.fixture
def s3(s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    return s3_client


def put(s3: Any, key: str = "k", **lock: Any) -> str:
    return str(s3.put_object(Bucket=BUCKET, Key=key, Body=b"v", **lock)["VersionId"])


def versions_of(s3: Any, key: str = "k") -> list[str]:
    return [v["VersionId"] for v in s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", [])]


# -- the bucket -----------------------------------------------------------------------------------


def test_a_bucket_created_with_object_lock_is_versioned_and_stays_so(s3: Any) -> None:
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"] == \
        {"ObjectLockEnabled": "Enabled"}
    code, status, message = error_of(s3.put_bucket_versioning, Bucket=BUCKET,
                                     VersioningConfiguration={"Status": "Suspended"})
    assert (code, status) == ("InvalidBucketState", 409) and "Object Lock" in message


def test_object_lock_on_an_existing_bucket_needs_versioning_first(s3_client: Any) -> None:
    s3_client.create_bucket(Bucket="plain-bkt")
    assert error_of(s3_client.get_object_lock_configuration, Bucket="plain-bkt")[:2] == \
        ("ObjectLockConfigurationNotFoundError", 404)
    code, status, _ = error_of(s3_client.put_object, Bucket="plain-bkt", Key="k", Body=b"v",
                               ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later())
    assert (code, status) == ("InvalidRequest", 400)
    assert s3_client.list_objects_v2(Bucket="plain-bkt")["KeyCount"] == 0
    enable = {"ObjectLockEnabled": "Enabled"}
    assert error_of(s3_client.put_object_lock_configuration, Bucket="plain-bkt",
                    ObjectLockConfiguration=enable)[:2] == ("InvalidBucketState", 409)
    s3_client.put_bucket_versioning(Bucket="plain-bkt", VersioningConfiguration={"Status": "Enabled"})
    s3_client.put_object_lock_configuration(Bucket="plain-bkt", ObjectLockConfiguration=enable)
    assert s3_client.get_object_lock_configuration(Bucket="plain-bkt")["ObjectLockConfiguration"] == enable


# -- retention ------------------------------------------------------------------------------------


def test_compliance_keeps_a_version_against_every_delete_of_it(s3: Any) -> None:
    version = put(s3, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later())
    head = s3.head_object(Bucket=BUCKET, Key="k")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] > later(3000)
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version) == PROTECTED
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version,
                    BypassGovernanceRetention=True) == PROTECTED
    # a delete without a version ID only hides it behind a delete marker
    assert s3.delete_object(Bucket=BUCKET, Key="k")["DeleteMarker"] is True
    assert versions_of(s3) == [version]
    assert s3.get_object(Bucket=BUCKET, Key="k", VersionId=version)["Body"].read() == b"v"


def test_governance_yields_to_the_owners_bypass_header(s3: Any) -> None:
    version = put(s3, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later())
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version) == PROTECTED
    s3.delete_object(Bucket=BUCKET, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert versions_of(s3) == []


def test_retention_only_grows_unless_governance_is_bypassed(s3: Any) -> None:
    compliance = put(s3, "c", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later(3600))
    for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": later(60)},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": later(7200)}):
        assert error_of(s3.put_object_retention, Bucket=BUCKET, Key="c", VersionId=compliance,
                        Retention=retention, BypassGovernanceRetention=True) == PROTECTED
    s3.put_object_retention(Bucket=BUCKET, Key="c", VersionId=compliance,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(7200)})
    assert s3.get_object_retention(Bucket=BUCKET, Key="c")["Retention"]["RetainUntilDate"] > later(7000)

    governance = put(s3, "g", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later(3600))
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": later(60)}
    assert error_of(s3.put_object_retention, Bucket=BUCKET, Key="g", VersionId=governance,
                    Retention=shorter) == PROTECTED
    s3.put_object_retention(Bucket=BUCKET, Key="g", VersionId=governance, Retention=shorter,
                            BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=BUCKET, Key="g")["Retention"]["RetainUntilDate"] < later(120)


def test_a_retention_that_has_passed_protects_nothing() -> None:
    now = [time.time()]
    with FakeAWS(clock=lambda: now[0], imds=False) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        version = put(s3, ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=dt.datetime.fromtimestamp(now[0] + 60, dt.UTC))
        assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version) == PROTECTED
        now[0] += 120  # within SigV4's 15 minutes of skew: boto3 still signs with the real time
        s3.delete_object(Bucket=BUCKET, Key="k", VersionId=version)
        assert versions_of(s3) == []


def test_the_buckets_default_retention_locks_new_versions(s3: Any) -> None:
    s3.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration=DEFAULT_1_DAY)
    assert s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]["Rule"] == \
        {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    version = put(s3)
    retention = s3.get_object_retention(Bucket=BUCKET, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert later(86_000) < retention["RetainUntilDate"] < later(86_500)
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version) == PROTECTED
    # the request's own retention wins over the default
    own = put(s3, "own", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later(60))
    assert s3.get_object_retention(Bucket=BUCKET, Key="own", VersionId=own)["Retention"]["Mode"] == \
        "COMPLIANCE"


@pytest.mark.parametrize(("lock", "code"), [
    ({"ObjectLockMode": "GOVERNANCE"}, "InvalidArgument"),
    ({"ObjectLockRetainUntilDate": later()}, "InvalidArgument"),
    ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": later(-60)}, "InvalidArgument"),
    ({"ObjectLockMode": "FOREVER", "ObjectLockRetainUntilDate": later()}, "InvalidArgument"),
    ({"ObjectLockLegalHoldStatus": "MAYBE"}, "InvalidArgument"),
])
def test_lock_headers_that_do_not_fit_are_refused_and_nothing_is_written(
        s3: Any, lock: dict[str, Any], code: str) -> None:
    assert error_of(s3.put_object, Bucket=BUCKET, Key="k", Body=b"v", **lock)[:2] == (code, 400)
    assert versions_of(s3) == []


@pytest.mark.parametrize("retention", [{"Mode": "GOVERNANCE", "Days": 1, "Years": 1},
                                       {"Mode": "GOVERNANCE"}, {"Days": 1}])
def test_a_default_retention_needs_a_mode_and_one_period(s3: Any, retention: dict[str, Any]) -> None:
    assert error_of(s3.put_object_lock_configuration, Bucket=BUCKET, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}})[:2] == \
        ("MalformedXML", 400)


def test_a_default_retention_period_is_positive(s3: Any) -> None:
    assert error_of(s3.put_object_lock_configuration, Bucket=BUCKET, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 0}}}
    )[:2] == ("InvalidArgument", 400)


# -- legal hold -----------------------------------------------------------------------------------


def test_a_legal_hold_keeps_a_version_until_it_is_lifted(s3: Any) -> None:
    version = put(s3)
    assert error_of(s3.get_object_legal_hold, Bucket=BUCKET, Key="k")[:2] == \
        ("NoSuchObjectLockConfiguration", 404)
    assert error_of(s3.get_object_retention, Bucket=BUCKET, Key="k")[:2] == \
        ("NoSuchObjectLockConfiguration", 404)
    s3.put_object_legal_hold(Bucket=BUCKET, Key="k", VersionId=version, LegalHold={"Status": "ON"})
    assert s3.head_object(Bucket=BUCKET, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version,
                    BypassGovernanceRetention=True) == PROTECTED
    s3.put_object_legal_hold(Bucket=BUCKET, Key="k", VersionId=version, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=BUCKET, Key="k")["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=BUCKET, Key="k", VersionId=version)
    assert versions_of(s3) == []


def test_delete_objects_reports_each_protected_version_and_deletes_the_rest(s3: Any) -> None:
    locked = put(s3, "locked", ObjectLockLegalHoldStatus="ON")
    free = put(s3, "free")
    out = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "locked", "VersionId": locked}, {"Key": "free", "VersionId": free}]})
    assert out["Deleted"] == [{"Key": "free", "VersionId": free}]
    assert [(e["Key"], e["Code"], e["Message"]) for e in out["Errors"]] == \
        [("locked", PROTECTED[0], PROTECTED[2])]
    assert versions_of(s3, "locked") == [locked]


# -- copies and multipart uploads -----------------------------------------------------------------


def test_a_copy_gets_the_requests_lock_not_its_sources(s3: Any) -> None:
    put(s3, "src", ObjectLockLegalHoldStatus="ON")
    copy = s3.copy_object(Bucket=BUCKET, Key="dst", CopySource=f"{BUCKET}/src")["VersionId"]
    s3.delete_object(Bucket=BUCKET, Key="dst", VersionId=copy)  # nothing protects the copy
    s3.copy_object(Bucket=BUCKET, Key="dst", CopySource=f"{BUCKET}/src",
                   ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later())
    assert s3.head_object(Bucket=BUCKET, Key="dst")["ObjectLockMode"] == "COMPLIANCE"


def test_a_multipart_upload_locks_the_object_it_completes(s3: Any) -> None:
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="m", ObjectLockMode="GOVERNANCE",
                                        ObjectLockRetainUntilDate=later())["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="m", UploadId=upload, PartNumber=1, Body=b"p")
    version = s3.complete_multipart_upload(Bucket=BUCKET, Key="m", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["VersionId"]
    assert error_of(s3.delete_object, Bucket=BUCKET, Key="m", VersionId=version) == PROTECTED


# -- data dirs ------------------------------------------------------------------------------------


def test_locks_survive_a_restart(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        version = put(s3, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later())
        s3.create_bucket(Bucket="later-bkt")  # Object Lock configured after the bucket was made
        s3.put_bucket_versioning(Bucket="later-bkt", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object_lock_configuration(Bucket="later-bkt", ObjectLockConfiguration=DEFAULT_1_DAY)
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        s3 = aws.client()
        assert s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"] == \
            {"ObjectLockEnabled": "Enabled"}
        assert s3.get_object_lock_configuration(Bucket="later-bkt")["ObjectLockConfiguration"] == \
            DEFAULT_1_DAY
        assert error_of(s3.delete_object, Bucket=BUCKET, Key="k", VersionId=version) == PROTECTED
        assert s3.get_object_retention(Bucket=BUCKET, Key="k")["Retention"]["Mode"] == "COMPLIANCE"
