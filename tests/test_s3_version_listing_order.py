"""ListObjectVersions' document: <Version> and <DeleteMarker> elements in one sequence.

S3 lists every version and delete marker by key, newest first within a key, and its XML keeps that
order across both kinds (the S3 API reference's ListObjectVersions example: a key's <DeleteMarker>
between its <Version> elements). botocore's output shape has two flattened lists, Versions and
DeleteMarkers, which boto3 fills by element name whatever the order; these tests read the raw XML
(a presigned GET) for the order, and boto3 for the parsed lists.
"""

from __future__ import annotations

import urllib.request
from typing import Any
from xml.etree import ElementTree

import botocore.session
import pytest

from fakes3.protocol import restxml

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
Entry = tuple[str, str, str]  # (element, key, version id)


@pytest.fixture
def vbucket(s3_client: Any) -> str:
    s3_client.create_bucket(Bucket="order-bkt")
    s3_client.put_bucket_versioning(Bucket="order-bkt", VersioningConfiguration={"Status": "Enabled"})
    return "order-bkt"


def put(s3: Any, bucket: str, key: str) -> Entry:
    return ("Version", key, s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"])


def delete(s3: Any, bucket: str, key: str) -> Entry:
    return ("DeleteMarker", key, s3.delete_object(Bucket=bucket, Key=key)["VersionId"])


def raw_listing(s3: Any, **params: Any) -> ElementTree.Element:
    url = s3.generate_presigned_url("list_object_versions", Params=params)
    with urllib.request.urlopen(url, timeout=10) as response:
        return ElementTree.fromstring(response.read())


def entries_of(root: ElementTree.Element) -> list[Entry]:
    """The document's versions and delete markers, in the order it has them."""
    out = []
    for child in root:
        tag = child.tag.removeprefix(NS)
        if tag in ("Version", "DeleteMarker"):
            out.append((tag, child.findtext(NS + "Key") or "", child.findtext(NS + "VersionId") or ""))
    return out


def text(root: ElementTree.Element, name: str) -> str | None:
    return root.findtext(NS + name)


@pytest.fixture
def history(s3_client: Any, vbucket: str) -> list[Entry]:
    """Three keys' versions and delete markers, in S3's listing order (by key, newest first)."""
    s3 = s3_client
    a1 = put(s3, vbucket, "a")
    a_marker = delete(s3, vbucket, "a")
    a2 = put(s3, vbucket, "a")
    b1 = put(s3, vbucket, "b")
    b_marker = delete(s3, vbucket, "b")
    c1 = put(s3, vbucket, "c")
    return [a2, a_marker, a1, b_marker, b1, c1]


def test_versions_and_delete_markers_are_interleaved_by_key_newest_first(s3_client, vbucket, history):
    root = raw_listing(s3_client, Bucket=vbucket)
    assert entries_of(root) == history
    assert text(root, "IsTruncated") == "false"


def test_boto3_still_parses_both_lists(s3_client, vbucket, history):
    out = s3_client.list_object_versions(Bucket=vbucket)
    assert [("Version", v["Key"], v["VersionId"]) for v in out["Versions"]] == \
        [e for e in history if e[0] == "Version"]
    assert [("DeleteMarker", m["Key"], m["VersionId"]) for m in out["DeleteMarkers"]] == \
        [e for e in history if e[0] == "DeleteMarker"]
    latest = {v["VersionId"] for v in out["Versions"] + out["DeleteMarkers"] if v["IsLatest"]}
    a2, _, _, b_marker, _, c1 = history
    assert latest == {a2[2], b_marker[2], c1[2]}
    assert all("Size" in v and "ETag" in v for v in out["Versions"])
    assert all("Size" not in m for m in out["DeleteMarkers"])


def test_a_page_ends_between_a_delete_marker_and_a_version_of_its_key(s3_client, vbucket, history):
    first = raw_listing(s3_client, Bucket=vbucket, MaxKeys=2)
    assert entries_of(first) == history[:2]  # a's newest version, then its delete marker
    assert text(first, "IsTruncated") == "true"
    assert (text(first, "NextKeyMarker"), text(first, "NextVersionIdMarker")) == ("a", history[1][2])

    second = raw_listing(s3_client, Bucket=vbucket, MaxKeys=2, KeyMarker="a",
                         VersionIdMarker=history[1][2])
    assert entries_of(second) == history[2:4]  # a's older version, then b's delete marker
    assert (text(second, "NextKeyMarker"), text(second, "NextVersionIdMarker")) == ("b", history[3][2])

    third = raw_listing(s3_client, Bucket=vbucket, MaxKeys=2, KeyMarker="b",
                        VersionIdMarker=history[3][2])
    assert entries_of(third) == history[4:]  # b's version after its delete marker, then c
    assert text(third, "IsTruncated") == "false"
    assert text(third, "NextKeyMarker") is None


@pytest.mark.parametrize("max_keys", [1, 2, 3, 4, 5, 7])
def test_pages_of_any_size_add_up_to_the_whole_listing(s3_client, vbucket, history, max_keys):
    seen: list[Entry] = []
    markers: dict[str, str] = {}
    for _ in range(len(history) + 1):
        root = raw_listing(s3_client, Bucket=vbucket, MaxKeys=max_keys, **markers)
        page = entries_of(root)
        assert len(page) <= max_keys  # MaxKeys counts versions and delete markers together
        seen += page
        if text(root, "IsTruncated") != "true":
            break
        markers = {"KeyMarker": text(root, "NextKeyMarker") or "",
                   "VersionIdMarker": text(root, "NextVersionIdMarker") or ""}
    assert seen == history


def test_boto3_paginator_sees_each_entry_once(s3_client, vbucket, history):
    pages = s3_client.get_paginator("list_object_versions").paginate(
        Bucket=vbucket, PaginationConfig={"PageSize": 2})
    got = []
    for page in pages:
        got += [("Version", v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        got += [("DeleteMarker", m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    assert sorted(got) == sorted(history)


def test_common_prefixes_count_against_max_keys_and_follow_the_entries(s3_client, vbucket):
    s3 = s3_client
    a1 = put(s3, vbucket, "a")
    a_marker = delete(s3, vbucket, "a")
    put(s3, vbucket, "d/1")
    delete(s3, vbucket, "d/2")
    e1 = put(s3, vbucket, "e")
    e_marker = delete(s3, vbucket, "e")

    whole = raw_listing(s3, Bucket=vbucket, Delimiter="/")
    assert entries_of(whole) == [a_marker, a1, e_marker, e1]
    assert [p.findtext(NS + "Prefix") for p in whole.iter(NS + "CommonPrefixes")] == ["d/"]
    tags = [child.tag.removeprefix(NS) for child in whole]
    assert tags.index("CommonPrefixes") > max(i for i, t in enumerate(tags) if t == "Version")

    first = raw_listing(s3, Bucket=vbucket, Delimiter="/", MaxKeys=3)
    assert entries_of(first) == [a_marker, a1]
    assert [p.findtext(NS + "Prefix") for p in first.iter(NS + "CommonPrefixes")] == ["d/"]
    assert (text(first, "IsTruncated"), text(first, "NextKeyMarker")) == ("true", "d/")
    assert text(first, "NextVersionIdMarker") is None  # the page ended with a common prefix

    rest = raw_listing(s3, Bucket=vbucket, Delimiter="/", MaxKeys=3, KeyMarker="d/")
    assert entries_of(rest) == [e_marker, e1]
    assert list(rest.iter(NS + "CommonPrefixes")) == []
    assert text(rest, "IsTruncated") == "false"


def test_url_encoded_keys_keep_the_interleaving(s3_client, vbucket):
    s3 = s3_client
    v1 = put(s3, vbucket, "a b")
    marker = delete(s3, vbucket, "a b")
    root = raw_listing(s3, Bucket=vbucket, EncodingType="url")
    assert entries_of(root) == [("DeleteMarker", "a%20b", marker[2]), ("Version", "a%20b", v1[2])]
    # boto3 asks for url encoding itself (and decodes) when the caller does not.
    out = s3.list_object_versions(Bucket=vbucket)
    assert out["Versions"][0]["Key"] == out["DeleteMarkers"][0]["Key"] == "a b"


def test_only_versions_or_only_delete_markers(s3_client, vbucket):
    s3 = s3_client
    v1 = put(s3, vbucket, "k")
    v2 = put(s3, vbucket, "k")
    assert entries_of(raw_listing(s3, Bucket=vbucket)) == [v2, v1]
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1[2])
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2[2])
    marker = delete(s3, vbucket, "k")
    assert entries_of(raw_listing(s3, Bucket=vbucket)) == [marker]
    assert "Versions" not in s3.list_object_versions(Bucket=vbucket)


# -- the serializer ---------------------------------------------------------------------------------


def _list_object_versions_model() -> Any:
    return botocore.session.get_session().get_service_model("s3").operation_model("ListObjectVersions")


def test_the_serializer_writes_an_interleaved_sequence_where_its_first_list_goes():
    op = _list_object_versions_model()
    version = {"Key": "k", "VersionId": "2", "IsLatest": True, "Size": 1}
    marker = {"Key": "k", "VersionId": "1", "IsLatest": False}
    older = {"Key": "k", "VersionId": "0", "IsLatest": False, "Size": 1}
    result = {"IsTruncated": False, "Name": "b", "Versions": [version, older],
              "DeleteMarkers": [marker], "CommonPrefixes": [{"Prefix": "p/"}],
              restxml.INTERLEAVED: [("Versions", version), ("DeleteMarkers", marker),
                                    ("Versions", older)]}
    _, _, body = restxml.serialize_response(op, result)
    assert isinstance(body, bytes)
    root = ElementTree.fromstring(body)
    assert [child.tag.removeprefix(NS) for child in root] == [
        "IsTruncated", "Version", "DeleteMarker", "Version", "Name", "CommonPrefixes"]
    assert entries_of(root) == [("Version", "k", "2"), ("DeleteMarker", "k", "1"), ("Version", "k", "0")]

    plain = {k: v for k, v in result.items() if k != restxml.INTERLEAVED}
    _, _, grouped = restxml.serialize_response(op, plain)
    assert isinstance(grouped, bytes)
    assert [child.tag.removeprefix(NS) for child in ElementTree.fromstring(grouped)] == [
        "IsTruncated", "Version", "Version", "DeleteMarker", "Name", "CommonPrefixes"]
