"""Checksums: computed in one pass, verified against headers and aws-chunked trailers, stored."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from .helpers import body, error_of, read_body

# Independent references (not awscrt): table-free bitwise CRCs from their published parameters.


def _reflected_crc(data: bytes, poly: int, width: int) -> int:
    mask = (1 << width) - 1
    crc = mask
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ mask


def crc32c(data: bytes) -> bytes:
    return _reflected_crc(data, 0x82F63B78, 32).to_bytes(4, "big")


def crc64nvme(data: bytes) -> bytes:
    return _reflected_crc(data, 0x9A6C9329AC4BC9B5, 64).to_bytes(8, "big")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def reference(algorithm: str, data: bytes) -> str:
    if algorithm == "CRC32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    if algorithm == "CRC32C":
        return b64(crc32c(data))
    if algorithm == "CRC64NVME":
        return b64(crc64nvme(data))
    return b64(
        hashlib.new(algorithm.lower()).digest()
        if not data
        else hashlib.new(algorithm.lower(), data).digest()
    )


def test_reference_implementations_match_published_check_values():
    assert crc32c(b"123456789").hex() == "e3069283"
    assert crc64nvme(b"123456789").hex() == "ae8b14860a799888"


ALGS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5"]
PAYLOAD = b"The quick brown fox jumps over the lazy dog" * 5  # > 64 bytes: spills to a file


@pytest.mark.parametrize("alg", ALGS)
def test_algorithm_alone_computes_and_stores(call, bucket, alg):
    put = call("PutObject", Bucket=bucket, Key="k", Body=body(PAYLOAD), ChecksumAlgorithm=alg)
    expected = reference(alg, PAYLOAD)
    assert put["Checksum" + alg] == expected and put["ChecksumType"] == "FULL_OBJECT"
    got = call("GetObject", Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Checksum" + alg] == expected and got["ChecksumType"] == "FULL_OBJECT"
    head = call("HeadObject", Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["Checksum" + alg] == expected
    listed = call("ListObjectsV2", Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == [alg]


@pytest.mark.parametrize("alg", ALGS)
def test_header_value_verified(call, bucket, alg):
    good = reference(alg, PAYLOAD)
    call("PutObject", Bucket=bucket, Key="k", Body=body(PAYLOAD), **{"Checksum" + alg: good})
    wrong = reference(alg, b"something else")
    err = error_of(
        lambda: call(
            "PutObject", Bucket=bucket, Key="k", Body=body(b"x" * 100), **{"Checksum" + alg: wrong}
        )
    )
    assert (err.code, err.status) == ("BadDigest", 400)
    assert err.message == f"The {alg} you specified did not match the calculated checksum."
    assert read_body(call("GetObject", Bucket=bucket, Key="k")) == PAYLOAD


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA256", "CRC64NVME"])
def test_trailer_value_verified(call, bucket, alg):
    trailer = {f"x-amz-checksum-{alg.lower()}": reference(alg, PAYLOAD)}
    put = call(
        "PutObject", Bucket=bucket, Key="k", Body=body(PAYLOAD, trailer), ChecksumAlgorithm=alg
    )
    assert put["Checksum" + alg] == reference(alg, PAYLOAD)
    bad = {f"x-amz-checksum-{alg.lower()}": reference(alg, b"other")}
    err = error_of(
        lambda: call(
            "PutObject", Bucket=bucket, Key="k2", Body=body(PAYLOAD, bad), ChecksumAlgorithm=alg
        )
    )
    assert err.code == "BadDigest"
    assert error_of(lambda: call("HeadObject", Bucket=bucket, Key="k2")).code == "NoSuchKey"


def test_trailer_without_announced_algorithm_is_still_verified(call, bucket):
    trailer = {"x-amz-checksum-crc32c": reference("CRC32C", PAYLOAD)}
    put = call("PutObject", Bucket=bucket, Key="k", Body=body(PAYLOAD, trailer))
    assert put["ChecksumCRC32C"] == reference("CRC32C", PAYLOAD)
    bad = {"x-amz-checksum-crc32c": reference("CRC32C", b"nope")}
    assert (
        error_of(lambda: call("PutObject", Bucket=bucket, Key="k", Body=body(PAYLOAD, bad))).code
        == "BadDigest"
    )


def test_default_checksum_is_crc64nvme(call, bucket):
    put = call("PutObject", Bucket=bucket, Key="k", Body=b"abc")
    assert put["ChecksumCRC64NVME"] == reference("CRC64NVME", b"abc")
    got = call("GetObject", Bucket=bucket, Key="k")
    assert "ChecksumCRC64NVME" not in got  # only with ChecksumMode=ENABLED
    ranged = call("GetObject", Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range="bytes=0-0")
    assert "ChecksumCRC64NVME" not in ranged  # a full-object checksum never describes a range


def test_invalid_checksum_requests(call, bucket):
    err = error_of(
        lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"x", ChecksumCRC32="abc")
    )
    assert (err.code, err.status) == ("InvalidRequest", 400)
    assert err.message.startswith("Value for x-amz-checksum-crc32 header is invalid.")
    err = error_of(
        lambda: call(
            "PutObject",
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ChecksumCRC32=reference("CRC32", b"x"),
            ChecksumSHA1=reference("SHA1", b"x"),
        )
    )
    assert err.code == "InvalidRequest" and "single" in err.message
    err = error_of(
        lambda: call("PutObject", Bucket=bucket, Key="k", Body=b"x", ChecksumAlgorithm="FOO")
    )
    assert err.code == "InvalidRequest"
    err = error_of(
        lambda: call(
            "PutObject",
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ChecksumAlgorithm="CRC32",
            ChecksumSHA1=reference("SHA1", b"x"),
        )
    )
    assert err.code == "BadDigest"


def test_failed_upload_leaves_no_file(call, bucket, svc):
    before = svc.blobs.files()
    err = error_of(
        lambda: call(
            "PutObject",
            Bucket=bucket,
            Key="k",
            Body=body(b"z" * 500),
            ChecksumCRC32=reference("CRC32", b"other"),
        )
    )
    assert err.code == "BadDigest"
    assert svc.blobs.files() == before
