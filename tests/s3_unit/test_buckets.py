"""CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation."""

from __future__ import annotations

import pytest

from .helpers import NOW, error_of, make_ctx


def test_create_returns_location_and_head_reports_region(call):
    assert call("CreateBucket", Bucket="my-bucket") == {"Location": "/my-bucket"}
    assert call("HeadBucket", Bucket="my-bucket")["BucketRegion"] == "us-east-1"
    assert call("GetBucketLocation", Bucket="my-bucket") == {"LocationConstraint": None}


def test_location_constraint_is_stored(call):
    call(
        "CreateBucket", Bucket="euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    assert call("GetBucketLocation", Bucket="euro") == {"LocationConstraint": "eu-west-2"}
    assert call("HeadBucket", Bucket="euro")["BucketRegion"] == "eu-west-2"
    call("CreateBucket", Bucket="legacy", CreateBucketConfiguration={"LocationConstraint": "EU"})
    assert call("GetBucketLocation", Bucket="legacy") == {"LocationConstraint": "EU"}
    assert call("HeadBucket", Bucket="legacy")["BucketRegion"] == "eu-west-1"


def test_regional_endpoint_defaults_to_its_region_and_refuses_others(call):
    ctx = make_ctx(region="eu-west-2")
    call("CreateBucket", ctx=ctx, Bucket="nocfg")  # no constraint: the request's region
    assert call("HeadBucket", Bucket="nocfg")["BucketRegion"] == "eu-west-2"
    assert call("GetBucketLocation", Bucket="nocfg") == {"LocationConstraint": "eu-west-2"}
    err = error_of(
        lambda: call(
            "CreateBucket",
            ctx=ctx,
            Bucket="other",
            CreateBucketConfiguration={"LocationConstraint": "us-west-2"},
        )
    )
    assert (err.code, err.status) == ("IllegalLocationConstraintException", 400)
    call(
        "CreateBucket",
        ctx=ctx,
        Bucket="okay",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-2"},
    )


@pytest.mark.parametrize("constraint", ["us-east-1", "mars-1", "Not A Region"])
def test_invalid_location_constraint(call, constraint):
    err = error_of(
        lambda: call(
            "CreateBucket",
            Bucket="b-x",
            CreateBucketConfiguration={"LocationConstraint": constraint},
        )
    )
    assert (err.code, err.status) == ("InvalidLocationConstraint", 400)


def test_recreate_in_us_east_1_is_ok_elsewhere_already_owned(call):
    call("CreateBucket", Bucket="mine")
    assert call("CreateBucket", Bucket="mine") == {"Location": "/mine"}
    call(
        "CreateBucket",
        Bucket="mine-eu",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    err = error_of(
        lambda: call(
            "CreateBucket",
            Bucket="mine-eu",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
    )
    assert (err.code, err.status, err.fields) == (
        "BucketAlreadyOwnedByYou",
        409,
        {"BucketName": "mine-eu"},
    )


def test_other_account_gets_bucket_already_exists(call):
    call("CreateBucket", Bucket="taken")
    err = error_of(
        lambda: call("CreateBucket", ctx=make_ctx(account_id="111111111111"), Bucket="taken")
    )
    assert (err.code, err.status) == ("BucketAlreadyExists", 409)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "Upper",
        "under_score",
        "-start",
        "end-",
        ".start",
        "end.",
        "a..b",
        "192.168.5.4",
        "xn--abc",
        "sthree-abc",
        "amzn-s3-demo-bucket",
        "abc-s3alias",
        "abc--ol-s3",
        "abc.mrap",
        "abc--x-s3",
        "abc--table-s3",
        "sp ace",
    ],
)
def test_invalid_bucket_names(call, name):
    err = error_of(lambda: call("CreateBucket", Bucket=name))
    assert (err.code, err.status, err.fields) == ("InvalidBucketName", 400, {"BucketName": name})


@pytest.mark.parametrize("name", ["abc", "a" * 63, "a.b-c.d1", "1.2.3", "my.bucket.name", "999"])
def test_valid_bucket_names(call, name):
    call("CreateBucket", Bucket=name)


def test_delete_bucket(call):
    call("CreateBucket", Bucket="gone")
    call("PutObject", Bucket="gone", Key="k", Body=b"x")
    err = error_of(lambda: call("DeleteBucket", Bucket="gone"))
    assert (err.code, err.status, err.fields) == ("BucketNotEmpty", 409, {"BucketName": "gone"})
    call("DeleteObject", Bucket="gone", Key="k")
    assert call("DeleteBucket", Bucket="gone") == {}
    for op in ("HeadBucket", "GetBucketLocation", "DeleteBucket"):
        err = error_of(lambda op=op: call(op, Bucket="gone"))
        assert (err.code, err.status, err.fields) == ("NoSuchBucket", 404, {"BucketName": "gone"})


def test_list_buckets_sorted_with_owner_and_region(call):
    for name in ("zeta", "alpha", "mid"):
        call("CreateBucket", Bucket=name)
    call("CreateBucket", ctx=make_ctx(account_id="222222222222"), Bucket="someone-else")
    out = call("ListBuckets")
    assert [b["Name"] for b in out["Buckets"]] == ["alpha", "mid", "zeta"]
    assert out["Buckets"][0]["CreationDate"] == NOW.replace(microsecond=0)
    assert out["Buckets"][0]["BucketRegion"] == "us-east-1"
    owner = out["Owner"]
    assert len(owner["ID"]) == 64 and int(owner["ID"], 16) >= 0
    assert owner == call("ListBuckets")["Owner"]  # stable
    assert (
        owner["ID"] != call("ListBuckets", ctx=make_ctx(account_id="222222222222"))["Owner"]["ID"]
    )


def test_list_buckets_pages_and_filters(call):
    for name in ("b-1", "b-2", "b-3", "c-1"):
        call("CreateBucket", Bucket=name)
    first = call("ListBuckets", MaxBuckets=2, Prefix="b-")
    assert [b["Name"] for b in first["Buckets"]] == ["b-1", "b-2"]
    assert first["Prefix"] == "b-"
    rest = call(
        "ListBuckets", MaxBuckets=2, Prefix="b-", ContinuationToken=first["ContinuationToken"]
    )
    assert [b["Name"] for b in rest["Buckets"]] == ["b-3"]
    assert "ContinuationToken" not in rest
    err = error_of(lambda: call("ListBuckets", ContinuationToken="garbage"))
    assert err.code == "InvalidArgument"


def test_unknown_operation_is_not_implemented(svc):
    err = error_of(lambda: svc.handle("PutBucketAnalyticsConfiguration", {"Bucket": "b"}, make_ctx()))
    assert (err.code, err.status) == ("NotImplemented", 501)
    assert "PutObject" in svc.operations and "PutBucketAnalyticsConfiguration" not in svc.operations
