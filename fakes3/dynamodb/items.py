"""Item operations: PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from typing import Any

from fakes3.context import RequestContext
from fakes3.dynamodb import capacity
from fakes3.dynamodb.expressions import Projection, parse_projection, project
from fakes3.dynamodb.keys import check_key
from fakes3.dynamodb.legacy import Rewriter, check_styles
from fakes3.dynamodb.model import Database, Table, WriteResult
from fakes3.dynamodb.storage import Item
from fakes3.dynamodb.writes import Write, execute, lookup, prepare


def item_collection_metrics(table: Table, key: Item, params: dict[str, Any]) -> dict[str, Any] | None:
    """ReturnItemCollectionMetrics=SIZE: only tables with local secondary indexes have collections."""
    if params.get("ReturnItemCollectionMetrics") != "SIZE":
        return None
    if not any(not i.is_global for i in table.indexes.values()):
        return None
    return {"ItemCollectionKey": {table.keys.hash: key[table.keys.hash]}, "SizeEstimateRangeGB": [0.0, 1.0]}


def _answer(write: Write, result: WriteResult, params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    attributes = write.attributes(result.old, result.new)
    if attributes is not None:
        out["Attributes"] = attributes
    if capacity.wanted(params):
        usage = capacity.Usage(write.table.name, read=False)
        usage.add_write(result)
        capacity.add_consumed(out, params, usage)
    metrics = item_collection_metrics(write.table, write.key, params)
    if metrics is not None:
        out["ItemCollectionMetrics"] = metrics
    return out


def put_item(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    write = prepare(db, "PutItem", params)
    return _answer(write, execute(db, write, "PutItem"), params)


def update_item(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    write = prepare(db, "UpdateItem", params)
    return _answer(write, execute(db, write, "UpdateItem"), params)


def delete_item(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    write = prepare(db, "DeleteItem", params)
    return _answer(write, execute(db, write, "DeleteItem"), params)


def projection_of(params: dict[str, Any], rewriter: Rewriter) -> str | None:
    if params.get("ProjectionExpression") is not None:
        return str(params["ProjectionExpression"])
    if params.get("AttributesToGet"):
        return rewriter.projection(params["AttributesToGet"])
    return None


def parse_read(params: dict[str, Any]) -> Projection | None:
    """The projection of a GetItem-like read (GetItem, BatchGetItem, TransactGetItems' Get)."""
    if (params.get("ProjectionExpression") is None and not params.get("AttributesToGet")
            and params.get("ExpressionAttributeNames") is None
            and params.get("ExpressionAttributeValues") is None):
        return None  # the whole item, and no placeholders to check
    rewriter = Rewriter()
    text = projection_of(params, rewriter)
    ctx = rewriter.context(params)
    projection = parse_projection(text, ctx) if text is not None else None
    ctx.check_unused()
    return projection


def projected(item: Item, projection: Projection | None) -> Item:
    """The item as a GetItem-like read answers it: the parts its projection names, if it has one."""
    return project(item, projection) if projection is not None else item


def get_item(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    check_styles("GetItem", params)
    projection = parse_read(params)
    table = lookup(db, params["TableName"])
    key = check_key(table, params["Key"])
    pkey, skey = table.locate(key)
    with db.lock:
        entry = table.get(pkey, skey)
    consistent = bool(params.get("ConsistentRead"))
    out: dict[str, Any] = {}
    if entry is not None:
        out["Item"] = projected(entry.item, projection)
    if capacity.wanted(params):
        usage = capacity.Usage(table.name, read=True,
                               units=capacity.read_units(entry.size if entry else 0, consistent))
        capacity.add_consumed(out, params, usage)
    return out
