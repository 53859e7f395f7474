"""DynamoDB item operations through boto3: PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError


@pytest.fixture
def table(dynamodb_client: Any) -> str:
    dynamodb_client.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g",
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST")
    return "items"


KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def test_every_type_round_trips(dynamodb_client: Any, table: str) -> None:
    item = {**KEY, "s": {"S": "héllo"}, "n": {"N": "1e3"}, "b": {"B": b"\x00\xff"},
            "t": {"BOOL": True}, "z": {"NULL": True}, "m": {"M": {"x": {"L": [{"N": "-0.50"}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.0"]}, "bs": {"BS": [b"x", b"y"]}}
    dynamodb_client.put_item(TableName=table, Item=item)
    got = dynamodb_client.get_item(TableName=table, Key=KEY, ConsistentRead=True)["Item"]
    assert got["n"] == {"N": "1000"}
    assert got["m"] == {"M": {"x": {"L": [{"N": "-0.5"}]}}}
    assert got["b"] == {"B": b"\x00\xff"} and sorted(got["bs"]["BS"]) == [b"x", b"y"]
    assert sorted(got["ns"]["NS"]) == ["1", "2"]
    assert got["s"] == {"S": "héllo"} and got["t"] == {"BOOL": True} and got["z"] == {"NULL": True}
    assert "Item" not in dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "b"}, "sk": {"N": "1"}})


def test_projection_and_attributes_to_get(dynamodb_client: Any, table: str) -> None:
    dynamodb_client.put_item(TableName=table, Item={**KEY, "a": {"M": {"b": {"S": "x"}, "c": {"S": "y"}}},
                                                    "d": {"N": "4"}})
    got = dynamodb_client.get_item(TableName=table, Key=KEY, ProjectionExpression="#a.b, d",
                                   ExpressionAttributeNames={"#a": "a"})["Item"]
    assert got == {"a": {"M": {"b": {"S": "x"}}}, "d": {"N": "4"}}
    got = dynamodb_client.get_item(TableName=table, Key=KEY, AttributesToGet=["d"])["Item"]
    assert got == {"d": {"N": "4"}}
    with pytest.raises(ClientError) as info:
        dynamodb_client.get_item(TableName=table, Key=KEY, AttributesToGet=["d"], ProjectionExpression="d")
    assert _error(info)[1] == ("Can not use both expression and non-expression parameters in the same "
                               "request: Non-expression parameters: {AttributesToGet} Expression "
                               "parameters: {ProjectionExpression}")


@pytest.mark.parametrize(("item", "message"), [
    ({"sk": {"N": "1"}}, "One or more parameter values were invalid: Missing the key pk in the item"),
    ({"pk": {"N": "1"}, "sk": {"N": "1"}},
     "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
    ({"pk": {"S": ""}, "sk": {"N": "1"}},
     "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
     "empty string value. Key: pk"),
    ({**KEY, "g": {"N": "1"}},
     "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N "
     "IndexName: by-g"),
    ({**KEY, "x": {"S": "y" * 410_000}}, "Item size has exceeded the maximum allowed size"),
])
def test_put_validation(dynamodb_client: Any, table: str, item: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as info:
        dynamodb_client.put_item(TableName=table, Item=item)
    assert _error(info) == ("ValidationException", message)


@pytest.mark.parametrize("key", [{"pk": {"S": "a"}}, {**KEY, "x": {"S": "1"}},
                                 {"pk": {"S": "a"}, "sk": {"S": "1"}}])
def test_key_must_match_schema(dynamodb_client: Any, table: str, key: dict[str, Any]) -> None:
    for call in (lambda: dynamodb_client.get_item(TableName=table, Key=key),
                 lambda: dynamodb_client.delete_item(TableName=table, Key=key)):
        with pytest.raises(ClientError) as info:
            call()
        assert _error(info) == ("ValidationException", "The provided key element does not match the schema")


def test_conditional_put_and_return_values(dynamodb_client: Any, table: str) -> None:
    first = dynamodb_client.put_item(TableName=table, Item={**KEY, "v": {"N": "1"}},
                                     ConditionExpression="attribute_not_exists(pk)", ReturnValues="ALL_OLD")
    assert "Attributes" not in first
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException) as info:
        dynamodb_client.put_item(TableName=table, Item={**KEY, "v": {"N": "2"}},
                                 ConditionExpression="attribute_not_exists(pk)",
                                 ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert _error(info)[1] == "The conditional request failed"
    assert info.value.response["Item"] == {**KEY, "v": {"N": "1"}}
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException) as info:
        dynamodb_client.put_item(TableName=table, Item=KEY, ConditionExpression="v = :two",
                                 ExpressionAttributeValues={":two": {"N": "2"}})
    assert "Item" not in info.value.response
    second = dynamodb_client.put_item(TableName=table, Item={**KEY, "v": {"N": "2"}},
                                      ConditionExpression="v = :one",
                                      ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_OLD")
    assert second["Attributes"] == {**KEY, "v": {"N": "1"}}
    with pytest.raises(ClientError) as info:
        dynamodb_client.put_item(TableName=table, Item=KEY, ReturnValues="ALL_NEW")
    assert _error(info) == ("ValidationException", "Return values set to invalid value")


def test_unused_placeholders_are_rejected(dynamodb_client: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        dynamodb_client.put_item(TableName=table, Item=KEY, ConditionExpression="attribute_not_exists(pk)",
                                 ExpressionAttributeValues={":x": {"S": "1"}})
    assert _error(info)[1] == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    with pytest.raises(ClientError) as info:
        dynamodb_client.put_item(TableName=table, Item=KEY, ExpressionAttributeValues={":x": {"S": "1"}})
    assert _error(info)[1] == ("ExpressionAttributeValues can only be specified when using expressions: "
                               "ConditionExpression is null")


def test_update_item(dynamodb_client: Any, table: str) -> None:
    created = dynamodb_client.update_item(
        TableName=table, Key=KEY, UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one, m = :m",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}, ":m": {"M": {"a": {"S": "x"}}}},
        ReturnValues="ALL_NEW")
    assert created["Attributes"] == {**KEY, "count": {"N": "1"}, "m": {"M": {"a": {"S": "x"}}}}
    updated = dynamodb_client.update_item(
        TableName=table, Key=KEY, UpdateExpression="SET m.b = :b ADD #c :one REMOVE gone",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":b": {"S": "y"}, ":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW")
    assert updated["Attributes"] == {"m": {"M": {"b": {"S": "y"}}}, "count": {"N": "2"}}
    old = dynamodb_client.update_item(TableName=table, Key=KEY, UpdateExpression="SET m.b = :c",
                                      ExpressionAttributeValues={":c": {"S": "z"}},
                                      ReturnValues="UPDATED_OLD")
    assert old["Attributes"] == {"m": {"M": {"b": {"S": "y"}}}}
    with pytest.raises(ClientError) as info:
        dynamodb_client.update_item(TableName=table, Key=KEY, UpdateExpression="SET pk = :v",
                                    ExpressionAttributeValues={":v": {"S": "b"}})
    assert _error(info)[1] == ("One or more parameter values were invalid: Cannot update attribute pk. "
                               "This attribute is part of the key")
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException):
        dynamodb_client.update_item(TableName=table, Key=KEY, UpdateExpression="SET x = :v",
                                    ConditionExpression="#c > :v", ExpressionAttributeNames={"#c": "count"},
                                    ExpressionAttributeValues={":v": {"N": "5"}})
    key_only = {"pk": {"S": "k"}, "sk": {"N": "9"}}
    assert "Attributes" not in dynamodb_client.update_item(TableName=table, Key=key_only)
    assert dynamodb_client.get_item(TableName=table, Key=key_only)["Item"] == key_only


def test_legacy_parameters(dynamodb_client: Any, table: str) -> None:
    dynamodb_client.put_item(TableName=table, Item={**KEY, "v": {"N": "1"}},
                             Expected={"pk": {"Exists": False}})
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException):
        dynamodb_client.put_item(TableName=table, Item=KEY, Expected={"pk": {"Exists": False}})
    dynamodb_client.update_item(
        TableName=table, Key=KEY,
        AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "5"}},
                          "s": {"Action": "PUT", "Value": {"SS": ["a"]}}},
        Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}})
    got = dynamodb_client.get_item(TableName=table, Key=KEY)["Item"]
    assert got["v"] == {"N": "6"} and got["s"] == {"SS": ["a"]}
    dynamodb_client.update_item(TableName=table, Key=KEY, AttributeUpdates={"s": {"Action": "DELETE"}})
    assert "s" not in dynamodb_client.get_item(TableName=table, Key=KEY)["Item"]
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException):
        dynamodb_client.delete_item(TableName=table, Key=KEY,
                                    Expected={"v": {"Value": {"N": "7"}}})
    dynamodb_client.delete_item(TableName=table, Key=KEY, Expected={"v": {"Value": {"N": "6"}}})


def test_delete_item(dynamodb_client: Any, table: str) -> None:
    dynamodb_client.put_item(TableName=table, Item={**KEY, "g": {"S": "x"}})
    gone = dynamodb_client.delete_item(TableName=table, Key=KEY, ReturnValues="ALL_OLD")
    assert gone["Attributes"] == {**KEY, "g": {"S": "x"}}
    assert "Attributes" not in dynamodb_client.delete_item(TableName=table, Key=KEY, ReturnValues="ALL_OLD")
    assert dynamodb_client.query(TableName=table, IndexName="by-g", KeyConditionExpression="g = :g",
                                 ExpressionAttributeValues={":g": {"S": "x"}})["Count"] == 0
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException):
        dynamodb_client.delete_item(TableName=table, Key=KEY, ConditionExpression="attribute_exists(pk)")


def test_consumed_capacity(dynamodb_client: Any, table: str) -> None:
    put = dynamodb_client.put_item(TableName=table, Item={**KEY, "g": {"S": "x"}, "big": {"S": "x" * 1500}},
                                   ReturnConsumedCapacity="INDEXES")
    assert put["ConsumedCapacity"] == {
        "TableName": table, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0,
        "Table": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
        "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}}
    eventual = dynamodb_client.get_item(TableName=table, Key=KEY, ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 0.5,
                                            "ReadCapacityUnits": 0.5}
    strong = dynamodb_client.get_item(TableName=table, Key=KEY, ConsistentRead=True,
                                      ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_resource_api_with_conditions(fakes3: Any, table: str) -> None:
    resource = boto3.session.Session().resource("dynamodb", endpoint_url=fakes3.endpoint_url,
                                                region_name=fakes3.region, **fakes3.credentials)
    tbl = resource.Table(table)
    tbl.put_item(Item={"pk": "a", "sk": 1, "price": Decimal("9.99"), "tags": {"x", "y"},
                       "doc": {"k": [1, "s"]}})
    item = tbl.get_item(Key={"pk": "a", "sk": 1})["Item"]
    assert item == {"pk": "a", "sk": 1, "price": Decimal("9.99"), "tags": {"x", "y"}, "doc": {"k": [1, "s"]}}
    tbl.update_item(Key={"pk": "a", "sk": 1}, UpdateExpression="SET price = price - :d",
                    ConditionExpression=Attr("price").gt(5) & Attr("tags").contains("x"),
                    ExpressionAttributeValues={":d": Decimal("1.5")})
    assert tbl.get_item(Key={"pk": "a", "sk": 1})["Item"]["price"] == Decimal("8.49")
    with pytest.raises(ClientError) as info:
        tbl.delete_item(Key={"pk": "a", "sk": 1}, ConditionExpression=Attr("price").lt(1))
    assert _error(info)[0] == "ConditionalCheckFailedException"
