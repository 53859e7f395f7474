"""The boto3 workload every target runs: S3 and DynamoDB operations, each bounded in count and in
time (whichever comes first; at least one operation always runs).

Each workload reports its rate (ops/s, pages/s, keys/s or MiB/s), how many requests it made, and
the server CPU time per request (see ``targets`` for how each target's server CPU is measured).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from benchmarks.targets import CLIENT_THREADS, Target

MiB = 1 << 20


@dataclasses.dataclass
class Config:
    objects: int = 2000  # 1 KiB objects PUT, then HEAD, GET and DELETEd one by one
    object_size: int = 1024
    threads: int = 8  # PUT and GET from this many threads (one shared client)
    list_page: int = 1000  # keys per LIST page
    lists: int = 20  # LIST requests
    batch: int = 1000  # keys per DeleteObjects
    batches: int = 2
    big_mib: int = 8
    bigs: int = 3  # 8 MiB PUTs and GETs
    part_mib: int = 5
    parts: int = 3
    uploads: int = 2  # multipart uploads of parts x part_mib
    items: int = 2000  # DynamoDB PutItem, GetItem, DeleteItem
    conditional: int = 500  # PutItem that fails its condition
    query_items: int = 100  # items a Query returns
    queries: int = 200
    time_limit: float = 1.0  # seconds per workload, at most
    fill_limit: float = 60.0  # seconds for untimed set-up (keys for LIST and DeleteObjects)

    @classmethod
    def quick(cls) -> Config:
        """A tiny workload for smoke tests: seconds per target."""
        return cls(objects=20, threads=2, list_page=10, lists=3, batch=10, batches=1, big_mib=1, bigs=1,
                   part_mib=5, parts=1, uploads=1, items=20, conditional=5, query_items=10, queries=3,
                   time_limit=1.0, fill_limit=10.0)


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    title: str
    unit: str
    service: str


def workloads(cfg: Config) -> list[Workload]:
    kib = f"{cfg.object_size // 1024} KiB" if cfg.object_size >= 1024 else f"{cfg.object_size} B"
    big = f"{cfg.big_mib} MiB"
    return [
        Workload("s3.put_1k", f"S3 PUT {kib}", "ops/s", "s3"),
        Workload("s3.get_1k", f"S3 GET {kib}", "ops/s", "s3"),
        Workload("s3.head_1k", f"S3 HEAD {kib}", "ops/s", "s3"),
        Workload("s3.delete_1k", "S3 DELETE", "ops/s", "s3"),
        Workload("s3.put_1k_8t", f"S3 PUT {kib}, {cfg.threads} threads", "ops/s", "s3"),
        Workload("s3.get_1k_8t", f"S3 GET {kib}, {cfg.threads} threads", "ops/s", "s3"),
        Workload("s3.list_1000", f"S3 LIST {cfg.list_page}-key page", "pages/s", "s3"),
        Workload("s3.delete_objects_1000", f"S3 DeleteObjects x{cfg.batch}", "keys/s", "s3"),
        Workload("s3.put_8m", f"S3 PUT {big}", "MiB/s", "s3"),
        Workload("s3.get_8m", f"S3 GET {big}", "MiB/s", "s3"),
        Workload("s3.multipart_3x5m", f"S3 multipart {cfg.parts} x {cfg.part_mib} MiB", "MiB/s", "s3"),
        Workload("ddb.put_item", "DynamoDB PutItem", "ops/s", "dynamodb"),
        Workload("ddb.get_item", "DynamoDB GetItem", "ops/s", "dynamodb"),
        Workload("ddb.delete_item", "DynamoDB DeleteItem", "ops/s", "dynamodb"),
        Workload("ddb.put_item_cond_fail", "DynamoDB PutItem, condition fails", "ops/s", "dynamodb"),
        Workload("ddb.query_100", f"DynamoDB Query -> {cfg.query_items} items", "queries/s", "dynamodb"),
    ]


class WorkloadError(Exception):
    pass


# Called with "ready NAME" before a measurement and "done NAME" after it (benchmarks/lockstep.py).
Gate = Callable[[str], None]


def no_gate(event: str) -> None:
    pass


class Runner:
    """Runs every workload against one started target; ``results`` maps workload name to figures."""

    def __init__(self, target: Target, cfg: Config, log: Callable[[str], None] = lambda _: None,
                 gate: Gate = no_gate) -> None:
        self.target = target
        self.gate = gate
        self.cfg = cfg
        self.log = log
        self.results: dict[str, dict[str, Any]] = {}
        self.body = os.urandom(cfg.object_size)
        self.big = os.urandom(cfg.big_mib * MiB)
        self.part = os.urandom(cfg.part_mib * MiB)
        self.units = {w.name: w.unit for w in workloads(cfg)}

    # -- measuring ----------------------------------------------------------------------------

    def measure(self, name: str, op: Callable[[int], Any], indices: list[int], *, threads: int = 1,
                requests_per_op: int = 1, units_per_op: float = 1.0) -> list[int]:
        """Run ``op(i)`` for ``indices`` (from ``threads`` threads) until done or the time limit;
        record the figures under ``name``; return the indices that completed."""
        self.gate(f"ready {name}")
        try:
            return self._measure(name, op, indices, threads, requests_per_op, units_per_op)
        finally:
            self.gate(f"done {name}")

    def _measure(self, name: str, op: Callable[[int], Any], indices: list[int], threads: int,
                 requests_per_op: int, units_per_op: float) -> list[int]:
        if name in self.target.unsupported:
            self.results[name] = {"skipped": "not meaningful for this target"}
            return []
        if not indices:
            self.results[name] = {"skipped": "nothing to do (an earlier workload failed)"}
            return []
        errors: list[str] = []
        done_lists: list[list[int]] = [[] for _ in range(threads)]
        stop = threading.Event()
        started = time.time()  # wall clock: comparable between targets' processes
        cpu0 = self.target.server_cpu()
        client0 = CLIENT_THREADS.total
        t0 = time.perf_counter()
        deadline = t0 + self.cfg.time_limit

        def loop(k: int) -> None:
            tt0 = time.thread_time()
            done = done_lists[k]
            try:
                for i in indices[k::threads]:
                    if done and (stop.is_set() or time.perf_counter() >= deadline):
                        break
                    op(i)
                    done.append(i)
            except Exception as exc:  # recorded; the other threads stop
                errors.append(f"{type(exc).__name__}: {exc}")
                stop.set()
            finally:
                CLIENT_THREADS.add(time.thread_time() - tt0)

        if threads == 1:
            loop(0)
        else:
            pool = [threading.Thread(target=loop, args=(k,), name=f"bench-client-{k}")
                    for k in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
        seconds = time.perf_counter() - t0
        server = self.target.server_cpu() - cpu0
        client = CLIENT_THREADS.total - client0
        if self.target.name in ("fakes3-nosock", "moto"):
            client -= server  # the server ran inside the client's threads
        ops = sum(len(d) for d in done_lists)
        requests = ops * requests_per_op
        result: dict[str, Any] = {
            "unit": self.units[name], "started": round(started, 4), "ops": ops, "requests": requests,
            "planned": len(indices),
            "seconds": round(seconds, 4), "capped": ops < len(indices) and not errors,
            "rate": round(ops * units_per_op / seconds, 2) if seconds > 0 and ops else None,
            "server_cpu_s": round(server, 4),
            "server_cpu_us_per_req": round(server / requests * 1e6, 1) if requests else None,
            "client_cpu_us_per_req": round(client / requests * 1e6, 1) if requests else None,
        }
        if errors:
            result["error"] = errors[0]
            result["rate"] = None
        self.results[name] = result
        self.log(f"    {self.target.name:<14} {name:<24} {result['rate'] or 0:>10.1f} {result['unit']:<9} "
                 f"({ops} ops, {seconds:.2f} s{', ERROR ' + errors[0] if errors else ''})")
        return sorted(i for d in done_lists for i in d)

    def untimed(self, op: Callable[[int], Any], indices: list[int], threads: int) -> list[int]:
        """Set-up work (not measured), bounded by ``fill_limit``."""
        done: list[int] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + self.cfg.fill_limit
        failures: list[BaseException] = []

        def loop(k: int) -> None:
            try:
                for i in indices[k::threads]:
                    if time.perf_counter() >= deadline or failures:
                        return
                    op(i)
                    with lock:
                        done.append(i)
            except Exception as exc:
                failures.append(exc)

        pool = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if failures:
            raise WorkloadError(f"set-up failed: {failures[0]}")
        return sorted(done)

    # -- S3 ---------------------------------------------------------------------------------

    def run_s3(self) -> None:
        cfg, s3, verify = self.cfg, self.target.client("s3"), self.target.verifies
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        size = cfg.object_size

        def put(prefix: str) -> Callable[[int], Any]:
            return lambda i: s3.put_object(Bucket=bucket, Key=f"{prefix}/{i:05d}", Body=self.body)

        def get(prefix: str) -> Callable[[int], Any]:
            def op(i: int) -> None:
                data = s3.get_object(Bucket=bucket, Key=f"{prefix}/{i:05d}")["Body"].read()
                if verify and len(data) != size:
                    raise WorkloadError(f"GET returned {len(data)} bytes, expected {size}")
            return op

        def head(i: int) -> None:
            got = s3.head_object(Bucket=bucket, Key=f"obj/{i:05d}")["ContentLength"]
            if verify and got != size:
                raise WorkloadError(f"HEAD says {got} bytes, expected {size}")

        everything = list(range(cfg.objects))
        single = self.measure("s3.put_1k", put("obj"), everything)
        self.measure("s3.get_1k", get("obj"), single)
        self.measure("s3.head_1k", head, single)
        multi = self.measure("s3.put_1k_8t", put("mt"), everything, threads=cfg.threads)
        self.measure("s3.get_1k_8t", get("mt"), multi, threads=cfg.threads)

        # Keys for LIST pages and DeleteObjects batches (not timed): at least a full page in the
        # bucket, and a full batch outside obj/ (which the single DELETEs use).
        need_pool = max(cfg.batch, cfg.list_page - len(single)) - len(multi)
        fill: list[int] = []
        if need_pool > 0:
            fill = self.untimed(put("fill"), list(range(need_pool)), cfg.threads)
        total = len(single) + len(multi) + len(fill)
        page = min(cfg.list_page, total)

        def list_page(i: int) -> None:
            got = s3.list_objects_v2(Bucket=bucket, MaxKeys=cfg.list_page).get("KeyCount")
            if verify and got != page:
                raise WorkloadError(f"LIST returned {got} keys, expected {page}")

        self.measure("s3.list_1000", list_page, list(range(cfg.lists)))
        self.results["s3.list_1000"]["keys_per_page"] = page
        pool = [f"mt/{i:05d}" for i in multi] + [f"fill/{i:05d}" for i in fill]
        batch = min(cfg.batch, len(pool))
        batches = max(1, min(cfg.batches, len(pool) // batch)) if batch else 0

        def delete_batch(i: int) -> None:
            keys = pool[i * batch:(i + 1) * batch]
            out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys],
                                                           "Quiet": False})
            if verify and (len(out.get("Deleted", [])) != len(keys) or out.get("Errors")):
                raise WorkloadError(f"DeleteObjects deleted {len(out.get('Deleted', []))} of {len(keys)}")

        self.measure("s3.delete_objects_1000", delete_batch, list(range(batches)), units_per_op=batch)
        self.results["s3.delete_objects_1000"]["keys_per_request"] = batch
        self.measure("s3.delete_1k", lambda i: s3.delete_object(Bucket=bucket, Key=f"obj/{i:05d}"), single)

        big = len(self.big)

        def put_big(i: int) -> None:
            s3.put_object(Bucket=bucket, Key=f"big/{i}", Body=self.big)

        bigs = self.measure("s3.put_8m", put_big, list(range(cfg.bigs)), units_per_op=big / MiB)

        def get_big(i: int) -> None:
            data = s3.get_object(Bucket=bucket, Key=f"big/{i}")["Body"].read()
            if len(data) != big:
                raise WorkloadError(f"GET returned {len(data)} bytes, expected {big}")

        self.measure("s3.get_8m", get_big, bigs, units_per_op=big / MiB)

        def multipart(i: int) -> None:
            key = f"multipart/{i}"
            upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            parts = []
            for n in range(1, cfg.parts + 1):
                etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n,
                                      Body=self.part)["ETag"]
                parts.append({"PartNumber": n, "ETag": etag})
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                         MultipartUpload={"Parts": parts})

        self.measure("s3.multipart_3x5m", multipart, list(range(cfg.uploads)), requests_per_op=cfg.parts + 2,
                     units_per_op=cfg.parts * cfg.part_mib)

    # -- DynamoDB -----------------------------------------------------------------------------

    def run_dynamodb(self) -> None:
        cfg, ddb, verify = self.cfg, self.target.client("dynamodb"), self.target.verifies
        table = f"bench-{uuid.uuid4().hex[:12]}"
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "N"}])
        if verify:
            deadline = time.monotonic() + 30
            while ddb.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
                if time.monotonic() > deadline:
                    raise WorkloadError("the table did not become ACTIVE in 30 s")
                time.sleep(0.05)
        per = cfg.query_items
        payload = {"S": "x" * 100}

        def key(i: int) -> dict[str, Any]:
            return {"pk": {"S": f"p{i // per:05d}"}, "sk": {"N": str(i % per)}}

        def put(i: int) -> None:
            ddb.put_item(TableName=table, Item={**key(i), "data": payload})

        def get(i: int) -> None:
            item = ddb.get_item(TableName=table, Key=key(i)).get("Item")
            if verify and item is None:
                raise WorkloadError(f"GetItem found no item {key(i)}")

        conditional_failed = ddb.exceptions.ConditionalCheckFailedException

        def put_fail(i: int) -> None:
            try:
                ddb.put_item(TableName=table, Item={**key(i), "data": payload},
                             ConditionExpression="attribute_not_exists(pk)")
            except conditional_failed:
                return
            raise WorkloadError("a conditional PutItem on an existing item succeeded")

        def query(i: int) -> None:
            out = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                            ExpressionAttributeValues={":p": {"S": "p00000"}})
            if verify and out.get("Count") != per:
                raise WorkloadError(f"Query returned {out.get('Count')} items, expected {per}")

        everything = list(range(cfg.items))
        stored = self.measure("ddb.put_item", put, everything)
        self.measure("ddb.get_item", get, stored)
        self.measure("ddb.put_item_cond_fail", put_fail, stored[: cfg.conditional])
        missing = sorted(set(range(per)) - set(stored))
        if missing:
            stored = sorted(set(stored) | set(self.untimed(put, missing, 1)))
        self.measure("ddb.query_100", query, list(range(cfg.queries)))
        self.measure("ddb.delete_item", lambda i: ddb.delete_item(TableName=table, Key=key(i)), stored)

    def run(self) -> dict[str, dict[str, Any]]:
        for service, run in (("s3", self.run_s3), ("dynamodb", self.run_dynamodb)):
            if service not in self.target.services:
                continue
            try:
                run()
            except Exception as exc:  # a set-up step failed: the rest of this service is missing
                self.results[f"{service}.error"] = {"error": f"{type(exc).__name__}: {exc}"}
                self.log(f"    {service}: {type(exc).__name__}: {exc}")
        return self.results
