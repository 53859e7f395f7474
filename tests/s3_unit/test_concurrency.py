"""Concurrency: per-key linearizability of PUT/GET/DELETE, atomic conditional writes, and a held
write that blocks only its own key. Threads start on a Barrier; every wait is bounded."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable

from fakes3.errors import S3Error

from .helpers import body, make_ctx

THREADS = 8
WAIT = 20.0  # seconds; generous, but bounded


def run_threads(target: Callable[[int], None], count: int = THREADS) -> None:
    errors: list[BaseException] = []

    def wrapped(tid: int) -> None:
        try:
            target(tid)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(t,), daemon=True) for t in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive(), "a worker thread did not finish in time"
    if errors:
        raise errors[0]


def test_get_returns_a_complete_written_body_or_no_such_key(svc):
    ctx = make_ctx()
    svc.handle("CreateBucket", {"Bucket": "race"}, ctx)
    keys = ["k0", "k1", "k2"]
    written: dict[str, set[bytes]] = {k: set() for k in keys}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS, timeout=WAIT)
    hits: list[str] = []

    def worker(tid: int) -> None:
        rng = random.Random(tid)
        barrier.wait()
        for i in range(150):
            key = rng.choice(keys)
            op = rng.random()
            if op < 0.4:
                # Distinct bodies of mixed sizes: some in memory, some spilled (threshold 64).
                size = rng.choice([5, 60, 300, 5000])
                data = (f"{tid}:{i}:".encode() * size)[:size]
                data = f"{tid}:{i}|".encode() + data
                with lock:
                    written[key].add(data)  # registered before the PUT can be observed
                svc.handle("PutObject", {"Bucket": "race", "Key": key, "Body": body(data)}, ctx)
            elif op < 0.8:
                try:
                    got = svc.handle("GetObject", {"Bucket": "race", "Key": key}, ctx)
                except S3Error as err:
                    assert err.code == "NoSuchKey", err
                    continue
                data = b"".join(got["Body"])
                with lock:
                    assert data in written[key], f"GET {key} returned bytes no PUT wrote"
                assert got["ContentLength"] == len(data)
                assert got["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
                with lock:
                    hits.append(key)
            elif op < 0.9:
                svc.handle("DeleteObject", {"Bucket": "race", "Key": key}, ctx)
            else:
                listed = svc.handle("ListObjectsV2", {"Bucket": "race"}, ctx)
                names = [c["Key"] for c in listed.get("Contents", [])]
                assert names == sorted(set(names))

    run_threads(worker)
    assert hits, "no GET ever found an object: the race did not exercise reads"


def test_if_none_match_lets_exactly_one_writer_win(svc):
    ctx = make_ctx()
    svc.handle("CreateBucket", {"Bucket": "race"}, ctx)
    barrier = threading.Barrier(THREADS, timeout=WAIT)
    winners: list[int] = []
    refused: list[str] = []

    def worker(tid: int) -> None:
        barrier.wait()
        try:
            svc.handle(
                "PutObject",
                {
                    "Bucket": "race",
                    "Key": "lock",
                    "IfNoneMatch": "*",
                    "Body": body(f"owner {tid}".encode()),
                },
                ctx,
            )
            winners.append(tid)
        except S3Error as err:
            refused.append(err.code)

    run_threads(worker)
    assert len(winners) == 1 and refused == ["PreconditionFailed"] * (THREADS - 1)
    got = svc.handle("GetObject", {"Bucket": "race", "Key": "lock"}, ctx)
    assert b"".join(got["Body"]) == f"owner {winners[0]}".encode()


def test_held_write_blocks_only_its_key(svc):
    ctx = make_ctx()
    svc.handle("CreateBucket", {"Bucket": "race"}, ctx)
    svc.handle("PutObject", {"Bucket": "race", "Key": "held", "Body": b"old"}, ctx)
    reached, release = threading.Event(), threading.Event()

    def hook(op: str, bucket: str, key: str, lock: object) -> None:
        if key == "held":
            reached.set()
            assert release.wait(WAIT), "the test never released the held write"

    svc.fault_hook = hook
    writer = threading.Thread(
        target=lambda: svc.handle(
            "PutObject", {"Bucket": "race", "Key": "held", "Body": b"new"}, ctx
        ),
        daemon=True,
    )
    writer.start()
    try:
        assert reached.wait(WAIT)
        # While the write is held between check and act: readers see the old value, and other
        # keys in the same bucket are written and listed without waiting.
        got = svc.handle("GetObject", {"Bucket": "race", "Key": "held"}, ctx)
        assert b"".join(got["Body"]) == b"old"
        svc.handle("PutObject", {"Bucket": "race", "Key": "other", "Body": b"x"}, ctx)
        listed = svc.handle("ListObjectsV2", {"Bucket": "race"}, ctx)
        assert [c["Key"] for c in listed["Contents"]] == ["held", "other"]
    finally:
        release.set()
        writer.join(WAIT)
    assert not writer.is_alive()
    got = svc.handle("GetObject", {"Bucket": "race", "Key": "held"}, ctx)
    assert b"".join(got["Body"]) == b"new"


def _race_put_and_delete_bucket(svc) -> dict[str, str]:
    ctx = make_ctx()
    barrier = threading.Barrier(2, timeout=WAIT)
    results: dict[str, str] = {}

    def attempt(name: str, operation: str, params: dict) -> None:
        barrier.wait()
        try:
            svc.handle(operation, params, ctx)
            results[name] = "ok"
        except S3Error as err:
            results[name] = err.code

    put = ("put", "PutObject", {"Bucket": "racing", "Key": "k", "Body": b"x"})
    delete = ("delete", "DeleteBucket", {"Bucket": "racing"})
    run_threads(lambda t: attempt(*(put if t == 0 else delete)), count=2)
    return results


def test_delete_bucket_races_with_put(svc):
    ctx = make_ctx()
    for round_ in range(20):
        svc.handle("CreateBucket", {"Bucket": "racing"}, ctx)
        results = _race_put_and_delete_bucket(svc)
        # Either the PUT landed first (bucket not empty) or the bucket went first (no bucket):
        # never both "ok", which would leave an object in a deleted bucket.
        assert results in (
            {"put": "ok", "delete": "BucketNotEmpty"},
            {"put": "NoSuchBucket", "delete": "ok"},
        ), (round_, results)
        if results["put"] == "ok":
            svc.handle("DeleteObject", {"Bucket": "racing", "Key": "k"}, ctx)
            svc.handle("DeleteBucket", {"Bucket": "racing"}, ctx)
