"""Query and Scan: reading a page of a table or an index.

A page ends after ``Limit`` items were read (before filtering, as on AWS) or once 1 MB of items
has been read; either way LastEvaluatedKey names the last item read, even when nothing follows
it (AWS answers an empty last page then too). Items are read under the database lock, so a page
is a consistent snapshot.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sortedcontainers import SortedDict

from fakes3.context import RequestContext
from fakes3.dynamodb import capacity
from fakes3.dynamodb.errors import invalid_parameters, validation
from fakes3.dynamodb.expressions import (
    Condition,
    Context,
    KeyCondition,
    Projection,
    evaluate,
    key_condition,
    operand_paths,
    parse_condition,
    parse_projection,
    project,
)
from fakes3.dynamodb.indexes import Index, Position
from fakes3.dynamodb.items import projection_of
from fakes3.dynamodb.keys import check_start_key
from fakes3.dynamodb.legacy import Rewriter, check_styles
from fakes3.dynamodb.model import Database, Table
from fakes3.dynamodb.schema import KeySchema
from fakes3.dynamodb.storage import Entry, Item, SortKey, Store, Token, partition_key, segment_bounds, token
from fakes3.dynamodb.types import type_of

MAX_PAGE_BYTES = 1024 * 1024
_BATCH = 128  # entries a page takes at once when it returns them as stored


class _Top:
    """Sorts after every token: ``(t, TOP)`` is above every sort key that starts with ``t``."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Top)

    def __hash__(self) -> int:
        return 0


TOP = _Top()


@dataclass
class Read:
    """What a Query or Scan asked for, parsed and checked."""

    table: Table
    index: Index | None
    select: str
    projection: Projection | None
    filter: Condition | None
    ctx: Context
    limit: int | None
    consistent: bool
    start: Item | None
    fetch_from_table: bool = False

    @property
    def keys(self) -> KeySchema:
        return self.index.keys if self.index is not None else self.table.keys

    @property
    def store(self) -> Store:
        return self.index.store if self.index is not None else self.table.store

    def start_position(self) -> Position | None:
        """Where the ExclusiveStartKey points in ``store`` (None: the read starts at the beginning)."""
        if self.start is None:
            return None
        if self.index is not None:
            return self.index.start_position(self.start)
        return self.table.locate(self.start)


def _select(params: dict[str, Any], index: Index | None, has_projection: bool) -> str:
    select = params.get("Select")
    projected_by = ("ProjectionExpression" if params.get("ProjectionExpression") is not None
                    else "AttributesToGet")
    if select is None:
        select = "SPECIFIC_ATTRIBUTES" if has_projection else (
            "ALL_PROJECTED_ATTRIBUTES" if index is not None else "ALL_ATTRIBUTES")
    if has_projection and select != "SPECIFIC_ATTRIBUTES":
        wanted = "only the Count" if select == "COUNT" else select
        raise validation(f"Cannot specify the {projected_by} when choosing to get {wanted}")
    if select == "SPECIFIC_ATTRIBUTES" and not has_projection:
        raise validation("Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                         "SPECIFIC_ATTRIBUTES")
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    if (select == "ALL_ATTRIBUTES" and index is not None and index.is_global
            and index.attributes is not None):
        raise invalid_parameters(f"Select type ALL_ATTRIBUTES is not supported for global secondary index "
                                 f"{index.name} because its projection type is not ALL")
    return select


def _index(db: Database, table: Table, params: dict[str, Any]) -> Index | None:
    name = params.get("IndexName")
    if name is None:
        return None
    index = table.indexes.get(name)
    if index is None:
        raise validation(f"The table does not have the specified index: {name}")
    if index.is_global and params.get("ConsistentRead"):
        raise validation("Consistent reads are not supported on global secondary indexes")
    if index.is_global and db.now() < index.ready_at and index.ready_at > table.ready_at:
        raise validation(f"Cannot read from backfilling global secondary index: {name}")
    return index


def _prepare(db: Database, operation: str, params: dict[str, Any], rewriter: Rewriter,
             key_text: str | None) -> tuple[Read, Condition | None]:
    check_styles(operation, params)
    filter_text = params.get("FilterExpression")
    legacy_filter = params.get("QueryFilter" if operation == "Query" else "ScanFilter")
    if filter_text is None and legacy_filter:
        filter_text = rewriter.conditions(legacy_filter, params.get("ConditionalOperator"))
    projection_text = projection_of(params, rewriter)
    if operation == "Query" and key_text is None and params.get("KeyConditions"):
        key_text = rewriter.conditions(params["KeyConditions"], None)
    ctx = rewriter.context(params)
    key_cond = parse_condition(key_text, ctx, "KeyConditionExpression") if key_text is not None else None
    filter_cond = parse_condition(filter_text, ctx, "FilterExpression") if filter_text is not None else None
    projection = parse_projection(projection_text, ctx) if projection_text is not None else None
    ctx.check_unused()
    with db.lock:
        table = db.table(params["TableName"])
    index = _index(db, table, params)
    select = _select(params, index, projection is not None)
    start = None
    if params.get("ExclusiveStartKey") is not None:
        start = check_start_key(table, params["ExclusiveStartKey"], index.keys if index else None)
    read = Read(table, index, select, projection, filter_cond, ctx, params.get("Limit"),
                bool(params.get("ConsistentRead")), start)
    if index is not None and not index.is_global and index.attributes is not None:
        wanted = projection.names if projection is not None else None
        read.fetch_from_table = select == "ALL_ATTRIBUTES" or (
            wanted is not None and not wanted <= index.attributes)
    return read, key_cond


@dataclass
class Page:
    items: list[Item]
    count: int
    scanned: int
    size: int
    last: Item | None


def read_page(db: Database, read: Read, entries: Iterator[Entry]) -> Page:
    """Collect one page (the caller holds the database lock)."""
    items: list[Item] = []
    count = scanned = size = 0
    last: Item | None = None
    stopped = False
    limit = read.limit if read.limit is not None else sys.maxsize
    if (read.filter is None and read.projection is None and not read.fetch_from_table
            and read.select != "COUNT"):
        # Every item read is returned as stored (an index stores items already projected): take
        # them a batch at a time, entry by entry only in the batch where the page ends.
        while not stopped:
            batch = list(islice(entries, min(_BATCH, limit - scanned)))
            if not batch:
                break
            batch_size = sum([entry.size for entry in batch])
            if scanned + len(batch) < limit and size + batch_size < MAX_PAGE_BYTES:
                items.extend([entry.item for entry in batch])
                scanned += len(batch)
                size += batch_size
                continue
            for entry in batch:
                items.append(entry.item)
                scanned += 1
                size += entry.size
                if scanned >= limit or size >= MAX_PAGE_BYTES:
                    last, stopped = entry.item, True
                    break
        count = scanned
    else:
        for entry in entries:
            item = entry.item
            scanned += 1
            size += entry.size
            if read.fetch_from_table:
                full = read.table.get(*read.table.locate(item))
                if full is not None:
                    item = full.item
                    size += full.size
            if read.filter is None or evaluate(read.filter, item, read.ctx):
                count += 1
                if read.select != "COUNT":
                    items.append(_shape(read, item))
            if scanned >= limit or size >= MAX_PAGE_BYTES:
                last, stopped = item, True
                break
    last_key = None
    if stopped and last is not None:
        names = list(read.table.keys.names) + (list(read.index.keys.names) if read.index else [])
        last_key = {n: last[n] for n in dict.fromkeys(names)}
    return Page(items, count, scanned, size, last_key)


def _shape(read: Read, item: Item) -> Item:
    if read.projection is not None:
        return project(item, read.projection)
    if read.index is not None and read.select == "ALL_PROJECTED_ATTRIBUTES":
        return read.index.project(item)
    return item


def _answer(read: Read, page: Page, params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Count": page.count, "ScannedCount": page.scanned}
    if read.select != "COUNT":
        out["Items"] = page.items
    if page.last is not None:
        out["LastEvaluatedKey"] = page.last
    add_read_capacity(out, params, read.table, read.index, page.size, read.consistent)
    return out


def add_read_capacity(out: dict[str, Any], params: dict[str, Any], table: Table, index: Index | None,
                      size: int, consistent: bool) -> None:
    """ConsumedCapacity for reading ``size`` bytes from ``table`` or its ``index``, if asked."""
    if not capacity.wanted(params):
        return
    units = capacity.read_units(size, consistent)
    usage = capacity.Usage(table.name, read=True)
    if index is None:
        usage.units = units
    elif index.is_global:
        usage.gsis[index.name] = units
    else:
        usage.lsis[index.name] = units
    capacity.add_consumed(out, params, usage)


# -- Query --------------------------------------------------------------------------------------


def _bounds(sort: tuple[str, Any, Any] | None) -> tuple[Token | None, bool, Token | None, bool, bytes | None]:
    """(low, low inclusive, high, high inclusive, prefix) of a sort key condition, as tokens."""
    if sort is None:
        return None, True, None, True, None
    op, value, upper = sort
    tok = token(value)
    if op == "=":
        return tok, True, tok, True, None
    if op == "<":
        return None, True, tok, False, None
    if op == "<=":
        return None, True, tok, True, None
    if op == ">":
        return tok, False, None, True, None
    if op == ">=":
        return tok, True, None, True, None
    if op == "BETWEEN":
        return tok, True, token(upper), True, None
    assert isinstance(tok, bytes)
    return tok, True, None, True, tok  # begins_with


def _successor(prefix: bytes) -> bytes | None:
    """The least byte string above every string that starts with ``prefix`` (None: no such string)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def in_partition(partition: SortedDict, sort: tuple[str, Any, Any] | None, start: SortKey | None,
                  forward: bool) -> Iterator[Entry]:
    """The partition's entries the sort key condition selects, after ``start``, in order.

    Sort keys are tuples whose first token is the one the condition tests, so the condition is a
    range of tuples: from ``lower`` (inclusive) to ``upper`` (exclusive); ``(t,)`` sorts before
    and ``(t, TOP)`` after every key whose first token is ``t``."""
    low, low_in, high, high_in, prefix = _bounds(sort)
    if prefix is not None:  # begins_with: the strings from the prefix up to its successor
        high, high_in = _successor(prefix), False
    lower: SortKey | None = None if low is None else ((low,) if low_in else (low, TOP))  # type: ignore[assignment]
    upper: SortKey | None = None if high is None else ((high, TOP) if high_in else (high,))  # type: ignore[assignment]
    if forward:
        after_start = start is not None and (lower is None or not start < lower)
        if after_start:
            keys = partition.irange(minimum=start, maximum=upper, inclusive=(False, False))
        elif lower is None and upper is None:
            keys = iter(partition)
        else:
            keys = partition.irange(minimum=lower, maximum=upper, inclusive=(True, False))
    else:
        before_start = start is not None and (upper is None or start < upper)
        if before_start:
            keys = partition.irange(minimum=lower, maximum=start, inclusive=(True, False), reverse=True)
        elif lower is None and upper is None:
            keys = reversed(partition)
        else:
            keys = partition.irange(minimum=lower, maximum=upper, inclusive=(True, False), reverse=True)
    return map(partition.__getitem__, keys)


def query(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    if params.get("KeyConditions") is None and params.get("KeyConditionExpression") is None:
        raise validation("Either the KeyConditions or KeyConditionExpression parameter must be specified "
                         "in the request.")
    rewriter = Rewriter()
    read, key_cond = _prepare(db, "Query", params, rewriter, params.get("KeyConditionExpression"))
    assert key_cond is not None
    keys = read.keys
    cond: KeyCondition = key_condition(key_cond, read.ctx, keys.hash, keys.range)
    if type_of(cond.hash_value) != keys.hash_type or (
            cond.sort is not None and any(v is not None and type_of(v) != keys.range_type
                                          for v in cond.sort[1:])):
        raise invalid_parameters("Condition parameter type does not match schema type")
    if read.filter is not None:
        label = "Filter Expression" if params.get("FilterExpression") is not None else "QueryFilter"
        for path in operand_paths(read.filter):
            if path.head in keys.names:
                raise validation(f"{label} can only contain non-primary key attributes: Primary key "
                                 f"attribute: {path.head}")
    forward = params.get("ScanIndexForward", True)
    start_skey: SortKey | None = None
    if read.start is not None:
        start_hash = read.start[keys.hash]
        if type_of(start_hash) != keys.hash_type or token(start_hash) != token(cond.hash_value):
            raise validation("The provided starting key is outside query boundaries based on provided "
                             "conditions")
        position = read.start_position()
        assert position is not None
        start_skey = position[1]
    with db.lock:
        partition = read.store.partition(partition_key(token(cond.hash_value)))
        entries: Iterator[Entry] = iter(())
        if partition is not None:
            entries = in_partition(partition, cond.sort, start_skey, forward)
        page = read_page(db, read, entries)
    return _answer(read, page, params)


# -- Scan ---------------------------------------------------------------------------------------


def _segment(params: dict[str, Any]) -> tuple[bytes | None, bytes | None]:
    segment, total = params.get("Segment"), params.get("TotalSegments")
    if segment is None and total is None:
        return None, None
    if total is None:
        raise validation("The TotalSegments parameter is required but was not present in the request when "
                         "Segment parameter is present")
    if segment is None:
        raise validation("The Segment parameter is required but was not present in the request when "
                         "parameter TotalSegments is present")
    if segment >= total:
        raise validation(f"The Segment parameter is zero-based and must be less than parameter "
                         f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}")
    return segment_bounds(segment, total)


def scan(db: Database, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    low, high = _segment(params)
    read, _ = _prepare(db, "Scan", params, Rewriter(), None)
    start = read.start_position()
    with db.lock:
        entries = (entry for _pkey, _skey, entry in read.store.scan(start, low, high))
        page = read_page(db, read, entries)
    return _answer(read, page, params)

