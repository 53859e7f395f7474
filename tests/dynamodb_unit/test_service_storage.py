"""The DynamoDB service without HTTP: storage order, segments, locks, capacity, the JSON protocol."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest

from fakes3.dynamodb import capacity
from fakes3.dynamodb.legacy import Rewriter
from fakes3.dynamodb.model import ItemLocks
from fakes3.dynamodb.storage import Entry, Store, partition_key, segment_bounds, token
from fakes3.protocol.json_protocol import JsonError, parse_request, to_json
from fakes3.protocol.service_models import service_model


def test_tokens_sort_as_dynamodb_orders_keys() -> None:
    strings = ["a", "B", "é", "z", "\U0001f600", ""]
    assert sorted(strings, key=lambda s: token({"S": s})) == sorted(strings, key=lambda s: s.encode())
    numbers = ["10", "-1", "0.5", "-0.25", "1e2", "0"]
    assert sorted(numbers, key=lambda n: token({"N": n})) == ["-1", "-0.25", "0", "0.5", "10", "1e2"]
    assert token({"N": "1.0"}) == token({"N": "1"})
    assert partition_key(Decimal("1.0")) == partition_key(Decimal(1))
    assert token({"B": b"\xff"}) > token({"B": b"\x01\xff"})


def test_segments_partition_the_hash_space() -> None:
    for total in (1, 3, 7):
        bounds = [segment_bounds(s, total) for s in range(total)]
        assert bounds[0][0] == bytes(16) and bounds[-1][1] is None
        for (_, high), (low, _) in zip(bounds, bounds[1:], strict=False):
            assert high == low


def _store(keys: list[str]) -> Store:
    store = Store()
    for key in keys:
        store.put(partition_key(token({"S": key})), (), Entry({"pk": {"S": key}}, 1))
    return store


def test_scan_resumes_after_a_deleted_key_and_respects_segments() -> None:
    keys = [f"k{i}" for i in range(50)]
    store = _store(keys)
    order = [e.item["pk"]["S"] for _, _, e in store.scan()]
    assert sorted(order) == sorted(keys) and order != keys  # hash order, not insertion order
    resume_at = partition_key(token({"S": order[10]}))
    store.delete(resume_at, ())
    rest = [e.item["pk"]["S"] for _, _, e in store.scan((resume_at, ()))]
    assert rest == order[11:]
    seen: list[str] = []
    for segment in range(4):
        low, high = segment_bounds(segment, 4)
        seen += [e.item["pk"]["S"] for _, _, e in store.scan(None, low, high)]
    assert sorted(seen) == sorted(order[:10] + order[11:])
    assert store.count == 49 and store.size == 49


def test_item_locks_take_keys_in_one_order() -> None:
    locks = ItemLocks()
    a = ("t", partition_key(b"a"), ())
    b = ("t", partition_key(b"b"), ())
    done = []

    def worker(keys: list[Any]) -> None:
        for _ in range(200):
            with locks.hold(keys):
                done.append(1)

    threads = [threading.Thread(target=worker, args=(keys,)) for keys in ([a, b], [b, a])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(done) == 400 and not locks._locks


def test_capacity_units() -> None:
    assert capacity.write_units(1) == 1.0 and capacity.write_units(1025) == 2.0
    assert capacity.read_units(0, False) == 0.5 and capacity.read_units(4097, True) == 2.0
    usage = capacity.Usage("t", read=True, units=1.5)
    assert capacity.report("NONE", usage) is None
    assert capacity.report("TOTAL", usage) == {"TableName": "t", "CapacityUnits": 1.5,
                                               "ReadCapacityUnits": 1.5}


def test_legacy_rewriting() -> None:
    rewriter = Rewriter()
    text = rewriter.expected({"a": {"Exists": False}, "b": {"Value": {"N": "1"}},
                              "c": {"ComparisonOperator": "BETWEEN",
                                    "AttributeValueList": [{"N": "1"}, {"N": "2"}]}}, "OR")
    assert text == ("(attribute_not_exists(#_legacy0)) OR (#_legacy1 = :_legacy0) OR "
                    "(#_legacy2 BETWEEN :_legacy1 AND :_legacy2)")
    assert rewriter.names == {"#_legacy0": "a", "#_legacy1": "b", "#_legacy2": "c"}
    updates = Rewriter().updates({"x": {"Action": "PUT", "Value": {"S": "v"}}, "y": {"Action": "DELETE"},
                                  "z": {"Action": "ADD", "Value": {"N": "1"}}})
    assert updates == "SET #_legacy0 = :_legacy0 REMOVE #_legacy1 ADD #_legacy2 :_legacy1"
    with pytest.raises(Exception, match="Invalid number of argument"):
        Rewriter().conditions({"a": {"ComparisonOperator": "EQ", "AttributeValueList": []}}, None)


def test_json_protocol_parsing_and_validation() -> None:
    model = service_model("dynamodb")
    put = model.operation_model("PutItem")
    params = parse_request(put, b'{"TableName": "t", "Item": {"b": {"B": "AAE="}}, "Extra": 1}')
    assert params == {"TableName": "t", "Item": {"b": {"B": b"\x00\x01"}}}
    with pytest.raises(JsonError) as info:
        parse_request(put, b'{"TableName": "t", "Item": {}, "ReturnValues": "SOME", '
                           b'"ReturnConsumedCapacity": "X"}')
    assert info.value.message.startswith("2 validation errors detected: Value 'SOME' at 'returnValues'")
    create = model.operation_model("CreateTable")
    with pytest.raises(JsonError) as info:
        parse_request(create, b'{"TableName": "t", "AttributeDefinitions": [], '
                              b'"KeySchema": [{"AttributeName": "a", "KeyType": "SIDEWAYS"}]}')
    assert "at 'keySchema.1.member.keyType'" in info.value.message
    with pytest.raises(JsonError) as info:
        parse_request(put, b'{"TableName": ["t"]}')
    assert info.value.code == "SerializationException"
    shape = model.operation_model("DescribeTable").output_shape
    when = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert to_json(shape, {"Table": {"CreationDateTime": when, "Unknown": 1}}) == {
        "Table": {"CreationDateTime": when.timestamp()}}
