"""Faults on DynamoDB, seen through boto3: errors in DynamoDB's wire format, holds, stale reads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import botocore.config
import pytest
from botocore.exceptions import ClientError

from fakes3.faults import ambiguous, error, hold_action, stale_read

TABLE = "faulty"


@pytest.fixture
def ddb(fakes3):
    client = fakes3.client("dynamodb", config=botocore.config.Config(
        retries={"total_max_attempts": 1, "mode": "standard"}))
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return client


def item(pk: str, value: str) -> dict:
    return {"pk": {"S": pk}, "v": {"S": value}}


@pytest.mark.parametrize(("code", "status"), [("ProvisionedThroughputExceededException", 400),
                                              ("ThrottlingException", 400),
                                              ("InternalServerError", 500),
                                              ("TransactionConflictException", 400)])
def test_error_faults_arrive_in_dynamodbs_format(fakes3, faults, ddb, code, status):
    faults.add(error(status, code), service="dynamodb", operation="PutItem", times=1)
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=TABLE, Item=item("a", "1"))
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    ddb.put_item(TableName=TABLE, Item=item("a", "1"))
    puts = [e for e in fakes3.journal.entries() if e.operation == "PutItem"]
    assert [(e.status, e.error, e.table) for e in puts] == [(status, code, TABLE), (200, None, TABLE)]


def test_botocore_retries_throttling_then_succeeds(fakes3, faults, ddb):
    faults.add(error(400, "ProvisionedThroughputExceededException"), operation="GetItem", times=2)
    retrying = fakes3.client("dynamodb", config=botocore.config.Config(
        retries={"total_max_attempts": 4, "mode": "standard"}))
    ddb.put_item(TableName=TABLE, Item=item("a", "1"))
    assert retrying.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "1"}


def test_ambiguous_conditional_put_retried_fails_its_own_condition(fakes3, faults):
    faults.add(ambiguous("500"), operation="PutItem", times=1)
    retrying = fakes3.client("dynamodb", config=botocore.config.Config(
        retries={"total_max_attempts": 3, "mode": "standard"}))
    retrying.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    with pytest.raises(retrying.exceptions.ConditionalCheckFailedException):
        retrying.put_item(TableName=TABLE, Item=item("a", "1"),
                          ConditionExpression="attribute_not_exists(pk)")
    assert retrying.get_item(TableName=TABLE, Key={"pk": {"S": "a"}}, ConsistentRead=True)["Item"]


def test_hold_between_check_and_write_of_a_conditional_update(fakes3, faults, ddb):
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
    faults.add(hold_action("mid", phase="between"), operation="UpdateItem", nth=1)
    update = {"TableName": TABLE, "Key": {"pk": {"S": "c"}}, "UpdateExpression": "SET n = :new",
              "ConditionExpression": "n = :old",
              "ExpressionAttributeValues": {":old": {"N": "0"}, ":new": {"N": "1"}}}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(ddb.update_item, **update)
        faults.holds["mid"].wait_arrived(1, timeout=30)
        second = pool.submit(ddb.update_item, **update)  # waits on the item's lock
        faults.holds["mid"].release()
        first.result(timeout=30)
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            second.result(timeout=30)


def test_eventually_consistent_reads_can_be_stale(fakes3, faults, ddb):
    ddb.put_item(TableName=TABLE, Item=item("a", "old"))
    faults.add(stale_read(reads=1), service="dynamodb", operation="PutItem")
    ddb.put_item(TableName=TABLE, Item=item("a", "new"))
    key = {"pk": {"S": "a"}}
    assert ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]["v"] == {"S": "new"}
    assert ddb.get_item(TableName=TABLE, Key=key)["Item"]["v"] == {"S": "old"}  # the replica lags
    assert ddb.get_item(TableName=TABLE, Key=key)["Item"]["v"] == {"S": "new"}


def test_an_eventually_consistent_read_after_a_create_may_find_nothing(faults, ddb):
    faults.add(stale_read(reads=1), operation="PutItem")
    ddb.put_item(TableName=TABLE, Item=item("fresh", "1"))
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "fresh"}})
    assert "Item" in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "fresh"}})
