"""The shortcuts on the per-request path give what the general code gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from typing import Any

import pytest

from fakes3.s3.model import EMPTY_BLOB, ObjectVersion, Owner, delete_marker
from fakes3.s3.objects import whole_seconds

from .conftest import Call
from .helpers import NOW, body, make_ctx


def test_object_versions_keep_the_dataclass_signature_and_stay_frozen():
    fields = dataclasses.fields(ObjectVersion)
    params = list(inspect.signature(ObjectVersion).parameters.values())
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        if f.default is not dataclasses.MISSING:
            assert p.default == f.default
        else:
            assert (p.default is inspect.Parameter.empty) == (f.default_factory is dataclasses.MISSING)
    owner = Owner.for_account("1")
    a = ObjectVersion("k", EMPTY_BLOB, NOW, owner)
    b = ObjectVersion(key="k", blob=EMPTY_BLOB, last_modified=NOW, owner=owner)
    assert a == b and a.metadata == {} and a.metadata is not b.metadata and a.tags is not b.tags
    assert (a.content_type, a.version_id, a.seq, a.acl) == ("binary/octet-stream", "null", 0, ())
    given = ObjectVersion("k", EMPTY_BLOB, NOW, owner, metadata={"m": "1"}, tags={"t": "2"})
    assert (given.metadata, given.tags) == ({"m": "1"}, {"t": "2"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.key = "other"  # type: ignore[misc]
    assert dataclasses.replace(a, version_id="v").version_id == "v"
    with pytest.raises(TypeError):
        ObjectVersion("k", EMPTY_BLOB)  # type: ignore[call-arg]


class _Stamp(dt.datetime):
    pass


@pytest.mark.parametrize("when", [
    NOW,
    NOW.replace(microsecond=0),
    dt.datetime(2025, 11, 2, 1, 30, 0, 5, fold=1),
    dt.datetime(2025, 3, 1, 12, 0, 0, 999999),
    _Stamp(2025, 3, 1, 12, 0, 0, 7, tzinfo=dt.UTC),
])
def test_whole_seconds_is_replace_without_microseconds(when):
    expected = when.replace(microsecond=0)
    got = whole_seconds(when)
    assert (got, got.tzinfo, got.fold) == (expected, expected.tzinfo, expected.fold)
    assert type(got) is type(expected)


def test_a_delete_makes_its_marker_only_in_a_versioned_bucket(svc, call: Call, bucket: str):
    made: list[Any] = []

    def marker():
        made.append(True)
        return delete_marker("k", Owner.for_account("1"), NOW)

    store = svc.store.bucket(bucket)
    call("PutObject", Bucket=bucket, Key="k", Body=body(b"v1"))
    assert store.delete("k", None, marker).marker is None and not made
    call("PutBucketVersioning", Bucket=bucket, VersioningConfiguration={"Status": "Enabled"},
         ContentMD5="x" * 24)
    done = store.delete("k", None, marker)
    assert made and done.marker is not None and done.marker.delete_marker
    assert done.marker.version_id != "null"


def test_a_plain_put_stores_what_a_put_naming_every_default_stores(call: Call, bucket: str):
    """The PUT without options skips the option checks: same object as one that names them."""
    call("PutObject", Bucket=bucket, Key="plain", Body=body(b"data"))
    # A new bucket has ACLs disabled (BucketOwnerEnforced): the one ACL it takes is the owner's.
    call("PutObject", Bucket=bucket, Key="named", Body=body(b"data"), StorageClass="STANDARD",
         Metadata={}, Tagging="", ACL="bucket-owner-full-control")
    plain = call("HeadObject", Bucket=bucket, Key="plain")
    named = call("HeadObject", Bucket=bucket, Key="named")
    for out in (plain, named):
        out.pop("LastModified")
    assert plain == named
    assert call("GetObjectAcl", Bucket=bucket, Key="plain") == call("GetObjectAcl", Bucket=bucket,
                                                                    Key="named")


def test_reads_see_each_published_version_whole(call: Call, bucket: str):
    ctx = make_ctx(now=NOW)
    for i in range(3):
        call("PutObject", ctx=ctx, Bucket=bucket, Key="k", Body=body(b"v%d" % i))
        got = call("GetObject", Bucket=bucket, Key="k")
        assert b"".join(got["Body"]) == b"v%d" % i and got["ContentLength"] == 2
    call("DeleteObject", Bucket=bucket, Key="k")
    with pytest.raises(Exception, match="NoSuchKey"):
        call("HeadObject", Bucket=bucket, Key="k")
