"""Requests DynamoDB refuses that fakes3 once answered with a 500: JSON nulls inside lists and maps,
model patterns written in Java's regex dialect, and transactions over the 4 MB aggregate limit."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from fakes3.protocol.json_protocol import _compiled, _python_pattern
from fakes3.server import FakeAWS

VALIDATION = "com.amazon.coral.validate#ValidationException"
TABLE = "gaps"
KEY = {"pk": {"S": "a"}}


@pytest.fixture
def table(dynamodb_client: Any) -> str:
    dynamodb_client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    return TABLE


def _send(aws: FakeAWS, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A signed request with a body boto3 would never send (it drops or refuses nulls)."""
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    request = AWSRequest(method="POST", url=aws.endpoint_url + "/", data=data, headers=headers)
    keys = aws.credentials
    SigV4Auth(Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"]), "dynamodb",
              aws.region).add_auth(request)
    prepared = urllib.request.Request(aws.endpoint_url + "/", data=data, method="POST",
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = info.value.response["Error"]
    return err["Code"], err["Message"]


def _null_at(path: str) -> str:
    return (f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: "
            "Member must not be null")


# -- JSON null inside lists and maps (boto3 cannot send one: raw signed requests) -------------

@pytest.mark.parametrize(("operation", "body", "path"), [
    ("GetItem", {"TableName": TABLE, "Key": KEY, "AttributesToGet": [None]}, "attributesToGet.1.member"),
    ("PutItem", {"TableName": TABLE, "Item": {**KEY, "a": None}}, "item.a.member"),
    ("PutItem", {"TableName": TABLE, "Item": {**KEY, "a": {"L": [{"S": "x"}, None]}}},
     "item.a.member.l.2.member"),
    ("PutItem", {"TableName": TABLE, "Item": {**KEY, "a": {"M": {"x": None}}}}, "item.a.member.m.x.member"),
    ("PutItem", {"TableName": TABLE, "Item": {**KEY, "a": {"SS": [None]}}}, "item.a.member.sS.1.member"),
    ("GetItem", {"TableName": TABLE, "Key": KEY, "ProjectionExpression": "#a",
                 "ExpressionAttributeNames": {"#a": None}}, "expressionAttributeNames.#a.member"),
    ("UpdateItem", {"TableName": TABLE, "Key": KEY, "UpdateExpression": "SET a = :a",
                    "ExpressionAttributeValues": {":a": None}}, "expressionAttributeValues.:a.member"),
    ("BatchWriteItem", {"RequestItems": {TABLE: [None]}}, f"requestItems.{TABLE}.member.1.member"),
    ("BatchWriteItem", {"RequestItems": {TABLE: None}}, f"requestItems.{TABLE}.member"),
    ("TransactWriteItems", {"TransactItems": [None]}, "transactItems.1.member"),
    ("CreateTable", {"TableName": "other", "KeySchema": [None], "BillingMode": "PAY_PER_REQUEST",
                     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]},
     "keySchema.1.member"),
])
def test_null_in_a_list_or_map_is_a_validation_error(fakes3: FakeAWS, table: str, operation: str,
                                                     body: dict[str, Any], path: str) -> None:
    assert _send(fakes3, operation, body) == (400, {"__type": VALIDATION, "message": _null_at(path)})


def test_nulls_are_counted_with_other_problems(fakes3: FakeAWS, table: str) -> None:
    body = {"TableName": TABLE, "Key": KEY, "AttributesToGet": [None, None], "ReturnConsumedCapacity": "SOME"}
    status, answer = _send(fakes3, "GetItem", body)
    message = answer["message"]
    assert status == 400 and message.startswith("3 validation errors detected: ")
    assert "'attributesToGet.2.member' failed to satisfy constraint: Member must not be null" in message


def test_nothing_is_written_by_a_refused_request(fakes3: FakeAWS, dynamodb_client: Any, table: str) -> None:
    assert _send(fakes3, "PutItem", {"TableName": TABLE, "Item": {**KEY, "a": {"L": [None]}}})[0] == 400
    assert "Item" not in dynamodb_client.get_item(TableName=TABLE, Key=KEY)


# -- patterns in Java's dialect ---------------------------------------------------------------

ROLE_ARN = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"


def _autoscaling_update(policy_name: str = "policy", role_arn: str = "arn:aws:iam::1:role/r"
                        ) -> dict[str, Any]:
    return {"TableName": TABLE, "ProvisionedWriteCapacityAutoScalingUpdate": {
        "AutoScalingRoleArn": role_arn,
        "ScalingPolicyUpdate": {"PolicyName": policy_name,
                                "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0}}}}


def test_print_class_pattern_is_checked(dynamodb_client: Any) -> None:
    with pytest.raises(ClientError) as info:
        dynamodb_client.update_table_replica_auto_scaling(**_autoscaling_update(policy_name="café"))
    assert _error(info) == ("ValidationException", (
        "1 validation error detected: Value 'café' at 'provisionedWriteCapacityAutoScalingUpdate."
        "scalingPolicyUpdate.policyName' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: \\p{Print}+"))


def test_surrogate_pair_pattern_is_checked(dynamodb_client: Any) -> None:
    with pytest.raises(ClientError) as info:
        dynamodb_client.update_table_replica_auto_scaling(**_autoscaling_update(role_arn="arn\x01"))
    assert _error(info) == ("ValidationException", (
        "1 validation error detected: Value 'arn\x01' at 'provisionedWriteCapacityAutoScalingUpdate."
        f"autoScalingRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        f"{ROLE_ARN}"))


def test_values_the_patterns_allow_pass_validation(dynamodb_client: Any) -> None:
    with pytest.raises(ClientError) as info:  # fakes3 does not do auto scaling: past validation, it says so
        dynamodb_client.update_table_replica_auto_scaling(
            **_autoscaling_update(policy_name="My policy ~1", role_arn="arn:aws:iam::1:role/r\U0001F600"))
    assert _error(info)[0] != "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500


@pytest.mark.parametrize(("java", "python"), [
    ("\\p{Print}+", "[\\x20-\\x7E]+"),
    ("[\\p{Alpha}_]", "[a-zA-Z_]"),
    ("\\P{Digit}", "[^0-9]"),
    ("[\\uD800\\uDC00-\\uDBFF\\uDFFF]", "[\\U00010000-\\U0010FFFF]"),
    ("[a-zA-Z0-9_.-]+", "[a-zA-Z0-9_.-]+"),
])
def test_java_patterns_are_translated(java: str, python: str) -> None:
    assert _python_pattern(java) == python


def test_java_classes_are_ascii() -> None:
    word = _compiled("\\w+")
    assert word is not None and word.fullmatch("ab_1") and not word.fullmatch("é")
    assert _compiled("\\p{Unknown}") is None  # unreadable: left unchecked, never a 500


# -- the 4 MB transaction limit ---------------------------------------------------------------

TOO_LARGE = "Transaction item size has exceeded the 4 MB limit"
BIG = "x" * (390 * 1024)  # 11 such items are over 4 MB, each under the 400 KB item limit


def _put(n: int) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"k{n}"}, "big": {"S": BIG}}}}


def test_transact_write_over_4_mb_is_refused(dynamodb_client: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        dynamodb_client.transact_write_items(TransactItems=[_put(n) for n in range(11)])
    assert _error(info) == ("ValidationException", TOO_LARGE)
    assert dynamodb_client.scan(TableName=TABLE)["Count"] == 0


def test_transact_write_under_4_mb_is_applied(dynamodb_client: Any, table: str) -> None:
    dynamodb_client.transact_write_items(TransactItems=[_put(n) for n in range(10)])
    pages = dynamodb_client.get_paginator("scan").paginate(TableName=TABLE, Select="COUNT")
    assert sum(page["Count"] for page in pages) == 10  # a Scan page stops at 1 MB


def test_updates_count_with_the_items_they_make(dynamodb_client: Any, table: str) -> None:
    for n in range(6):
        dynamodb_client.put_item(TableName=TABLE, Item={"pk": {"S": f"u{n}"}, "big": {"S": BIG}})
    updates = [{"Update": {"TableName": TABLE, "Key": {"pk": {"S": f"u{n}"}},
                           "UpdateExpression": "SET c = :c", "ExpressionAttributeValues": {":c": {"N": "1"}}}}
               for n in range(6)]
    with pytest.raises(ClientError) as info:
        dynamodb_client.transact_write_items(TransactItems=updates + [_put(n) for n in range(5)])
    assert _error(info) == ("ValidationException", TOO_LARGE)
    assert "c" not in dynamodb_client.get_item(TableName=TABLE, Key={"pk": {"S": "u0"}})["Item"]


def test_transact_get_over_4_mb_is_refused(dynamodb_client: Any, table: str) -> None:
    for n in range(11):
        dynamodb_client.put_item(TableName=TABLE, Item={"pk": {"S": f"k{n}"}, "big": {"S": BIG}})
    gets = [{"Get": {"TableName": TABLE, "Key": {"pk": {"S": f"k{n}"}}}} for n in range(11)]
    with pytest.raises(ClientError) as info:
        dynamodb_client.transact_get_items(TransactItems=gets)
    assert _error(info) == ("ValidationException", TOO_LARGE)
    assert len(dynamodb_client.transact_get_items(TransactItems=gets[:10])["Responses"]) == 10
