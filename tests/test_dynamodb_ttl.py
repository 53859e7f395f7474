"""DynamoDB Time to Live: expired items stay readable until a sweep deletes them, as on AWS
(which sweeps within days); fakes3 sweeps when asked, on the server's clock."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes3.dynamodb import ttl
from fakes3.server import FakeAWS

YEAR = 365 * 24 * 3600


@pytest.fixture
def now() -> int:
    return int(time.time())


@pytest.fixture
def clock(now: int) -> list[float]:
    """The server's clock: stopped at ``now``, so expiry times are exact; a test moves it by less
    than the 15 minutes of skew SigV4 allows."""
    return [float(now)]


@pytest.fixture
def aws(clock: list[float]) -> Iterator[FakeAWS]:
    with FakeAWS(clock=lambda: clock[0], imds=False) as fake:
        yield fake


def _table(ddb: Any, name: str = "sessions", *, ttl_attribute: str | None = "expires") -> None:
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                           {"AttributeName": "owner", "AttributeType": "S"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by-owner",
                                              "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}])
    if ttl_attribute is not None:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": ttl_attribute})


def _put(ddb: Any, item_id: str, expires: dict[str, Any] | None, table: str = "sessions") -> None:
    item: dict[str, Any] = {"id": {"S": item_id}, "owner": {"S": "ann"}}
    if expires is not None:
        item["expires"] = expires
    ddb.put_item(TableName=table, Item=item)


def _ids(ddb: Any, table: str = "sessions") -> set[str]:
    return {i["id"]["S"] for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_expired_items_are_read_until_the_sweep_deletes_them_from_table_and_indexes(
        aws: FakeAWS, now: int) -> None:
    ddb = aws.client("dynamodb")
    _table(ddb)
    _put(ddb, "past", {"N": str(now - 60)})
    _put(ddb, "fraction", {"N": f"{now - 0.5}"})
    _put(ddb, "future", {"N": str(now + 3600)})
    assert _ids(ddb) == {"past", "fraction", "future"}  # expired, not yet deleted: still read

    assert aws.dynamodb.expire_ttl() == 2
    assert _ids(ddb) == {"future"}
    by_owner = ddb.query(TableName="sessions", IndexName="by-owner",
                         KeyConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                         ExpressionAttributeValues={":o": {"S": "ann"}})["Items"]
    assert [i["id"]["S"] for i in by_owner] == ["future"]
    assert aws.dynamodb.expire_ttl() == 0


def test_items_the_ttl_process_ignores_are_kept(aws: FakeAWS, now: int) -> None:
    ddb = aws.client("dynamodb")
    _table(ddb)
    kept = {
        "no-attribute": None,
        "a-string": {"S": str(now - 60)},
        "a-number-set": {"NS": [str(now - 60)]},
        "nested": {"M": {"expires": {"N": str(now - 60)}}},
        "over-five-years-ago": {"N": str(now - 5 * YEAR - 60)},
        "milliseconds": {"N": str(now * 1000 - 60_000)},  # reads as a date far ahead
        "now-exactly": {"N": str(now)},  # expires when the value is *less* than now
    }
    for item_id, expires in kept.items():
        _put(ddb, item_id, expires)
    _put(ddb, "just-under-five-years", {"N": str(now - 5 * YEAR + 60)})

    assert aws.dynamodb.expire_ttl() == 1
    assert _ids(ddb) == set(kept)


def test_only_tables_with_ttl_enabled_are_swept(aws: FakeAWS, now: int) -> None:
    ddb = aws.client("dynamodb")
    _table(ddb, "plain", ttl_attribute=None)
    _table(ddb, "disabled")
    ddb.update_time_to_live(TableName="disabled", TimeToLiveSpecification={
        "Enabled": False, "AttributeName": "expires"})
    for table in ("plain", "disabled"):
        _put(ddb, "past", {"N": str(now - 60)}, table)

    assert aws.dynamodb.expire_ttl() == 0
    assert _ids(ddb, "plain") == _ids(ddb, "disabled") == {"past"}


def test_moving_the_server_clock_past_an_expiry_then_sweeping_deletes_the_item(
        aws: FakeAWS, clock: list[float], now: int) -> None:
    ddb = aws.client("dynamodb")
    _table(ddb)
    _put(ddb, "session", {"N": str(now + 600)})
    assert aws.dynamodb.expire_ttl() == 0
    clock[0] = now + 601
    assert aws.dynamodb.expire_ttl() == 1
    assert ddb.get_item(TableName="sessions", Key={"id": {"S": "session"}}).get("Item") is None


def test_an_item_whose_ttl_is_extended_after_the_sweep_read_it_is_kept(aws: FakeAWS, now: int) -> None:
    ddb = aws.client("dynamodb")
    _table(ddb)
    _put(ddb, "session", {"N": str(now - 60)})
    found = ttl._candidates(aws.dynamodb.db, now)  # the sweep has read the item ...
    assert [f[2] for f in found] == [{"id": {"S": "session"}}]
    ddb.update_item(TableName="sessions", Key={"id": {"S": "session"}},  # ... the owner extends it
                    UpdateExpression="SET expires = :later",
                    ExpressionAttributeValues={":later": {"N": str(now + 3600)}})
    assert [ttl._delete(aws.dynamodb.db, *f) for f in found] == [False]
    assert _ids(ddb) == {"session"}


def test_the_control_plane_sweeps_for_clients_in_any_language(aws: FakeAWS, now: int) -> None:
    ddb = aws.client("dynamodb")
    _table(ddb)
    _put(ddb, "past", {"N": str(now - 60)})
    request = urllib.request.Request(f"{aws.endpoint_url}/_fakes3/dynamodb/expire-ttl", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.load(response) == {"deleted": 1}
    assert _ids(ddb) == set()


def test_a_sweep_is_kept_across_a_restart_with_a_data_dir(tmp_path: Path, clock: list[float],
                                                          now: int) -> None:
    with FakeAWS(clock=lambda: clock[0], imds=False, data_dir=tmp_path) as aws:
        ddb = aws.client("dynamodb")
        _table(ddb)
        _put(ddb, "past", {"N": str(now - 60)})
        _put(ddb, "future", {"N": str(now + 60)})
        assert aws.dynamodb.expire_ttl() == 1
    with FakeAWS(clock=lambda: clock[0], imds=False, data_dir=tmp_path) as aws:
        assert _ids(aws.client("dynamodb")) == {"future"}
