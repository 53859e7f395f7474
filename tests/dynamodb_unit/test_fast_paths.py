"""The DynamoDB hot path's shortcuts agree with the general code they stand in for.

Request plans vs the generic shape walk, the response encoder vs ``to_json`` + ``json.dumps``,
cached item JSON, the value-normalization and size shortcuts, the Query range scan vs a brute
force filter, and the parsed-expression cache.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedDict

from fakes3.context import RequestContext
from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.expressions import Context, parse_condition, parse_projection, parse_update
from fakes3.dynamodb.expressions import cache as expression_cache
from fakes3.dynamodb.query import MAX_PAGE_BYTES, Read, in_partition, read_page
from fakes3.dynamodb.service import DynamoDBService
from fakes3.dynamodb.storage import Entry, token
from fakes3.dynamodb.types import _Invalid, _normalize, _normalize_any, _number_size, value_size
from fakes3.protocol.json_protocol import (
    CachedItem,
    JsonError,
    _parse_generic,
    _plan,
    parse_request,
    serialize_response,
    to_json,
)
from fakes3.protocol.service_models import service_model

MODEL = service_model("dynamodb")
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def strict(value: Any) -> Any:
    """``value`` with every scalar tagged by its type (so True != 1 and 1.0 != 1)."""
    if isinstance(value, dict):
        return ("dict", [(k, strict(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [strict(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(call: Any) -> Any:
    try:
        return ("ok", strict(call()))
    except JsonError as err:
        return ("error", err.code, err.message, err.status)
    except Exception as err:  # the generic walk's crashes must stay what they were
        return ("crash", type(err).__name__)


# -- requests --------------------------------------------------------------------------------

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=32),
                 st.text(max_size=3), st.lists(st.none(), max_size=2),
                 st.dictionaries(st.text(max_size=2), st.none(), max_size=2))


def wire_value(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Well-formed JSON for ``shape``: the right types, within every length, range and enum."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        members = {member.serialization.get("name", name): member for name, member in shape.members.items()}
        if shape.name == "AttributeValue":  # exactly one member, as DynamoDB wants it
            scalars = [k for k in members if k not in ("M", "L")] if depth > 3 else list(members)
            return st.sampled_from(scalars).flatmap(
                lambda k: wire_value(members[k], depth + 1).map(lambda v: {k: v}))
        required = {k: wire_value(members[k], depth + 1) for k in shape.required_members if k in members}
        optional = {k: wire_value(m, depth + 1) for k, m in list(members.items())[:7] if k not in required}
        return st.fixed_dictionaries(required, optional=optional if depth < 4 else {})
    if kind == "list":
        low = meta.get("min", 0)
        return st.lists(wire_value(shape.member, depth + 1), min_size=low, max_size=max(low, 2))
    if kind == "map":
        low = meta.get("min", 0)
        keys = st.text(alphabet="ab#:", min_size=1, max_size=3)
        return st.dictionaries(keys, wire_value(shape.value, depth + 1), min_size=low, max_size=max(low, 2))
    if kind == "string":
        if shape.enum:
            return st.sampled_from(shape.enum)
        low = meta.get("min", 0)
        return st.text(alphabet="abc_.-9", min_size=max(low, 1 if "pattern" in meta else 0), max_size=low + 5)
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "long"):
        return st.integers(meta.get("min", -3), meta.get("max", 100))
    if kind in ("double", "float"):
        return st.floats(meta.get("min", -5), meta.get("max", 5))
    if kind == "blob":
        return st.sampled_from(["", "AAE=", "aGk="])
    return st.integers(0, 2_000_000_000)


def nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON value (a path of keys and indexes)."""
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(nodes(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(nodes(item, (*path, i)))
    return out


def corrupted(value: Any, path: tuple[Any, ...], junk: Any) -> Any:
    """``value`` with the node at ``path`` replaced by ``junk`` (or, for ``DROP``, removed)."""
    if not path:
        return junk
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
        if junk is DROP and not rest:
            del out[head]
        else:
            out[head] = corrupted(value[head], rest, junk)
        return out
    out_list = list(value)
    out_list[head] = corrupted(value[head], rest, None if junk is DROP else junk)
    return out_list


DROP = object()
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2), st.just(1e300),
                 st.just(float("nan")), st.text(max_size=3), st.just("x" * 1100),
                 st.lists(st.none(), max_size=2), st.just([]), st.just({}),
                 st.dictionaries(st.sampled_from(["S", "N", "x"]), st.none(), max_size=2), st.just(DROP))


@st.composite
def request_body(draw: Any, shape: Any) -> Any:
    """A well-formed body, or one with a single node replaced by junk (or removed)."""
    body = draw(wire_value(shape))
    if draw(st.integers(0, 2)) == 0:
        return body
    return corrupted(body, draw(st.sampled_from(nodes(body))), draw(JUNK))


OPERATIONS = ["PutItem", "GetItem", "DeleteItem", "UpdateItem", "Query", "Scan", "BatchWriteItem",
              "BatchGetItem", "TransactWriteItems", "CreateTable", "UpdateTable", "ListTables"]


@pytest.mark.parametrize("operation", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_request_plans_agree_with_the_generic_walk(operation: str, data: Any) -> None:
    op = MODEL.operation_model(operation)
    body = data.draw(request_body(op.input_shape))
    if not isinstance(body, dict):
        return
    plan = _plan(op.input_shape, {})
    try:
        fast: Any = ("ok", strict(plan(body)))
    except Exception:
        fast = None  # refused: parse_request answers with the generic walk
    generic = outcome(lambda: _parse_generic(op.input_shape, body))
    if fast is not None:
        assert fast == generic
    raw = json.dumps(body).encode()
    assert outcome(lambda: parse_request(op, raw)) == generic


def test_request_plans_take_well_formed_items() -> None:
    op = MODEL.operation_model("PutItem")
    item = {"pk": {"S": "p"}, "n": {"N": "1"}, "b": {"B": "AAE="}, "m": {"M": {"x": {"L": [{"NULL": True}]}}},
            "ss": {"SS": ["a"]}, "bool": {"BOOL": False}}
    body = {"TableName": "t", "Item": item, "ReturnValues": "ALL_OLD"}
    expected = {"TableName": "t", "Item": {**item, "b": {"B": b"\x00\x01"}}, "ReturnValues": "ALL_OLD"}
    assert _plan(op.input_shape, {})(body) == expected
    assert parse_request(op, json.dumps(body).encode()) == expected


@pytest.mark.parametrize(("body", "message"), [
    ({"TableName": "t", "Item": {}, "ReturnValues": "SOME"},
     "1 validation error detected: Value 'SOME' at 'returnValues' failed to satisfy constraint: Member must "
     "satisfy enum value set: [NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]"),
    ({"Item": {}}, "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
                   "Member must not be null"),
    ({"TableName": "", "Item": {}}, "1 validation error detected: Value '' at 'tableName' failed to satisfy "
                                    "constraint: Member must have length greater than or equal to 1"),
])
def test_refused_requests_are_worded_by_the_generic_walk(body: dict[str, Any], message: str) -> None:
    op = MODEL.operation_model("PutItem")
    with pytest.raises(JsonError) as info:
        parse_request(op, json.dumps(body).encode())
    assert info.value.message == message


def test_request_bodies_in_other_encodings_still_parse() -> None:
    op = MODEL.operation_model("ListTables")
    assert parse_request(op, '{"Limit": 5}'.encode("utf-16")) == {"Limit": 5}
    assert parse_request(op, b'\xef\xbb\xbf{"Limit": 5}') == {"Limit": 5}
    with pytest.raises(JsonError) as info:
        parse_request(op, b'{"Limit": ')
    assert info.value.code == "SerializationException" and info.value.message.startswith("Malformed JSON")


# -- responses -------------------------------------------------------------------------------

SCALAR_AV = st.one_of(
    st.text(max_size=4).map(lambda s: {"S": s}),
    st.integers(-1000, 1000).map(lambda n: {"N": str(n)}),
    st.binary(max_size=4).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(alphabet="ab\"\\\u2028é😀", max_size=3), min_size=1, max_size=3, unique=True)
    .map(lambda ss: {"SS": ss}),
    st.lists(st.binary(max_size=3), min_size=1, max_size=3, unique=True).map(lambda bs: {"BS": bs}),
)
ATTRIBUTE_VALUE = st.recursive(SCALAR_AV, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda values: {"L": values}),
    st.dictionaries(st.text(max_size=3), inner, max_size=3).map(lambda values: {"M": values})), max_leaves=8)
ITEM = st.dictionaries(st.text(alphabet="abcé\"\\\n", min_size=1, max_size=4), ATTRIBUTE_VALUE, max_size=4)


def python_value(shape: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """A handler's result for ``shape`` (what ``to_json`` takes)."""
    kind = shape.type_name
    if shape.name == "AttributeValue":
        return ATTRIBUTE_VALUE
    if kind == "map" and shape.value.name == "AttributeValue":
        return st.one_of(ITEM, ITEM.map(CachedItem))
    if depth > 4:
        return st.none()
    if kind == "structure":
        members = {name: python_value(member, depth + 1) for name, member in shape.members.items()}
        return st.fixed_dictionaries({}, optional=dict(list(members.items())[:8]))
    if kind == "list":
        return st.lists(python_value(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=3), python_value(shape.value, depth + 1), max_size=2)
    if kind == "string":
        return st.text(max_size=4)
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "long"):
        return st.one_of(st.integers(-5, 10**12), st.booleans())
    if kind in ("double", "float"):
        return st.one_of(st.floats(), st.integers(-5, 5))
    if kind == "blob":
        return st.binary(max_size=4)
    if kind == "timestamp":
        return st.datetimes(timezones=st.just(dt.UTC))
    return st.none()


def plain_serialization(shape: Any, result: Any) -> bytes:
    return json.dumps(to_json(shape, result), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("operation", ["GetItem", "PutItem", "UpdateItem", "Query", "Scan", "BatchGetItem",
                                       "BatchWriteItem", "TransactGetItems", "DescribeTable", "ListTables"])
@SETTINGS
@given(data=st.data())
def test_response_encoder_writes_what_json_dumps_writes(operation: str, data: Any) -> None:
    op = MODEL.operation_model(operation)
    result = data.draw(python_value(op.output_shape))
    expected = outcome(lambda: plain_serialization(op.output_shape, result))
    assert outcome(lambda: serialize_response(op, result)) == expected
    assert outcome(lambda: serialize_response(op, result)) == expected  # again, from cached item text


def test_cached_items_keep_their_text_until_changed() -> None:
    op = MODEL.operation_model("GetItem")
    item = CachedItem({"pk": {"S": "p"}, "b": {"B": b"\x00"}})
    assert serialize_response(op, {"Item": item}) == b'{"Item":{"pk":{"S":"p"},"b":{"B":"AA=="}}}'
    assert item.wire_json() == '{"pk":{"S":"p"},"b":{"B":"AA=="}}'
    for change in (lambda i: i.__setitem__("x", {"N": "1"}), lambda i: i.pop("b"), lambda i: i.update(y={}),
                   lambda i: i.setdefault("z", {"S": "z"}), lambda i: i.__delitem__("pk"),
                   lambda i: i.clear(), lambda i: i.popitem() if i else None,
                   lambda i: i.__ior__({"w": {"S": "w"}})):
        change(item)
        assert serialize_response(op, {"Item": item}) == plain_serialization(op.output_shape, {"Item": item})
    copied = CachedItem({"a": {"L": [{"S": "x"}]}})
    copied.wire_json()
    for duplicate in (copy.copy(copied), copy.deepcopy(copied), dict(copied), copied.copy()):
        assert type(duplicate) is dict and duplicate == copied
    deep = copy.deepcopy(copied)
    deep["a"]["L"].append({"S": "y"})
    assert copied == {"a": {"L": [{"S": "x"}]}}


def test_unserializable_results_fail_as_before() -> None:
    op = MODEL.operation_model("DescribeTable")
    with pytest.raises(TypeError):
        serialize_response(op, {"Table": {"TableName": object()}})


# -- attribute values ------------------------------------------------------------------------

NUMBER_TEXT = st.one_of(
    st.integers(-10**40, 10**40).map(str),
    st.from_regex(r"-?0*[0-9]{1,40}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["0", "-0", "00", "1e2", "١٢", "+1", "1.", ".5", "", "-", "²"]),
)


def normalized(call: Any) -> Any:
    try:
        return ("ok", strict(call()))
    except _Invalid as err:
        return ("invalid", str(err))


@settings(max_examples=400, deadline=None)
@given(text=NUMBER_TEXT)
def test_number_shortcuts_agree_with_decimal_arithmetic(text: str) -> None:
    value = {"N": text}
    assert normalized(lambda: _normalize(value, 0)) == normalized(lambda: _normalize_any(value, 0))
    fast = normalized(lambda: _normalize(value, 0))
    if fast[0] == "ok":
        canonical = _normalize(value, 0)["N"]
        assert _number_size(canonical) == _number_size.__wrapped__(canonical)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(ATTRIBUTE_VALUE, JUNK,
                       st.dictionaries(st.sampled_from(["S", "N", "M", "L", "BOOL", "X"]), JUNK, max_size=2)))
def test_value_shortcuts_agree_with_the_general_normalization(value: Any) -> None:
    assert normalized(lambda: _normalize(value, 0)) == normalized(lambda: _normalize_any(value, 0))
    assert normalized(lambda: _normalize(value, 32)) == normalized(lambda: _normalize_any(value, 32))
    assert normalized(lambda: _normalize(value, 33))[0] == "invalid"  # too deeply nested, whatever it is


@given(text=st.text(max_size=20))
def test_string_sizes_are_utf8_lengths(text: str) -> None:
    assert value_size({"S": text}) == len(text.encode("utf-8"))
    assert value_size({"SS": [text, "é"]}) == len(text.encode("utf-8")) + 2
    assert value_size({"M": {text: {"NULL": True}}}) == 3 + len(text.encode("utf-8")) + 1 + 1


# -- Query's range scan ----------------------------------------------------------------------

BYTES_TOKEN = st.binary(min_size=0, max_size=3).map(lambda b: b.replace(b"\x01", b"\xff"))
NUMBER_TOKEN = st.integers(-4, 4).map(decimal.Decimal)


def brute_force(partition: SortedDict, sort: Any, start: Any, forward: bool) -> list[Any]:
    keys = list(partition.keys()) if forward else list(reversed(partition.keys()))
    out = []
    for skey in keys:
        if start is not None and (skey <= start if forward else skey >= start):
            continue
        if sort is not None:
            t = skey[0]
            op, value, upper = sort
            v = token(value)
            ok = {"=": t == v, "<": t < v, "<=": t <= v, ">": t > v, ">=": t >= v}.get(op)
            if op == "BETWEEN":
                ok = v <= t <= token(upper)
            elif op == "begins_with":
                ok = t.startswith(v)
            if not ok:
                continue
        out.append(partition[skey])
    return out


@SETTINGS
@given(data=st.data(), numbers=st.booleans(), width=st.integers(1, 3), forward=st.booleans())
def test_query_ranges_select_what_a_filter_selects(data: Any, numbers: bool, width: int,
                                                    forward: bool) -> None:
    tok = NUMBER_TOKEN if numbers else BYTES_TOKEN
    keys = data.draw(st.lists(st.tuples(*[tok] * width), max_size=12, unique=True))
    partition = SortedDict({k: Entry({"k": {"S": repr(k)}}, 1) for k in keys})

    def wire(t: Any) -> dict[str, Any]:
        return {"N": str(t)} if numbers else {"B": t}

    ops = ["=", "<", "<=", ">", ">=", "BETWEEN"] + ([] if numbers else ["begins_with"])
    op = data.draw(st.sampled_from(ops))
    low, high = sorted([data.draw(tok), data.draw(tok)])
    sort = data.draw(st.one_of(st.none(), st.just((op, wire(low), wire(high) if op == "BETWEEN" else None))))
    start = data.draw(st.one_of(st.none(), st.sampled_from(keys) if keys else st.none(),
                                st.tuples(*[tok] * width)))
    expected = brute_force(partition, sort, start, forward)
    assert list(in_partition(partition, sort, start, forward)) == expected


# -- the parsed-expression cache -------------------------------------------------------------


def test_cached_parses_record_the_placeholders_they_use() -> None:
    expression_cache.clear()
    for _ in range(2):  # a miss, then a hit
        ctx = Context({"#a": "a", "#b": "b"}, {":v": {"N": "1"}})
        parse_condition("#a = :v", ctx)
        with pytest.raises(DynamoDBError) as info:
            ctx.check_unused()
        assert info.value.message == ("Value provided in ExpressionAttributeNames unused in expressions: "
                                      "keys: {#b}")
        parse_update("SET #b = :v", ctx)
        ctx.check_unused()


def test_cached_parses_depend_on_the_values() -> None:
    expression_cache.clear()
    parse_condition("a BETWEEN :lo AND :hi", Context(None, {":lo": {"N": "1"}, ":hi": {"N": "2"}}))
    with pytest.raises(DynamoDBError) as info:
        parse_condition("a BETWEEN :lo AND :hi", Context(None, {":lo": {"N": "3"}, ":hi": {"N": "2"}}))
    assert "requires upper bound to be greater than or equal to lower bound" in info.value.message
    cond = parse_condition("a = :v", Context(None, {":v": {"S": "x"}}))
    other = parse_condition("a = :v", Context(None, {":v": {"S": "y"}}))
    assert cond.right.value == {"S": "x"} and other.right.value == {"S": "y"}  # type: ignore[union-attr]
    with pytest.raises(DynamoDBError):
        parse_condition("a = :v", Context(None, {":w": {"S": "x"}}))
    first = parse_projection("#n, b", Context({"#n": "a"}, None))
    assert first != parse_projection("#n, b", Context({"#n": "c"}, None))


def test_errors_are_never_cached() -> None:
    expression_cache.clear()
    for _ in range(2):
        with pytest.raises(DynamoDBError) as info:
            parse_condition("a = = b", Context(None, None))
        assert "Syntax error" in info.value.message
    assert not expression_cache._entries


def test_large_values_are_not_cached() -> None:
    expression_cache.clear()
    parse_condition("a = :v", Context(None, {":v": {"S": "x" * 1000}}))
    parse_condition("a = :v", Context(None, {":v": {"L": [{"S": "x"}]}}))
    assert not expression_cache._entries
    parse_condition("a = :v", Context(None, {":v": {"S": "x"}}))
    assert len(expression_cache._entries) == 1


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    expression_cache.clear()
    monkeypatch.setattr(expression_cache, "MAX_ENTRIES", 3)
    for i in range(5):
        parse_condition(f"a = :v{i}", Context(None, {f":v{i}": {"S": "x"}}))
    assert len(expression_cache._entries) == 3


def reference_page(entries: list[Entry], limit: int | None) -> tuple[list[Any], int, int, Any]:
    items, size, last = [], 0, None
    for entry in entries:
        items.append(entry.item)
        size += entry.size
        if (limit is not None and len(items) >= limit) or size >= MAX_PAGE_BYTES:
            last = {"pk": entry.item["pk"], "sk": entry.item["sk"]}
            break
    return items, len(items), size, last


@SETTINGS
@given(sizes=st.lists(st.one_of(st.integers(1, 2000), st.integers(200_000, 400_000)), max_size=300),
       limit=st.one_of(st.none(), st.integers(1, 300)))
def test_pages_of_stored_items_end_where_they_did(sizes: list[int], limit: int | None) -> None:
    service = DynamoDBService()
    service.handle("CreateTable", {"TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
                                   "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                                   "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                                            {"AttributeName": "sk", "AttributeType": "N"}]},
                   RequestContext(request_id="t"))
    table = service.db.tables["tbl"]
    entries = [Entry({"pk": {"S": "p"}, "sk": {"N": str(i)}}, size) for i, size in enumerate(sizes)]
    read = Read(table, None, "ALL_ATTRIBUTES", None, None, Context(None, None), limit, False, None)
    page = read_page(service.db, read, iter(entries))
    items, scanned, size, last = reference_page(entries, limit)
    assert (page.items, page.count, page.scanned, page.size, page.last) == (
        items, scanned, scanned, size, last)
