"""BatchGetItem and BatchWriteItem.

Every request of a batch is checked before any runs (one bad request fails the whole call, as
on AWS); then each write runs on its own, atomically per item but not as a group. The fake
never throttles, so UnprocessedKeys and UnprocessedItems are empty unless BatchGetItem's
answer would pass 16 MB, where AWS stops too.
"""

from __future__ import annotations

from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb import capacity
from fakes3.dynamodb.errors import validation
from fakes3.dynamodb.items import item_collection_metrics, parse_read, projected
from fakes3.dynamodb.keys import check_key
from fakes3.dynamodb.model import Database
from fakes3.dynamodb.writes import Write, execute, lookup, prepare

MAX_GET_KEYS = 100
MAX_WRITES = 25
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _duplicates() -> Exception:
    return validation("Provided list of item keys contains duplicates")


def batch_get_item(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    requests = params["RequestItems"]
    if sum(len(r.get("Keys") or []) for r in requests.values()) > MAX_GET_KEYS:
        raise validation("Too many items requested for the BatchGetItem call")
    plans = []
    for name, request in requests.items():
        projection = parse_read(request)
        table = lookup(db, name)
        seen = set()
        keys = []
        for raw in request["Keys"]:
            key = check_key(table, raw)
            position = table.locate(key)
            if position in seen:
                raise _duplicates()
            seen.add(position)
            keys.append((key, position))
        plans.append((name, table, projection, keys, bool(request.get("ConsistentRead"))))
    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    usages: dict[str, capacity.Usage] = {}
    total = 0
    with db.lock:
        for name, table, projection, keys, consistent in plans:
            found = responses.setdefault(name, [])
            usage = usages.setdefault(table.name, capacity.Usage(table.name, read=True))
            for key, (pkey, skey) in keys:
                if total >= MAX_RESPONSE_BYTES:
                    rest = {k: v for k, v in requests[name].items() if k != "Keys"}
                    left = unprocessed.setdefault(name, rest)
                    left.setdefault("Keys", []).append(key)
                    continue
                entry = table.get(pkey, skey)
                usage.units += capacity.read_units(entry.size if entry else 0, consistent)
                if entry is not None:
                    total += entry.size
                    found.append(projected(entry.item, projection))
    out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    capacity.add_consumed_all(out, params, usages)
    return out


def batch_write_item(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    requests = params["RequestItems"]
    if sum(len(r) for r in requests.values()) > MAX_WRITES:
        raise validation("Too many items requested for the BatchWriteItem call")
    writes: list[tuple[str, Write]] = []
    for name, table_requests in requests.items():
        seen = set()
        for request in table_requests:
            put, delete = request.get("PutRequest"), request.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise validation("A WriteRequest must contain exactly one of PutRequest or DeleteRequest")
            if put is not None:
                write = prepare(db, "PutItem", {"TableName": name, "Item": put["Item"]}, in_transaction=True)
            else:
                write = prepare(db, "DeleteItem", {"TableName": name, "Key": delete["Key"]},
                                in_transaction=True)
            position = (write.pkey, write.skey)
            if position in seen:
                raise _duplicates()
            seen.add(position)
            writes.append((name, write))
    usages: dict[str, capacity.Usage] = {}
    metrics: dict[str, list[Any]] = {}
    for name, write in writes:
        result = execute(db, write, "BatchWriteItem")
        usages.setdefault(write.table.name, capacity.Usage(write.table.name, read=False)).add_write(result)
        entry = item_collection_metrics(write.table, write.key, params)
        if entry is not None:
            metrics.setdefault(name, []).append(entry)
    out: dict[str, Any] = {"UnprocessedItems": {}}
    capacity.add_consumed_all(out, params, usages)
    if metrics:
        out["ItemCollectionMetrics"] = metrics
    return out
