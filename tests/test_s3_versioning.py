"""Versioning through boto3: version IDs on the wire, delete markers and their headers, deletes by
version, suspended buckets, ListObjectVersions with paginators and the resource API."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def vbucket(s3_client):
    s3_client.create_bucket(Bucket="versioned")
    s3_client.put_bucket_versioning(Bucket="versioned",
                                    VersioningConfiguration={"Status": "Enabled"})
    return "versioned"


def headers_of(err: pytest.ExceptionInfo[ClientError]) -> dict[str, str]:
    return err.value.response["ResponseMetadata"]["HTTPHeaders"]


def status_of(err: pytest.ExceptionInfo[ClientError]) -> int:
    return err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_get_and_put_bucket_versioning(s3_client):
    s3_client.create_bucket(Bucket="plain")
    got = s3_client.get_bucket_versioning(Bucket="plain")
    assert "Status" not in got and "MFADelete" not in got
    s3_client.put_bucket_versioning(Bucket="plain", VersioningConfiguration={
        "Status": "Suspended", "MFADelete": "Disabled"})
    got = s3_client.get_bucket_versioning(Bucket="plain")
    assert (got["Status"], got["MFADelete"]) == ("Suspended", "Disabled")
    with pytest.raises(ClientError) as err:
        s3_client.put_bucket_versioning(Bucket="plain", VersioningConfiguration={"Status": "Off"})
    assert err.value.response["Error"]["Code"] == "MalformedXML"


def test_version_ids_on_put_get_head_copy(s3_client, vbucket):
    first = s3_client.put_object(Bucket=vbucket, Key="k", Body=b"one")
    second = s3_client.put_object(Bucket=vbucket, Key="k", Body=b"two")
    assert first["VersionId"] != second["VersionId"]
    got = s3_client.get_object(Bucket=vbucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", second["VersionId"])
    old = s3_client.get_object(Bucket=vbucket, Key="k", VersionId=first["VersionId"])
    assert old["Body"].read() == b"one"
    head = s3_client.head_object(Bucket=vbucket, Key="k", VersionId=first["VersionId"])
    assert head["VersionId"] == first["VersionId"] and head["ContentLength"] == 3
    copied = s3_client.copy_object(Bucket=vbucket, Key="c", CopySource={
        "Bucket": vbucket, "Key": "k", "VersionId": first["VersionId"]})
    assert copied["CopySourceVersionId"] == first["VersionId"] and copied["VersionId"]
    assert s3_client.get_object(Bucket=vbucket, Key="c")["Body"].read() == b"one"
    with pytest.raises(ClientError) as err:
        s3_client.get_object(Bucket=vbucket, Key="k", VersionId="not-a-version")
    assert err.value.response["Error"]["Message"] == "Invalid version id specified"


def test_multipart_complete_reports_the_version_id(s3_client, vbucket):
    upload = s3_client.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    part = s3_client.upload_part(Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1,
                                 Body=b"only part")
    done = s3_client.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=upload,
                                               MultipartUpload={"Parts": [
                                                   {"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3_client.head_object(Bucket=vbucket, Key="mp")["VersionId"] == done["VersionId"]


def test_delete_marker_headers_on_the_wire(s3_client, vbucket):
    kept = s3_client.put_object(Bucket=vbucket, Key="k", Body=b"data")["VersionId"]
    deleted = s3_client.delete_object(Bucket=vbucket, Key="k")
    marker = deleted["VersionId"]
    assert deleted["DeleteMarker"] is True and marker != kept
    with pytest.raises(s3_client.exceptions.NoSuchKey) as err:
        s3_client.get_object(Bucket=vbucket, Key="k")
    assert headers_of(err)["x-amz-delete-marker"] == "true"
    assert headers_of(err)["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as err:
        s3_client.head_object(Bucket=vbucket, Key="k")
    assert status_of(err) == 404 and headers_of(err)["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as err:
        s3_client.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert status_of(err) == 405 and err.value.response["Error"]["Code"] == "MethodNotAllowed"
    assert err.value.response["Error"]["ResourceType"] == "DeleteMarker"
    assert headers_of(err)["allow"] == "DELETE" and "last-modified" in headers_of(err)
    with pytest.raises(ClientError) as err:
        s3_client.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert status_of(err) == 405 and headers_of(err)["x-amz-delete-marker"] == "true"
    assert "Contents" not in s3_client.list_objects_v2(Bucket=vbucket)
    # Removing the marker brings the object back.
    removed = s3_client.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert (removed["DeleteMarker"], removed["VersionId"]) == (True, marker)
    assert s3_client.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"data"


def test_delete_by_version_and_bucket_not_empty(s3_client, vbucket):
    v1 = s3_client.put_object(Bucket=vbucket, Key="k", Body=b"1")["VersionId"]
    marker = s3_client.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as err:
        s3_client.delete_bucket(Bucket=vbucket)
    assert err.value.response["Error"]["Code"] == "BucketNotEmpty"
    out = s3_client.delete_objects(Bucket=vbucket, Delete={"Objects": [
        {"Key": "k", "VersionId": v1}, {"Key": "k", "VersionId": marker}]})
    assert sorted((d["VersionId"], d.get("DeleteMarker", False)) for d in out["Deleted"]) == \
        sorted([(v1, False), (marker, True)])
    s3_client.delete_bucket(Bucket=vbucket)


def test_suspended_bucket_writes_the_null_version(s3_client, vbucket):
    kept = s3_client.put_object(Bucket=vbucket, Key="k", Body=b"kept")["VersionId"]
    s3_client.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3_client.put_object(Bucket=vbucket, Key="k", Body=b"a")["VersionId"] == "null"
    assert s3_client.put_object(Bucket=vbucket, Key="k", Body=b"b")["VersionId"] == "null"
    ids = [v["VersionId"] for v in s3_client.list_object_versions(Bucket=vbucket)["Versions"]]
    assert ids == ["null", kept]
    deleted = s3_client.delete_object(Bucket=vbucket, Key="k")
    assert (deleted["DeleteMarker"], deleted["VersionId"]) == (True, "null")
    listed = s3_client.list_object_versions(Bucket=vbucket)
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]
    assert [v["VersionId"] for v in listed["Versions"]] == [kept]


def test_conditional_put_over_a_delete_marker(s3_client, vbucket):
    s3_client.put_object(Bucket=vbucket, Key="k", Body=b"1")
    with pytest.raises(ClientError) as err:
        s3_client.put_object(Bucket=vbucket, Key="k", Body=b"2", IfNoneMatch="*")
    assert status_of(err) == 412
    s3_client.delete_object(Bucket=vbucket, Key="k")
    s3_client.put_object(Bucket=vbucket, Key="k", Body=b"3", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        s3_client.delete_object(Bucket=vbucket, Key="gone", IfMatch="*")
    assert status_of(err) == 404


@pytest.fixture
def many(s3_client, vbucket):
    expected = []
    for key in ("a", "dir/b", "dir/c", "z"):
        ids = [s3_client.put_object(Bucket=vbucket, Key=key, Body=b"x")["VersionId"]
               for _ in range(3)]
        expected += [(key, vid) for vid in reversed(ids)]
    marker = s3_client.delete_object(Bucket=vbucket, Key="z")["VersionId"]
    expected.insert(len(expected) - 3, ("z", marker))
    return expected


def test_paginator_visits_every_version_once(s3_client, vbucket, many):
    pages = list(s3_client.get_paginator("list_object_versions").paginate(
        Bucket=vbucket, PaginationConfig={"PageSize": 2}))
    seen = []
    for page in pages:
        entries = [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        entries += [(m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
        seen += sorted(entries, key=lambda e: [x[1] for x in many].index(e[1]))
        assert len(entries) <= 2
    assert seen == many and len(pages) == 7
    prefixed = s3_client.get_paginator("list_object_versions").paginate(
        Bucket=vbucket, Delimiter="/", PaginationConfig={"PageSize": 1})
    prefixes = [p["Prefix"] for page in prefixed for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["dir/"]


def test_resource_object_versions(fakes3, vbucket, many):
    s3 = boto3.session.Session().resource("s3", endpoint_url=fakes3.endpoint_url,
                                          region_name=fakes3.region, **fakes3.credentials)
    listed = {(v.object_key, v.id) for v in s3.Bucket(vbucket).object_versions.all()}
    assert listed == set(many)
    latest = [v.id for v in s3.Bucket(vbucket).object_versions.filter(Prefix="a") if v.is_latest]
    assert latest == [many[0][1]]


def test_url_encoded_keys_round_trip(s3_client, vbucket):
    key = "ä dir/+plus & more"
    s3_client.put_object(Bucket=vbucket, Key=key, Body=b"x")
    out = s3_client.list_object_versions(Bucket=vbucket, Prefix="ä ")
    assert [v["Key"] for v in out["Versions"]] == [key] and out["Prefix"] == "ä "
    page = s3_client.list_object_versions(Bucket=vbucket, MaxKeys=1, KeyMarker=key)
    assert "Versions" not in page and page["KeyMarker"] == key
