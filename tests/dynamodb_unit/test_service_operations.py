"""DynamoDBService operations called directly (no HTTP), with a clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest

from fakes3.context import RequestContext
from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.service import DynamoDBService


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> DynamoDBService:
    return DynamoDBService(clock=clock)


def call(service: DynamoDBService, operation: str, **params: Any) -> dict[str, Any]:
    return service.handle(operation, params, RequestContext(request_id="test"))


def error_of(service: DynamoDBService, operation: str, **params: Any) -> DynamoDBError:
    with pytest.raises(DynamoDBError) as info:
        call(service, operation, **params)
    return info.value


def _table(service: DynamoDBService, name: str = "tbl", **extra: Any) -> dict[str, Any]:
    return call(service, "CreateTable", TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST", **extra)


def test_table_lifecycle_with_a_delay(service: DynamoDBService, clock: Clock) -> None:
    service.table_delay = 10
    assert _table(service)["TableDescription"]["TableStatus"] == "CREATING"
    err = error_of(service, "PutItem", TableName="tbl", Item={"pk": {"S": "a"}})
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found")
    assert error_of(service, "UpdateTable", TableName="tbl", BillingMode="PROVISIONED",
                    ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}).message == (
        "Attempt to change a resource which is still in use: Table is being created: tbl")
    clock.now += 10
    assert call(service, "DescribeTable", TableName="tbl")["Table"]["TableStatus"] == "ACTIVE"
    call(service, "PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    desc = call(service, "UpdateTable", TableName="tbl",
                AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "gsi", "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}}],
                )["TableDescription"]
    assert desc["TableStatus"] == "UPDATING"
    assert desc["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    assert desc["GlobalSecondaryIndexes"][0]["Backfilling"] is True
    query = {"TableName": "tbl", "IndexName": "gsi", "KeyConditionExpression": "g = :g",
             "ExpressionAttributeValues": {":g": {"S": "x"}}}
    message = error_of(service, "Query", **query).message
    assert message == "Cannot read from backfilling global secondary index: gsi"
    clock.now += 10
    assert call(service, "Query", **query)["Count"] == 1
    assert call(service, "DeleteTable", TableName="tbl")["TableDescription"]["TableStatus"] == "DELETING"
    assert call(service, "ListTables")["TableNames"] == ["tbl"]
    clock.now += 10
    assert call(service, "ListTables")["TableNames"] == []


def test_idempotency_window_is_ten_minutes(service: DynamoDBService, clock: Clock) -> None:
    _table(service)
    params = {"TransactItems": [{"Update": {"TableName": "tbl", "Key": {"pk": {"S": "a"}},
                                            "UpdateExpression": "ADD n :one",
                                            "ExpressionAttributeValues": {":one": {"N": "1"}}}}],
              "ClientRequestToken": "token-1"}
    call(service, "TransactWriteItems", **params)
    call(service, "TransactWriteItems", **params)
    assert call(service, "GetItem", TableName="tbl", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    clock.now += 601
    call(service, "TransactWriteItems", **params)
    assert call(service, "GetItem", TableName="tbl", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "2"}


def test_reset_forgets_tables(service: DynamoDBService) -> None:
    _table(service)
    service.reset()
    assert call(service, "ListTables") == {"TableNames": []}


def test_unimplemented_operations_say_so(service: DynamoDBService) -> None:
    err = error_of(service, "CreateGlobalTable", GlobalTableName="tbl", ReplicationGroup=[])
    assert err.code == "UnknownOperationException" and "does not implement" in err.message


def test_hash_key_size_limit(service: DynamoDBService) -> None:
    _table(service)
    err = error_of(service, "PutItem", TableName="tbl", Item={"pk": {"S": "x" * 2049}})
    assert err.message == ("One or more parameter values were invalid: Size of hashkey has exceeded the "
                           "maximum size limit of2048 bytes")
