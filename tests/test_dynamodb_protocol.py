"""DynamoDB's JSON 1.0 wire format as raw HTTP sees it: headers, CRC32, errors, authentication."""

from __future__ import annotations

import json
import urllib.request
import zlib
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from fakes3.server import FakeAWS

TARGET = "DynamoDB_20120810."


def _send(aws: FakeAWS, operation: str, body: bytes | str, *, sign: bool = True, secret: str | None = None,
          access_key: str | None = None, target: str | None = None) -> tuple[int, dict[str, str], bytes]:
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target or TARGET + operation}
    request = AWSRequest(method="POST", url=aws.endpoint_url + "/", data=data, headers=headers)
    if sign:
        keys = aws.credentials
        credentials = Credentials(access_key or keys["aws_access_key_id"],
                                  secret or keys["aws_secret_access_key"])
        SigV4Auth(credentials, "dynamodb", aws.region).add_auth(request)
    prepared = urllib.request.Request(aws.endpoint_url + "/", data=data, method="POST",
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def _json(body: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(body)
    return result


def test_success_headers_and_crc32(fakes3: FakeAWS) -> None:
    status, headers, body = _send(fakes3, "ListTables", "{}")
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert int(headers["x-amz-crc32"]) == zlib.crc32(body)
    assert len(headers["x-amzn-RequestId"]) == 52
    assert _json(body) == {"TableNames": []}


def test_error_shapes(fakes3: FakeAWS) -> None:
    status, headers, body = _send(fakes3, "DescribeTable", '{"TableName": "nope"}')
    assert status == 400 and int(headers["x-amz-crc32"]) == zlib.crc32(body)
    assert _json(body) == {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                           "message": "Requested resource not found: Table: nope not found"}
    status, _, body = _send(fakes3, "DescribeTable", "{}")
    assert status == 400
    assert _json(body) == {"__type": "com.amazon.coral.validate#ValidationException",
                           "message": "1 validation error detected: Value null at 'tableName' failed to "
                                      "satisfy constraint: Member must not be null"}


def test_unknown_operation_and_bad_json(fakes3: FakeAWS) -> None:
    status, _, body = _send(fakes3, "Teleport", "{}")
    assert status == 400 and _json(body)["__type"] == "com.amazon.coral.service#UnknownOperationException"
    status, _, body = _send(fakes3, "", "{}", target="AmazonSSM.GetParameter")
    assert _json(body)["__type"] == "com.amazon.coral.service#UnknownOperationException"
    status, _, body = _send(fakes3, "ListTables", "{not json")
    assert status == 400 and _json(body)["__type"] == "com.amazon.coral.service#SerializationException"
    status, _, body = _send(fakes3, "DescribeTable", '{"TableName": 5}')
    assert _json(body)["__type"] == "com.amazon.coral.service#SerializationException"
    assert "can not be converted to an String" in _json(body)["message"]


def test_blobs_travel_as_base64(fakes3: FakeAWS, dynamodb_client: Any) -> None:
    dynamodb_client.create_table(TableName="blobs", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "B"}],
                                 BillingMode="PAY_PER_REQUEST")
    put = {"TableName": "blobs", "Item": {"pk": {"B": "AAE="}, "bs": {"BS": ["/w=="]}}}
    assert _send(fakes3, "PutItem", json.dumps(put))[0] == 200
    item = dynamodb_client.get_item(TableName="blobs", Key={"pk": {"B": b"\x00\x01"}})["Item"]
    assert item == {"pk": {"B": b"\x00\x01"}, "bs": {"BS": [b"\xff"]}}
    get = {"TableName": "blobs", "Key": {"pk": {"B": "AAE="}}}
    status, _, body = _send(fakes3, "GetItem", json.dumps(get))
    assert _json(body)["Item"]["bs"] == {"BS": ["/w=="]}
    status, _, body = _send(fakes3, "DescribeTable", '{"TableName": "blobs"}')
    assert isinstance(_json(body)["Table"]["CreationDateTime"], float)


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"sign": False}, "MissingAuthenticationTokenException"),
    ({"secret": "wrong"}, "InvalidSignatureException"),
    ({"access_key": "AKIDUNKNOWN"}, "UnrecognizedClientException"),
])
def test_authentication_errors(fakes3: FakeAWS, kwargs: dict[str, Any], code: str) -> None:
    status, _, body = _send(fakes3, "ListTables", "{}", **kwargs)
    assert status == 400
    assert _json(body)["__type"] == f"com.amazon.coral.service#{code}"


def test_botocore_sees_auth_errors(fakes3: FakeAWS) -> None:
    client = fakes3.client("dynamodb", aws_secret_access_key="wrong")
    with pytest.raises(client.exceptions.ClientError) as info:
        client.list_tables()
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_request_size_is_bounded() -> None:
    with FakeAWS(imds=False) as aws:
        aws.app.json_services[0].max_request_bytes = 1000
        status, _, body = _send(aws, "ListTables", json.dumps({"ExclusiveStartTableName": "x" * 2000}))
        assert status == 413 and "Request size exceeded" in _json(body)["message"]


def test_health_and_reset(fakes3: FakeAWS, dynamodb_client: Any) -> None:
    with urllib.request.urlopen(fakes3.endpoint_url + "/_fakes3/health", timeout=10) as response:
        assert "dynamodb" in json.loads(response.read())["services"]
    dynamodb_client.create_table(TableName="temp", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    fakes3.reset()
    assert dynamodb_client.list_tables()["TableNames"] == []
