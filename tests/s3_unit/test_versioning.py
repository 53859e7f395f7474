"""Versioning, called directly: bucket state, version IDs, delete markers, deletes by version,
ListObjectVersions, conditions in a versioned bucket, and a race of versioned writers."""

from __future__ import annotations

import random
import threading

import pytest

from fakes3.errors import S3Error
from fakes3.s3 import version_ids

from .helpers import body, error_of, make_ctx, read_body

MD5 = {"ContentMD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}  # the integrity header S3 requires on the PUTs
DEL_MD5 = {"ctx": make_ctx(headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="})}


def set_versioning(call, bucket, status, **extra):
    config = {"Status": status, **extra}
    return call("PutBucketVersioning", Bucket=bucket, VersioningConfiguration=config, **MD5)


@pytest.fixture
def vbucket(call):
    call("CreateBucket", Bucket="vers")
    set_versioning(call, "vers", "Enabled")
    return "vers"


def put(call, bucket, key, data=b"x", **params):
    return call("PutObject", Bucket=bucket, Key=key, Body=body(data), **params)


def versions_of(svc, bucket):
    """(kind, key, version ID, IsLatest), by key, newest first: the model's order, checked
    against what ListObjectVersions reports."""
    b = svc.store.bucket(bucket)
    ordered = []
    for key in list(b.all_keys):
        for i, v in enumerate(reversed(b.history(key))):
            ordered.append(("M" if v.delete_marker else "V", key, v.version_id, i == 0))
    out = svc.handle("ListObjectVersions", {"Bucket": bucket}, make_ctx())
    listed = [("V", v["Key"], v["VersionId"], v["IsLatest"]) for v in out.get("Versions", [])]
    listed += [("M", m["Key"], m["VersionId"], m["IsLatest"]) for m in out.get("DeleteMarkers", [])]
    assert sorted(listed) == sorted(ordered)
    assert [e for e in ordered if e[0] == "V"] == listed[: len(out.get("Versions", []))]
    return ordered


def _rank(version_id):
    seq = version_ids.decode(version_id)
    return -(seq if seq is not None else 0)


# -- bucket state ---------------------------------------------------------------------------


def test_never_configured_bucket_reports_no_status(call, bucket):
    assert call("GetBucketVersioning", Bucket=bucket) == {}


def test_status_and_mfa_delete_round_trip(call, bucket):
    set_versioning(call, bucket, "Enabled")
    assert call("GetBucketVersioning", Bucket=bucket) == {"Status": "Enabled"}
    set_versioning(call, bucket, "Suspended", MFADelete="Disabled")
    assert call("GetBucketVersioning", Bucket=bucket) == {"Status": "Suspended", "MFADelete": "Disabled"}


@pytest.mark.parametrize(
    ("config", "code", "status"),
    [
        ({"Status": "Disabled"}, "MalformedXML", 400),
        ({}, "IllegalVersioningConfigurationException", 400),
        ({"Status": "Enabled", "MFADelete": "Maybe"}, "MalformedXML", 400),
        ({"Status": "Enabled", "MFADelete": "Enabled"}, "NotImplemented", 501),
    ],
)
def test_bad_versioning_configurations(call, bucket, config, code, status):
    err = error_of(lambda: call("PutBucketVersioning", Bucket=bucket,
                                VersioningConfiguration=config, **MD5))
    assert (err.code, err.status) == (code, status)
    assert call("GetBucketVersioning", Bucket=bucket) == {}


def test_put_bucket_versioning_needs_an_integrity_header(call, bucket):
    err = error_of(lambda: call("PutBucketVersioning", Bucket=bucket,
                                VersioningConfiguration={"Status": "Enabled"}))
    assert err.code == "InvalidRequest"
    assert error_of(lambda: call("GetBucketVersioning", Bucket="nope")).code == "NoSuchBucket"


# -- version IDs ----------------------------------------------------------------------------


def test_version_ids_are_url_safe_unique_and_sorted_by_creation():
    ids = [version_ids.encode(version_ids.next_sequence()) for _ in range(500)]
    assert len(set(ids)) == 500 and ids == sorted(ids)
    for vid in ids[:20]:
        assert len(vid) == 32 and set(vid) <= set(version_ids.ALPHABET)
        assert version_ids.decode(vid) is not None
    tampered = ids[0][:-1] + ("A" if ids[0][-1] != "A" else "B")
    assert version_ids.decode(tampered) is None
    assert version_ids.decode("A" * 32) is None and version_ids.decode("null") is None


def test_enabled_puts_get_new_version_ids_and_reads_name_them(call, vbucket):
    ids = [put(call, vbucket, "k", data)["VersionId"] for data in (b"one", b"two", b"three")]
    assert len(set(ids)) == 3 and ids == sorted(ids)
    got = call("GetObject", Bucket=vbucket, Key="k")
    assert (read_body(got), got["VersionId"]) == (b"three", ids[2])
    old = call("GetObject", Bucket=vbucket, Key="k", VersionId=ids[0])
    assert (read_body(old), old["VersionId"]) == (b"one", ids[0])
    head = call("HeadObject", Bucket=vbucket, Key="k", VersionId=ids[1])
    assert (head["ContentLength"], head["VersionId"]) == (3, ids[1])


def test_objects_from_before_versioning_keep_the_null_version(svc, call, bucket):
    assert "VersionId" not in put(call, bucket, "k", b"before")  # unversioned: no version ID
    set_versioning(call, bucket, "Enabled")
    new = put(call, bucket, "k", b"after")["VersionId"]
    assert read_body(call("GetObject", Bucket=bucket, Key="k", VersionId="null")) == b"before"
    assert versions_of(svc, bucket) == [("V", "k", new, True), ("V", "k", "null", False)]


def test_unknown_malformed_and_empty_version_ids(call, vbucket):
    put(call, vbucket, "k")
    gone = put(call, vbucket, "k")["VersionId"]
    call("DeleteObject", Bucket=vbucket, Key="k", VersionId=gone)
    for op in ("GetObject", "HeadObject"):
        err = error_of(lambda op=op: call(op, Bucket=vbucket, Key="k", VersionId=gone))
        assert (err.code, err.status, err.fields["VersionId"]) == ("NoSuchVersion", 404, gone)
        err = error_of(lambda op=op: call(op, Bucket=vbucket, Key="k", VersionId="abc"))
        assert (err.code, err.message, err.fields["ArgumentName"]) == (
            "InvalidArgument", "Invalid version id specified", "versionId")
        err = error_of(lambda op=op: call(op, Bucket=vbucket, Key="k", VersionId=""))
        assert err.message == "Version id cannot be the empty string"
    assert error_of(lambda: call("GetObject", Bucket=vbucket, Key="missing",
                                 VersionId="null")).code == "NoSuchVersion"
    err = error_of(lambda: call("DeleteObject", Bucket=vbucket, Key="k", VersionId="A" * 32))
    assert err.code == "InvalidArgument"


def test_unversioned_bucket_refuses_version_ids_it_never_issued(call, bucket):
    # As AWS: a malformed version ID is 400 InvalidArgument whether or not the bucket is versioned.
    put(call, bucket, "k")
    assert call("GetObject", Bucket=bucket, Key="k", VersionId="null")["VersionId"] == "null"
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="k", VersionId="abc"))
    assert (err.code, err.status) == ("InvalidArgument", 400)
    assert error_of(lambda: call("DeleteObject", Bucket=bucket, Key="k", VersionId="abc")).code == \
        "InvalidArgument"
    assert call("DeleteObject", Bucket=bucket, Key="k") == {}
    assert "DeleteMarkers" not in call("ListObjectVersions", Bucket=bucket)


# -- delete markers -------------------------------------------------------------------------


def test_delete_adds_a_marker_and_reads_see_it(call, vbucket):
    v1 = put(call, vbucket, "k", b"one")["VersionId"]
    out = call("DeleteObject", Bucket=vbucket, Key="k")
    marker = out["VersionId"]
    assert out["DeleteMarker"] is True and marker > v1
    for op in ("GetObject", "HeadObject"):
        err = error_of(lambda op=op: call(op, Bucket=vbucket, Key="k"))
        assert (err.code, err.status) == ("NoSuchKey", 404)
        assert err.headers == {"x-amz-delete-marker": "true", "x-amz-version-id": marker}
        err = error_of(lambda op=op: call(op, Bucket=vbucket, Key="k", VersionId=marker))
        assert (err.code, err.status) == ("MethodNotAllowed", 405)
        assert err.fields == {"Method": "GET" if op == "GetObject" else "HEAD",
                              "ResourceType": "DeleteMarker"}
        assert err.headers["Allow"] == "DELETE" and err.headers["x-amz-version-id"] == marker
        assert err.headers["x-amz-delete-marker"] == "true" and "Last-Modified" in err.headers
    assert read_body(call("GetObject", Bucket=vbucket, Key="k", VersionId=v1)) == b"one"
    assert "Contents" not in call("ListObjectsV2", Bucket=vbucket)
    assert "Contents" not in call("ListObjects", Bucket=vbucket)


def test_deleting_the_marker_undeletes(svc, call, vbucket):
    v1 = put(call, vbucket, "k", b"one")["VersionId"]
    m1 = call("DeleteObject", Bucket=vbucket, Key="k")["VersionId"]
    m2 = call("DeleteObject", Bucket=vbucket, Key="k")["VersionId"]  # a second marker
    assert versions_of(svc, vbucket) == [
        ("M", "k", m2, True), ("M", "k", m1, False), ("V", "k", v1, False)]
    assert call("DeleteObject", Bucket=vbucket, Key="k", VersionId=m2) == {
        "VersionId": m2, "DeleteMarker": True}
    assert error_of(lambda: call("GetObject", Bucket=vbucket, Key="k")).headers[
        "x-amz-version-id"] == m1
    call("DeleteObject", Bucket=vbucket, Key="k", VersionId=m1)
    assert read_body(call("GetObject", Bucket=vbucket, Key="k")) == b"one"
    assert [c["Key"] for c in call("ListObjectsV2", Bucket=vbucket)["Contents"]] == ["k"]


def test_delete_by_version_is_permanent_and_idempotent(call, vbucket):
    v1 = put(call, vbucket, "k", b"one")["VersionId"]
    v2 = put(call, vbucket, "k", b"two")["VersionId"]
    assert call("DeleteObject", Bucket=vbucket, Key="k", VersionId=v2) == {"VersionId": v2}
    assert read_body(call("GetObject", Bucket=vbucket, Key="k")) == b"one"  # v1 is current again
    assert call("DeleteObject", Bucket=vbucket, Key="k", VersionId=v2) == {"VersionId": v2}
    call("DeleteObject", Bucket=vbucket, Key="k", VersionId=v1)
    assert error_of(lambda: call("GetObject", Bucket=vbucket, Key="k")).headers == {}
    assert call("ListObjectVersions", Bucket=vbucket)["IsTruncated"] is False
    call("DeleteBucket", Bucket=vbucket)  # nothing is left


def test_delete_bucket_refuses_while_versions_or_markers_remain(call, vbucket):
    v1 = put(call, vbucket, "k")["VersionId"]
    marker = call("DeleteObject", Bucket=vbucket, Key="k")["VersionId"]
    assert error_of(lambda: call("DeleteBucket", Bucket=vbucket)).code == "BucketNotEmpty"
    call("DeleteObject", Bucket=vbucket, Key="k", VersionId=v1)
    assert error_of(lambda: call("DeleteBucket", Bucket=vbucket)).code == "BucketNotEmpty"
    call("DeleteObject", Bucket=vbucket, Key="k", VersionId=marker)
    call("DeleteBucket", Bucket=vbucket)


# -- suspended ------------------------------------------------------------------------------


def test_suspended_writes_replace_only_the_null_version(svc, call, vbucket):
    kept = put(call, vbucket, "k", b"kept")["VersionId"]
    set_versioning(call, vbucket, "Suspended")
    assert put(call, vbucket, "k", b"first")["VersionId"] == "null"
    assert put(call, vbucket, "k", b"second")["VersionId"] == "null"
    assert versions_of(svc, vbucket) == [("V", "k", "null", True), ("V", "k", kept, False)]
    got = call("GetObject", Bucket=vbucket, Key="k")
    assert (read_body(got), got["VersionId"]) == (b"second", "null")
    # A delete: a null delete marker takes the null version's place, twice over.
    assert call("DeleteObject", Bucket=vbucket, Key="k") == {"DeleteMarker": True, "VersionId": "null"}
    assert call("DeleteObject", Bucket=vbucket, Key="k") == {"DeleteMarker": True, "VersionId": "null"}
    assert versions_of(svc, vbucket) == [("M", "k", "null", True), ("V", "k", kept, False)]
    assert error_of(lambda: call("GetObject", Bucket=vbucket, Key="k",
                                 VersionId="null")).status == 405
    assert call("DeleteObject", Bucket=vbucket, Key="k", VersionId="null") == {
        "VersionId": "null", "DeleteMarker": True}
    assert read_body(call("GetObject", Bucket=vbucket, Key="k")) == b"kept"
    set_versioning(call, vbucket, "Enabled")
    new = put(call, vbucket, "k")["VersionId"]
    assert versions_of(svc, vbucket) == [("V", "k", new, True), ("V", "k", kept, False)]


# -- DeleteObjects ---------------------------------------------------------------------------


def test_delete_objects_with_versions(svc, call, vbucket):
    v1 = put(call, vbucket, "k", b"one")["VersionId"]
    v2 = put(call, vbucket, "k", b"two")["VersionId"]
    out = call("DeleteObjects", Bucket=vbucket, Delete={"Objects": [{"Key": "k"}, {"Key": "new"}]},
               **DEL_MD5)
    markers = [d["DeleteMarkerVersionId"] for d in out["Deleted"]]
    assert out["Deleted"] == [
        {"Key": "k", "DeleteMarker": True, "DeleteMarkerVersionId": markers[0]},
        {"Key": "new", "DeleteMarker": True, "DeleteMarkerVersionId": markers[1]},
    ]
    objects = [{"Key": "k", "VersionId": markers[0]}, {"Key": "k", "VersionId": v1},
               {"Key": "k", "VersionId": v1}, {"Key": "k", "VersionId": "not-an-id"}]
    out = call("DeleteObjects", Bucket=vbucket, Delete={"Objects": objects}, **DEL_MD5)
    assert out["Deleted"] == [
        {"Key": "k", "VersionId": markers[0], "DeleteMarker": True,
         "DeleteMarkerVersionId": markers[0]},
        {"Key": "k", "VersionId": v1},
        {"Key": "k", "VersionId": v1},
    ]
    assert [(e["Code"], e["VersionId"]) for e in out["Errors"]] == [("NoSuchVersion", "not-an-id")]
    assert versions_of(svc, vbucket) == [("V", "k", v2, True), ("M", "new", markers[1], True)]


# -- conditions in a versioned bucket ---------------------------------------------------------


def test_conditional_writes_see_a_delete_marker_as_no_object(call, vbucket):
    v1 = put(call, vbucket, "k", b"one")
    assert error_of(lambda: put(call, vbucket, "k", IfNoneMatch="*")).status == 412
    call("DeleteObject", Bucket=vbucket, Key="k")
    err = error_of(lambda: put(call, vbucket, "k", IfMatch=v1["ETag"]))
    assert (err.code, err.status) == ("NoSuchKey", 404)
    created = put(call, vbucket, "k", b"again", IfNoneMatch="*")  # the marker is no object
    assert read_body(call("GetObject", Bucket=vbucket, Key="k")) == b"again"
    assert created["VersionId"] > v1["VersionId"]


def test_conditional_deletes_evaluate_the_current_version(svc, call, vbucket):
    v1 = put(call, vbucket, "k", b"one")
    assert error_of(lambda: call("DeleteObject", Bucket=vbucket, Key="k",
                                 IfMatch='"0000"')).status == 412
    marker = call("DeleteObject", Bucket=vbucket, Key="k", IfMatch="*")["VersionId"]
    for value in ("*", v1["ETag"]):
        err = error_of(lambda value=value: call("DeleteObject", Bucket=vbucket, Key="k",
                                                IfMatch=value))
        assert (err.code, err.status) == ("NoSuchKey", 404)
    assert versions_of(svc, vbucket) == [("M", "k", marker, True), ("V", "k", v1["VersionId"], False)]


# -- copies ---------------------------------------------------------------------------------


def test_copy_of_a_version_and_of_a_delete_marker(call, vbucket):
    v1 = put(call, vbucket, "k", b"one")["VersionId"]
    v2 = put(call, vbucket, "k", b"two")["VersionId"]
    out = call("CopyObject", Bucket=vbucket, Key="k", CopySource=f"vers/k?versionId={v1}")
    assert out["CopySourceVersionId"] == v1 and out["VersionId"] > v2  # restores v1 as current
    assert read_body(call("GetObject", Bucket=vbucket, Key="k")) == b"one"
    plain = call("CopyObject", Bucket=vbucket, Key="c", CopySource="vers/k")
    assert plain["CopySourceVersionId"] == out["VersionId"]  # named even when not asked for
    marker = call("DeleteObject", Bucket=vbucket, Key="k")["VersionId"]
    err = error_of(lambda: call("CopyObject", Bucket=vbucket, Key="d", CopySource="vers/k"))
    assert (err.code, err.headers["x-amz-delete-marker"]) == ("NoSuchKey", "true")
    err = error_of(lambda: call("CopyObject", Bucket=vbucket, Key="d",
                                CopySource=f"vers/k?versionId={marker}"))
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert "delete marker" in err.message
    err = error_of(lambda: call("CopyObject", Bucket=vbucket, Key="d", CopySource="vers/k?versionId=abc"))
    assert err.code == "InvalidRequest" and err.message.startswith("Invalid Request")
    err = error_of(lambda: call("CopyObject", Bucket=vbucket, Key="d", CopySource="vers/k?versionId="))
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "x-amz-copy-source")


def test_multipart_complete_returns_the_version_id(svc, call, vbucket):
    svc._backend.min_part_size = 1
    upload = call("CreateMultipartUpload", Bucket=vbucket, Key="mp")["UploadId"]
    etag = call("UploadPart", Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1,
                Body=body(b"part"))["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    done = call("CompleteMultipartUpload", Bucket=vbucket, Key="mp", UploadId=upload,
                MultipartUpload=parts)
    assert version_ids.decode(done["VersionId"]) is not None
    again = call("CompleteMultipartUpload", Bucket=vbucket, Key="mp", UploadId=upload,
                 MultipartUpload=parts)
    assert again["VersionId"] == done["VersionId"]  # a retried complete replays it
    assert call("HeadObject", Bucket=vbucket, Key="mp")["VersionId"] == done["VersionId"]


# -- ListObjectVersions ---------------------------------------------------------------------


@pytest.fixture
def history(call, vbucket):
    made = {}
    for key in ("a", "b/1", "b/2", "c"):
        made[key] = [put(call, vbucket, key, f"{key}{i}".encode())["VersionId"] for i in range(2)]
    made["marker"] = call("DeleteObject", Bucket=vbucket, Key="c")["VersionId"]
    return made


def _walk(call, bucket, **params):
    """Every entry of every page, in page order, and the number of pages."""
    seen, pages, markers = [], 0, {}
    while True:
        out = call("ListObjectVersions", Bucket=bucket, **params, **markers)
        pages += 1
        page = [(v["Key"], v["VersionId"]) for v in out.get("Versions", [])]
        page += [(m["Key"], m["VersionId"]) for m in out.get("DeleteMarkers", [])]
        page += [(p["Prefix"], None) for p in out.get("CommonPrefixes", [])]
        seen.extend(sorted(page, key=lambda e: (e[0], _rank(e[1]) if e[1] else 0)))
        if not out["IsTruncated"]:
            return seen, pages
        markers = {"KeyMarker": out["NextKeyMarker"]}
        if "NextVersionIdMarker" in out:
            markers["VersionIdMarker"] = out["NextVersionIdMarker"]


def test_list_versions_orders_by_key_then_newest_first(call, vbucket, history):
    out = call("ListObjectVersions", Bucket=vbucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [
        ("a", history["a"][1], True), ("a", history["a"][0], False),
        ("b/1", history["b/1"][1], True), ("b/1", history["b/1"][0], False),
        ("b/2", history["b/2"][1], True), ("b/2", history["b/2"][0], False),
        ("c", history["c"][1], False), ("c", history["c"][0], False),
    ]
    assert [(m["Key"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [("c", True)]
    first = out["Versions"][0]
    assert first["Size"] == 2 and first["StorageClass"] == "STANDARD" and first["ETag"]
    assert first["Owner"]["ID"] and out["DeleteMarkers"][0]["Owner"]["ID"]
    assert (out["KeyMarker"], out["VersionIdMarker"], out["MaxKeys"]) == ("", "", 1000)


@pytest.mark.parametrize("page_size", [1, 2, 3, 5])
def test_list_versions_pages_see_every_entry_once(call, vbucket, history, page_size):
    everything, _ = _walk(call, vbucket)
    paged, pages = _walk(call, vbucket, MaxKeys=page_size)
    assert paged == everything and len(everything) == 9
    assert pages == -(-9 // page_size)


def test_list_versions_with_prefix_and_delimiter(call, vbucket, history):
    out = call("ListObjectVersions", Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["b/"]
    assert {v["Key"] for v in out["Versions"]} == {"a", "c"}
    seen, pages = _walk(call, vbucket, Delimiter="/", MaxKeys=2)
    assert [k for k, _ in seen] == ["a", "a", "b/", "c", "c", "c"] and pages == 3
    nested = call("ListObjectVersions", Bucket=vbucket, Prefix="b/", Delimiter="/")
    assert [v["Key"] for v in nested["Versions"]] == ["b/1", "b/1", "b/2", "b/2"]
    assert (nested["Prefix"], nested["Delimiter"]) == ("b/", "/")


def test_list_versions_markers(call, vbucket, history):
    after_a = call("ListObjectVersions", Bucket=vbucket, KeyMarker="a")
    assert after_a["Versions"][0]["Key"] == "b/1"
    inside = call("ListObjectVersions", Bucket=vbucket, KeyMarker="a",
                  VersionIdMarker=history["a"][1])
    assert inside["Versions"][0]["VersionId"] == history["a"][0]
    # A marker version deleted since still positions the page.
    call("DeleteObject", Bucket=vbucket, Key="a", VersionId=history["a"][1])
    again = call("ListObjectVersions", Bucket=vbucket, KeyMarker="a",
                 VersionIdMarker=history["a"][1])
    assert again["Versions"][0]["VersionId"] == history["a"][0]
    for params, message in [
        ({"VersionIdMarker": history["a"][0]}, "without a key marker"),
        ({"KeyMarker": "a", "VersionIdMarker": ""}, "cannot be empty"),
        ({"KeyMarker": "a", "VersionIdMarker": "abc"}, "Invalid version id"),
    ]:
        err = error_of(lambda params=params: call("ListObjectVersions", Bucket=vbucket, **params))
        assert err.code == "InvalidArgument" and message in err.message


def test_list_versions_url_encoding_and_max_keys(call, vbucket):
    put(call, vbucket, "a b+c/ü")
    out = call("ListObjectVersions", Bucket=vbucket, EncodingType="url", Prefix="a b")
    assert out["Versions"][0]["Key"] == "a%20b%2Bc/%C3%BC" and out["Prefix"] == "a%20b"
    assert call("ListObjectVersions", Bucket=vbucket, MaxKeys=0)["IsTruncated"] is False
    assert error_of(lambda: call("ListObjectVersions", Bucket=vbucket, MaxKeys=-1)).code == \
        "InvalidArgument"
    assert error_of(lambda: call("ListObjectVersions", Bucket=vbucket,
                                 EncodingType="xml")).code == "InvalidArgument"


# -- concurrency ----------------------------------------------------------------------------

THREADS = 8
WAIT = 20.0  # seconds; generous, but bounded


def test_every_acknowledged_versioned_write_is_listed_exactly_once(svc):
    ctx = make_ctx()
    svc.handle("CreateBucket", {"Bucket": "race"}, ctx)
    svc.handle("PutBucketVersioning", {"Bucket": "race", "VersioningConfiguration": {
        "Status": "Enabled"}, **MD5}, ctx)
    acked: dict[str, list[tuple[str, bool]]] = {"k0": [], "k1": []}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS, timeout=WAIT)
    failures: list[BaseException] = []

    def worker(tid: int) -> None:
        rng = random.Random(tid)
        try:
            barrier.wait()
            for i in range(60):
                key = rng.choice(sorted(acked))
                if rng.random() < 0.75:
                    out = svc.handle("PutObject", {"Bucket": "race", "Key": key,
                                                   "Body": body(f"{tid}:{i}".encode())}, ctx)
                    marker = False
                else:
                    out = svc.handle("DeleteObject", {"Bucket": "race", "Key": key}, ctx)
                    marker = True
                with lock:
                    acked[key].append((out["VersionId"], marker))
                if i % 10 == 0:  # listings in flight see each key newest first, no duplicates
                    listed = svc.handle("ListObjectVersions", {"Bucket": "race"}, ctx)
                    ids = [v["VersionId"] for v in listed.get("Versions", []) if v["Key"] == key]
                    assert ids == sorted(set(ids), reverse=True)
        except BaseException as exc:  # surfaced in the main thread below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive(), "a worker thread did not finish in time"
    if failures:
        raise failures[0]

    listed: dict[str, list[tuple[str, bool]]] = {"k0": [], "k1": []}
    latest: dict[str, str] = {}
    markers: dict[str, str] = {}
    while True:
        out = svc.handle("ListObjectVersions", {"Bucket": "race", "MaxKeys": 7, **markers}, ctx)
        for v in out.get("Versions", []):
            listed[v["Key"]].append((v["VersionId"], False))
        for m in out.get("DeleteMarkers", []):
            listed[m["Key"]].append((m["VersionId"], True))
        for entry in out.get("Versions", []) + out.get("DeleteMarkers", []):
            if entry["IsLatest"]:
                latest[entry["Key"]] = entry["VersionId"]
        if not out["IsTruncated"]:
            break
        markers = {"KeyMarker": out["NextKeyMarker"], "VersionIdMarker": out["NextVersionIdMarker"]}
    for key in acked:
        assert sorted(listed[key]) == sorted(acked[key])  # each acknowledged write exactly once
        newest = max(vid for vid, _ in acked[key])
        assert latest[key] == newest  # the last write published is the current version
        assert len({vid for vid, _ in acked[key]}) == len(acked[key])


def test_a_held_versioned_write_blocks_only_its_key(svc):
    ctx = make_ctx()
    svc.handle("CreateBucket", {"Bucket": "held"}, ctx)
    svc.handle("PutBucketVersioning", {"Bucket": "held", "VersioningConfiguration": {
        "Status": "Enabled"}, **MD5}, ctx)
    entered, release = threading.Event(), threading.Event()

    def hook(op: str, bucket: str, key: str, lock: object) -> None:
        if key == "slow":
            entered.set()
            assert release.wait(WAIT)

    svc.fault_hook = hook
    result: list[dict] = []
    writer = threading.Thread(target=lambda: result.append(svc.handle(
        "PutObject", {"Bucket": "held", "Key": "slow", "Body": body(b"x")}, ctx)), daemon=True)
    writer.start()
    assert entered.wait(WAIT)
    fast = svc.handle("PutObject", {"Bucket": "held", "Key": "fast", "Body": body(b"y")}, ctx)
    assert svc.handle("ListObjectVersions", {"Bucket": "held"}, ctx)["Versions"][0]["VersionId"] == \
        fast["VersionId"]
    with pytest.raises(S3Error):
        svc.handle("GetObject", {"Bucket": "held", "Key": "slow"}, ctx)  # not yet published
    release.set()
    writer.join(WAIT)
    assert not writer.is_alive() and result[0]["VersionId"] > fast["VersionId"]
