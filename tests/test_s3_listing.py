"""Listing through boto3: prefixes, delimiters, pagination, ordering, URL encoding."""

from __future__ import annotations

import pytest

KEYS = ["a.txt", "dir/b.txt", "dir/c.txt", "dir/sub/d.txt", "e/f", "z", "~tilde", "é", "€"]


@pytest.fixture
def filled(s3_client):
    s3_client.create_bucket(Bucket="list")
    for key in KEYS:
        s3_client.put_object(Bucket="list", Key=key, Body=key.encode())
    return s3_client


def test_keys_come_in_utf8_binary_order(filled):
    contents = filled.list_objects_v2(Bucket="list")["Contents"]
    assert [c["Key"] for c in contents] == sorted(KEYS, key=lambda k: k.encode("utf-8"))
    first = contents[0]
    assert first["Size"] == len(first["Key"].encode()) and first["ETag"].startswith('"')
    assert first["StorageClass"] == "STANDARD" and first["LastModified"]


def test_delimiter_rolls_keys_up_into_common_prefixes(filled):
    page = filled.list_objects_v2(Bucket="list", Delimiter="/")
    assert [c["Key"] for c in page["Contents"]] == ["a.txt", "z", "~tilde", "é", "€"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["dir/", "e/"]
    assert page["KeyCount"] == 7
    nested = filled.list_objects_v2(Bucket="list", Prefix="dir/", Delimiter="/")
    assert [c["Key"] for c in nested["Contents"]] == ["dir/b.txt", "dir/c.txt"]
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["dir/sub/"]


def test_v2_pagination_with_tokens_and_start_after(filled):
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = filled.list_objects_v2(Bucket="list", MaxKeys=2, **kwargs)
        pages += 1
        seen += [c["Key"] for c in page.get("Contents", [])]
        assert page["KeyCount"] == len(page.get("Contents", []))
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert pages == 5 and seen == sorted(KEYS, key=lambda k: k.encode())
    after = filled.list_objects_v2(Bucket="list", StartAfter="dir/sub/d.txt")
    assert [c["Key"] for c in after["Contents"]] == ["e/f", "z", "~tilde", "é", "€"]


def test_paginator_with_delimiter_counts_prefixes_against_max_keys(filled):
    paginator = filled.get_paginator("list_objects_v2")
    keys, prefixes = [], []
    for page in paginator.paginate(Bucket="list", Delimiter="/", PaginationConfig={"PageSize": 2}):
        assert page["KeyCount"] <= 2
        keys += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert keys == ["a.txt", "z", "~tilde", "é", "€"] and prefixes == ["dir/", "e/"]


def test_v1_marker_pagination_and_next_marker(filled):
    page = filled.list_objects(Bucket="list", MaxKeys=3)
    assert page["IsTruncated"] and "NextMarker" not in page  # only given with a delimiter
    rest = filled.list_objects(Bucket="list", Marker=page["Contents"][-1]["Key"])
    assert [c["Key"] for c in page["Contents"] + rest["Contents"]] == sorted(KEYS, key=lambda k: k.encode())
    delimited = filled.list_objects(Bucket="list", Delimiter="/", MaxKeys=2)
    assert delimited["IsTruncated"] and delimited["NextMarker"] == "dir/"
    assert "Owner" in page["Contents"][0]


def test_fetch_owner(filled):
    assert "Owner" not in filled.list_objects_v2(Bucket="list")["Contents"][0]
    assert "Owner" in filled.list_objects_v2(Bucket="list", FetchOwner=True)["Contents"][0]


def test_url_encoding_type_round_trips_awkward_keys(s3_client):
    s3_client.create_bucket(Bucket="enc")
    awkward = ["sp ace", "plus+sign", "amp&er", "ctl\x01char", "uni\u00e9/x"]
    for key in awkward:
        s3_client.put_object(Bucket="enc", Key=key, Body=b"")
    # boto3 asks for EncodingType=url and decodes the keys itself.
    listed = [c["Key"] for c in s3_client.list_objects_v2(Bucket="enc")["Contents"]]
    assert listed == sorted(awkward, key=lambda k: k.encode())
    prefixes = s3_client.list_objects_v2(Bucket="enc", Delimiter="/")["CommonPrefixes"]
    assert [p["Prefix"] for p in prefixes] == ["uni\u00e9/"]


def test_an_invalid_continuation_token(filled):
    with pytest.raises(filled.exceptions.ClientError) as err:
        filled.list_objects_v2(Bucket="list", ContinuationToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
