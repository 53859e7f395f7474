"""Races through boto3: conditional writes lose no update, transactions are atomic and isolated."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config

THREADS = 8
ROUNDS = 20


def _run(threads: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=guarded, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a worker hung"
    assert not errors, errors[0]


@pytest.fixture
def table(dynamodb_client: Any) -> str:
    dynamodb_client.create_table(TableName="race", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                 BillingMode="PAY_PER_REQUEST")
    return "race"


def _client(fakes3: Any) -> Any:
    return fakes3.client("dynamodb", config=Config(retries={"max_attempts": 1}, max_pool_connections=4))


def test_conditional_increments_lose_no_update(fakes3: Any, table: str) -> None:
    key = {"pk": {"S": "counter"}}
    fakes3.client("dynamodb").put_item(TableName=table, Item={**key, "n": {"N": "0"}})

    def increment(_: int) -> None:
        client = _client(fakes3)
        done = 0
        while done < ROUNDS:
            old = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["n"]["N"]
            try:
                client.put_item(TableName=table, Item={**key, "n": {"N": str(int(old) + 1)}},
                                ConditionExpression="n = :old",
                                ExpressionAttributeValues={":old": {"N": old}})
                done += 1
            except client.exceptions.ConditionalCheckFailedException:
                continue  # someone else won this round: read again

    _run(THREADS, increment)
    final = fakes3.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert final["n"] == {"N": str(THREADS * ROUNDS)}


def test_transactions_conserve_the_total(fakes3: Any, table: str) -> None:
    setup = fakes3.client("dynamodb")
    for name in ("a", "b"):
        setup.put_item(TableName=table, Item={"pk": {"S": name}, "bal": {"N": "100"}})
    stop = threading.Event()
    observed: list[int] = []

    def move(n: int) -> None:
        client = _client(fakes3)
        source, target = ("a", "b") if n % 2 else ("b", "a")
        for _ in range(ROUNDS):
            with contextlib.suppress(client.exceptions.TransactionCanceledException):
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": table, "Key": {"pk": {"S": source}},
                                "UpdateExpression": "SET bal = bal - :n", "ConditionExpression": "bal >= :n",
                                "ExpressionAttributeValues": {":n": {"N": "7"}}}},
                    {"Update": {"TableName": table, "Key": {"pk": {"S": target}},
                                "UpdateExpression": "SET bal = bal + :n",
                                "ExpressionAttributeValues": {":n": {"N": "7"}}}}])

    def watch() -> None:
        client = _client(fakes3)
        while not stop.is_set():
            got = client.transact_get_items(TransactItems=[
                {"Get": {"TableName": table, "Key": {"pk": {"S": k}}}} for k in ("a", "b")])["Responses"]
            observed.append(sum(int(r["Item"]["bal"]["N"]) for r in got))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        _run(THREADS, move)
    finally:
        stop.set()
        watcher.join(timeout=60)
    final = [setup.get_item(TableName=table, Key={"pk": {"S": k}}, ConsistentRead=True)["Item"]["bal"]["N"]
             for k in ("a", "b")]
    assert sum(int(v) for v in final) == 200
    assert all(int(v) >= 0 for v in final)
    assert observed and set(observed) == {200}  # no reader saw half a transaction
