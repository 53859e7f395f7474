"""BatchGetItem, BatchWriteItem (and boto3's batch_writer), TransactWriteItems, TransactGetItems."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


def _create(client: Any, name: str) -> None:
    client.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")


@pytest.fixture
def tables(dynamodb_client: Any) -> tuple[str, str]:
    _create(dynamodb_client, "left")
    _create(dynamodb_client, "right")
    return "left", "right"


def _key(value: str) -> dict[str, Any]:
    return {"pk": {"S": value}}


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def _get(client: Any, table: str, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(TableName=table, Key=_key(key)).get("Item")
    return item


def test_batch_write_and_get(dynamodb_client: Any, tables: tuple[str, str]) -> None:
    left, right = tables
    result = dynamodb_client.batch_write_item(RequestItems={
        left: [{"PutRequest": {"Item": {**_key(f"k{i}"), "n": {"N": str(i)}}}} for i in range(20)],
        right: [{"PutRequest": {"Item": _key("r1")}}],
    }, ReturnConsumedCapacity="TOTAL")
    assert result["UnprocessedItems"] == {}
    units = {c["TableName"]: c["CapacityUnits"] for c in result["ConsumedCapacity"]}
    assert units == {left: 20.0, right: 1.0}
    got = dynamodb_client.batch_get_item(RequestItems={
        left: {"Keys": [_key("k3"), _key("k7"), _key("missing")], "ProjectionExpression": "n"},
        right: {"Keys": [_key("r1")], "ConsistentRead": True},
    })
    assert got["UnprocessedKeys"] == {}
    assert sorted(i["n"]["N"] for i in got["Responses"][left]) == ["3", "7"]
    assert got["Responses"][right] == [_key("r1")]
    dynamodb_client.batch_write_item(RequestItems={left: [{"DeleteRequest": {"Key": _key("k3")}}]})
    assert _get(dynamodb_client, left, "k3") is None


def test_batch_limits_and_duplicates(dynamodb_client: Any, tables: tuple[str, str]) -> None:
    left, right = tables
    with pytest.raises(ClientError) as info:
        dynamodb_client.batch_write_item(RequestItems={
            left: [{"PutRequest": {"Item": _key(f"a{i}")}} for i in range(20)],
            right: [{"PutRequest": {"Item": _key(f"b{i}")}} for i in range(6)]})
    assert _error(info) == ("ValidationException", "Too many items requested for the BatchWriteItem call")
    with pytest.raises(ClientError) as info:
        dynamodb_client.batch_write_item(RequestItems={left: [
            {"PutRequest": {"Item": _key("same")}}, {"DeleteRequest": {"Key": _key("same")}}]})
    assert _error(info) == ("ValidationException", "Provided list of item keys contains duplicates")
    assert _get(dynamodb_client, left, "same") is None  # nothing of a rejected batch ran
    with pytest.raises(ClientError) as info:
        dynamodb_client.batch_get_item(RequestItems={left: {"Keys": [_key(str(i)) for i in range(101)]}})
    assert _error(info)[0] == "ValidationException"
    with pytest.raises(ClientError) as info:
        dynamodb_client.batch_get_item(RequestItems={left: {"Keys": [_key("x"), _key("x")]}})
    assert _error(info) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(dynamodb_client.exceptions.ResourceNotFoundException):
        dynamodb_client.batch_write_item(RequestItems={"nothere": [{"PutRequest": {"Item": _key("x")}}]})


def test_batch_writer(fakes3: Any, tables: tuple[str, str]) -> None:
    resource = boto3.session.Session().resource("dynamodb", endpoint_url=fakes3.endpoint_url,
                                                region_name=fakes3.region, **fakes3.credentials)
    table = resource.Table(tables[0])
    with table.batch_writer(overwrite_by_pkeys=["pk"]) as writer:
        for i in range(130):
            writer.put_item(Item={"pk": f"item-{i % 100}", "i": i})
    items = list(table.scan()["Items"])
    assert len(items) == 100
    assert {it["pk"]: it["i"] for it in items}["item-5"] == 105


def _transfer(client: Any, left: str, amount: int, **extra: Any) -> dict[str, Any]:
    return dict(client.transact_write_items(TransactItems=[
        {"Update": {"TableName": left, "Key": _key("a"), "UpdateExpression": "SET bal = bal - :n",
                    "ConditionExpression": "bal >= :n",
                    "ExpressionAttributeValues": {":n": {"N": str(amount)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Update": {"TableName": left, "Key": _key("b"), "UpdateExpression": "SET bal = bal + :n",
                    "ExpressionAttributeValues": {":n": {"N": str(amount)}}}},
    ], **extra))


def test_transact_write_all_or_nothing(dynamodb_client: Any, tables: tuple[str, str]) -> None:
    left, right = tables
    for key, balance in (("a", 100), ("b", 0)):
        dynamodb_client.put_item(TableName=left, Item={**_key(key), "bal": {"N": str(balance)}})
    _transfer(dynamodb_client, left, 60)
    with pytest.raises(dynamodb_client.exceptions.TransactionCanceledException) as info:
        _transfer(dynamodb_client, left, 60)
    code, message = _error(info)
    assert message == ("Transaction cancelled, please refer cancellation reasons for specific reasons "
                       "[ConditionalCheckFailed, None]")
    assert info.value.response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {**_key("a"), "bal": {"N": "40"}}},
        {"Code": "None"}]
    assert _get(dynamodb_client, left, "a")["bal"] == {"N": "40"}  # type: ignore[index]
    assert _get(dynamodb_client, left, "b")["bal"] == {"N": "60"}  # type: ignore[index]
    dynamodb_client.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": left, "Key": _key("a"),
                            "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": right, "Item": {**_key("new"), "v": {"S": "x"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": left, "Key": _key("b")}},
    ])
    assert _get(dynamodb_client, right, "new") == {**_key("new"), "v": {"S": "x"}}
    assert _get(dynamodb_client, left, "b") is None


def test_transact_write_validation(dynamodb_client: Any, tables: tuple[str, str]) -> None:
    left, _ = tables
    with pytest.raises(ClientError) as info:
        dynamodb_client.transact_write_items(TransactItems=[
            {"Put": {"TableName": left, "Item": _key("x")}},
            {"Delete": {"TableName": left, "Key": _key("x")}}])
    assert _error(info) == ("ValidationException",
                            "Transaction request cannot include multiple operations on one item")
    with pytest.raises(dynamodb_client.exceptions.ResourceNotFoundException):
        dynamodb_client.transact_write_items(
            TransactItems=[{"Put": {"TableName": "nothere", "Item": _key("x")}}])
    with pytest.raises(dynamodb_client.exceptions.TransactionCanceledException) as info:
        dynamodb_client.transact_write_items(TransactItems=[
            {"Put": {"TableName": left, "Item": {**_key("y"), "n": {"S": "text"}}}},
            {"Update": {"TableName": left, "Key": _key("z"), "UpdateExpression": "SET m.a = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}}}}])
    assert [r["Code"] for r in info.value.response["CancellationReasons"]] == ["None", "ValidationError"]
    assert _get(dynamodb_client, left, "y") is None


def test_client_request_token_is_idempotent(dynamodb_client: Any, tables: tuple[str, str]) -> None:
    left, _ = tables
    for key, balance in (("a", 100), ("b", 0)):
        dynamodb_client.put_item(TableName=left, Item={**_key(key), "bal": {"N": str(balance)}})
    token = str(uuid.uuid4())
    _transfer(dynamodb_client, left, 10, ClientRequestToken=token)
    _transfer(dynamodb_client, left, 10, ClientRequestToken=token)  # a retry: not applied again
    assert _get(dynamodb_client, left, "a")["bal"] == {"N": "90"}  # type: ignore[index]
    with pytest.raises(dynamodb_client.exceptions.IdempotentParameterMismatchException):
        _transfer(dynamodb_client, left, 20, ClientRequestToken=token)
    _transfer(dynamodb_client, left, 10)  # botocore fills in a fresh token
    assert _get(dynamodb_client, left, "a")["bal"] == {"N": "80"}  # type: ignore[index]


def test_transact_get(dynamodb_client: Any, tables: tuple[str, str]) -> None:
    left, right = tables
    dynamodb_client.put_item(TableName=left, Item={**_key("a"), "x": {"S": "1"}, "y": {"S": "2"}})
    result = dynamodb_client.transact_get_items(TransactItems=[
        {"Get": {"TableName": left, "Key": _key("a"), "ProjectionExpression": "#x",
                 "ExpressionAttributeNames": {"#x": "x"}}},
        {"Get": {"TableName": right, "Key": _key("nothing")}},
    ], ReturnConsumedCapacity="TOTAL")
    assert result["Responses"] == [{"Item": {"x": {"S": "1"}}}, {}]
    assert {c["TableName"] for c in result["ConsumedCapacity"]} == {left, right}
    with pytest.raises(ClientError) as info:
        dynamodb_client.transact_get_items(TransactItems=[
            {"Get": {"TableName": left, "Key": _key("a")}}, {"Get": {"TableName": left, "Key": _key("a")}}])
    assert _error(info)[1] == "Transaction request cannot include multiple operations on one item"
