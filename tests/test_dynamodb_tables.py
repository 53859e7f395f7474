"""DynamoDB table operations through boto3: create, describe, list, update, delete, TTL, tags, waiters."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from fakes3.server import FakeAWS

PK = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK_SK = [*PK, {"AttributeName": "sk", "KeyType": "RANGE"}]
G_HASH = [{"AttributeName": "g", "KeyType": "HASH"}]


def _defs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def _create(client: Any, name: str = "t", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"TableName": name, "KeySchema": PK, "AttributeDefinitions": _defs(pk="S"),
                              "BillingMode": "PAY_PER_REQUEST"}
    params.update(extra)
    return dict(client.create_table(**params)["TableDescription"])


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_create_and_describe(dynamodb_client: Any) -> None:
    desc = _create(dynamodb_client, "orders", KeySchema=PK_SK, AttributeDefinitions=_defs(pk="S", sk="N"))
    assert desc["TableStatus"] == "ACTIVE"
    table = dynamodb_client.describe_table(TableName="orders")["Table"]
    assert table["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
    assert table["KeySchema"] == PK_SK
    assert table["AttributeDefinitions"] == _defs(pk="S", sk="N")
    assert (table["ItemCount"], table["TableSizeBytes"]) == (0, 0)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert len(table["TableId"]) == 36
    assert abs(table["CreationDateTime"].timestamp() - time.time()) < 60
    dynamodb_client.put_item(TableName="orders", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "yz"}})
    table = dynamodb_client.describe_table(TableName="orders")["Table"]
    assert table["ItemCount"] == 1 and table["TableSizeBytes"] > 0


def test_describe_by_arn(dynamodb_client: Any) -> None:
    arn = _create(dynamodb_client, "byarn")["TableArn"]
    assert dynamodb_client.describe_table(TableName=arn)["Table"]["TableName"] == "byarn"


def test_provisioned_with_indexes(dynamodb_client: Any) -> None:
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 3}
    dynamodb_client.create_table(
        TableName="prov", KeySchema=PK_SK, AttributeDefinitions=_defs(pk="S", sk="S", g="N", l="S"),
        ProvisionedThroughput=throughput,
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]},
                                 "ProvisionedThroughput": throughput}],
        LocalSecondaryIndexes=[{"IndexName": "lsi", "KeySchema": [PK[0], {"AttributeName": "l",
                                                                          "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    table = dynamodb_client.describe_table(TableName="prov")["Table"]
    assert "BillingModeSummary" not in table
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    gsi = table["GlobalSecondaryIndexes"][0]
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == table["TableArn"] + "/index/gsi"
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]}
    assert gsi["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    lsi = table["LocalSecondaryIndexes"][0]
    assert lsi["Projection"] == {"ProjectionType": "KEYS_ONLY"} and lsi["ItemCount"] == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"AttributeDefinitions": _defs(pk="S", other="S")},
     "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
     "number of attributes defined in AttributeDefinitions"),
    ({"KeySchema": PK_SK}, "Invalid KeySchema: Some index key attribute have no definition"),
    ({"KeySchema": PK_SK, "AttributeDefinitions": _defs(pk="S", zz="S")},
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [pk, sk], AttributeDefinitions: [pk, zz]"),
    ({"BillingMode": "PROVISIONED"},
     "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
     "specified when BillingMode is PROVISIONED"),
    ({"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
     "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
     "specified when BillingMode is PAY_PER_REQUEST"),
    ({"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]},
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    ({"AttributeDefinitions": _defs(pk="S", g="S", unused="S"),
      "GlobalSecondaryIndexes": [{"IndexName": "gsi", "KeySchema": G_HASH,
                                  "Projection": {"ProjectionType": "ALL"}}]},
     "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
     "AttributeDefinitions: [pk, g, unused], keys used: [pk, g]"),
    ({"LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema": PK,
                                 "Projection": {"ProjectionType": "ALL"}}]},
     "One or more parameter values were invalid: Table KeySchema does not have a range key, which is "
     "required when specifying a LocalSecondaryIndex"),
    ({"AttributeDefinitions": _defs(pk="S", g="S"),
      "GlobalSecondaryIndexes": [{"IndexName": "gsi", "KeySchema": G_HASH,
                                  "Projection": {"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["x"]}}]},
     "One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but NonKeyAttributes is "
     "specified"),
])
def test_create_table_validation(dynamodb_client: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as info:
        _create(dynamodb_client, **kwargs)
    assert _error(info) == ("ValidationException", message)


def test_model_constraints_are_checked_by_the_server(dynamodb_client: Any) -> None:
    with pytest.raises(ClientError) as info:
        _create(dynamodb_client, "bad name!")
    code, message = _error(info)
    assert code == "ValidationException"
    assert message == ("1 validation error detected: Value 'bad name!' at 'tableName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    with pytest.raises(ClientError) as info:
        _create(dynamodb_client, BillingMode="SOMETIMES")
    assert "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]" in _error(info)[1]


def test_a_table_without_key_schema_or_attribute_definitions_is_refused(dynamodb_client: Any) -> None:
    """botocore's model now requires only TableName; the table still needs both (was a 500)."""
    with pytest.raises(ClientError) as info:
        dynamodb_client.create_table(TableName="no-keys", BillingMode="PAY_PER_REQUEST")
    assert _error(info) == ("ValidationException", "2 validation errors detected: Value null at "
                            "'attributeDefinitions' failed to satisfy constraint: Member must not be "
                            "null; Value null at 'keySchema' failed to satisfy constraint: Member must "
                            "not be null")
    with pytest.raises(ClientError) as info:
        dynamodb_client.create_table(TableName="no-keys", BillingMode="PAY_PER_REQUEST",
                                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert "1 validation error detected: Value null at 'attributeDefinitions'" in _error(info)[1]
    assert dynamodb_client.list_tables()["TableNames"] == []


def test_duplicate_and_missing_tables(dynamodb_client: Any) -> None:
    _create(dynamodb_client, "dup")
    with pytest.raises(dynamodb_client.exceptions.ResourceInUseException) as info:
        _create(dynamodb_client, "dup")
    assert _error(info)[1] == "Table already exists: dup"
    with pytest.raises(dynamodb_client.exceptions.ResourceNotFoundException) as info:
        dynamodb_client.describe_table(TableName="ghost")
    assert _error(info)[1] == "Requested resource not found: Table: ghost not found"
    with pytest.raises(dynamodb_client.exceptions.ResourceNotFoundException) as info:
        dynamodb_client.get_item(TableName="ghost", Key={"pk": {"S": "a"}})
    assert _error(info)[1] == "Requested resource not found"
    with pytest.raises(dynamodb_client.exceptions.ResourceNotFoundException):
        dynamodb_client.delete_table(TableName="ghost")


def test_list_tables_pages(dynamodb_client: Any) -> None:
    names = [f"tbl-{i:02d}" for i in range(7)]
    for name in reversed(names):
        _create(dynamodb_client, name)
    first = dynamodb_client.list_tables(Limit=3)
    assert first["TableNames"] == names[:3] and first["LastEvaluatedTableName"] == names[2]
    rest = dynamodb_client.list_tables(ExclusiveStartTableName=names[2])
    assert rest["TableNames"] == names[3:] and "LastEvaluatedTableName" not in rest
    paged = dynamodb_client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
    assert [n for page in paged for n in page["TableNames"]] == names


def test_delete_table(dynamodb_client: Any) -> None:
    _create(dynamodb_client, "gone")
    assert dynamodb_client.delete_table(TableName="gone")["TableDescription"]["TableStatus"] == "DELETING"
    assert "gone" not in dynamodb_client.list_tables()["TableNames"]
    _create(dynamodb_client, "kept", DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as info:
        dynamodb_client.delete_table(TableName="kept")
    assert "protected against deletion" in _error(info)[1]
    dynamodb_client.update_table(TableName="kept", DeletionProtectionEnabled=False)
    dynamodb_client.delete_table(TableName="kept")


def test_update_table_billing_and_gsis(dynamodb_client: Any) -> None:
    _create(dynamodb_client, "upd", AttributeDefinitions=_defs(pk="S"))
    dynamodb_client.put_item(TableName="upd", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    dynamodb_client.put_item(TableName="upd", Item={"pk": {"S": "b"}})
    desc = dynamodb_client.update_table(
        TableName="upd", AttributeDefinitions=_defs(g="S"),
        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-g", "KeySchema": [
            {"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}}],
    )["TableDescription"]
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 1  # backfilled from existing items
    assert desc["AttributeDefinitions"] == _defs(pk="S", g="S")
    found = dynamodb_client.query(TableName="upd", IndexName="by-g", KeyConditionExpression="g = :g",
                                  ExpressionAttributeValues={":g": {"S": "x"}})
    assert found["Items"] == [{"pk": {"S": "a"}, "g": {"S": "x"}}]
    desc = dynamodb_client.update_table(
        TableName="upd", BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
    )["TableDescription"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    with pytest.raises(ClientError) as info:
        dynamodb_client.update_table(TableName="upd",
                                     ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2})
    assert "The provisioned throughput for the table will not change" in _error(info)[1]
    desc = dynamodb_client.update_table(
        TableName="upd", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])["TableDescription"]
    assert "GlobalSecondaryIndexes" not in desc and desc["AttributeDefinitions"] == _defs(pk="S")
    with pytest.raises(ClientError) as info:
        dynamodb_client.update_table(TableName="upd")
    assert _error(info)[0] == "ValidationException"


def test_time_to_live(dynamodb_client: Any) -> None:
    _create(dynamodb_client, "ttl")
    assert dynamodb_client.describe_time_to_live(TableName="ttl")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert dynamodb_client.update_time_to_live(TableName="ttl", TimeToLiveSpecification=spec)[
        "TimeToLiveSpecification"] == spec
    assert dynamodb_client.describe_time_to_live(TableName="ttl")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    with pytest.raises(ClientError) as info:
        dynamodb_client.update_time_to_live(TableName="ttl", TimeToLiveSpecification=spec)
    assert _error(info) == ("ValidationException", "TimeToLive is already enabled")


def test_tags(dynamodb_client: Any) -> None:
    arn = _create(dynamodb_client, "tagged", Tags=[{"Key": "team", "Value": "a"}])["TableArn"]
    dynamodb_client.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    tags = dynamodb_client.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "test"), ("team", "a")]
    dynamodb_client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert dynamodb_client.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    missing = arn.replace("tagged", "nothere")
    with pytest.raises(dynamodb_client.exceptions.ResourceNotFoundException) as info:
        dynamodb_client.list_tags_of_resource(ResourceArn=missing)
    assert _error(info)[1] == f"Requested resource not found: ResourcArn: {missing} not found"


def test_resource_api_create_and_waiters(fakes3: FakeAWS) -> None:
    dynamodb = boto3.session.Session().resource("dynamodb", endpoint_url=fakes3.endpoint_url,
                                                 region_name=fakes3.region, **fakes3.credentials)
    table = dynamodb.create_table(TableName="res", KeySchema=PK, AttributeDefinitions=_defs(pk="S"),
                                  BillingMode="PAY_PER_REQUEST")
    table.wait_until_exists()
    assert table.table_status == "ACTIVE"
    table.delete()
    table.wait_until_not_exists()


class SteppedClock:
    """Real time plus an offset that a test moves forward (signatures stay valid)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_creation_delay_and_waiters() -> None:
    clock = SteppedClock()
    with FakeAWS(imds=False, clock=clock, dynamodb_table_delay=30) as aws:
        client = aws.client("dynamodb")
        polls: list[str] = []

        def advance(**kwargs: Any) -> None:  # every DescribeTable moves the clock 20 s on
            polls.append(kwargs["parsed"]["Table"]["TableStatus"] if "Table" in kwargs["parsed"] else "gone")
            clock.offset += 20

        client.meta.events.register("after-call.dynamodb.DescribeTable", advance)
        assert _create(client, "slow")["TableStatus"] == "CREATING"
        assert "slow" in client.list_tables()["TableNames"]
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.put_item(TableName="slow", Item={"pk": {"S": "a"}})
        client.get_waiter("table_exists").wait(TableName="slow", WaiterConfig={"Delay": 0, "MaxAttempts": 5})
        assert polls == ["CREATING", "CREATING", "ACTIVE"]
        client.put_item(TableName="slow", Item={"pk": {"S": "a"}})
        assert client.delete_table(TableName="slow")["TableDescription"]["TableStatus"] == "DELETING"
        with pytest.raises(client.exceptions.ResourceInUseException):
            client.delete_table(TableName="slow")
        polls.clear()
        client.get_waiter("table_not_exists").wait(TableName="slow",
                                                   WaiterConfig={"Delay": 0, "MaxAttempts": 5})
        assert polls[0] == "DELETING"
        assert client.list_tables()["TableNames"] == []
