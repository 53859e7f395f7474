"""SELECT in ExecuteStatement: a Query when the WHERE pins the partition key, else a Scan.

The WHERE pins the partition key with an equality, an IN, or ORs of equalities ANDed at its top
level (DynamoDB Developer Guide, "PartiQL select statements": such a SELECT does not scan the
table); each key value is a partition read in sort-key order, narrowed by a condition on the sort
key when there is one. The whole WHERE is then the filter, rendered into a FilterExpression and
evaluated by the native evaluator. Pages behave as Query and Scan pages do (query.py): ``Limit``
counts items read, not items matched, and a page stops at 1 MB; NextToken (and LastEvaluatedKey)
say where the next page starts.

Projections: a path is returned under its last name (``SELECT a.b, l[0]`` gives ``b`` and
``l[0]``), and two paths with one name are refused. DynamoDB Local 3.x recorded it so
(xo/dbimp docs, "a projection of nested paths"); dynoxide, checked against DynamoDB, agrees.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fakes3.dynamodb.errors import validation
from fakes3.dynamodb.expressions import Context, parse_condition, resolve
from fakes3.dynamodb.expressions.ast import Between, Call, Compare, Condition, In, Or, Path, Value
from fakes3.dynamodb.indexes import Index
from fakes3.dynamodb.model import Database, Table
from fakes3.dynamodb.partiql_parser import Select
from fakes3.dynamodb.partiql_translate import Renderer, conjuncts, key_equality, key_type_mismatch
from fakes3.dynamodb.query import MAX_PAGE_BYTES, Read, add_read_capacity, in_partition, read_page
from fakes3.dynamodb.schema import KeySchema
from fakes3.dynamodb.storage import Entry, Item, partition_key, token
from fakes3.dynamodb.types import AttributeValue, compare, type_of

_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


# -- projection --------------------------------------------------------------------------------------


def projection_labels(paths: tuple[Path, ...] | None) -> list[tuple[str, Path]] | None:
    """Each projected path with the name it is returned under (None: ``*``)."""
    if paths is None:
        return None
    labelled: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for path in paths:
        last_name = max(i for i, e in enumerate(path.elements) if isinstance(e, str))
        label = str(path.elements[last_name]) + "".join(f"[{e}]" for e in path.elements[last_name + 1:])
        if label in seen:
            raise validation(f"Duplicate identifiers in select clause: {label}")
        seen.add(label)
        labelled.append((label, path))
    return labelled


def shape(item: Item, labels: list[tuple[str, Path]] | None) -> Item:
    if labels is None:
        return item
    out: Item = {}
    for label, path in labels:
        value = resolve(path, item)
        if value is not None:
            out[label] = value
    return out


# -- planning ----------------------------------------------------------------------------------------


@dataclass
class Plan:
    table: Table
    index: Index | None
    keys: KeySchema
    filter: Condition | None
    ctx: Context
    partitions: list[AttributeValue] | None  # None: a scan
    sort: tuple[str, AttributeValue, AttributeValue | None] | None
    forward: bool
    labels: list[tuple[str, Path]] | None


def _hash_values(where: Condition | None, keys: KeySchema) -> list[AttributeValue] | None:
    for condition in conjuncts(where):
        values: list[AttributeValue] | None = None
        found = key_equality(condition, (keys.hash,))
        if found is not None:
            values = [found[1]]
        elif (isinstance(condition, In) and isinstance(condition.operand, Path)
              and condition.operand.elements == (keys.hash,)
              and all(isinstance(c, Value) for c in condition.choices)):
            values = [c.value for c in condition.choices if isinstance(c, Value)]
        elif isinstance(condition, Or):
            values = _or_of_equalities(condition, keys.hash)
        if values is not None:
            if any(type_of(v) != keys.hash_type for v in values):
                raise key_type_mismatch(keys.hash)
            unique: dict[Any, AttributeValue] = {}
            for value in values:
                unique.setdefault(token(value), value)
            return list(unique.values())
    return None


def _or_of_equalities(condition: Condition, name: str) -> list[AttributeValue] | None:
    if isinstance(condition, Or):
        left, right = _or_of_equalities(condition.left, name), _or_of_equalities(condition.right, name)
        return left + right if left is not None and right is not None else None
    found = key_equality(condition, (name,))
    return [found[1]] if found is not None else None


SortTest = tuple[str, AttributeValue, AttributeValue | None]


def _sort_test(where: Condition | None, keys: KeySchema) -> SortTest | None:
    """A condition on the sort key that narrows each partition read (the filter still applies)."""
    if keys.range is None:
        return None
    sort_path = (keys.range,)
    for condition in conjuncts(where):
        test: SortTest | None = None
        if isinstance(condition, Compare) and condition.op in _FLIPPED:
            if isinstance(condition.left, Path) and condition.left.elements == sort_path \
                    and isinstance(condition.right, Value):
                test = (condition.op, condition.right.value, None)
            elif isinstance(condition.right, Path) and condition.right.elements == sort_path \
                    and isinstance(condition.left, Value):
                test = (_FLIPPED[condition.op], condition.left.value, None)
        elif isinstance(condition, Between) and isinstance(condition.operand, Path) \
                and condition.operand.elements == sort_path and isinstance(condition.low, Value) \
                and isinstance(condition.high, Value):
            test = ("BETWEEN", condition.low.value, condition.high.value)
        elif isinstance(condition, Call) and condition.name == "begins_with" and len(condition.args) == 2:
            path, prefix = condition.args
            if isinstance(path, Path) and path.elements == sort_path and isinstance(prefix, Value) \
                    and type_of(prefix.value) in ("S", "B"):
                test = ("begins_with", prefix.value, None)
        if test is not None and all(v is None or type_of(v) == keys.range_type for v in test[1:]):
            return test
    return None


def _order(statement: Select, keys: KeySchema, partitions: list[AttributeValue] | None,
           ) -> tuple[bool, list[AttributeValue] | None]:
    """(forward, partitions in order) for the statement's ORDER BY (DynamoDB Local's messages)."""
    if not statement.order_by:
        return True, partitions
    if statement.where is None:
        raise validation("Must have WHERE clause in the statement when using ORDER BY clause.")
    if partitions is None:
        raise validation("Must have at least one non-optional hash key condition in WHERE clause when using "
                         "ORDER BY clause.")
    forward = True
    for name, descending in statement.order_by:
        if name not in keys.names:
            raise validation(f"Variable reference {name} in ORDER BY clause must be part of the primary key")
        if name == keys.range:
            forward = not descending
        else:
            ordered = sorted(partitions, key=_Ordered)
            partitions = list(reversed(ordered)) if descending else ordered
    return forward, partitions


class _Ordered:
    """A key value as DynamoDB orders it (for sorting partitions)."""

    def __init__(self, value: AttributeValue) -> None:
        self.value = value

    def __lt__(self, other: _Ordered) -> bool:
        return compare(self.value, other.value) < 0


def plan(db: Database, statement: Select, consistent: bool) -> Plan:
    with db.lock:
        table = db.table(statement.source.table)
    index = None
    if statement.source.index is not None:
        index = table.indexes.get(statement.source.index)
        if index is None:
            raise validation(f"The table does not have the specified index: {statement.source.index}")
        if index.is_global and consistent:
            raise validation("Strongly consistent read is not supported on Global Secondary Indexes")
    keys = index.keys if index is not None else table.keys
    labels = projection_labels(statement.projection)
    renderer = Renderer()
    ctx = Context(None, None)
    condition = None
    if statement.where is not None:
        text = renderer.condition(statement.where)
        ctx = Context(renderer.names or None, renderer.values or None)
        condition = parse_condition(text, ctx, "FilterExpression")
    partitions = _hash_values(statement.where, keys)
    forward, partitions = _order(statement, keys, partitions)
    sort = _sort_test(statement.where, keys) if partitions is not None else None
    return Plan(table, index, keys, condition, ctx, partitions, sort, forward, labels)


# -- NextToken ---------------------------------------------------------------------------------------


def fingerprint(statement_text: str, parameters: Any) -> str:
    raw = json.dumps([statement_text, parameters], sort_keys=True, default=repr)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _encode_value(value: AttributeValue) -> list[str]:
    kind = type_of(value)
    return [kind, base64.b64encode(bytes(value["B"])).decode() if kind == "B" else value[kind]]


def _decode_value(pair: Any) -> AttributeValue:
    kind, raw = pair
    if kind == "B":
        return {"B": base64.b64decode(raw)}
    if kind not in ("S", "N") or not isinstance(raw, str):
        raise ValueError(kind)
    return {kind: raw}


def encode_token(print_: str, partition: int, last: Item | None) -> str:
    body = {"s": print_, "p": partition,
            "k": None if last is None else {k: _encode_value(v) for k, v in last.items()}}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def decode_token(text: str, print_: str) -> tuple[int, Item | None]:
    """(partition index, last key read) of a NextToken this statement's previous page gave."""
    try:
        body = json.loads(base64.urlsafe_b64decode(text.encode()))
        partition = int(body["p"])
        last = None if body["k"] is None else {k: _decode_value(v) for k, v in body["k"].items()}
        stamp = body["s"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise validation("Invalid NextToken") from None
    if stamp != print_:  # DynamoDB Local answers a token of another statement so
        raise validation("The provided starting key is invalid")
    return partition, last


# -- reading -----------------------------------------------------------------------------------------


@dataclass
class Result:
    items: list[Item]
    size: int
    next: tuple[int, Item | None] | None  # where the next page starts


def _entries(plan: Plan, read: Read, partition: AttributeValue | None, last: Item | None) -> Iterator[Entry]:
    """Entries to read after ``last`` (caller holds the database lock)."""
    store = read.store
    start = None
    if last is not None:
        start = plan.index.start_position(last) if plan.index is not None else plan.table.locate(last)
    if partition is None:
        return (entry for _pkey, _skey, entry in store.scan(start, None, None))
    stored = store.partition(partition_key(token(partition)))
    if stored is None:
        return iter(())
    return in_partition(stored, plan.sort, start[1] if start is not None else None, plan.forward)


def select_page(db: Database, plan: Plan, limit: int | None, consistent: bool,
              resume: tuple[int, Item | None]) -> Result:
    select = "ALL_PROJECTED_ATTRIBUTES" if plan.index is not None else "ALL_ATTRIBUTES"
    read = Read(plan.table, plan.index, select, None, plan.filter, plan.ctx, limit, consistent, None)
    partitions: list[AttributeValue | None] = list(plan.partitions) if plan.partitions is not None else [None]
    first, last = resume
    items: list[Item] = []
    scanned = size = 0
    with db.lock:
        for position in range(first, len(partitions)):
            read.limit = None if limit is None else limit - scanned
            page = read_page(db, read, _entries(plan, read, partitions[position], last))
            last = None
            items.extend(shape(item, plan.labels) for item in page.items)
            scanned += page.scanned
            size += page.size
            if page.last is not None:
                return Result(items, size, (position, page.last))
            full = (limit is not None and scanned >= limit) or size >= MAX_PAGE_BYTES
            if full and position + 1 < len(partitions):
                return Result(items, size, (position + 1, None))
    return Result(items, size, None)


def execute_select(db: Database, statement: Select, params: dict[str, Any]) -> dict[str, Any]:
    consistent = bool(params.get("ConsistentRead"))
    the_plan = plan(db, statement, consistent)
    print_ = fingerprint(params["Statement"], params.get("Parameters"))
    resume: tuple[int, Item | None] = (0, None)
    if params.get("NextToken") is not None:
        resume = decode_token(params["NextToken"], print_)
    result = select_page(db, the_plan, params.get("Limit"), consistent, resume)
    out: dict[str, Any] = {"Items": result.items}
    if result.next is not None:
        out["NextToken"] = encode_token(print_, *result.next)
        if result.next[1] is not None:
            out["LastEvaluatedKey"] = result.next[1]
    add_read_capacity(out, params, the_plan.table, the_plan.index, result.size, consistent)
    return out
