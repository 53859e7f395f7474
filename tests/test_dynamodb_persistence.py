"""DynamoDB persistence through boto3: what one FakeAWS(data_dir=...) stores, the next one on the
same dir sees — and a ``fakes3 serve --data-dir`` killed with SIGKILL mid-transaction keeps every
TransactWriteItems whole or not at all.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from test_persistence_crash import serve  # tests/ is on sys.path under pytest

from fakes3.context import RequestContext
from fakes3.dynamodb.service import DynamoDBService
from fakes3.s3.persistence import DataDirError
from fakes3.server import FakeAWS

WAIT = 60.0  # seconds: the bound of every wait


@contextmanager
def dynamodb(data_dir: Path) -> Iterator[Any]:
    """A boto3 DynamoDB client of a FakeAWS on ``data_dir``, stopped cleanly at the end."""
    with FakeAWS(data_dir=data_dir, imds=False) as aws:
        yield aws.client("dynamodb")


def _defs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def _keys(hash_name: str, range_name: str | None = None) -> list[dict[str, str]]:
    out = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    if range_name is not None:
        out.append({"AttributeName": range_name, "KeyType": "RANGE"})
    return out


def _simple_table(client: Any, name: str, **extra: Any) -> None:
    client.create_table(TableName=name, KeySchema=_keys("pk"), AttributeDefinitions=_defs(pk="S"),
                        BillingMode="PAY_PER_REQUEST", **extra)


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=repr)


def _table_state(client: Any, name: str) -> dict[str, Any]:
    table = client.describe_table(TableName=name)["Table"]
    return {"table": table, "ttl": client.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
            "tags": client.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_tables_with_indexes_ttl_tags_and_settings_survive_a_restart(tmp_path: Path) -> None:
    with dynamodb(tmp_path) as client:
        client.create_table(
            TableName="orders", KeySchema=_keys("pk", "sk"),
            AttributeDefinitions=_defs(pk="S", sk="N", status="S", placed="S"),
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
            LocalSecondaryIndexes=[{"IndexName": "by-placed", "KeySchema": _keys("pk", "placed"),
                                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            GlobalSecondaryIndexes=[{"IndexName": "by-status", "KeySchema": _keys("status", "sk"),
                                     "Projection": {"ProjectionType": "INCLUDE",
                                                    "NonKeyAttributes": ["note"]},
                                     "ProvisionedThroughput": {"ReadCapacityUnits": 2,
                                                               "WriteCapacityUnits": 3}}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            DeletionProtectionEnabled=True, TableClass="STANDARD_INFREQUENT_ACCESS",
            Tags=[{"Key": "team", "Value": "billing"}, {"Key": "env", "Value": "test"}])
        client.update_time_to_live(TableName="orders", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        client.update_table(TableName="orders", AttributeDefinitions=_defs(total="N"),
                            GlobalSecondaryIndexUpdates=[{"Create": {
                                "IndexName": "by-total", "KeySchema": _keys("total"),
                                "Projection": {"ProjectionType": "ALL"},
                                "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                          "WriteCapacityUnits": 1}}}])
        _simple_table(client, "plain")
        arn = client.describe_table(TableName="plain")["Table"]["TableArn"]
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        client.untag_resource(ResourceArn=arn, TagKeys=["a"])
        client.update_table(TableName="plain", BillingMode="PROVISIONED",
                            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
        before = {name: _table_state(client, name) for name in ("orders", "plain")}

    with dynamodb(tmp_path) as client:
        assert client.list_tables()["TableNames"] == ["orders", "plain"]
        after = {name: _table_state(client, name) for name in ("orders", "plain")}
        assert after == before
        orders = after["orders"]["table"]
        assert orders["TableStatus"] == "ACTIVE" and orders["DeletionProtectionEnabled"] is True
        assert {i["IndexName"] for i in orders["GlobalSecondaryIndexes"]} == {"by-status", "by-total"}
        with pytest.raises(ClientError) as protected:
            client.delete_table(TableName="orders")
        assert _code(protected) == "ValidationException"


def _every_type() -> dict[str, Any]:
    return {
        "pk": {"S": "every-type ☃ 𝄞"}, "sk": {"N": "-12.5"},
        "s": {"S": ""}, "n": {"N": "0.12345678901234567890123456789012345678"},
        "big": {"N": "99999999999999999999999999999999999999E+87"}, "tiny": {"N": "-1E-130"},
        "b": {"B": bytes(range(256))}, "t": {"BOOL": True}, "f": {"BOOL": False},
        "null": {"NULL": True}, "ss": {"SS": ["x", "y", "☃"]},
        "ns": {"NS": ["1", "2.50", "-3E+10"]}, "bs": {"BS": [b"\x00", b"\xff\xfe"]},
        "m": {"M": {"inner": {"M": {"deep": {"L": [{"S": "a"}, {"N": "1"}, {"B": b"\x01"}]}}},
                    "empty": {"M": {}}}},
        "l": {"L": [{"L": []}, {"NULL": True}, {"SS": ["q"]}, {"M": {"k": {"BOOL": True}}}]},
    }


def test_items_of_every_type_survive_a_restart_and_indexes_answer(tmp_path: Path) -> None:
    with dynamodb(tmp_path) as client:
        client.create_table(TableName="things", KeySchema=_keys("pk", "sk"),
                            AttributeDefinitions=_defs(pk="S", sk="N", g="B"),
                            BillingMode="PAY_PER_REQUEST",
                            GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": _keys("g"),
                                                     "Projection": {"ProjectionType": "ALL"}}])
        client.put_item(TableName="things", Item=_every_type())
        for i in range(50):
            client.put_item(TableName="things", Item={"pk": {"S": f"p{i % 5}"}, "sk": {"N": str(i)},
                                                      "g": {"B": bytes([i % 3])}})
        before = _scan(client, "things")
        stored = client.get_item(TableName="things", Key={"pk": _every_type()["pk"],
                                                          "sk": {"N": "-12.50"}})["Item"]
        size = client.describe_table(TableName="things")["Table"]["TableSizeBytes"]

    with dynamodb(tmp_path) as client:
        assert _scan(client, "things") == before
        got = client.get_item(TableName="things", Key={"pk": _every_type()["pk"], "sk": {"N": "-12.5"}})
        assert got["Item"] == stored
        assert list(got["Item"]) == list(_every_type())  # attribute order too
        table = client.describe_table(TableName="things")["Table"]
        assert (table["ItemCount"], table["TableSizeBytes"]) == (51, size)
        by_g = client.query(TableName="things", IndexName="by-g", KeyConditionExpression="g = :g",
                            ExpressionAttributeValues={":g": {"B": b"\x01"}})
        assert by_g["Count"] == 17
        in_p3 = client.query(TableName="things", KeyConditionExpression="pk = :p AND sk > :s",
                             ExpressionAttributeValues={":p": {"S": "p3"}, ":s": {"N": "40"}})
        assert [i["sk"]["N"] for i in in_p3["Items"]] == ["43", "48"]


def _ledger(client: Any) -> None:
    client.create_table(TableName="ledger", KeySchema=_keys("pk", "sk"),
                        AttributeDefinitions=_defs(pk="S", sk="S"), BillingMode="PAY_PER_REQUEST")


def test_updates_deletes_batches_and_transactions_survive_a_restart(tmp_path: Path) -> None:
    with dynamodb(tmp_path) as client:
        _ledger(client)
        _simple_table(client, "other")
        for i in range(5):
            client.put_item(TableName="ledger", Item={"pk": {"S": "a"}, "sk": {"S": str(i)},
                                                      "n": {"N": "1"}})
        client.update_item(TableName="ledger", Key={"pk": {"S": "a"}, "sk": {"S": "0"}},
                           UpdateExpression="SET n = n + :d, tags = :t REMOVE gone",
                           ExpressionAttributeValues={":d": {"N": "0.5"}, ":t": {"SS": ["x"]}})
        client.update_item(TableName="ledger", Key={"pk": {"S": "new"}, "sk": {"S": "upsert"}},
                           UpdateExpression="ADD c :one", ExpressionAttributeValues={":one": {"N": "1"}})
        client.delete_item(TableName="ledger", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
        client.batch_write_item(RequestItems={
            "ledger": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": str(i)}}}}
                       for i in range(10)] + [{"DeleteRequest": {"Key": {"pk": {"S": "a"},
                                                                         "sk": {"S": "2"}}}}],
            "other": [{"PutRequest": {"Item": {"pk": {"S": "batched"}}}}]})
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "other", "Item": {"pk": {"S": "txn"}, "v": {"N": "1"}}}},
            {"Update": {"TableName": "ledger", "Key": {"pk": {"S": "a"}, "sk": {"S": "3"}},
                        "UpdateExpression": "SET n = :v", "ExpressionAttributeValues": {":v": {"N": "9"}}}},
            {"Delete": {"TableName": "ledger", "Key": {"pk": {"S": "a"}, "sk": {"S": "4"}}}},
            {"ConditionCheck": {"TableName": "ledger", "Key": {"pk": {"S": "b"}, "sk": {"S": "0"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
        with pytest.raises(ClientError) as cancelled:  # cancelled: nothing of it is kept
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": "other", "Item": {"pk": {"S": "never"}}}},
                {"ConditionCheck": {"TableName": "ledger", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                                    "ConditionExpression": "attribute_exists(pk)"}}])
        assert _code(cancelled) == "TransactionCanceledException"
        before = {name: _scan(client, name) for name in ("ledger", "other")}

    with dynamodb(tmp_path) as client:
        after = {name: _scan(client, name) for name in ("ledger", "other")}
        assert after == before
        ledger = {(i["pk"]["S"], i["sk"]["S"]): i for i in after["ledger"]}
        assert ledger[("a", "0")]["n"] == {"N": "1.5"} and ledger[("a", "3")]["n"] == {"N": "9"}
        assert ("a", "1") not in ledger and ("a", "2") not in ledger and ("a", "4") not in ledger
        assert [i["pk"]["S"] for i in after["other"]] == ["batched", "txn"]


def test_deleted_tables_stay_deleted_and_a_new_one_of_the_name_starts_empty(tmp_path: Path) -> None:
    with dynamodb(tmp_path) as client:
        _simple_table(client, "doomed")
        _simple_table(client, "kept")
        client.put_item(TableName="doomed", Item={"pk": {"S": "old"}})
        client.put_item(TableName="kept", Item={"pk": {"S": "k"}})
        client.delete_table(TableName="doomed")
    with dynamodb(tmp_path) as client:
        assert client.list_tables()["TableNames"] == ["kept"]
        with pytest.raises(ClientError) as missing:
            client.describe_table(TableName="doomed")
        assert _code(missing) == "ResourceNotFoundException"
        _simple_table(client, "doomed")
        client.put_item(TableName="doomed", Item={"pk": {"S": "new"}})
    with dynamodb(tmp_path) as client:
        assert [i["pk"]["S"] for i in _scan(client, "doomed")] == ["new"]
        assert [i["pk"]["S"] for i in _scan(client, "kept")] == ["k"]


def test_reset_empties_the_persisted_tables(tmp_path: Path) -> None:
    with FakeAWS(data_dir=tmp_path, imds=False) as aws:
        client = aws.client("dynamodb")
        _simple_table(client, "before")
        client.put_item(TableName="before", Item={"pk": {"S": "x"}})
        aws.reset()
        _simple_table(client, "after")
        client.put_item(TableName="after", Item={"pk": {"S": "y"}})
    with dynamodb(tmp_path) as client:
        assert client.list_tables()["TableNames"] == ["after"]
        assert [i["pk"]["S"] for i in _scan(client, "after")] == ["y"]


def test_one_service_per_data_dir_and_none_without_one(tmp_path: Path) -> None:
    first = DynamoDBService(data_dir=tmp_path)
    try:
        with pytest.raises(DataDirError, match="in use by another fakes3"):
            DynamoDBService(data_dir=tmp_path)
    finally:
        first.close()
    DynamoDBService(data_dir=tmp_path).close()  # let go: usable again
    plain = DynamoDBService()
    assert plain.persistence is None and plain.db.item_locks.flush is None


def test_an_item_change_reaching_the_store_after_its_table_went_is_dropped(tmp_path: Path) -> None:
    """The window between a write's apply (under Database.lock) and its commit (as the item's
    lock is let go): a DeleteTable (or reset) in it must not leave the item behind."""
    ctx = RequestContext(request_id="test")
    service = DynamoDBService(data_dir=tmp_path)
    try:
        service.handle("CreateTable", {"TableName": "late", "KeySchema": _keys("pk"),
                                       "AttributeDefinitions": _defs(pk="S"),
                                       "BillingMode": "PAY_PER_REQUEST"}, ctx)
        db = service.db
        table = db.tables["late"]
        pkey, skey = table.locate({"pk": {"S": "x"}})
        with db.item_locks.hold_one((table.name, pkey, skey)):
            with db.lock:
                table.write(pkey, skey, {"pk": {"S": "x"}})
            service.handle("DeleteTable", {"TableName": "late"}, ctx)
    finally:
        service.close()
    with closing(sqlite3.connect(tmp_path / "dynamodb" / "tables.sqlite3")) as found:
        assert found.execute("SELECT COUNT(*) FROM items").fetchone() == (0,)
        assert found.execute("SELECT COUNT(*) FROM tables").fetchone() == (0,)


# -- SIGKILL while transactions run ---------------------------------------------------------------

COUNTERS = 4
WRITERS = 4
ANSWERED_BEFORE_KILL = 40


def _client(url: str) -> Any:
    return boto3.session.Session().client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=WAIT))


def _transaction(writer: int, n: int) -> list[dict[str, Any]]:
    """Adds 1 to every counter and puts one receipt: kept whole, the counters stay equal and
    there is one receipt per increment."""
    counters = [{"Update": {"TableName": "ledger", "Key": {"pk": {"S": "counter"}, "sk": {"S": str(c)}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}}
                for c in range(COUNTERS)]
    receipt = {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "receipt"},
                                                       "sk": {"S": f"{writer}-{n}"}}}}
    return [*counters, receipt]


class Writers:
    """Threads that run transactions until the server goes away, counting the answered ones."""

    def __init__(self, url: str) -> None:
        self.answered: list[str] = []
        self.enough = threading.Event()
        self._lock = threading.Lock()
        clients = [_client(url) for _ in range(WRITERS)]  # made here: Session is not thread-safe
        self.threads = [threading.Thread(target=self._run, args=(w, c), daemon=True)
                        for w, c in enumerate(clients)]

    def _run(self, writer: int, client: Any) -> None:
        for n in range(1_000_000):
            try:
                client.transact_write_items(TransactItems=_transaction(writer, n))
            except (BotoCoreError, ClientError):
                return  # the server was killed
            with self._lock:
                self.answered.append(f"{writer}-{n}")
                if len(self.answered) >= ANSWERED_BEFORE_KILL:
                    self.enough.set()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=WAIT)
            assert not thread.is_alive()


def test_sigkill_during_transactions_keeps_each_whole_or_not_at_all(tmp_path: Path) -> None:
    with serve(tmp_path) as server:
        client = _client(server.url)
        _ledger(client)
        writers = Writers(server.url)
        writers.start()
        assert writers.enough.wait(timeout=WAIT), "the transactions did not get going"
        server.kill()  # while the writers keep sending
        writers.join()

    with serve(tmp_path) as server:
        items = _client(server.url).scan(TableName="ledger", ConsistentRead=True)["Items"]
    counters = [int(i["n"]["N"]) for i in items if i["pk"]["S"] == "counter"]
    receipts = {i["sk"]["S"] for i in items if i["pk"]["S"] == "receipt"}
    assert len(counters) == COUNTERS and len(set(counters)) == 1, counters
    assert counters[0] == len(receipts)  # every kept transaction kept whole
    assert set(writers.answered) <= receipts  # every answered one kept
