"""No request a client can send makes fakes3 answer 500: hypothesis builds inputs for every S3 and
DynamoDB operation from botocore's own shapes (required members always, others at random; strings
from a mix of valid values, unicode, empty and long ones), boto3 sends them with its parameter
validation off, and every answer must be a success or a 4xx/501 error in the service's format.
A failure shrinks to the smallest such request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes3 import FakeAWS

BUCKETS = ("fuzz-bkt", "fuzz-other")
TABLE = "fuzz-table"
# Values the fake treats specially, so that inputs reach past "no such bucket" and "bad enum".
WORDS = ["", "k", "fuzz-bkt", "fuzz-table", "pk", "*", "0", "-1", "AES256", "aws:kms", "COPY", "REPLACE",
         "Enabled", "STANDARD", "GLACIER", "bytes=0-1", "bucket-owner-full-control", "true", "null",
         "pk = :v", "#a = :v AND sk > :w", "attribute_exists(pk)", "SET a = :v", "REMOVE a",
         "ADD n :v", "begins_with(pk, :v)", "size(a) > :v", "a IN (:v, :w)", ":v", "#a", "x" * 2000]
TEXT = st.one_of(st.sampled_from(WORDS),
                 st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "integer": st.one_of(st.sampled_from([0, 1, -1, 2**31, 10_001]), st.integers(-5, 20_000)),
    "long": st.one_of(st.sampled_from([0, -1, 2**63 - 1]), st.integers(-5, 10**12)),
    "boolean": st.booleans(),
    "float": st.sampled_from([0.0, -1.5, 1e308]),
    "double": st.sampled_from([0.0, -1.5, 1e308]),
    "timestamp": st.sampled_from([dt.datetime(2026, 1, 1), dt.datetime(1970, 1, 1),
                                  dt.datetime(9999, 1, 1)]),
    "blob": st.one_of(st.just(b""), st.binary(max_size=20)),
}


def shaped(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of a botocore shape (optional members beyond depth 6 are left out)."""
    kind = shape.type_name
    if kind == "structure":
        required = set(shape.required_members)
        members = {n: m for n, m in shape.members.items() if n in required or depth < 6}
        return st.fixed_dictionaries(
            {n: shaped(m, depth + 1) for n, m in members.items() if n in required},
            optional={n: shaped(m, depth + 1) for n, m in members.items() if n not in required})
    if kind == "list":
        return st.lists(shaped(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(min_size=1, max_size=8), shaped(shape.value, depth + 1), max_size=2)
    if kind == "string":
        return st.one_of(st.sampled_from(shape.enum), TEXT) if shape.enum else TEXT
    return SCALARS[kind]


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    config = Config(parameter_validation=False, retries={"max_attempts": 1})
    with FakeAWS(auth="open", imds=False).patch() as fake:
        s3, ddb = fake.client("s3", config=config), fake.client("dynamodb", config=config)
        for bucket in BUCKETS:
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=BUCKETS[0], Key="k", Body=b"data")
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        yield {"s3": s3, "dynamodb": ddb}


def implemented(service: str) -> list[str]:
    """The operations fakes3 answers (others are 501 NotImplemented before reading any input);
    browser POST uploads are not botocore's (tests/test_post_upload.py sends those forms)."""
    from botocore.session import get_session

    from fakes3.dynamodb.service import _OPERATIONS as DYNAMODB
    from fakes3.s3.service import _OPERATIONS as S3

    in_model = set(get_session().get_service_model(service).operation_names)
    return sorted(op for op in (S3 if service == "s3" else DYNAMODB) if op in in_model)


def _aim(params: dict[str, Any], bucket: str, table: str) -> dict[str, Any]:
    """Point most requests at the bucket and table that exist."""
    if params.get("Bucket") is not None:
        params["Bucket"] = bucket or params["Bucket"] or "k"
    if not params.get("Key", "k"):
        params["Key"] = "k"
    if params.get("TableName") is not None:
        params["TableName"] = table or params["TableName"]
    return params


def _no_internal_error(client: Any, operation: str, params: dict[str, Any]) -> None:
    try:
        getattr(client, xform_name(operation))(**params)
    except ClientError as err:
        status = err.response["ResponseMetadata"].get("HTTPStatusCode")
        assert status != 500 and err.response["Error"].get("Code") not in (
            "InternalError", "InternalServerError"), (operation, params, err.response["Error"])
    except Exception:  # noqa: BLE001 - botocore refused to build or parse it: not the server's 500
        pass


@pytest.mark.parametrize(("service", "operation"),
                         [(svc, op) for svc in ("s3", "dynamodb") for op in implemented(svc)])
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_request_gets_a_500(clients: dict[str, Any], service: str, operation: str,
                               data: st.DataObject) -> None:
    client = clients[service]
    shape = client.meta.service_model.operation_model(operation).input_shape
    params = data.draw(shaped(shape), label="params") if shape is not None else {}
    bucket = data.draw(st.sampled_from([*BUCKETS, ""]), label="bucket")
    table = data.draw(st.sampled_from([TABLE, ""]), label="table")
    _no_internal_error(client, operation, _aim(params, bucket, table))
