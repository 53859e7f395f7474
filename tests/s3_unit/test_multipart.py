"""Multipart uploads on S3Service directly: parts, completion, conditions, checksums, copies,
listings, part reads, memory and concurrency."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import hashlib
import os
import threading
import zlib
from pathlib import Path

import pytest
from awscrt import checksums as crt

from fakes3.errors import S3Error
from fakes3.s3 import S3Service

from .helpers import NOW, body, error_of, make_ctx, read_body

MIN = 100  # the minimum part size of these tests (S3's is 5 MiB)
LATER = NOW + dt.timedelta(minutes=5)
WAIT = 20.0


@pytest.fixture
def svc(tmp_path: Path):
    # Anything over 64 bytes spills to a file, so parts of MIN bytes live on disk.
    service = S3Service(spill_threshold=64, blob_dir=str(tmp_path / "blobs"), min_part_size=MIN)
    yield service
    service.close()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def crc32c(data: bytes) -> str:
    return b64(crt.crc32c(data).to_bytes(4, "big"))


def crc64(data: bytes) -> str:
    return b64(crt.crc64nvme(data).to_bytes(8, "big"))


def sha256(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


def md5_etag(*parts: bytes) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


PARTS = [b"a" * 150, b"b" * 120, b"c" * 30]


def start(call, bucket, key="obj", ctx=None, **params):
    return call("CreateMultipartUpload", ctx=ctx, Bucket=bucket, Key=key, **params)["UploadId"]


def put_parts(call, bucket, upload_id, parts=PARTS, key="obj", **params):
    listed = []
    for number, data in enumerate(parts, 1):
        out = call("UploadPart", Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                   Body=body(data), **params)
        listed.append({"PartNumber": number, "ETag": out["ETag"]})
    return listed


def complete(call, bucket, upload_id, parts, key="obj", **params):
    return call("CompleteMultipartUpload", Bucket=bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts}, **params)


# -- the happy path ---------------------------------------------------------------------------


def test_upload_and_complete_round_trip(call, bucket):
    uid = start(call, bucket, ContentType="text/csv", Metadata={"Team": "x"}, CacheControl="no-cache",
                ctx=make_ctx(now=NOW))
    parts = put_parts(call, bucket, uid)
    assert parts[0]["ETag"] == f'"{hashlib.md5(PARTS[0]).hexdigest()}"'
    out = call("CompleteMultipartUpload", ctx=make_ctx(now=LATER), Bucket=bucket, Key="obj",
               UploadId=uid, MultipartUpload={"Parts": parts})
    assert out["ETag"] == md5_etag(*PARTS)
    assert (out["Bucket"], out["Key"]) == (bucket, "obj")
    assert out["Location"].endswith(f"{bucket}.s3.us-east-1.amazonaws.com/obj")
    got = call("GetObject", Bucket=bucket, Key="obj")
    assert read_body(got) == b"".join(PARTS)
    assert got["ETag"] == out["ETag"] and got["ContentLength"] == 300
    assert got["ContentType"] == "text/csv" and got["CacheControl"] == "no-cache"
    assert got["Metadata"] == {"team": "x"}
    # S3: a multipart object's creation date is the upload's initiation.
    assert got["LastModified"] == NOW.replace(microsecond=0)
    listed = call("ListObjectsV2", Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("obj", 300, out["ETag"])]
    assert call("ListMultipartUploads", Bucket=bucket).get("Uploads") is None


def test_location_follows_the_request_host(call, bucket):
    uid = start(call, bucket, key="a b/c")
    parts = put_parts(call, bucket, uid, parts=[b"x"], key="a b/c")
    ctx = make_ctx(headers={"Host": "127.0.0.1:9000"})
    out = call("CompleteMultipartUpload", ctx=ctx, Bucket=bucket, Key="a b/c", UploadId=uid,
               MultipartUpload={"Parts": parts})
    assert out["Location"] == f"http://127.0.0.1:9000/{bucket}/a%20b/c"


def test_reupload_replaces_a_part_and_unused_parts_are_released(call, bucket, svc):
    uid = start(call, bucket)
    put_parts(call, bucket, uid, parts=[b"1" * 200, b"2" * 200, b"3" * 200])
    assert len(svc.blobs.files()) == 3
    again = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=2,
                 Body=body(b"Z" * 150))
    gc.collect()
    assert len(svc.blobs.files()) == 3  # the replaced part's file is gone
    first = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid)["Parts"][0]
    complete(call, bucket, uid, [{"PartNumber": 1, "ETag": first["ETag"]},
                                 {"PartNumber": 2, "ETag": again["ETag"]}])
    gc.collect()
    assert len(svc.blobs.files()) == 2  # part 3 was left out: released
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"1" * 200 + b"Z" * 150


def test_completed_object_shares_the_part_files(call, bucket, svc):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    files = svc.blobs.files()
    complete(call, bucket, uid, parts)
    assert svc.blobs.files() == files  # no byte was copied
    call("DeleteObject", Bucket=bucket, Key="obj")
    gc.collect()
    assert svc.blobs.files() == []
    assert not any(os.path.exists(f) for f in files)


def test_abort_releases_parts_and_forgets_the_upload(call, bucket, svc):
    uid = start(call, bucket)
    put_parts(call, bucket, uid)
    assert call("AbortMultipartUpload", Bucket=bucket, Key="obj", UploadId=uid) == {}
    gc.collect()
    assert svc.blobs.files() == []
    for op, extra in (("ListParts", {}), ("AbortMultipartUpload", {}),
                      ("UploadPart", {"PartNumber": 1, "Body": body(b"x")})):
        err = error_of(lambda op=op, extra=extra: call(op, Bucket=bucket, Key="obj", UploadId=uid,
                                                        **extra))
        assert (err.code, err.status, err.fields["UploadId"]) == ("NoSuchUpload", 404, uid)


def test_abort_if_match_initiated_time(call, bucket):
    uid = start(call, bucket, ctx=make_ctx(now=NOW))
    err = error_of(lambda: call("AbortMultipartUpload", Bucket=bucket, Key="obj", UploadId=uid,
                                IfMatchInitiatedTime=LATER))
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    call("AbortMultipartUpload", Bucket=bucket, Key="obj", UploadId=uid, IfMatchInitiatedTime=NOW)


def test_reset_forgets_uploads(call, bucket, svc):
    uid = start(call, bucket)
    put_parts(call, bucket, uid)
    svc.reset()
    assert svc.blobs.files() == []
    call("CreateBucket", Bucket=bucket)
    err = error_of(lambda: call("ListParts", Bucket=bucket, Key="obj", UploadId=uid))
    assert err.code == "NoSuchUpload"
    assert call("ListMultipartUploads", Bucket=bucket).get("Uploads") is None


# -- errors ------------------------------------------------------------------------------------


def test_unknown_upload_and_wrong_key(call, bucket):
    uid = start(call, bucket)
    for key, upload_id in (("obj", "nope"), ("other", uid)):
        err = error_of(lambda k=key, u=upload_id: call(
            "UploadPart", Bucket=bucket, Key=k, UploadId=u, PartNumber=1, Body=body(b"x")))
        assert (err.code, err.status, err.fields["UploadId"]) == ("NoSuchUpload", 404, upload_id)
    err = error_of(lambda: complete(call, bucket, "nope", [{"PartNumber": 1, "ETag": '"x"'}]))
    assert err.code == "NoSuchUpload"


@pytest.mark.parametrize("number", [0, 10001, -1])
def test_part_number_out_of_range(call, bucket, number):
    uid = start(call, bucket)
    err = error_of(lambda: call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid,
                                PartNumber=number, Body=body(b"x")))
    assert (err.code, err.status) == ("InvalidArgument", 400)
    assert err.fields["ArgumentName"] == "partNumber"


def test_bad_content_md5_stores_nothing(call, bucket, svc):
    uid = start(call, bucket)
    wrong = b64(hashlib.md5(b"other").digest())
    err = error_of(lambda: call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=1,
                                Body=body(b"x" * 200), ContentMD5=wrong))
    assert err.code == "BadDigest"
    assert call("ListParts", Bucket=bucket, Key="obj", UploadId=uid).get("Parts") is None
    assert svc.blobs.files() == []


def test_invalid_part(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    missing = [*parts[:2], {"PartNumber": 7, "ETag": parts[2]["ETag"]}]
    err = error_of(lambda: complete(call, bucket, uid, missing))
    assert (err.code, err.status, err.fields["PartNumber"]) == ("InvalidPart", 400, 7)
    wrong = [parts[0], {"PartNumber": 2, "ETag": parts[0]["ETag"]}]
    assert error_of(lambda: complete(call, bucket, uid, wrong)).code == "InvalidPart"
    unquoted = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"].strip('"')} for p in parts]
    assert complete(call, bucket, uid, unquoted)["ETag"] == md5_etag(*PARTS)


@pytest.mark.parametrize("order", [[2, 1, 3], [1, 1, 2]])
def test_invalid_part_order(call, bucket, order):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    err = error_of(lambda: complete(call, bucket, uid, [parts[n - 1] for n in order]))
    assert (err.code, err.status) == ("InvalidPartOrder", 400)


def test_entity_too_small_except_the_last_part(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid, parts=[b"x" * MIN, b"y" * (MIN - 1), b"z"])
    err = error_of(lambda: complete(call, bucket, uid, parts))
    assert (err.code, err.status) == ("EntityTooSmall", 400)
    assert err.fields["ProposedSize"] == MIN - 1 and err.fields["MinSizeAllowed"] == MIN
    assert err.fields["PartNumber"] == 2
    # The upload survives a refused complete; a list whose only small part is last is fine.
    out = complete(call, bucket, uid, [parts[0], parts[2]])
    assert out["ETag"] == md5_etag(b"x" * MIN, b"z")


def test_parts_need_not_be_consecutive(call, bucket):
    uid = start(call, bucket)
    a = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=3, Body=body(PARTS[0]))
    b = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=90, Body=body(b"q"))
    complete(call, bucket, uid, [{"PartNumber": 3, "ETag": a["ETag"]},
                                 {"PartNumber": 90, "ETag": b["ETag"]}])
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == PARTS[0] + b"q"


def test_empty_part_list_is_malformed(call, bucket):
    uid = start(call, bucket)
    assert error_of(lambda: complete(call, bucket, uid, [])).code == "MalformedXML"
    err = error_of(lambda: call("CompleteMultipartUpload", Bucket=bucket, Key="obj", UploadId=uid))
    assert err.code == "MalformedXML"


def test_mpu_object_size(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    err = error_of(lambda: complete(call, bucket, uid, parts, MpuObjectSize=299))
    assert err.code == "InvalidRequest" and "299" in err.message
    complete(call, bucket, uid, parts, MpuObjectSize=300)


# -- completion: retries, conditions and conflicts ----------------------------------------------


def test_retried_complete_answers_the_same(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    first = complete(call, bucket, uid, parts)
    assert complete(call, bucket, uid, parts) == first
    assert complete(call, bucket, uid, parts, IfNoneMatch="*") == first  # a retry, not a new write
    err = error_of(lambda: complete(call, bucket, uid, parts[:2]))
    assert err.code == "NoSuchUpload"
    # Aborting an upload that was just completed is a no-op success, as in S3.
    assert call("AbortMultipartUpload", Bucket=bucket, Key="obj", UploadId=uid) == {}
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"".join(PARTS)


def test_if_none_match_refuses_an_existing_key_and_the_upload_survives(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    call("PutObject", Bucket=bucket, Key="obj", Body=b"first")  # lands while the upload runs
    err = error_of(lambda: complete(call, bucket, uid, parts, IfNoneMatch="*"))
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"first"
    complete(call, bucket, uid, parts)
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"".join(PARTS)


def test_if_none_match_on_a_new_key(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    assert complete(call, bucket, uid, parts, IfNoneMatch="*")["ETag"] == md5_etag(*PARTS)
    err = error_of(lambda: complete(call, bucket, uid, parts, IfNoneMatch='"abc"'))
    assert (err.code, err.status) == ("NotImplemented", 501)  # writes accept only "*"


def test_if_match(call, bucket):
    old = call("PutObject", Bucket=bucket, Key="obj", Body=b"v1")["ETag"]
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    err = error_of(lambda: complete(call, bucket, uid, parts, IfMatch='"0000"'))
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    out = complete(call, bucket, uid, parts, IfMatch=old)
    assert call("HeadObject", Bucket=bucket, Key="obj")["ETag"] == out["ETag"]


def test_if_match_on_a_missing_key(call, bucket):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    err = error_of(lambda: complete(call, bucket, uid, parts, IfMatch='"abc"'))
    assert (err.code, err.status) == ("NoSuchKey", 404)


def test_delete_during_the_upload_is_a_conflict_for_if_none_match(call, bucket):
    # S3 User Guide, "Concurrent deletes during multipart uploads": a delete that succeeds after
    # the upload began wins over the conditional write: 409 with If-None-Match, 404 with If-Match.
    call("PutObject", Bucket=bucket, Key="obj", Body=b"old")
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    call("DeleteObject", Bucket=bucket, Key="obj")
    err = error_of(lambda: complete(call, bucket, uid, parts, IfNoneMatch="*"))
    assert (err.code, err.status) == ("ConditionalRequestConflict", 409)
    err = error_of(lambda: complete(call, bucket, uid, parts, IfMatch='"abc"'))
    assert (err.code, err.status) == ("NoSuchKey", 404)
    # The conflict is final for this upload (S3: start a new one); unconditional writes succeed.
    err = error_of(lambda: complete(call, bucket, uid, parts, IfNoneMatch="*"))
    assert err.code == "ConditionalRequestConflict"
    complete(call, bucket, uid, parts)
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"".join(PARTS)


def test_deletes_that_do_not_conflict(call, bucket):
    call("PutObject", Bucket=bucket, Key="obj", Body=b"old")
    call("DeleteObject", Bucket=bucket, Key="obj")  # before the upload began
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    call("DeleteObject", Bucket=bucket, Key="obj")  # removes nothing
    call("PutObject", Bucket=bucket, Key="other", Body=b"x")
    call("DeleteObject", Bucket=bucket, Key="other")  # another key
    complete(call, bucket, uid, parts, IfNoneMatch="*")


def test_delete_objects_conflicts_too(call, bucket):
    call("PutObject", Bucket=bucket, Key="obj", Body=b"old")
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    call("DeleteObjects", ctx=make_ctx(headers={"x-amz-checksum-crc32": "AAAAAA=="}),
         Bucket=bucket, Delete={"Objects": [{"Key": "obj"}]})
    assert error_of(lambda: complete(call, bucket, uid, parts, IfNoneMatch="*")).status == 409


def test_complete_is_atomic_with_other_writers_of_the_key(call, bucket, svc):
    # The complete is held between its check and its act (the fault seam, under the key's lock):
    # a conditional PUT of the same key waits, then sees the completed object.
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    held, release = threading.Event(), threading.Event()

    def hook(op: str, bkt: str, key: str, lock: object) -> None:
        if threading.current_thread().name == "completer":
            held.set()
            assert release.wait(WAIT)

    svc.fault_hook = hook
    results: dict[str, object] = {}

    def completer() -> None:
        results["complete"] = complete(call, bucket, uid, parts, IfNoneMatch="*")

    def putter() -> None:
        try:
            call("PutObject", Bucket=bucket, Key="obj", Body=b"racer", IfNoneMatch="*")
            results["put"] = "ok"
        except S3Error as err:
            results["put"] = err.code

    t1 = threading.Thread(target=completer, name="completer", daemon=True)
    t1.start()
    assert held.wait(WAIT)
    t2 = threading.Thread(target=putter, name="putter", daemon=True)
    t2.start()
    t2.join(0.2)
    assert t2.is_alive()  # blocked on the key's lock, not racing past the check
    release.set()
    t1.join(WAIT)
    t2.join(WAIT)
    assert not t1.is_alive() and not t2.is_alive()
    assert results["put"] == "PreconditionFailed"
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"".join(PARTS)


def test_abort_while_completing_loses(call, bucket, svc):
    uid = start(call, bucket)
    parts = put_parts(call, bucket, uid)
    held, release = threading.Event(), threading.Event()

    def hook(op: str, bkt: str, key: str, lock: object) -> None:
        held.set()
        assert release.wait(WAIT)

    svc.fault_hook = hook
    done: list[dict] = []
    t = threading.Thread(target=lambda: done.append(complete(call, bucket, uid, parts)),
                         daemon=True)
    t.start()
    assert held.wait(WAIT)
    assert call("AbortMultipartUpload", Bucket=bucket, Key="obj", UploadId=uid) == {}
    release.set()
    t.join(WAIT)
    assert done and read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"".join(PARTS)


def test_parallel_part_uploads(call, bucket):
    uid = start(call, bucket)
    chunks = [bytes([65 + i]) * (MIN + i) for i in range(24)]
    etags: dict[int, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8, timeout=WAIT)

    def worker(tid: int) -> None:
        try:
            barrier.wait()
            for number in range(tid + 1, len(chunks) + 1, 8):
                out = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid,
                           PartNumber=number, Body=body(chunks[number - 1]))
                etags[number] = out["ETag"]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()
    assert not errors
    listed = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in listed] == list(range(1, 25))
    out = complete(call, bucket, uid, [{"PartNumber": n, "ETag": etags[n]} for n in range(1, 25)])
    assert out["ETag"] == md5_etag(*chunks)
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == b"".join(chunks)


# -- checksums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "kind", "problem"),
    [
        ("CRC64NVME", "COMPOSITE", "The COMPOSITE checksum type cannot be used with the crc64nvme"),
        ("SHA256", "FULL_OBJECT", "The FULL_OBJECT checksum type cannot be used with the sha256"),
        ("SHA1", "FULL_OBJECT", "cannot be used with the sha1"),
        (None, "COMPOSITE", "can only be used with the x-amz-checksum-algorithm header"),
        ("CRC32", "PARTIAL", "x-amz-checksum-type header is invalid"),
        ("ADLER", None, "unsupported"),
    ],
)
def test_create_refuses_checksum_combinations_s3_refuses(call, bucket, algorithm, kind, problem):
    params = {k: v for k, v in (("ChecksumAlgorithm", algorithm), ("ChecksumType", kind)) if v}
    err = error_of(lambda: call("CreateMultipartUpload", Bucket=bucket, Key="obj", **params))
    assert err.code == "InvalidRequest" and problem in err.message


@pytest.mark.parametrize(
    ("algorithm", "kind", "expected"),
    [("CRC32", None, "COMPOSITE"), ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
     ("CRC64NVME", None, "FULL_OBJECT"), ("SHA1", None, "COMPOSITE"),
     ("SHA256", "COMPOSITE", "COMPOSITE"), ("crc32", "full_object", "FULL_OBJECT")],
)
def test_create_checksum_modes(call, bucket, algorithm, kind, expected):
    params = {k: v for k, v in (("ChecksumAlgorithm", algorithm), ("ChecksumType", kind)) if v}
    out = call("CreateMultipartUpload", Bucket=bucket, Key="obj", **params)
    assert (out["ChecksumAlgorithm"], out["ChecksumType"]) == (algorithm.upper(), expected)
    listed = call("ListMultipartUploads", Bucket=bucket)["Uploads"][0]
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (algorithm.upper(), expected)


def test_composite_sha256(call, bucket):
    uid = start(call, bucket, ChecksumAlgorithm="SHA256")
    parts = []
    for n, data in enumerate(PARTS, 1):
        out = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=n,
                   Body=body(data), ChecksumSHA256=sha256(data))
        assert out["ChecksumSHA256"] == sha256(data)
        parts.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumSHA256": sha256(data)})
    listed = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid)
    assert listed["ChecksumAlgorithm"] == "SHA256" and listed["ChecksumType"] == "COMPOSITE"
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [sha256(p) for p in PARTS]
    out = complete(call, bucket, uid, parts)
    joined = b"".join(hashlib.sha256(p).digest() for p in PARTS)
    expected = f"{sha256(joined)}-3"
    assert (out["ChecksumSHA256"], out["ChecksumType"]) == (expected, "COMPOSITE")
    head = call("HeadObject", Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert (head["ChecksumSHA256"], head["ChecksumType"]) == (expected, "COMPOSITE")
    listed_obj = call("ListObjectsV2", Bucket=bucket)["Contents"][0]
    assert listed_obj["ChecksumAlgorithm"] == ["SHA256"]
    assert listed_obj["ChecksumType"] == "COMPOSITE"


def test_composite_needs_every_part_checksum(call, bucket):
    uid = start(call, bucket, ChecksumAlgorithm="CRC32C")
    err = error_of(lambda: call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=1,
                                Body=body(b"x")))
    assert err.code == "InvalidRequest"
    assert err.message == ("Checksum Type mismatch occurred, expected checksum Type: crc32c, "
                           "actual checksum Type: null")
    err = error_of(lambda: call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=1,
                                Body=body(b"x"), ChecksumCRC32=crc32(b"x")))
    assert err.code == "InvalidRequest" and "actual checksum Type: crc32" in err.message
    parts = put_parts(call, bucket, uid, ChecksumAlgorithm="CRC32C")  # a value computed by us
    err = error_of(lambda: complete(call, bucket, uid, parts))
    assert err.code == "InvalidRequest"
    assert "must include the checksum for each part. It was missing for part 1" in err.message
    with_sums = [{**p, "ChecksumCRC32C": crc32c(d)} for p, d in zip(parts, PARTS, strict=True)]
    bad = [with_sums[0], {**with_sums[1], "ChecksumCRC32C": crc32c(b"nope")}, with_sums[2]]
    assert error_of(lambda: complete(call, bucket, uid, bad)).code == "InvalidPart"
    other = [{**with_sums[0], "ChecksumCRC32C": None, "ChecksumCRC32": crc32(PARTS[0])},
             *with_sums[1:]]
    assert error_of(lambda: complete(call, bucket, uid, other)).code == "BadDigest"
    out = complete(call, bucket, uid, with_sums)
    joined = b"".join(crt.crc32c(p).to_bytes(4, "big") for p in PARTS)
    assert out["ChecksumCRC32C"] == f"{crc32c(joined)}-3"


def test_trailing_part_checksum(call, bucket):
    uid = start(call, bucket, ChecksumAlgorithm="CRC32")
    data = b"t" * 130
    out = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=1,
               ChecksumAlgorithm="CRC32", Body=body(data, {"x-amz-checksum-crc32": crc32(data)}))
    assert out["ChecksumCRC32"] == crc32(data)
    err = error_of(lambda: call(
        "UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=2, ChecksumAlgorithm="CRC32",
        Body=body(data, {"x-amz-checksum-crc32": crc32(b"other")})))
    assert err.code == "BadDigest"


@pytest.mark.parametrize(("algorithm", "whole"), [("CRC32", crc32), ("CRC32C", crc32c),
                                                  ("CRC64NVME", crc64)])
def test_full_object_checksum_combines_the_parts(call, bucket, algorithm, whole):
    uid = start(call, bucket, ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT")
    parts = put_parts(call, bucket, uid)  # no checksum sent: S3 computes each part's
    data = b"".join(PARTS)
    err = error_of(lambda: complete(call, bucket, uid, parts,
                                    **{f"Checksum{algorithm}": whole(b"not the object")}))
    assert err.code == "BadDigest"
    out = complete(call, bucket, uid, parts, ChecksumType="FULL_OBJECT",
                   **{f"Checksum{algorithm}": whole(data)})
    assert (out[f"Checksum{algorithm}"], out["ChecksumType"]) == (whole(data), "FULL_OBJECT")
    got = call("GetObject", Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert (got[f"Checksum{algorithm}"], got["ChecksumType"]) == (whole(data), "FULL_OBJECT")
    # The combined value is the real checksum of the body: a copy asking for it reads nothing.
    copied = call("CopyObject", Bucket=bucket, Key="copy", CopySource=f"{bucket}/obj",
                  ChecksumAlgorithm=algorithm)
    assert copied["CopyObjectResult"][f"Checksum{algorithm}"] == whole(data)


def test_full_object_part_checksums_are_optional_but_checked(call, bucket):
    uid = start(call, bucket, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    parts = put_parts(call, bucket, uid, ChecksumCRC32=None)
    wrong = [{**parts[0], "ChecksumCRC32": crc32(b"x")}, *parts[1:]]
    assert error_of(lambda: complete(call, bucket, uid, wrong)).code == "InvalidPart"
    right = [{**parts[0], "ChecksumCRC32": crc32(PARTS[0])}, *parts[1:]]
    assert complete(call, bucket, uid, right)["ChecksumCRC32"] == crc32(b"".join(PARTS))


def test_complete_checksum_mode_and_algorithm_must_match_the_upload(call, bucket):
    uid = start(call, bucket, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    parts = put_parts(call, bucket, uid)
    err = error_of(lambda: complete(call, bucket, uid, parts, ChecksumType="COMPOSITE"))
    assert err.code == "InvalidRequest" and "FULL_OBJECT checksum mode" in err.message
    err = error_of(lambda: complete(call, bucket, uid, parts, ChecksumSHA256=sha256(b"x")))
    assert err.code == "InvalidRequest" and "Checksum Type mismatch" in err.message


def test_default_checksum_is_a_full_object_crc64nvme_not_kept(call, bucket):
    uid = start(call, bucket)
    # SDKs add a CRC32 to every UploadPart: verified and answered, though the upload named none.
    first = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=1,
                 Body=body(PARTS[0]), ChecksumCRC32=crc32(PARTS[0]))
    assert first["ChecksumCRC32"] == crc32(PARTS[0])
    err = error_of(lambda: call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=2,
                                Body=body(PARTS[1]), ChecksumCRC32=crc32(b"other")))
    assert err.code == "BadDigest"
    second = call("UploadPart", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=2,
                  Body=body(PARTS[1]))
    assert second["ChecksumCRC64NVME"] == crc64(PARTS[1])
    listed = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid)
    assert "ChecksumAlgorithm" not in listed
    assert all(not any(k.startswith("Checksum") for k in p) for p in listed["Parts"])
    parts = [{"PartNumber": 1, "ETag": first["ETag"], "ChecksumCRC32": crc32(PARTS[0])},
             {"PartNumber": 2, "ETag": second["ETag"]}]
    out = complete(call, bucket, uid, parts)
    data = PARTS[0] + PARTS[1]
    assert (out["ChecksumCRC64NVME"], out["ChecksumType"]) == (crc64(data), "FULL_OBJECT")
    head = call("HeadObject", Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert not any(k.startswith("Checksum") for k in head)


# -- UploadPartCopy ----------------------------------------------------------------------------


@pytest.fixture
def source(call, bucket):
    data = bytes(range(256)) * 2
    call("PutObject", Bucket=bucket, Key="src", Body=body(data))
    return data


def test_upload_part_copy_ranges_and_whole(call, bucket, source, svc):
    uid = start(call, bucket, ChecksumAlgorithm="CRC32", ctx=make_ctx(now=NOW))
    files = svc.blobs.files()
    a = call("UploadPartCopy", ctx=make_ctx(now=LATER), Bucket=bucket, Key="obj", UploadId=uid,
             PartNumber=1, CopySource=f"{bucket}/src", CopySourceRange="bytes=10-209")
    result = a["CopyPartResult"]
    piece = source[10:210]
    assert result["ETag"] == f'"{hashlib.md5(piece).hexdigest()}"'
    assert result["LastModified"] == LATER.replace(microsecond=0)
    assert result["ChecksumCRC32"] == crc32(piece)
    b = call("UploadPartCopy", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=2,
             CopySource={"Bucket": bucket, "Key": "src"})
    assert b["CopyPartResult"]["ETag"] == f'"{hashlib.md5(source).hexdigest()}"'
    assert svc.blobs.files() == files  # copies are views of the source: no new file
    out = complete(call, bucket, uid, [
        {"PartNumber": 1, "ETag": result["ETag"], "ChecksumCRC32": crc32(piece)},
        {"PartNumber": 2, "ETag": b["CopyPartResult"]["ETag"], "ChecksumCRC32": crc32(source)}])
    assert out["ETag"] == md5_etag(piece, source)
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == piece + source
    call("DeleteObject", Bucket=bucket, Key="src")  # the copy keeps the bytes it shares
    assert read_body(call("GetObject", Bucket=bucket, Key="obj")) == piece + source


def test_upload_part_copy_from_a_multipart_object(call, bucket):
    uid = start(call, bucket)
    complete(call, bucket, uid, put_parts(call, bucket, uid))
    whole = b"".join(PARTS)
    uid2 = start(call, bucket, key="dst")
    a = call("UploadPartCopy", Bucket=bucket, Key="dst", UploadId=uid2, PartNumber=1,
             CopySource=f"{bucket}/obj", CopySourceRange="bytes=100-279")
    b = call("UploadPartCopy", Bucket=bucket, Key="dst", UploadId=uid2, PartNumber=2,
             CopySource=f"{bucket}/obj")
    assert a["CopyPartResult"]["ETag"] == f'"{hashlib.md5(whole[100:280]).hexdigest()}"'
    assert b["CopyPartResult"]["ETag"] == f'"{hashlib.md5(whole).hexdigest()}"'
    complete(call, bucket, uid2, [{"PartNumber": 1, "ETag": a["CopyPartResult"]["ETag"]},
                                  {"PartNumber": 2, "ETag": b["CopyPartResult"]["ETag"]}], key="dst")
    assert read_body(call("GetObject", Bucket=bucket, Key="dst")) == whole[100:280] + whole


@pytest.mark.parametrize("header", ["bytes=5", "bytes=-5", "bytes=9-3", "items=0-1", "bytes=0-512"])
def test_upload_part_copy_bad_ranges(call, bucket, source, header):
    uid = start(call, bucket)
    err = error_of(lambda: call("UploadPartCopy", Bucket=bucket, Key="obj", UploadId=uid,
                                PartNumber=1, CopySource=f"{bucket}/src", CopySourceRange=header))
    assert (err.code, err.status) == ("InvalidArgument", 400)
    assert err.fields["ArgumentName"] == "x-amz-copy-source-range"


def test_upload_part_copy_conditions_and_errors(call, bucket, source):
    uid = start(call, bucket)
    err = error_of(lambda: call("UploadPartCopy", Bucket=bucket, Key="obj", UploadId=uid,
                                PartNumber=1, CopySource=f"{bucket}/src", CopySourceIfMatch='"x"'))
    assert (err.code, err.status) == ("PreconditionFailed", 412)
    err = error_of(lambda: call("UploadPartCopy", Bucket=bucket, Key="obj", UploadId=uid,
                                PartNumber=1, CopySource=f"{bucket}/missing"))
    assert err.code == "NoSuchKey"
    err = error_of(lambda: call("UploadPartCopy", Bucket=bucket, Key="obj", UploadId="nope",
                                PartNumber=1, CopySource=f"{bucket}/src"))
    assert err.code == "NoSuchUpload"
    etag = call("HeadObject", Bucket=bucket, Key="src")["ETag"]
    ok = call("UploadPartCopy", Bucket=bucket, Key="obj", UploadId=uid, PartNumber=1,
              CopySource=f"{bucket}/src", CopySourceIfMatch=etag,
              CopySourceIfUnmodifiedSince=LATER)
    assert ok["CopyPartResult"]["ETag"] == etag


# -- reading parts -----------------------------------------------------------------------------


def test_get_and_head_by_part_number(call, bucket):
    uid = start(call, bucket)
    out = complete(call, bucket, uid, put_parts(call, bucket, uid))
    got = call("GetObject", Bucket=bucket, Key="obj", PartNumber=2)
    assert read_body(got) == PARTS[1]
    assert got["ContentRange"] == "bytes 150-269/300" and got["ContentLength"] == 120
    assert got["PartsCount"] == 3 and got["ETag"] == out["ETag"]
    head = call("HeadObject", Bucket=bucket, Key="obj", PartNumber=3)
    assert head["ContentLength"] == 30 and head["PartsCount"] == 3
    assert head["ContentRange"] == "bytes 270-299/300"
    err = error_of(lambda: call("GetObject", Bucket=bucket, Key="obj", PartNumber=4))
    assert (err.code, err.status) == ("InvalidPartNumber", 416)
    assert err.fields["ActualPartCount"] == 3
    assert "PartsCount" not in call("HeadObject", Bucket=bucket, Key="obj")


def test_ranges_across_parts(call, bucket):
    uid = start(call, bucket)
    complete(call, bucket, uid, put_parts(call, bucket, uid))
    whole = b"".join(PARTS)
    for header, want in (("bytes=140-280", whole[140:281]), ("bytes=-35", whole[-35:]),
                         ("bytes=0-0", whole[:1]), ("bytes=269-270", whole[269:271])):
        got = call("GetObject", Bucket=bucket, Key="obj", Range=header)
        assert read_body(got) == want, header


def test_single_part_object_by_part_number(call, bucket):
    call("PutObject", Bucket=bucket, Key="plain", Body=b"12345")
    got = call("GetObject", Bucket=bucket, Key="plain", PartNumber=1)
    assert read_body(got) == b"12345" and "PartsCount" not in got


# -- listings ----------------------------------------------------------------------------------


def test_list_parts_pages(call, bucket):
    uid = start(call, bucket, StorageClass="STANDARD_IA")
    put_parts(call, bucket, uid, parts=[bytes([48 + n]) * 10 for n in range(7)])
    first = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid, MaxParts=3)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2, 3]
    assert first["IsTruncated"] is True and first["NextPartNumberMarker"] == 3
    assert first["MaxParts"] == 3 and first["PartNumberMarker"] == 0
    assert first["StorageClass"] == "STANDARD_IA"
    assert first["Initiator"]["ID"] == first["Owner"]["ID"]
    assert first["Parts"][0]["Size"] == 10
    rest = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid, MaxParts=3,
                PartNumberMarker=first["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in rest["Parts"]] == [4, 5, 6]
    last = call("ListParts", Bucket=bucket, Key="obj", UploadId=uid, PartNumberMarker=6)
    assert [p["PartNumber"] for p in last["Parts"]] == [7] and last["IsTruncated"] is False


def test_list_multipart_uploads_order_and_markers(call, bucket):
    ids = {}
    for i, key in enumerate(["b", "a", "b", "c/1", "c/2", "d"]):
        ids.setdefault(key, []).append(
            start(call, bucket, key=key, ctx=make_ctx(now=NOW + dt.timedelta(seconds=i))))
    every = call("ListMultipartUploads", Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in every["Uploads"]] == [
        ("a", ids["a"][0]), ("b", ids["b"][0]), ("b", ids["b"][1]), ("c/1", ids["c/1"][0]),
        ("c/2", ids["c/2"][0]), ("d", ids["d"][0])]
    assert every["IsTruncated"] is False and every["MaxUploads"] == 1000
    page = call("ListMultipartUploads", Bucket=bucket, MaxUploads=2)
    assert [u["Key"] for u in page["Uploads"]] == ["a", "b"] and page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("b", ids["b"][0])
    page = call("ListMultipartUploads", Bucket=bucket, MaxUploads=2, KeyMarker="b",
                UploadIdMarker=ids["b"][0])
    assert [u["UploadId"] for u in page["Uploads"]] == [ids["b"][1], ids["c/1"][0]]
    # Without an upload-id-marker, key-marker skips every upload of that key.
    page = call("ListMultipartUploads", Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in page["Uploads"]] == ["c/1", "c/2", "d"]
    # ... and S3 ignores an upload-id-marker that comes without a key-marker.
    page = call("ListMultipartUploads", Bucket=bucket, UploadIdMarker=ids["b"][0])
    assert len(page["Uploads"]) == 6 and page["UploadIdMarker"] == ""
    rolled = call("ListMultipartUploads", Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in rolled["Uploads"]] == ["a", "b", "b", "d"]
    assert rolled["CommonPrefixes"] == [{"Prefix": "c/"}]
    only = call("ListMultipartUploads", Bucket=bucket, Prefix="c/")
    assert [u["Key"] for u in only["Uploads"]] == ["c/1", "c/2"] and only["Prefix"] == "c/"
    upload = every["Uploads"][0]
    assert upload["Initiated"] == NOW + dt.timedelta(seconds=1)
    assert upload["StorageClass"] == "STANDARD" and upload["Owner"] == upload["Initiator"]


def test_list_multipart_uploads_pages_through_common_prefixes(call, bucket):
    for key in ["a/1", "a/2", "b", "c/1", "e"]:
        start(call, bucket, key=key)
    seen: list[str] = []
    params: dict = {"Delimiter": "/", "MaxUploads": 1}
    for _ in range(10):
        page = call("ListMultipartUploads", Bucket=bucket, **params)
        seen += [u["Key"] for u in page.get("Uploads", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        params = {"Delimiter": "/", "MaxUploads": 1, "KeyMarker": page["NextKeyMarker"]}
        if page.get("NextUploadIdMarker"):
            params["UploadIdMarker"] = page["NextUploadIdMarker"]
    assert seen == ["a/", "b", "c/", "e"]


def test_list_multipart_uploads_url_encoding_and_bad_arguments(call, bucket):
    start(call, bucket, key="sp ace+x")
    page = call("ListMultipartUploads", Bucket=bucket, EncodingType="url")
    assert page["Uploads"][0]["Key"] == "sp%20ace%2Bx" and page["EncodingType"] == "url"
    err = error_of(lambda: call("ListMultipartUploads", Bucket=bucket, MaxUploads=-1))
    assert err.code == "InvalidArgument"
    err = error_of(lambda: call("ListMultipartUploads", Bucket="nobucket"))
    assert err.code == "NoSuchBucket"
    assert call("ListMultipartUploads", Bucket=bucket, MaxUploads=0).get("Uploads") is None
