"""Query and Scan through boto3: key conditions, filters, paging, indexes, segments, the 1 MB page."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError


@pytest.fixture
def table(dynamodb_client: Any) -> str:
    dynamodb_client.create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                              for n, t in (("pk", "S"), ("sk", "S"), ("kind", "S"), ("at", "N"),
                                           ("score", "N"))],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-kind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"},
                                                   {"AttributeName": "at", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[
            {"IndexName": "by-score", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                    {"AttributeName": "score", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kind"]}}],
        BillingMode="PAY_PER_REQUEST")
    for user in ("u1", "u2"):
        for i in range(10):
            dynamodb_client.put_item(TableName="events", Item={
                "pk": {"S": user}, "sk": {"S": f"e#{i:03d}"}, "kind": {"S": "click" if i % 2 else "view"},
                "at": {"N": str(100 + i)}, "score": {"N": str(10 - i)}, "note": {"S": f"n{i}"}})
    return "events"


def _sks(page: dict[str, Any]) -> list[str]:
    return [item["sk"]["S"] for item in page["Items"]]


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def _query(client: Any, table: str, condition: str, values: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return dict(client.query(TableName=table, KeyConditionExpression=condition,
                             ExpressionAttributeValues=values, **kwargs))


U1 = {":p": {"S": "u1"}}


@pytest.mark.parametrize(("condition", "values", "expected"), [
    ("pk = :p", {}, [f"e#{i:03d}" for i in range(10)]),
    ("pk = :p AND sk = :s", {":s": {"S": "e#004"}}, ["e#004"]),
    ("pk = :p AND sk < :s", {":s": {"S": "e#002"}}, ["e#000", "e#001"]),
    ("pk = :p AND sk <= :s", {":s": {"S": "e#002"}}, ["e#000", "e#001", "e#002"]),
    ("pk = :p AND sk > :s", {":s": {"S": "e#007"}}, ["e#008", "e#009"]),
    ("pk = :p AND :s <= sk", {":s": {"S": "e#008"}}, ["e#008", "e#009"]),
    ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"S": "e#003"}, ":b": {"S": "e#005"}},
     ["e#003", "e#004", "e#005"]),
    ("pk = :p AND begins_with(sk, :s)", {":s": {"S": "e#00"}}, [f"e#00{i}" for i in range(10)]),
    ("pk = :p AND begins_with(sk, :s)", {":s": {"S": "f"}}, []),
])
def test_key_conditions(dynamodb_client: Any, table: str, condition: str, values: dict[str, Any],
                        expected: list[str]) -> None:
    forward = _query(dynamodb_client, table, condition, {**U1, **values})
    assert _sks(forward) == expected
    backward = _query(dynamodb_client, table, condition, {**U1, **values}, ScanIndexForward=False)
    assert _sks(backward) == expected[::-1]


def test_limit_and_pagination(dynamodb_client: Any, table: str) -> None:
    first = _query(dynamodb_client, table, "pk = :p", U1, Limit=4)
    assert _sks(first) == ["e#000", "e#001", "e#002", "e#003"]
    assert first["LastEvaluatedKey"] == {"pk": {"S": "u1"}, "sk": {"S": "e#003"}}
    second = _query(dynamodb_client, table, "pk = :p", U1, Limit=4,
                    ExclusiveStartKey=first["LastEvaluatedKey"])
    assert _sks(second) == ["e#004", "e#005", "e#006", "e#007"]
    back = _query(dynamodb_client, table, "pk = :p", U1, Limit=3, ScanIndexForward=False,
                  ExclusiveStartKey=second["LastEvaluatedKey"])
    assert _sks(back) == ["e#006", "e#005", "e#004"]
    # Limit counts items read, before the filter; a full last page still carries a LastEvaluatedKey
    filtered = _query(dynamodb_client, table, "pk = :p", {**U1, ":k": {"S": "click"}}, Limit=4,
                      FilterExpression="kind = :k")
    assert (filtered["Count"], filtered["ScannedCount"]) == (2, 4)
    last = _query(dynamodb_client, table, "pk = :p", U1, Limit=10)
    assert last["Count"] == 10 and "LastEvaluatedKey" in last
    paginator = dynamodb_client.get_paginator("query")
    pages = list(paginator.paginate(TableName=table, KeyConditionExpression="pk = :p",
                                    ExpressionAttributeValues=U1, PaginationConfig={"PageSize": 3}))
    assert [s for p in pages for s in _sks(p)] == [f"e#{i:03d}" for i in range(10)]


def test_select_and_projection(dynamodb_client: Any, table: str) -> None:
    count = _query(dynamodb_client, table, "pk = :p", U1, Select="COUNT")
    assert count["Count"] == 10 and "Items" not in count
    projected = _query(dynamodb_client, table, "pk = :p AND sk = :s", {**U1, ":s": {"S": "e#001"}},
                       ProjectionExpression="note, #k", ExpressionAttributeNames={"#k": "kind"})
    assert projected["Items"] == [{"note": {"S": "n1"}, "kind": {"S": "click"}}]
    cases = [
        ({"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "note"},
         "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
        ({"Select": "COUNT", "ProjectionExpression": "note"},
         "Cannot specify the ProjectionExpression when choosing to get only the Count"),
        ({"Select": "SPECIFIC_ATTRIBUTES"},
         "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"),
        ({"Select": "ALL_PROJECTED_ATTRIBUTES"},
         "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
        ({"IndexName": "nope"}, "The table does not have the specified index: nope"),
        ({"FilterExpression": "sk = :p"},
         "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ClientError) as info:
            _query(dynamodb_client, table, "pk = :p", U1, **kwargs)
        assert _error(info) == ("ValidationException", message), kwargs


def test_key_condition_errors(dynamodb_client: Any, table: str) -> None:
    cases = [
        ("sk = :s", {":s": {"S": "x"}}, "Query condition missed key schema element: pk"),
        ("pk = :p", {":p": {"N": "1"}},
         "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("pk > :p", {":p": {"S": "x"}}, "Query key condition not supported"),
    ]
    for condition, values, message in cases:
        with pytest.raises(ClientError) as info:
            _query(dynamodb_client, table, condition, values)
        assert _error(info) == ("ValidationException", message)
    with pytest.raises(ClientError) as info:
        dynamodb_client.query(TableName=table)
    assert _error(info)[1] == ("Either the KeyConditions or KeyConditionExpression parameter must be "
                               "specified in the request.")


def test_global_index_query(dynamodb_client: Any, table: str) -> None:
    page = _query(dynamodb_client, table, "kind = :k AND #at >= :a",
                  {":k": {"S": "click"}, ":a": {"N": "105"}},
                  IndexName="by-kind", ExpressionAttributeNames={"#at": "at"})
    assert [(i["pk"]["S"], i["at"]["N"]) for i in page["Items"]] == [
        ("u1", "105"), ("u2", "105"), ("u1", "107"), ("u2", "107"), ("u1", "109"), ("u2", "109")]
    assert set(page["Items"][0]) == {"pk", "sk", "kind", "at"}  # KEYS_ONLY
    first = _query(dynamodb_client, table, "kind = :k", {":k": {"S": "view"}}, IndexName="by-kind", Limit=3)
    assert set(first["LastEvaluatedKey"]) == {"pk", "sk", "kind", "at"}
    rest = _query(dynamodb_client, table, "kind = :k", {":k": {"S": "view"}}, IndexName="by-kind",
                  ExclusiveStartKey=first["LastEvaluatedKey"])
    assert first["Count"] + rest["Count"] == 10
    with pytest.raises(ClientError) as info:
        _query(dynamodb_client, table, "kind = :k", {":k": {"S": "view"}}, IndexName="by-kind",
               ConsistentRead=True)
    assert _error(info)[1] == "Consistent reads are not supported on global secondary indexes"
    with pytest.raises(ClientError) as info:
        _query(dynamodb_client, table, "kind = :k", {":k": {"S": "view"}}, IndexName="by-kind",
               Select="ALL_ATTRIBUTES")
    assert "Select type ALL_ATTRIBUTES is not supported for global secondary index by-kind" in _error(info)[1]


def test_local_index_query_fetches_from_table(dynamodb_client: Any, table: str) -> None:
    page = _query(dynamodb_client, table, "pk = :p AND score <= :s", {**U1, ":s": {"N": "2"}},
                  IndexName="by-score")
    assert [i["score"]["N"] for i in page["Items"]] == ["1", "2"]
    assert set(page["Items"][0]) == {"pk", "sk", "score", "kind"}  # ALL_PROJECTED_ATTRIBUTES
    full = _query(dynamodb_client, table, "pk = :p AND score <= :s", {**U1, ":s": {"N": "1"}},
                  IndexName="by-score", Select="ALL_ATTRIBUTES")
    assert full["Items"][0]["note"] == {"S": "n9"}


def test_sparse_index_and_index_maintenance(dynamodb_client: Any, table: str) -> None:
    dynamodb_client.put_item(TableName=table, Item={"pk": {"S": "u3"}, "sk": {"S": "x"}})
    views = {":k": {"S": "view"}}
    assert _query(dynamodb_client, table, "kind = :k", views, IndexName="by-kind")["Count"] == 10
    dynamodb_client.update_item(TableName=table, Key={"pk": {"S": "u1"}, "sk": {"S": "e#000"}},
                                UpdateExpression="SET kind = :c",
                                ExpressionAttributeValues={":c": {"S": "click"}})
    dynamodb_client.update_item(TableName=table, Key={"pk": {"S": "u1"}, "sk": {"S": "e#002"}},
                                UpdateExpression="REMOVE #at", ExpressionAttributeNames={"#at": "at"})
    assert _query(dynamodb_client, table, "kind = :k", views, IndexName="by-kind")["Count"] == 8


def test_scan_filters_and_segments(dynamodb_client: Any, table: str) -> None:
    everything = dynamodb_client.scan(TableName=table)
    assert everything["Count"] == 20
    clicks = dynamodb_client.scan(TableName=table, FilterExpression="kind = :k AND score > :s",
                                  ExpressionAttributeValues={":k": {"S": "click"}, ":s": {"N": "5"}})
    assert sorted(_sks(clicks)) == ["e#001", "e#001", "e#003", "e#003"]
    legacy = dynamodb_client.scan(TableName=table, ScanFilter={
        "kind": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "click"}]}})
    assert legacy["Count"] == 10
    keys = set()
    for segment in range(3):
        page = dynamodb_client.scan(TableName=table, Segment=segment, TotalSegments=3)
        seen = {(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]}
        assert not seen & keys
        keys |= seen
    assert len(keys) == 20
    with pytest.raises(ClientError) as info:
        dynamodb_client.scan(TableName=table, Segment=3, TotalSegments=3)
    assert _error(info)[1] == ("The Segment parameter is zero-based and must be less than parameter "
                               "TotalSegments: Segment: 3 is not less than TotalSegments: 3")
    index_scan = dynamodb_client.scan(TableName=table, IndexName="by-kind")
    assert index_scan["Count"] == 20


def test_scan_pagination_is_stable_under_writes(dynamodb_client: Any, table: str) -> None:
    seen: list[tuple[str, str]] = []
    start = None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = dynamodb_client.scan(TableName=table, Limit=7, **kwargs)
        seen += [(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]]
        if not seen or len(seen) == 7:  # delete an item already returned: nothing is skipped
            first_key = {"pk": {"S": seen[0][0]}, "sk": {"S": seen[0][1]}}
            dynamodb_client.delete_item(TableName=table, Key=first_key)
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert len(seen) == 20 and len(set(seen)) == 20


def test_one_megabyte_pages(dynamodb_client: Any) -> None:
    dynamodb_client.create_table(TableName="big", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    blob = "x" * 300_000
    for i in range(8):
        dynamodb_client.put_item(TableName="big", Item={"pk": {"S": f"k{i}"}, "v": {"S": blob}})
    first = dynamodb_client.scan(TableName="big", ReturnConsumedCapacity="TOTAL")
    assert first["ScannedCount"] == 4 and "LastEvaluatedKey" in first  # 4 x 300 KB passes 1 MB
    assert first["ConsumedCapacity"]["CapacityUnits"] == 146.5  # 293 x 4 KB read, eventually consistent
    pages = list(dynamodb_client.get_paginator("scan").paginate(TableName="big", Select="COUNT"))
    assert sum(p["Count"] for p in pages) == 8 and len(pages) >= 2


def test_resource_api_query_and_scan(fakes3: Any, table: str) -> None:
    resource = boto3.session.Session().resource("dynamodb", endpoint_url=fakes3.endpoint_url,
                                                region_name=fakes3.region, **fakes3.credentials)
    tbl = resource.Table(table)
    page = tbl.query(KeyConditionExpression=Key("pk").eq("u2") & Key("sk").between("e#002", "e#004"),
                     FilterExpression=Attr("kind").eq("view"))
    assert [i["sk"] for i in page["Items"]] == ["e#002", "e#004"]
    scanned = tbl.scan(FilterExpression=Attr("score").lte(2) & Attr("note").begins_with("n"))
    assert sorted(i["score"] for i in scanned["Items"]) == [1, 1, 2, 2]


def test_legacy_query_parameters(dynamodb_client: Any, table: str) -> None:
    page = dynamodb_client.query(
        TableName=table, AttributesToGet=["sk", "kind"],
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "u1"}]},
                       "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "e#00"}]}},
        QueryFilter={"kind": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "view"}]},
                     "score": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "6"}]}})
    assert page["Items"] == [{"sk": {"S": f"e#00{i}"}, "kind": {"S": "view"}} for i in (0, 2)]
    with pytest.raises(ClientError) as info:
        dynamodb_client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues=U1,
                              QueryFilter={"kind": {"ComparisonOperator": "NULL"}})
    assert _error(info)[1] == ("Can not use both expression and non-expression parameters in the same "
                               "request: Non-expression parameters: {QueryFilter} Expression parameters: "
                               "{KeyConditionExpression}")


def test_index_query_capacity(dynamodb_client: Any, table: str) -> None:
    page = _query(dynamodb_client, table, "kind = :k", {":k": {"S": "view"}}, IndexName="by-kind",
                  ReturnConsumedCapacity="INDEXES")
    assert page["ConsumedCapacity"] == {
        "TableName": table, "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.0, "ReadCapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {"by-kind": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}}}
