"""Blob storage: spill to disk, file lifetime tied to readers, reset and close."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from fakes3.s3 import S3Service
from fakes3.s3.blobs import BlobStore

from .helpers import body, make_ctx, read_body


def test_small_blobs_stay_in_memory_large_ones_spill(tmp_path):
    store = BlobStore(spill_threshold=10, blob_dir=str(tmp_path))
    small = store.from_bytes(b"0123456789")
    assert small.path is None and store.files() == []
    big = store.from_bytes(b"0123456789A")
    assert big.path is not None and os.path.dirname(big.path) == str(tmp_path)
    assert Path(big.path).read_bytes() == b"0123456789A"
    assert big.read() == b"0123456789A" and big.size == 11
    assert b"".join(big.iter_range(3, 5)) == b"345"
    assert list(big.iter_range(5, 4)) == []
    del big
    gc.collect()
    assert store.files() == [] and os.listdir(tmp_path) == []


def test_spilled_object_file_lifetime(call, bucket, svc):
    data = b"x" * 1000
    call("PutObject", Bucket=bucket, Key="big", Body=body(data))
    [path] = svc.blobs.files()
    assert os.path.getsize(path) == 1000
    call("PutObject", Bucket=bucket, Key="small", Body=b"tiny")  # under the threshold: no file
    assert svc.blobs.files() == [path]
    call("DeleteObject", Bucket=bucket, Key="big")
    gc.collect()
    assert not os.path.exists(path) and svc.blobs.files() == []


def test_reader_keeps_file_alive_across_delete_and_overwrite(call, bucket, svc):
    first = bytes(range(256)) * 8
    call("PutObject", Bucket=bucket, Key="k", Body=body(first))
    [path] = svc.blobs.files()
    got = call("GetObject", Bucket=bucket, Key="k")
    stream = iter(got.pop("Body"))
    call("PutObject", Bucket=bucket, Key="k", Body=body(b"second" * 100))
    call("DeleteObject", Bucket=bucket, Key="k")
    assert os.path.exists(path)  # the GET in flight still holds the first body
    assert b"".join(stream) == first
    del stream, got
    gc.collect()
    assert not os.path.exists(path)


def test_reset_removes_everything_even_with_a_reader(call, bucket, svc):
    call("PutObject", Bucket=bucket, Key="k", Body=body(b"y" * 5000))
    got = call("GetObject", Bucket=bucket, Key="k")  # opens the file
    svc.reset()
    assert svc.blobs.files() == [] and os.listdir(svc.blobs.directory) == []
    assert read_body(got) == b"y" * 5000  # an open reader finishes its read
    assert call("ListBuckets")["Buckets"] == []


def test_close_removes_private_directory():
    svc = S3Service(spill_threshold=4)
    ctx = make_ctx()
    svc.handle("CreateBucket", {"Bucket": "bkt"}, ctx)
    svc.handle("PutObject", {"Bucket": "bkt", "Key": "k", "Body": b"spilled!"}, ctx)
    directory = svc.blobs.directory
    assert os.listdir(directory)
    svc.close()
    assert not os.path.exists(directory)


def test_service_works_after_reset(call, bucket, svc):
    call("PutObject", Bucket=bucket, Key="k", Body=b"x" * 100)
    svc.reset()
    call("CreateBucket", Bucket=bucket)
    call("PutObject", Bucket=bucket, Key="k", Body=b"z" * 100)
    assert read_body(call("GetObject", Bucket=bucket, Key="k")) == b"z" * 100
