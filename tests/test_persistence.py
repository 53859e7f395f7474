"""Persistence through boto3: what one FakeAWS(data_dir=...) stores, the next one on the dir sees."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_persistence_roundtrip import dump  # tests/ is on sys.path under pytest

from fakes3.s3 import S3Service
from fakes3.s3.persistence import DataDirError
from fakes3.server import FakeAWS

MIB = 1024 * 1024
SMALL_PART = 64 * 1024


def fake(data_dir: Path, **options: Any) -> FakeAWS:
    return FakeAWS(data_dir=data_dir, imds=False, min_part_size=SMALL_PART, **options)


def blob_files(data_dir: Path) -> list[str]:
    return sorted(os.listdir(data_dir / "s3" / "blobs"))


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_buckets_objects_versions_and_metadata_survive_a_restart(tmp_path: Path) -> None:
    big = os.urandom(3 * MIB + 17)  # over the 1 MiB spill threshold
    with fake(tmp_path) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="plain")
        s3.create_bucket(Bucket="euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_tagging(Bucket="plain", Tagging={"TagSet": [{"Key": "team", "Value": "x"}]})
        small = s3.put_object(Bucket="plain", Key="dir/small.txt", Body=b"hello", ContentType="text/plain",
                              Metadata={"colour": "blue"}, Tagging="a=1&b=2", CacheControl="no-cache")
        large = s3.put_object(Bucket="plain", Key="large.bin", Body=big)
        s3.put_object(Bucket="plain", Key="emptÿ ☃", Body=b"")
        s3.put_bucket_versioning(Bucket="euro", VersioningConfiguration={"Status": "Enabled"})
        v1 = s3.put_object(Bucket="euro", Key="k", Body=b"one")["VersionId"]
        v2 = s3.put_object(Bucket="euro", Key="k", Body=b"two")["VersionId"]
        marker = s3.delete_object(Bucket="euro", Key="k")["VersionId"]
        s3.put_object_tagging(Bucket="euro", Key="k", VersionId=v1,
                              Tagging={"TagSet": [{"Key": "old", "Value": "yes"}]})
        before_head = s3.head_object(Bucket="plain", Key="dir/small.txt")
        before_versions = s3.list_object_versions(Bucket="euro")

    with fake(tmp_path) as aws:
        s3 = aws.client()
        assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["euro", "plain"]
        assert s3.get_bucket_location(Bucket="euro")["LocationConstraint"] == "eu-west-1"
        assert s3.get_bucket_tagging(Bucket="plain")["TagSet"] == [{"Key": "team", "Value": "x"}]
        assert s3.get_bucket_versioning(Bucket="euro")["Status"] == "Enabled"
        head = s3.head_object(Bucket="plain", Key="dir/small.txt")
        for field in ("ETag", "LastModified", "ContentType", "Metadata", "CacheControl", "ContentLength"):
            assert head[field] == before_head[field], field
        assert head["ETag"] == small["ETag"]
        assert s3.get_object(Bucket="plain", Key="dir/small.txt")["Body"].read() == b"hello"
        assert s3.get_object_tagging(Bucket="plain", Key="dir/small.txt")["TagSet"] == [
            {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        got = s3.get_object(Bucket="plain", Key="large.bin")
        assert got["ETag"] == large["ETag"] and got["Body"].read() == big
        assert s3.get_object(Bucket="plain", Key="emptÿ ☃")["Body"].read() == b""
        # Versions and the delete marker, in order, with their IDs.
        after_versions = s3.list_object_versions(Bucket="euro")
        for listing in ("Versions", "DeleteMarkers"):
            assert after_versions[listing] == before_versions[listing]
        assert [v["VersionId"] for v in after_versions["Versions"]] == [v2, v1]
        assert after_versions["DeleteMarkers"][0]["VersionId"] == marker
        with pytest.raises(ClientError) as missing:
            s3.get_object(Bucket="euro", Key="k")
        assert code_of(missing) == "NoSuchKey"
        assert s3.get_object(Bucket="euro", Key="k", VersionId=v1)["Body"].read() == b"one"
        assert s3.get_object_tagging(Bucket="euro", Key="k", VersionId=v1)["TagSet"] == [
            {"Key": "old", "Value": "yes"}]
        # New versions sort after the old ones, and deleting the marker brings v2 back.
        v3 = s3.put_object(Bucket="euro", Key="k", Body=b"three")["VersionId"]
        assert [v["VersionId"] for v in s3.list_object_versions(Bucket="euro")["Versions"]] == [v3, v2, v1]
        s3.delete_object(Bucket="euro", Key="k", VersionId=v3)
        s3.delete_object(Bucket="euro", Key="k", VersionId=marker)
        assert s3.get_object(Bucket="euro", Key="k")["Body"].read() == b"two"


def test_multipart_uploads_in_progress_complete_after_a_restart(tmp_path: Path) -> None:
    parts = [os.urandom(SMALL_PART + 5), os.urandom(SMALL_PART), os.urandom(100)]
    with fake(tmp_path) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="bkt")
        upload = s3.create_multipart_upload(Bucket="bkt", Key="big", ContentType="video/mp4",
                                            Metadata={"m": "1"}, ChecksumAlgorithm="SHA256")
        upload_id = upload["UploadId"]
        etags = [s3.upload_part(Bucket="bkt", Key="big", UploadId=upload_id, PartNumber=n, Body=data,
                                ChecksumAlgorithm="SHA256")
                 for n, data in enumerate(parts[:2], 1)]
        # Replaced part: only the second body counts.
        etags[1] = s3.upload_part(Bucket="bkt", Key="big", UploadId=upload_id, PartNumber=2,
                                  Body=parts[1], ChecksumAlgorithm="SHA256")
        aborted = s3.create_multipart_upload(Bucket="bkt", Key="gone")["UploadId"]
        s3.abort_multipart_upload(Bucket="bkt", Key="gone", UploadId=aborted)

    with fake(tmp_path) as aws:
        s3 = aws.client()
        listed = s3.list_multipart_uploads(Bucket="bkt")["Uploads"]
        assert [(u["Key"], u["UploadId"]) for u in listed] == [("big", upload_id)]
        stored = s3.list_parts(Bucket="bkt", Key="big", UploadId=upload_id)["Parts"]
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in stored] == [
            (n, e["ETag"], len(d)) for n, (e, d) in enumerate(zip(etags, parts, strict=False), 1)]
        last = s3.upload_part(Bucket="bkt", Key="big", UploadId=upload_id, PartNumber=3, Body=parts[2],
                              ChecksumAlgorithm="SHA256")
        listing = [{"PartNumber": n, "ETag": e["ETag"], "ChecksumSHA256": e["ChecksumSHA256"]}
                   for n, e in enumerate([*etags, last], 1)]
        done = s3.complete_multipart_upload(Bucket="bkt", Key="big", UploadId=upload_id,
                                            MultipartUpload={"Parts": listing})
        md5s = b"".join(hashlib.md5(p).digest() for p in parts)
        assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
        with pytest.raises(ClientError) as gone:
            s3.list_parts(Bucket="bkt", Key="gone", UploadId=aborted)
        assert code_of(gone) == "NoSuchUpload"

    with fake(tmp_path) as aws:
        s3 = aws.client()
        got = s3.get_object(Bucket="bkt", Key="big", PartNumber=2)
        assert got["PartsCount"] == 3 and got["Body"].read() == parts[1]
        whole = s3.get_object(Bucket="bkt", Key="big")
        assert whole["ETag"] == done["ETag"] and whole["ContentType"] == "video/mp4"
        assert whole["Metadata"] == {"m": "1"} and whole["Body"].read() == b"".join(parts)
        assert "Uploads" not in s3.list_multipart_uploads(Bucket="bkt")
        # A retried complete still answers what the first one did.
        again = s3.complete_multipart_upload(Bucket="bkt", Key="big", UploadId=upload_id,
                                             MultipartUpload={"Parts": listing})
        assert again["ETag"] == done["ETag"]


def test_bucket_access_settings_survive_a_restart(tmp_path: Path) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bkt/*"}]}
    with fake(tmp_path) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="bkt", ObjectOwnership="BucketOwnerPreferred")
        s3.put_public_access_block(Bucket="bkt", PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True,
            "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        s3.put_bucket_policy(Bucket="bkt", Policy=json.dumps(policy))
        s3.put_bucket_acl(Bucket="bkt", ACL="public-read")
        acl = s3.get_bucket_acl(Bucket="bkt")["Grants"]
        block = s3.get_public_access_block(Bucket="bkt")["PublicAccessBlockConfiguration"]
    with fake(tmp_path) as aws:
        s3 = aws.client()
        assert json.loads(s3.get_bucket_policy(Bucket="bkt")["Policy"]) == policy
        assert s3.get_bucket_acl(Bucket="bkt")["Grants"] == acl
        assert s3.get_public_access_block(Bucket="bkt")["PublicAccessBlockConfiguration"] == block
        assert s3.get_bucket_ownership_controls(Bucket="bkt")["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
        s3.delete_bucket_policy(Bucket="bkt")
    with fake(tmp_path) as aws, pytest.raises(ClientError) as none:
        aws.client().get_bucket_policy(Bucket="bkt")
    assert code_of(none) == "NoSuchBucketPolicy"


def test_deleted_buckets_and_objects_stay_deleted_and_their_files_go(tmp_path: Path) -> None:
    with fake(tmp_path, spill_threshold=16) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="keep")
        s3.create_bucket(Bucket="drop")
        s3.put_object(Bucket="drop", Key="k", Body=b"x" * 100)
        s3.put_object(Bucket="keep", Key="k", Body=b"first body")
        s3.put_object(Bucket="keep", Key="k", Body=b"second body")  # the first file goes
        s3.copy_object(Bucket="keep", Key="copy", CopySource="keep/k")  # shares the second's file
        s3.delete_object(Bucket="drop", Key="k")
        s3.delete_bucket(Bucket="drop")
        gc.collect()
        assert len(blob_files(tmp_path)) == 1
    with fake(tmp_path) as aws:
        s3 = aws.client()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep"]
        assert s3.get_object(Bucket="keep", Key="copy")["Body"].read() == b"second body"
        s3.delete_object(Bucket="keep", Key="k")
        assert len(blob_files(tmp_path)) == 1  # the copy holds it
        s3.delete_object(Bucket="keep", Key="copy")
        gc.collect()
        assert blob_files(tmp_path) == []


def test_start_up_removes_files_no_record_names(tmp_path: Path) -> None:
    with fake(tmp_path) as aws:
        aws.client().create_bucket(Bucket="bkt")
        aws.client().put_object(Bucket="bkt", Key="k", Body=b"kept")
    [kept] = blob_files(tmp_path)
    blobs = tmp_path / "s3" / "blobs"
    (blobs / "tmp-cut-short").write_bytes(b"partial")
    (blobs / ("ab" * 16)).write_bytes(b"complete, but its metadata never committed")
    with fake(tmp_path) as aws:
        assert blob_files(tmp_path) == [kept]
        assert aws.client().get_object(Bucket="bkt", Key="k")["Body"].read() == b"kept"


def test_reset_empties_the_data_dir(tmp_path: Path) -> None:
    with fake(tmp_path) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="bkt")
        s3.put_object(Bucket="bkt", Key="k", Body=os.urandom(2 * MIB))
        s3.create_multipart_upload(Bucket="bkt", Key="m")
        aws.reset()
        gc.collect()
        assert blob_files(tmp_path) == []
        assert s3.list_buckets()["Buckets"] == []
        s3.create_bucket(Bucket="after")
    with fake(tmp_path) as aws:
        assert [b["Name"] for b in aws.client().list_buckets()["Buckets"]] == ["after"]


def test_a_data_dir_serves_one_server_at_a_time(tmp_path: Path) -> None:
    with fake(tmp_path), pytest.raises(DataDirError, match="in use by another fakes3"):
        S3Service(data_dir=tmp_path)
    S3Service(data_dir=tmp_path).close()  # free again once the first one stopped


def test_without_a_data_dir_temporary_files_are_removed_on_stop(tmp_path: Path) -> None:
    aws = FakeAWS(imds=False, spill_threshold=1024).start()
    s3 = aws.client()
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="k", Body=os.urandom(10_000))
    directory = aws.s3.blobs.directory
    assert aws.s3.persistence is None and os.listdir(directory)
    aws.stop()
    assert not os.path.exists(directory)


def test_concurrent_writes_are_recorded_in_the_order_they_were_applied(tmp_path: Path) -> None:
    svc_options: dict[str, Any] = {"spill_threshold": 64}
    with fake(tmp_path, **svc_options) as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="bkt")
        s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket(Bucket="plain")
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            client = aws.client()
            try:
                for i in range(15):
                    key = f"k{i % 3}"
                    body = f"{n}-{i}".encode() * (1 + i * 10)
                    client.put_object(Bucket="bkt", Key=key, Body=body)
                    client.put_object(Bucket="plain", Key=key, Body=body)
                    if i % 4 == n % 4:
                        client.delete_object(Bucket="bkt", Key=key)
                        client.delete_object(Bucket="plain", Key=key)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors and not any(t.is_alive() for t in threads)
        before = dump(aws.s3)
    with fake(tmp_path, **svc_options) as aws:
        assert dump(aws.s3) == before


def test_a_backup_of_a_serving_data_dir_starts_like_the_original(tmp_path: Path) -> None:
    with fake(tmp_path / "live") as aws:
        s3 = aws.client()
        s3.create_bucket(Bucket="bkt")
        s3.put_object(Bucket="bkt", Key="small", Body=b"x")
        s3.put_object(Bucket="bkt", Key="big", Body=os.urandom(2 * MIB))
        s3.create_multipart_upload(Bucket="bkt", Key="m")
        assert aws.s3.persistence is not None
        aws.s3.persistence.backup(tmp_path / "copy")
        before = dump(aws.s3)
        s3.delete_object(Bucket="bkt", Key="big")  # later changes are not in the copy
    with fake(tmp_path / "copy") as aws:
        assert dump(aws.s3) == before


def test_serve_refuses_a_data_dir_another_server_holds(tmp_path: Path) -> None:
    with fake(tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "fakes3", "serve", "--port", "0", "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("FAKES3_")})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"fakes3: --data-dir: {tmp_path} is in use by another fakes3 server: "
                             "stop it, or give each server its own data dir\n")


def test_records_keep_values_json_lacks() -> None:
    from fakes3.s3.model import Owner
    from fakes3.s3.persistence_codec import decode, encode

    values = [
        {"$only": "a key like a tag"}, {"$a": 1, "b": 2}, {(1, "x"): {"n"}}, ("a", ("b", 1)),
        frozenset({1, 2}), b"\x00\xff", dt.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        dt.datetime(2025, 1, 2), Owner("abc"), [None, True, 1.5, "\udc80 surrogate"],
    ]
    for value in values:
        assert decode(json.loads(json.dumps(encode(value)))) == value
        assert type(decode(encode(value))) is type(value)


def test_a_durable_blob_store_names_only_complete_files_and_keeps_them_on_close(tmp_path: Path) -> None:
    from fakes3.s3.blobs import BlobStore

    store = BlobStore(spill_threshold=8, blob_dir=str(tmp_path), durable=True)
    small, big = store.from_bytes(b"tiny"), store.from_bytes(b"0123456789" * 3)
    assert small.path and big.path
    assert not any(os.path.basename(p).startswith("tmp-") for p in (small.path, big.path))
    assert sorted(store.files()) == sorted([small.path, big.path])
    assert (tmp_path / os.path.basename(small.path)).read_bytes() == b"tiny"
    with pytest.raises(RuntimeError), store.writer() as writer:
        writer.write(b"x" * 100)  # spilled to a tmp- file, then the client goes away
        raise RuntimeError
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in store.files())
    del small
    gc.collect()
    assert len(os.listdir(tmp_path)) == 1  # a dead blob's file goes while the store is open
    store.close()
    del big
    gc.collect()
    assert len(os.listdir(tmp_path)) == 1  # closed: the file belongs to the data dir
