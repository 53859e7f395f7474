"""Multipart uploads through the real wire: boto3's managed transfers, checksums, part reads,
UploadPartCopy, every error code, and ListMultipartUploads pagination."""

from __future__ import annotations

import base64
import gc
import hashlib
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.config
import pytest
from awscrt import checksums as crt
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from fakes3.server import FakeAWS

MiB = 1024 * 1024
SMALL = 1024  # the minimum part size of the small-part server


@pytest.fixture(scope="module")
def small_server() -> Iterator[FakeAWS]:
    with FakeAWS(min_part_size=SMALL) as aws:
        yield aws


@pytest.fixture
def small(small_server: FakeAWS) -> Iterator[FakeAWS]:
    yield small_server
    small_server.reset()


@pytest.fixture
def client(small: FakeAWS):
    # No retries: S3's BadDigest is retryable for boto3, and a refusal should be seen at once.
    s3 = small.client("s3", config=botocore.config.Config(max_pool_connections=16,
                                                          retries={"max_attempts": 1}))
    s3.create_bucket(Bucket="parts")
    return s3


def code_of(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def multipart_etag(*parts: bytes) -> str:
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}-{len(parts)}"'


def upload(s3, key: str, parts: list[bytes], bucket: str = "parts", **create) -> tuple[str, list]:
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    listed = []
    for n, data in enumerate(parts, 1):
        out = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n, Body=data)
        listed.append({"PartNumber": n, "ETag": out["ETag"]})
    return uid, listed


# -- boto3's managed transfer -----------------------------------------------------------------


def test_upload_file_and_download_file_in_parallel_parts(fakes3, s3_client, tmp_path: Path):
    s3_client.create_bucket(Bucket="transfers")
    data = bytes(range(256)) * (12 * MiB // 256 + 1000)  # just over 12 MiB: three 5 MiB parts
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=8)
    s3_client.upload_file(str(src), "transfers", "big.bin", Config=config)
    head = s3_client.head_object(Bucket="transfers", Key="big.bin", ChecksumMode="ENABLED")
    chunks = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    assert head["ETag"] == multipart_etag(*chunks)
    assert head["ContentLength"] == len(data)
    # s3transfer names CRC32 when it starts the upload: a composite checksum of the part CRCs.
    part_crcs = b"".join(zlib.crc32(c).to_bytes(4, "big") for c in chunks)
    assert head["ChecksumCRC32"] == f"{b64(zlib.crc32(part_crcs).to_bytes(4, 'big'))}-3"
    assert head["ChecksumType"] == "COMPOSITE"
    # No byte was copied to build the object: its blob files are the three parts.
    gc.collect()
    assert len(fakes3.s3.blobs.files()) == 3
    out = tmp_path / "out.bin"
    s3_client.download_file("transfers", "big.bin", str(out), Config=config)
    assert out.read_bytes() == data


def test_managed_transfers_with_a_named_checksum_and_a_managed_copy(client, tmp_path: Path):
    # s3transfer never cuts parts under 5 MiB, whatever the config says: 11 MiB is three parts.
    data = b"".join(bytes([n]) * (MiB // 4) for n in range(44))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=8)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    client.upload_file(str(src), "parts", "f", Config=config,
                       ExtraArgs={"ChecksumAlgorithm": "SHA256", "ContentType": "text/plain"})
    head = client.head_object(Bucket="parts", Key="f", ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"') and head["ContentType"] == "text/plain"
    chunks = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    composite = b64(hashlib.sha256(b"".join(hashlib.sha256(c).digest() for c in chunks)).digest())
    assert head["ChecksumSHA256"] == f"{composite}-3" and head["ChecksumType"] == "COMPOSITE"
    out = tmp_path / "out.bin"
    client.download_file("parts", "f", str(out), Config=config)
    assert out.read_bytes() == data
    # A managed copy of an object over the threshold is done with UploadPartCopy.
    client.copy({"Bucket": "parts", "Key": "f"}, "parts", "g", Config=config)
    got = client.get_object(Bucket="parts", Key="g")
    assert got["Body"].read() == data and got["ETag"] == multipart_etag(*chunks)


def test_parallel_upload_part_from_eight_threads(client):
    uid = client.create_multipart_upload(Bucket="parts", Key="p")["UploadId"]
    chunks = [bytes([n]) * (SMALL + n) for n in range(32)]
    barrier = threading.Barrier(8, timeout=30)

    def send(worker: int) -> list[dict]:
        barrier.wait()
        done = []
        for n in range(worker + 1, 33, 8):
            out = client.upload_part(Bucket="parts", Key="p", UploadId=uid, PartNumber=n,
                                     Body=chunks[n - 1])
            done.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
        return done

    with ThreadPoolExecutor(8) as pool:
        parts = sorted((p for ps in pool.map(send, range(8)) for p in ps),
                       key=lambda p: p["PartNumber"])
    out = client.complete_multipart_upload(Bucket="parts", Key="p", UploadId=uid,
                                           MultipartUpload={"Parts": parts})
    assert out["ETag"] == multipart_etag(*chunks)
    assert client.get_object(Bucket="parts", Key="p")["Body"].read() == b"".join(chunks)


# -- the operations, one by one ---------------------------------------------------------------


def test_create_list_complete(client):
    created = client.create_multipart_upload(Bucket="parts", Key="dir/k", Metadata={"a": "1"},
                                             ContentType="application/json")
    uid = created["UploadId"]
    assert (created["Bucket"], created["Key"]) == ("parts", "dir/k")
    parts = [b"x" * SMALL, b"y" * 10]
    sent = [client.upload_part(Bucket="parts", Key="dir/k", UploadId=uid, PartNumber=n, Body=d)
            for n, d in enumerate(parts, 1)]
    listed = client.list_parts(Bucket="parts", Key="dir/k", UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (1, sent[0]["ETag"], SMALL), (2, sent[1]["ETag"], 10)]
    assert listed["StorageClass"] == "STANDARD" and listed["Initiator"]["ID"]
    uploads = client.list_multipart_uploads(Bucket="parts")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("dir/k", uid)]
    done = client.complete_multipart_upload(
        Bucket="parts", Key="dir/k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": s["ETag"]}
                                   for n, s in enumerate(sent, 1)]})
    assert done["ETag"] == multipart_etag(*parts)
    assert done["Location"].endswith("/parts/dir/k")
    got = client.get_object(Bucket="parts", Key="dir/k")
    assert got["Body"].read() == b"".join(parts)
    assert got["Metadata"] == {"a": "1"} and got["ContentType"] == "application/json"
    assert "Uploads" not in client.list_multipart_uploads(Bucket="parts")


def test_abort(client, small):
    uid, _ = upload(client, "k", [b"z" * 5000, b"z" * 3000])
    out = client.abort_multipart_upload(Bucket="parts", Key="k", UploadId=uid)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    gc.collect()
    assert small.s3.blobs.files() == []
    with pytest.raises(ClientError) as err:
        client.abort_multipart_upload(Bucket="parts", Key="k", UploadId=uid)
    assert code_of(err) == ("NoSuchUpload", 404)
    assert err.value.response["Error"]["UploadId"] == uid


def test_get_and_head_by_part_number(client):
    parts = [b"1" * SMALL, b"2" * 2000, b"3" * 7]
    uid, listed = upload(client, "k", parts)
    client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": listed})
    got = client.get_object(Bucket="parts", Key="k", PartNumber=2)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == parts[1]
    assert got["ContentRange"] == f"bytes {SMALL}-{SMALL + 1999}/{SMALL + 2007}"
    assert got["PartsCount"] == 3
    head = client.head_object(Bucket="parts", Key="k", PartNumber=3)
    assert head["ContentLength"] == 7 and head["PartsCount"] == 3
    with pytest.raises(ClientError) as err:
        client.get_object(Bucket="parts", Key="k", PartNumber=4)
    assert code_of(err) == ("InvalidPartNumber", 416)
    ranged = client.get_object(Bucket="parts", Key="k", Range=f"bytes={SMALL - 2}-{SMALL + 1}")
    assert ranged["Body"].read() == b"11" + b"22"


def test_upload_part_copy(client):
    source = bytes(range(256)) * 20
    client.put_object(Bucket="parts", Key="src", Body=source)
    uid = client.create_multipart_upload(Bucket="parts", Key="dst")["UploadId"]
    first = client.upload_part_copy(Bucket="parts", Key="dst", UploadId=uid, PartNumber=1,
                                    CopySource={"Bucket": "parts", "Key": "src"},
                                    CopySourceRange="bytes=0-2047")
    second = client.upload_part_copy(Bucket="parts", Key="dst", UploadId=uid, PartNumber=2,
                                     CopySource="parts/src", CopySourceRange="bytes=5000-5119")
    result = first["CopyPartResult"]
    assert result["ETag"] == f'"{hashlib.md5(source[:2048]).hexdigest()}"' and result["LastModified"]
    with pytest.raises(ClientError) as err:
        client.upload_part_copy(Bucket="parts", Key="dst", UploadId=uid, PartNumber=3,
                                CopySource="parts/src", CopySourceRange="bytes=5000-9999")
    assert code_of(err) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as err:
        client.upload_part_copy(Bucket="parts", Key="dst", UploadId=uid, PartNumber=3,
                                CopySource="parts/src", CopySourceIfMatch='"0000"')
    assert code_of(err) == ("PreconditionFailed", 412)
    client.complete_multipart_upload(Bucket="parts", Key="dst", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": result["ETag"]},
                  {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    body = client.get_object(Bucket="parts", Key="dst")["Body"].read()
    assert body == source[:2048] + source[5000:5120]


# -- checksums through boto3 -------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksums(client, algorithm):
    fn, width = {"CRC32": (zlib.crc32, 4), "CRC32C": (crt.crc32c, 4),
                 "CRC64NVME": (crt.crc64nvme, 8)}[algorithm]
    parts = [b"a" * 3000, b"b" * 2000, b"c" * 5]
    uid = client.create_multipart_upload(Bucket="parts", Key="k", ChecksumAlgorithm=algorithm,
                                         ChecksumType="FULL_OBJECT")["UploadId"]
    listed = []
    for n, data in enumerate(parts, 1):
        out = client.upload_part(Bucket="parts", Key="k", UploadId=uid, PartNumber=n, Body=data,
                                 ChecksumAlgorithm=algorithm)
        assert out[f"Checksum{algorithm}"] == b64(fn(data).to_bytes(width, "big"))
        listed.append({"PartNumber": n, "ETag": out["ETag"]})
    done = client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid,
                                            MultipartUpload={"Parts": listed})
    whole = b64(fn(b"".join(parts)).to_bytes(width, "big"))
    assert (done[f"Checksum{algorithm}"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    # boto3 validates a full-object checksum it receives: a wrong combine would fail here.
    got = client.get_object(Bucket="parts", Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    assert (got[f"Checksum{algorithm}"], got["ChecksumType"]) == (whole, "FULL_OBJECT")


def test_full_object_checksum_sent_by_the_client(client, tmp_path: Path):
    data = bytes(range(256)) * 100
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=SMALL * 4, multipart_chunksize=SMALL * 4)
    client.upload_file(str(src), "parts", "k", Config=config,
                       ExtraArgs={"ChecksumCRC32": b64(zlib.crc32(data).to_bytes(4, "big"))})
    head = client.head_object(Bucket="parts", Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "FULL_OBJECT"


def test_composite_checksum_needs_part_checksums_on_complete(client):
    uid = client.create_multipart_upload(Bucket="parts", Key="k",
                                         ChecksumAlgorithm="SHA1")["UploadId"]
    with pytest.raises(ClientError) as err:  # a part without the upload's algorithm
        client.upload_part(Bucket="parts", Key="k", UploadId=uid, PartNumber=1, Body=b"x",
                           ChecksumAlgorithm="CRC32")
    assert code_of(err) == ("InvalidRequest", 400)
    out = client.upload_part(Bucket="parts", Key="k", UploadId=uid, PartNumber=1, Body=b"x",
                             ChecksumAlgorithm="SHA1")
    assert out["ChecksumSHA1"] == b64(hashlib.sha1(b"x").digest())
    with pytest.raises(ClientError) as err:
        client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": out["ETag"]}]})
    assert code_of(err) == ("InvalidRequest", 400)
    assert "must include the checksum for each part" in err.value.response["Error"]["Message"]
    done = client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": out["ETag"], "ChecksumSHA1": out["ChecksumSHA1"]}]})
    composite = b64(hashlib.sha1(hashlib.sha1(b"x").digest()).digest())
    assert (done["ChecksumSHA1"], done["ChecksumType"]) == (f"{composite}-1", "COMPOSITE")


def test_create_refuses_a_type_its_algorithm_cannot_have(client):
    with pytest.raises(ClientError) as err:
        client.create_multipart_upload(Bucket="parts", Key="k", ChecksumAlgorithm="SHA256",
                                       ChecksumType="FULL_OBJECT")
    assert code_of(err) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as err:
        client.create_multipart_upload(Bucket="parts", Key="k", ChecksumAlgorithm="CRC64NVME",
                                       ChecksumType="COMPOSITE")
    assert code_of(err) == ("InvalidRequest", 400)


# -- error codes -------------------------------------------------------------------------------


def test_no_such_upload(client):
    for call in (
        lambda: client.upload_part(Bucket="parts", Key="k", UploadId="nope", PartNumber=1, Body=b"x"),
        lambda: client.list_parts(Bucket="parts", Key="k", UploadId="nope"),
        lambda: client.complete_multipart_upload(Bucket="parts", Key="k", UploadId="nope",
                                                 MultipartUpload={"Parts": [
                                                     {"PartNumber": 1, "ETag": '"x"'}]}),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert code_of(err) == ("NoSuchUpload", 404)
        assert err.value.response["Error"]["UploadId"] == "nope"


def test_invalid_part_and_part_order(client):
    uid, parts = upload(client, "k", [b"a" * SMALL, b"b" * SMALL])
    with pytest.raises(ClientError) as err:
        client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid, MultipartUpload={
            "Parts": [parts[0], {"PartNumber": 2, "ETag": parts[0]["ETag"]}]})
    assert code_of(err) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as err:
        client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid, MultipartUpload={
            "Parts": [parts[0], {"PartNumber": 3, "ETag": parts[1]["ETag"]}]})
    assert code_of(err) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as err:
        client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid,
                                         MultipartUpload={"Parts": parts[::-1]})
    assert code_of(err) == ("InvalidPartOrder", 400)


def test_entity_too_small_at_s3s_five_mib(s3_client):
    s3_client.create_bucket(Bucket="tiny")
    uid, parts = upload(s3_client, "k", [b"a" * 100, b"b"], bucket="tiny")
    with pytest.raises(ClientError) as err:
        s3_client.complete_multipart_upload(Bucket="tiny", Key="k", UploadId=uid,
                                            MultipartUpload={"Parts": parts})
    assert code_of(err) == ("EntityTooSmall", 400)
    error = err.value.response["Error"]
    assert (error["ProposedSize"], error["MinSizeAllowed"]) == ("100", str(5 * MiB))
    # One small part is a valid (last) part.
    done = s3_client.complete_multipart_upload(Bucket="tiny", Key="k", UploadId=uid,
                                               MultipartUpload={"Parts": parts[:1]})
    assert done["ETag"] == multipart_etag(b"a" * 100)


def test_invalid_part_number_and_bad_digest(client):
    uid = client.create_multipart_upload(Bucket="parts", Key="k")["UploadId"]
    with pytest.raises(ClientError) as err:
        client.upload_part(Bucket="parts", Key="k", UploadId=uid, PartNumber=10001, Body=b"x")
    assert code_of(err) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as err:
        client.upload_part(Bucket="parts", Key="k", UploadId=uid, PartNumber=1, Body=b"x",
                           ContentMD5=b64(hashlib.md5(b"y").digest()))
    assert code_of(err) == ("BadDigest", 400)


def test_conditional_complete(client):
    uid, parts = upload(client, "k", [b"m" * SMALL])
    client.put_object(Bucket="parts", Key="k", Body=b"already here")
    with pytest.raises(ClientError) as err:
        client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid, IfNoneMatch="*",
                                         MultipartUpload={"Parts": parts})
    assert code_of(err) == ("PreconditionFailed", 412)
    client.delete_object(Bucket="parts", Key="k")  # a delete that wins over the upload
    with pytest.raises(ClientError) as err:
        client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=uid, IfNoneMatch="*",
                                         MultipartUpload={"Parts": parts})
    assert code_of(err) == ("ConditionalRequestConflict", 409)
    fresh, fresh_parts = upload(client, "k", [b"n" * SMALL])
    done = client.complete_multipart_upload(Bucket="parts", Key="k", UploadId=fresh,
                                            IfNoneMatch="*", MultipartUpload={"Parts": fresh_parts})
    assert client.head_object(Bucket="parts", Key="k", IfMatch=done["ETag"])["ContentLength"] == SMALL


def test_conditional_completes_race_and_exactly_one_wins(client):
    uploads = [upload(client, "race", [bytes([65 + i]) * SMALL]) for i in range(8)]
    barrier = threading.Barrier(8, timeout=30)

    def finish(i: int) -> str:
        uid, parts = uploads[i]
        barrier.wait()
        try:
            client.complete_multipart_upload(Bucket="parts", Key="race", UploadId=uid,
                                             IfNoneMatch="*", MultipartUpload={"Parts": parts})
            return "won"
        except ClientError as err:
            return err.response["Error"]["Code"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(finish, range(8)))
    assert sorted(results) == ["PreconditionFailed"] * 7 + ["won"]
    winner = results.index("won")
    assert client.get_object(Bucket="parts", Key="race")["Body"].read() == bytes([65 + winner]) * SMALL


# -- ListMultipartUploads ----------------------------------------------------------------------


def test_list_multipart_uploads_pagination(client):
    keys = ["a/1", "a/2", "b", "b", "c", "d/x/1", "e"]
    ids = [client.create_multipart_upload(Bucket="parts", Key=k)["UploadId"] for k in keys]
    paginator = client.get_paginator("list_multipart_uploads")
    pages = list(paginator.paginate(Bucket="parts", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4
    assert [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])] == list(
        zip(keys, ids, strict=True))
    assert all(p["IsTruncated"] for p in pages[:-1]) and not pages[-1]["IsTruncated"]
    rolled = list(paginator.paginate(Bucket="parts", Delimiter="/",
                                     PaginationConfig={"PageSize": 1}))
    seen = [u["Key"] for p in rolled for u in p.get("Uploads", [])]
    prefixes = [c["Prefix"] for p in rolled for c in p.get("CommonPrefixes", [])]
    assert seen == ["b", "b", "c", "e"] and prefixes == ["a/", "d/"]
    only = client.list_multipart_uploads(Bucket="parts", Prefix="d/", Delimiter="/")
    assert only["CommonPrefixes"] == [{"Prefix": "d/x/"}] and "Uploads" not in only
