"""pynamodb models and the pynamodb_mate large-attribute pattern against the fake.

The large-attribute pattern keeps big values in S3 and their s3:// URIs in DynamoDB; S3 and
DynamoDB share the fake's one endpoint here, as REAL-SYSTEMS.md describes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pynamodb = pytest.importorskip("pynamodb")
pm = pytest.importorskip("pynamodb_mate.api")

from pynamodb.attributes import (  # noqa: E402
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection  # noqa: E402
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError  # noqa: E402
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection  # noqa: E402
from pynamodb.models import Model  # noqa: E402
from pynamodb.transactions import TransactGet, TransactWrite  # noqa: E402
from pynamodb_mate.patterns.large_attribute.api import LargeAttributeMixin  # noqa: E402


def _meta(fakes3: Any, table: str) -> type:
    class Meta:
        table_name = table
        region = fakes3.region
        host = fakes3.endpoint_url
        aws_access_key_id = fakes3.credentials["aws_access_key_id"]
        aws_secret_access_key = fakes3.credentials["aws_secret_access_key"]
        billing_mode = "PAY_PER_REQUEST"

    return Meta


@pytest.fixture
def models(fakes3: Any) -> Any:
    class ByCity(GlobalSecondaryIndex):
        class Meta:
            index_name = "by-city"
            projection = AllProjection()

        city = UnicodeAttribute(hash_key=True)
        age = NumberAttribute(range_key=True)

    class ByEmail(GlobalSecondaryIndex):
        class Meta:
            index_name = "by-email"
            projection = KeysOnlyProjection()

        email = UnicodeAttribute(hash_key=True)

    class Address(MapAttribute):
        street = UnicodeAttribute()
        zip = UnicodeAttribute(null=True)

    class User(Model):
        Meta = _meta(fakes3, "users")
        org = UnicodeAttribute(hash_key=True)
        name = UnicodeAttribute(range_key=True)
        city = UnicodeAttribute(null=True)
        age = NumberAttribute(null=True)
        email = UnicodeAttribute(null=True)
        tags = UnicodeSetAttribute(null=True)
        scores = ListAttribute(of=NumberAttribute, null=True)
        address = Address(null=True)
        version = VersionAttribute()
        by_city = ByCity()
        by_email = ByEmail()

    class Account(Model):
        Meta = _meta(fakes3, "accounts")
        id = UnicodeAttribute(hash_key=True)
        balance = NumberAttribute(default=0)

    User.create_table(wait=True)
    Account.create_table(wait=True)
    return User, Account


def test_create_table_describes_keys_and_indexes(models: Any, dynamodb_client: Any) -> None:
    User, _ = models
    assert User.exists()
    table = dynamodb_client.describe_table(TableName="users")["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"by-city", "by-email"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_save_get_and_optimistic_locking(models: Any) -> None:
    User, _ = models
    alice = User("acme", "alice", city="Paris", age=30, tags={"a", "b"}, scores=[1, 2],
                 address={"street": "Main St"})
    alice.save()
    assert alice.version == 1
    got = User.get("acme", "alice", consistent_read=True)
    assert got.city == "Paris" and got.tags == {"a", "b"} and got.scores == [1, 2]
    assert got.address.street == "Main St"
    stale = User.get("acme", "alice")
    got.age = 31
    got.save()  # version 1 -> 2
    stale.age = 99
    with pytest.raises(PutError) as info:
        stale.save()  # still thinks version is 1: ConditionalCheckFailed
    assert info.value.cause_response_code == "ConditionalCheckFailedException"
    assert User.get("acme", "alice").age == 31


def test_save_with_condition_and_delete_with_condition(models: Any) -> None:
    User, _ = models
    User("acme", "bob", age=20).save(condition=User.org.does_not_exist())
    with pytest.raises(PutError):
        User("acme", "bob", age=21).save(condition=User.org.does_not_exist())
    bob = User.get("acme", "bob")
    with pytest.raises(DeleteError):
        bob.delete(condition=User.age > 50)
    bob.delete(condition=User.age == 20)
    assert User.count("acme") == 0


def test_update_actions(models: Any) -> None:
    User, _ = models
    user = User("acme", "carol", age=40, tags={"x"}, scores=[1])
    user.save()
    user.update(actions=[
        User.age.add(2),
        User.tags.add({"y"}),
        User.scores.set(User.scores.append([5])),
        User.city.set("Oslo"),
        User.email.remove(),
    ])
    assert (user.age, user.tags, user.scores, user.city) == (42, {"x", "y"}, [1, 5], "Oslo")
    fresh = User.get("acme", "carol")
    assert (fresh.age, fresh.tags, fresh.scores, fresh.city) == (42, {"x", "y"}, [1, 5], "Oslo")
    with pytest.raises(UpdateError):
        fresh.update(actions=[User.age.set(1)], condition=User.age < 10)


def test_query_and_scan_with_filters_on_indexes(models: Any) -> None:
    User, _ = models
    people = [("ann", "Paris", 25), ("ben", "Paris", 35), ("cid", "Rome", 45), ("dan", "Paris", 55)]
    for name, city, age in people:
        User("acme", name, city=city, age=age, email=f"{name}@x").save()
    User("other", "eve", city="Paris", age=65).save()
    assert [u.name for u in User.query("acme", User.name > "b")] == ["ben", "cid", "dan"]
    assert [u.name for u in User.query("acme", User.name.startswith("c"))] == ["cid"]
    assert [u.name for u in User.query("acme", filter_condition=User.age >= 35)] == ["ben", "cid", "dan"]
    paris = list(User.by_city.query("Paris", User.age.between(30, 60)))
    assert [u.name for u in paris] == ["ben", "dan"]
    newest = list(User.by_city.query("Paris", scan_index_forward=False, limit=2))
    assert [u.age for u in newest] == [65, 55]
    filtered = list(User.by_city.query("Paris", filter_condition=User.org == "acme"))
    assert [u.name for u in filtered] == ["ann", "ben", "dan"]
    keys_only = list(User.by_email.query("ben@x"))
    assert [(u.org, u.name) for u in keys_only] == [("acme", "ben")]
    assert keys_only[0].age is None  # KEYS_ONLY projection
    assert sorted(u.name for u in User.scan(User.city == "Paris")) == ["ann", "ben", "dan", "eve"]
    assert User.count() == 5
    assert User.by_city.count("Paris", User.age > 30) == 3
    pages = User.scan(page_size=2)
    assert len(list(pages)) == 5


def test_batch_get_and_write(models: Any) -> None:
    User, _ = models
    with User.batch_write() as batch:
        for i in range(60):
            batch.save(User("bulk", f"u{i:02d}", age=i))
    got = list(User.batch_get([("bulk", f"u{i:02d}") for i in range(0, 60, 3)]))
    assert sorted(u.age for u in got) == list(range(0, 60, 3))
    with User.batch_write() as batch:
        for i in range(0, 60, 2):
            batch.delete(User("bulk", f"u{i:02d}"))
    assert User.count("bulk") == 30


def test_transactions(models: Any) -> None:
    _, Account = models
    Account("a", balance=100).save()
    Account("b", balance=0).save()
    connection = Connection(region=Account.Meta.region, host=Account.Meta.host)
    connection.session.set_credentials(Account.Meta.aws_access_key_id, Account.Meta.aws_secret_access_key)
    with TransactWrite(connection=connection) as tx:
        tx.update(Account("a"), actions=[Account.balance.add(-30)], condition=Account.balance >= 30)
        tx.update(Account("b"), actions=[Account.balance.add(30)])
    with TransactGet(connection=connection) as tg:
        a, b = tg.get(Account, "a"), tg.get(Account, "b")
    assert (a.get().balance, b.get().balance) == (70, 30)
    with pytest.raises(TransactWriteError) as info, TransactWrite(connection=connection) as tx:
        tx.update(Account("a"), actions=[Account.balance.add(-500)], condition=Account.balance >= 500)
        tx.update(Account("b"), actions=[Account.balance.add(500)])
    assert info.value.cause_response_code == "TransactionCanceledException"
    # pynamodb turns DynamoDB's {"Code": "None"} (that action was fine) into None
    reasons = [r.code if r is not None else None for r in info.value.cancellation_reasons]
    assert reasons == ["ConditionalCheckFailed", None]
    assert (Account.get("a").balance, Account.get("b").balance) == (70, 30)


# -- pynamodb_mate large attributes ---------------------------------------------------------------


@pytest.fixture
def documents(fakes3: Any, s3_client: Any) -> Any:
    class Document(pm.Model, LargeAttributeMixin):
        Meta = _meta(fakes3, "documents")
        pk = pm.UnicodeAttribute(hash_key=True)
        update_at = pm.UTCDateTimeAttribute()
        html = pm.UnicodeAttribute(null=True)
        image = pm.UnicodeAttribute(null=True)
        data = pm.JSONAttribute(null=True)

    Document.create_table(wait=True)
    s3_client.create_bucket(Bucket="large")
    return Document


def _keys(s3_client: Any) -> list[str]:
    return sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket="large").get("Contents", []))


def _read(s3_client: Any, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_large_attribute_create_update_delete(documents: Any, s3_client: Any) -> None:
    Document = documents
    now = dt.datetime.now(dt.UTC)
    doc = Document.create_large_attribute_item(
        s3_client=s3_client, pk="d1", sk=None, kvs={"html": b"<b>Alice</b>", "image": b"img-1"},
        bucket="large", prefix="docs", update_at=now, attributes={"update_at": now, "data": {"v": 1}})
    assert doc.html.startswith("s3://large/docs/pk=d1/attr=html/md5=")
    stored = Document.get("d1", consistent_read=True)
    assert _read(s3_client, stored.html) == b"<b>Alice</b>"
    assert _read(s3_client, stored.image) == b"img-1"
    assert len(_keys(s3_client)) == 2

    later = now + dt.timedelta(seconds=5)
    new = Document.update_large_attribute_item(
        s3_client=s3_client, pk="d1", sk=None, kvs={"html": b"<b>Bob</b>", "image": b"img-1"},
        bucket="large", prefix="docs", update_at=later,
        update_actions=[Document.update_at.set(later), Document.data.set({"v": 2})])
    assert new.data == {"v": 2} and new.image == stored.image and new.html != stored.html
    assert _read(s3_client, Document.get("d1").html) == b"<b>Bob</b>"
    # the old html object was cleaned up; the unchanged image object stays
    keys = _keys(s3_client)
    assert len(keys) == 2 and stored.html.split("/", 3)[3] not in keys

    Document.delete_large_attribute_item(s3_client=s3_client, pk="d1", sk=None,
                                         attributes=["html", "image"])
    assert Document.get_one_or_none("d1") is None
    assert _keys(s3_client) == []


def test_large_attribute_failed_create_cleans_up_s3(documents: Any, s3_client: Any) -> None:
    Document = documents
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(RuntimeError):
        Document.create_large_attribute_item(
            s3_client=s3_client, pk="d2", sk=None, kvs={"html": b"x"}, bucket="large", prefix="docs",
            update_at=now, attributes={"update_at": now}, _error=RuntimeError("dynamodb down"))
    assert _keys(s3_client) == []
    assert Document.get_one_or_none("d2") is None
