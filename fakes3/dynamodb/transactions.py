"""TransactWriteItems and TransactGetItems: all or nothing, isolated from concurrent writes.

A write transaction takes the item locks of all its items (in one stable order), evaluates
every condition against the items as they are, computes every new item, and then either
commits all writes in one ``Database.lock`` section or none (TransactionCanceledException with
one reason per action, in order). Conflicting writers wait for the locks instead of failing, so
TransactionConflictException never happens here. ClientRequestToken makes a request idempotent
for 10 minutes: the same token and parameters answer the first result without applying anything
again; the same token with other parameters is IdempotentParameterMismatchException.

The items of one transaction (written or read) may total at most 4 MB, as AWS documents it; more
is a ValidationException.
"""

from __future__ import annotations

import json
from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb import capacity
from fakes3.dynamodb.errors import DynamoDBError, validation
from fakes3.dynamodb.items import item_collection_metrics, parse_read, projected
from fakes3.dynamodb.keys import check_key
from fakes3.dynamodb.model import Database, LockKey
from fakes3.dynamodb.types import Item, item_size
from fakes3.dynamodb.writes import Write, check_current, lookup, prepare

MAX_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
TRANSACTION_FACTOR = 2.0
_ACTIONS = ("ConditionCheck", "Put", "Update", "Delete")
_OPERATION = {"ConditionCheck": "UpdateItem", "Put": "PutItem", "Update": "UpdateItem",
              "Delete": "DeleteItem"}


def _one_item() -> DynamoDBError:
    return validation("Transaction request cannot include multiple operations on one item")


def _check_total_size(total: int) -> None:
    # AWS documents the limit, not the message: this wording is what an emulator checked against
    # real DynamoDB (ExtendDB's conformance suite) answers.
    if total > MAX_TRANSACTION_BYTES:
        raise validation("Transaction item size has exceeded the 4 MB limit")


def _action_size(write: Write, new: Item | None) -> int:
    """What one action adds to the transaction's size: the item it writes (Put, Update), else its key."""
    if write.kind in ("Put", "Update") and new is not None:
        known = write.size_of(new)
        return known if known is not None else item_size(new)
    return item_size(write.key)


def _fingerprint(params: dict[str, Any]) -> str:
    rest = {k: v for k, v in params.items() if k != "ClientRequestToken"}
    return json.dumps(rest, sort_keys=True, default=repr)


def _action(element: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    present = [a for a in _ACTIONS if element.get(a) is not None]
    if len(present) != 1:
        raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
    return present[0], element[present[0]]


def _prepare_all(db: Database, params: dict[str, Any]) -> list[Write]:
    writes: list[Write] = []
    seen: set[LockKey] = set()
    for element in params["TransactItems"]:
        kind, body = _action(element)
        if kind == "ConditionCheck" and body.get("ConditionExpression") is None:
            raise validation("1 validation error detected: Value null at 'conditionExpression' failed to "
                             "satisfy constraint: Member must not be null")
        write = prepare(db, _OPERATION[kind], body, kind=kind, in_transaction=True)
        if write.lock_key in seen:
            raise _one_item()
        seen.add(write.lock_key)
        writes.append(write)
    # Put items are known now: a transaction too large already as sent fails before any lock.
    _check_total_size(sum(_action_size(write, write.item) for write in writes))
    return writes


def _reason(code: str, message: str | None = None, item: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Code": code}
    if message is not None:
        out["Message"] = message
    if item is not None:
        out["Item"] = item
    return out


def _cancelled(reasons: list[dict[str, Any]]) -> DynamoDBError:
    codes = ", ".join(r["Code"] for r in reasons)
    return DynamoDBError("TransactionCanceledException",
                         f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                         f"[{codes}]", extra={"CancellationReasons": reasons})


def _new_items(writes: list[Write], olds: list[Any]) -> list[Any]:
    """Each write's new item, or TransactionCanceledException with one reason per action."""
    reasons: list[dict[str, Any]] = []
    news: list[Any] = []
    failed = False
    for write, old in zip(writes, olds, strict=True):
        if not write.passes(old):
            failed = True
            reasons.append(_reason("ConditionalCheckFailed", "The conditional request failed",
                                   old if write.old_on_failure else None))
            news.append(None)
            continue
        try:
            news.append(write.new_item(old))
        except DynamoDBError as err:
            failed = True
            reasons.append(_reason("ValidationError", err.message))
            news.append(None)
            continue
        reasons.append(_reason("None"))
    if failed:
        raise _cancelled(reasons)
    return news


def _run(db: Database, writes: list[Write], params: dict[str, Any]) -> dict[str, Any]:
    with db.item_locks.hold(w.lock_key for w in writes):
        with db.lock:
            olds = []
            for write in writes:
                check_current(db, write.table)
                entry = write.table.get(write.pkey, write.skey)
                olds.append(entry.item if entry else None)
        news = _new_items(writes, olds)
        _check_total_size(sum(_action_size(write, new) for write, new in zip(writes, news, strict=True)))
        if db.fault_hook is not None:
            for write in writes:
                db.fault_hook("TransactWriteItems", write.table.name, write.key)
        usages: dict[str, capacity.Usage] = {}
        metrics: dict[str, list[Any]] = {}
        with db.lock:
            for write in writes:
                check_current(db, write.table)
            for write, new in zip(writes, news, strict=True):
                usage = usages.setdefault(write.table.name, capacity.Usage(write.table.name, read=False))
                if write.kind == "ConditionCheck":
                    usage.units += capacity.read_units(0, True) * TRANSACTION_FACTOR
                    continue
                usage.add_write(write.table.write(write.pkey, write.skey, new, write.size_of(new)),
                                TRANSACTION_FACTOR)
                collection = item_collection_metrics(write.table, write.key, params)
                if collection is not None:
                    metrics.setdefault(write.table.name, []).append(collection)
    out: dict[str, Any] = {}
    capacity.add_consumed_all(out, params, usages)
    if metrics:
        out["ItemCollectionMetrics"] = metrics
    return out


def transact_write_items(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    if len(params["TransactItems"]) > MAX_ACTIONS:
        raise validation(f"Member must have length less than or equal to {MAX_ACTIONS}")
    token = params.get("ClientRequestToken")
    if token is None:
        return _run(db, _prepare_all(db, params), params)
    fingerprint = _fingerprint(params)
    store = db.idempotency
    # One request per token at a time: a retry waits for the first attempt, then replays it.
    with db.item_locks.hold([("\x00ClientRequestToken", (token.encode(), token.encode()), ())]):
        remembered = store.get(token, fingerprint, db.now())
        if remembered is not None:
            return remembered
        result = _run(db, _prepare_all(db, params), params)
        store.put(token, fingerprint, db.now(), result)
        return result


def transact_get_items(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    gets = []
    seen: set[LockKey] = set()
    for element in params["TransactItems"]:
        body = element["Get"]
        projection = parse_read(body)
        table = lookup(db, body["TableName"])
        key = check_key(table, body["Key"])
        pkey, skey = table.locate(key)
        if (table.name, pkey, skey) in seen:
            raise _one_item()
        seen.add((table.name, pkey, skey))
        gets.append((table, pkey, skey, projection))
    responses: list[dict[str, Any]] = []
    usages: dict[str, capacity.Usage] = {}
    total = 0
    with db.lock:  # one snapshot: a concurrent transaction is seen whole or not at all
        for table, pkey, skey, projection in gets:
            check_current(db, table)
            entry = table.get(pkey, skey)
            usage = usages.setdefault(table.name, capacity.Usage(table.name, read=True))
            usage.units += capacity.read_units(entry.size if entry else 0, True) * TRANSACTION_FACTOR
            if entry is None:
                responses.append({})
            else:
                total += entry.size
                responses.append({"Item": projected(entry.item, projection)})
    _check_total_size(total)
    out: dict[str, Any] = {"Responses": responses}
    capacity.add_consumed_all(out, params, usages)
    return out
