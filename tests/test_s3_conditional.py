"""Conditional requests as AWS does them today, and atomic under concurrency.

Peers check a condition and then write without a lock, so two racing writers can both win.
Here the check and the write are one step per key: the races below prove it through boto3.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import botocore.config
import pytest
from botocore.exceptions import ClientError

BUCKET = "cond"


@pytest.fixture
def s3(fakes3):
    client = fakes3.client("s3", config=botocore.config.Config(
        max_pool_connections=32, retries={"total_max_attempts": 1}))
    client.create_bucket(Bucket=BUCKET)
    return client


def status_and_code(err: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    return err.value.response["ResponseMetadata"]["HTTPStatusCode"], err.value.response["Error"]["Code"]


def test_conditional_reads(s3):
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket=BUCKET, Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="k", IfMatch='"0000"')
    assert status_and_code(err) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="k", IfNoneMatch=etag)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    modified = s3.head_object(Bucket=BUCKET, Key="k")["LastModified"]
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=BUCKET, Key="k", IfModifiedSince=modified)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    earlier = modified - dt.timedelta(seconds=10)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="k", IfUnmodifiedSince=earlier)
    assert status_and_code(err) == (412, "PreconditionFailed")
    # S3's precedence: If-Match that holds wins over a failing If-Unmodified-Since.
    assert s3.get_object(Bucket=BUCKET, Key="k", IfMatch=etag, IfUnmodifiedSince=earlier)["ETag"] == etag


def test_put_if_none_match_creates_only_once(s3):
    s3.put_object(Bucket=BUCKET, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="once", Body=b"second", IfNoneMatch="*")
    assert status_and_code(err) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=BUCKET, Key="once")["Body"].read() == b"first"


def test_put_if_match(s3):
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="missing", Body=b"x", IfMatch='"abc"')
    assert status_and_code(err) == (404, "NoSuchKey")
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"v2", IfMatch='"0123"')
    assert status_and_code(err) == (412, "PreconditionFailed")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v2"


def test_delete_if_match(s3):
    etag = s3.put_object(Bucket=BUCKET, Key="k", Body=b"v1")["ETag"]
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=BUCKET, Key="k", IfMatch='"0123"')
    assert status_and_code(err) == (412, "PreconditionFailed")
    s3.delete_object(Bucket=BUCKET, Key="k", IfMatch=etag)
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=BUCKET, Key="k", IfMatch="*")
    assert status_and_code(err) == (404, "NoSuchKey")


def test_delete_if_match_size_and_last_modified_time(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"12345")
    modified = s3.head_object(Bucket=BUCKET, Key="k")["LastModified"]
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=BUCKET, Key="k", IfMatchSize=4)
    assert status_and_code(err) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as err:
        s3.delete_object(Bucket=BUCKET, Key="k", IfMatchLastModifiedTime=modified - dt.timedelta(seconds=5))
    assert status_and_code(err) == (412, "PreconditionFailed")
    s3.delete_object(Bucket=BUCKET, Key="k", IfMatchSize=5, IfMatchLastModifiedTime=modified)
    # A missing key passes these two conditions (204), as AWS documents.
    s3.delete_object(Bucket=BUCKET, Key="k", IfMatchSize=5)


def test_delete_objects_with_etags(s3):
    etag = s3.put_object(Bucket=BUCKET, Key="a", Body=b"a")["ETag"]
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"b")
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "a", "ETag": etag}, {"Key": "b", "ETag": '"0123"'}]})
    assert [d["Key"] for d in result["Deleted"]] == ["a"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("b", "PreconditionFailed")]


def test_copy_source_conditions_and_destination_conditions(s3):
    etag = s3.put_object(Bucket=BUCKET, Key="src", Body=b"data")["ETag"]
    s3.copy_object(Bucket=BUCKET, Key="dst", CopySource=f"{BUCKET}/src", CopySourceIfMatch=etag)
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=BUCKET, Key="dst2", CopySource=f"{BUCKET}/src", CopySourceIfNoneMatch=etag)
    assert status_and_code(err) == (412, "PreconditionFailed")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=BUCKET, Key="dst2", CopySource=f"{BUCKET}/src", CopySourceIfModifiedSince=later)
    assert status_and_code(err) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=BUCKET, Key="dst", CopySource=f"{BUCKET}/src", IfNoneMatch="*")
    assert status_and_code(err) == (412, "PreconditionFailed")


# -- races --------------------------------------------------------------------------------------


def test_16_racing_creates_give_exactly_one_winner(s3):
    barrier = threading.Barrier(16, timeout=30)

    def create(i: int) -> str:
        barrier.wait()
        try:
            s3.put_object(Bucket=BUCKET, Key="race", Body=f"writer-{i}".encode(), IfNoneMatch="*")
            return f"writer-{i}"
        except ClientError as err:
            assert status_and_code_of(err) == (412, "PreconditionFailed")
            return ""

    with ThreadPoolExecutor(16) as pool:
        winners = [w for w in pool.map(create, range(16), timeout=60) if w]
    assert len(winners) == 1
    assert s3.get_object(Bucket=BUCKET, Key="race")["Body"].read().decode() == winners[0]


def status_and_code_of(err: ClientError) -> tuple[int, str]:
    return err.response["ResponseMetadata"]["HTTPStatusCode"], err.response["Error"]["Code"]


def test_compare_and_swap_increments_lose_no_update(s3):
    s3.put_object(Bucket=BUCKET, Key="counter", Body=b"0")
    barrier = threading.Barrier(8, timeout=30)

    def increment_25_times(_: int) -> int:
        barrier.wait()
        conflicts = 0
        for _ in range(25):
            for _attempt in range(2000):
                got = s3.get_object(Bucket=BUCKET, Key="counter")
                value = int(got["Body"].read())
                try:
                    s3.put_object(Bucket=BUCKET, Key="counter", Body=str(value + 1).encode(),
                                  IfMatch=got["ETag"])
                    break
                except ClientError as err:
                    assert status_and_code_of(err) == (412, "PreconditionFailed")
                    conflicts += 1
            else:
                raise AssertionError("an increment never succeeded")
        return conflicts

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(increment_25_times, range(8), timeout=300))
    assert s3.get_object(Bucket=BUCKET, Key="counter")["Body"].read() == b"200"


def test_conditional_deletes_racing_conditional_writes_never_lose_an_acknowledged_write(s3):
    """Every successful operation consumes the state it named and produces a new one; in a
    linearizable compare-and-set register, no state is consumed twice and nothing acknowledged
    vanishes without a successor."""
    ABSENT = "absent"
    barrier = threading.Barrier(6, timeout=30)
    lock = threading.Lock()
    transitions: list[tuple[str, str]] = []  # (consumed, produced) of every acknowledged op

    def current() -> str:
        try:
            return s3.head_object(Bucket=BUCKET, Key="reg")["ETag"]
        except ClientError:
            return ABSENT

    def writer(w: int) -> None:
        barrier.wait()
        for n in range(15):
            seen = current()
            condition = {"IfNoneMatch": "*"} if seen == ABSENT else {"IfMatch": seen}
            try:
                etag = s3.put_object(Bucket=BUCKET, Key="reg", Body=f"{w}-{n}".encode(), **condition)["ETag"]
            except ClientError as err:
                assert status_and_code_of(err)[0] in (404, 412)
                continue
            with lock:
                transitions.append((seen, etag))

    def deleter(_: int) -> None:
        barrier.wait()
        for _ in range(15):
            seen = current()
            if seen == ABSENT:
                continue
            try:
                s3.delete_object(Bucket=BUCKET, Key="reg", IfMatch=seen)
            except ClientError as err:
                assert status_and_code_of(err)[0] in (404, 412)
                continue
            with lock:
                transitions.append((seen, ABSENT))

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(writer, i) for i in range(4)] + [pool.submit(deleter, i) for i in range(2)]
        for future in futures:
            future.result(timeout=300)

    consumed = Counter(c for c, _ in transitions if c != ABSENT)
    assert all(count == 1 for count in consumed.values()), "two operations won on the same version"
    produced = [p for _, p in transitions if p != ABSENT]
    unconsumed = [p for p in produced if p not in consumed]
    final = current()
    assert unconsumed == ([final] if final != ABSENT else []), "an acknowledged write was lost"
    assert len(transitions) > 10
