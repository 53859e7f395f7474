"""ListObjects (v1) and ListObjectsV2: prefixes, delimiters, pagination, encoding, order."""

from __future__ import annotations

import random
from urllib.parse import unquote_plus

import pytest

from .helpers import NOW, error_of

KEYS = ["a", "b/1", "b/2", "b/c/3", "c", "d/1", "d/2", "e"]


@pytest.fixture
def filled(call, bucket):
    for key in KEYS:
        call("PutObject", Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def keys_of(out):
    return [c["Key"] for c in out.get("Contents", [])]


def prefixes_of(out):
    return [p["Prefix"] for p in out.get("CommonPrefixes", [])]


def test_v1_basic_entry_shape(call, filled):
    out = call("ListObjects", Bucket=filled)
    assert keys_of(out) == KEYS
    assert out["IsTruncated"] is False and out["Name"] == filled
    assert out["Marker"] == "" and out["Prefix"] == "" and out["MaxKeys"] == 1000
    assert "NextMarker" not in out and "Delimiter" not in out
    entry = out["Contents"][0]
    assert entry["Key"] == "a" and entry["Size"] == 1
    assert entry["LastModified"] == NOW.replace(microsecond=0)
    assert entry["ETag"].startswith('"') and entry["StorageClass"] == "STANDARD"
    assert entry["ChecksumAlgorithm"] == ["CRC64NVME"]
    assert set(entry["Owner"]) == {"DisplayName", "ID"}


def test_v1_delimiter_and_next_marker(call, filled):
    out = call("ListObjects", Bucket=filled, Delimiter="/", MaxKeys=2)
    assert keys_of(out) == ["a"] and prefixes_of(out) == ["b/"]
    assert out["IsTruncated"] is True and out["NextMarker"] == "b/"
    out = call("ListObjects", Bucket=filled, Delimiter="/", MaxKeys=2, Marker=out["NextMarker"])
    assert keys_of(out) == ["c"] and prefixes_of(out) == ["d/"]
    assert out["NextMarker"] == "d/" and out["Marker"] == "b/"
    out = call("ListObjects", Bucket=filled, Delimiter="/", MaxKeys=2, Marker="d/")
    assert keys_of(out) == ["e"] and out["IsTruncated"] is False and "NextMarker" not in out


def test_v1_no_next_marker_without_delimiter(call, filled):
    out = call("ListObjects", Bucket=filled, MaxKeys=3)
    assert keys_of(out) == KEYS[:3] and out["IsTruncated"] is True and "NextMarker" not in out
    out = call("ListObjects", Bucket=filled, MaxKeys=3, Marker=keys_of(out)[-1])
    assert keys_of(out) == KEYS[3:6]


def test_prefix_and_nested_delimiter(call, filled):
    out = call("ListObjectsV2", Bucket=filled, Prefix="b/", Delimiter="/")
    assert keys_of(out) == ["b/1", "b/2"] and prefixes_of(out) == ["b/c/"]
    assert out["KeyCount"] == 3 and out["Prefix"] == "b/"
    out = call("ListObjectsV2", Bucket=filled, Prefix="zzz")
    assert out["KeyCount"] == 0 and "Contents" not in out


def test_v2_pagination_with_tokens(call, filled):
    seen, token, pages = [], None, 0
    while True:
        params = {"Bucket": filled, "Delimiter": "/", "MaxKeys": 2}
        if token:
            params["ContinuationToken"] = token
        out = call("ListObjectsV2", **params)
        pages += 1
        assert out["KeyCount"] == len(keys_of(out)) + len(prefixes_of(out)) <= 2
        if token:
            assert out["ContinuationToken"] == token
        seen += keys_of(out) + prefixes_of(out)
        if not out["IsTruncated"]:
            assert "NextContinuationToken" not in out
            break
        token = out["NextContinuationToken"]
    assert seen == ["a", "b/", "c", "d/", "e"] and pages == 3


def test_v2_start_after_and_fetch_owner(call, filled):
    out = call("ListObjectsV2", Bucket=filled, StartAfter="b/2")
    assert keys_of(out) == ["b/c/3", "c", "d/1", "d/2", "e"]
    assert out["StartAfter"] == "b/2"
    assert "Owner" not in out["Contents"][0]
    out = call("ListObjectsV2", Bucket=filled, FetchOwner=True, MaxKeys=1)
    assert "Owner" in out["Contents"][0]


def test_max_keys_zero_and_invalid(call, filled):
    out = call("ListObjectsV2", Bucket=filled, MaxKeys=0)
    assert out["KeyCount"] == 0 and out["IsTruncated"] is False
    err = error_of(lambda: call("ListObjectsV2", Bucket=filled, MaxKeys=-1))
    assert (err.code, err.fields["ArgumentName"]) == ("InvalidArgument", "max-keys")


def test_max_keys_capped_at_1000(call, bucket):
    for i in range(1001):
        call("PutObject", Bucket=bucket, Key=f"k{i:04d}", Body=b"")
    out = call("ListObjectsV2", Bucket=bucket, MaxKeys=5000)
    assert out["KeyCount"] == 1000 and out["IsTruncated"] is True
    out = call("ListObjectsV2", Bucket=bucket, ContinuationToken=out["NextContinuationToken"])
    assert keys_of(out) == ["k1000"]
    assert call("ListObjects", Bucket=bucket)["IsTruncated"] is True


def test_invalid_token_and_encoding(call, filled):
    for token in ("not-a-token", ""):
        err = error_of(
            lambda token=token: call("ListObjectsV2", Bucket=filled, ContinuationToken=token)
        )
        assert (err.code, err.status) == ("InvalidArgument", 400)
        assert err.fields["ArgumentName"] == "continuation-token"
    call("CreateBucket", Bucket="other")
    token = call("ListObjectsV2", Bucket=filled, MaxKeys=1)["NextContinuationToken"]
    err = error_of(lambda: call("ListObjectsV2", Bucket="other", ContinuationToken=token))
    assert err.code == "InvalidArgument"  # a token is only good for its own bucket
    err = error_of(lambda: call("ListObjectsV2", Bucket=filled, EncodingType="base64"))
    assert err.code == "InvalidArgument"


def test_encoding_type_url(call, bucket):
    odd = ["a b/c+d", "a b/e%f", "naïve/x", "plain"]
    for key in odd:
        call("PutObject", Bucket=bucket, Key=key, Body=b"")
    out = call(
        "ListObjectsV2", Bucket=bucket, EncodingType="url", Delimiter="/", Prefix="", StartAfter="a"
    )
    assert out["EncodingType"] == "url"
    assert prefixes_of(out) == ["a%20b/", "na%C3%AFve/"]
    assert keys_of(out) == ["plain"]
    assert out["StartAfter"] == "a"
    out = call("ListObjectsV2", Bucket=bucket, EncodingType="url", Prefix="a b/")
    assert out["Prefix"] == "a%20b/"
    assert [unquote_plus(k) for k in keys_of(out)] == ["a b/c+d", "a b/e%f"]  # botocore's decode
    v1 = call(
        "ListObjects", Bucket=bucket, EncodingType="url", Delimiter="/", Marker="a b/", MaxKeys=1
    )
    assert v1["Marker"] == "a%20b/" and v1["Delimiter"] == "/"
    assert v1["NextMarker"] == "na%C3%AFve/"


def test_utf8_binary_order(call, bucket):
    keys = ["z", "é", "\uffff", "😀", "A", "~", "\u00ff"]
    for key in keys:
        call("PutObject", Bucket=bucket, Key=key, Body=b"")
    out = call("ListObjectsV2", Bucket=bucket)
    assert keys_of(out) == sorted(keys, key=lambda k: k.encode("utf-8"))


def test_deleted_keys_disappear(call, filled):
    call("DeleteObject", Bucket=filled, Key="b/1")
    call("DeleteObject", Bucket=filled, Key="b/2")
    call("DeleteObject", Bucket=filled, Key="b/c/3")
    out = call("ListObjects", Bucket=filled, Delimiter="/")
    assert prefixes_of(out) == ["d/"]


def test_no_such_bucket(call):
    for op in ("ListObjects", "ListObjectsV2"):
        err = error_of(lambda op=op: call(op, Bucket="nope"))
        assert (err.code, err.status) == ("NoSuchBucket", 404)


def reference_listing(keys, prefix, delimiter, after):
    out = []
    for key in sorted(keys):
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        item = key[: cut + len(delimiter)] if cut >= 0 else key
        if item > after and item not in out:
            out.append(item)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_pagination_matches_reference(call, bucket, seed):
    rng = random.Random(seed)
    alphabet = "ab/-é"
    keys = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(60)}
    for key in keys:
        call("PutObject", Bucket=bucket, Key=key, Body=b"")
    for _ in range(5):
        prefix = rng.choice(["", "a", "b/", "a/", "é"])
        delimiter = rng.choice(["", "/", "-", "a/"])
        start_after = rng.choice(["", "a", "b/b"])
        max_keys = rng.randint(1, 7)
        expected = reference_listing(keys, prefix, delimiter, start_after)
        got, token = [], None
        for _ in range(200):
            params = {
                "Bucket": bucket,
                "Prefix": prefix,
                "Delimiter": delimiter,
                "MaxKeys": max_keys,
                "StartAfter": start_after,
            }
            if token:
                params["ContinuationToken"] = token
            out = call("ListObjectsV2", **params)
            page = sorted(keys_of(out) + prefixes_of(out))
            assert len(page) <= max_keys
            got += page
            if not out["IsTruncated"]:
                break
            token = out["NextContinuationToken"]
        assert got == expected, (prefix, delimiter, start_after, max_keys)
        # v1 with NextMarker (delimiter) or the last key (none) walks the same listing.
        got, marker = [], start_after
        for _ in range(200):
            out = call(
                "ListObjects",
                Bucket=bucket,
                Prefix=prefix,
                Delimiter=delimiter,
                MaxKeys=max_keys,
                Marker=marker,
            )
            page = sorted(keys_of(out) + prefixes_of(out))
            got += page
            if not out["IsTruncated"]:
                break
            marker = out["NextMarker"] if delimiter else keys_of(out)[-1]
        assert got == expected
