"""Time to Live: deleting the items whose TTL attribute has passed, when asked.

DynamoDB deletes an expired item "typically within a few days" of its expiration, in the
background, and until then the item is still read, queried and scanned (Developer Guide, "Time to
Live"). A test cannot wait days, nor rely on an instant: fakes3 deletes expired items when asked
(``DynamoDBService.expire_ttl()``, ``POST /_fakes3/dynamodb/expire-ttl``), on the server's
clock, so a test can move the clock past an expiry and then sweep.

An item expires as the guide's "Formatting an item's TTL attribute" says: the table has TTL
enabled; the item has the TTL attribute at its top level, a Number holding epoch seconds less
than now and at most five years in the past (an older one, or one in milliseconds, which reads as
a date far ahead, is never deleted). Each deletion is a DeleteItem conditioned on the attribute
still holding the value the sweep read, so an item whose TTL was extended meanwhile stays; it
goes through the item's lock, the indexes and the data dir like any other delete.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.model import Database
from fakes3.dynamodb.storage import Item
from fakes3.dynamodb.writes import execute, prepare

FIVE_YEARS = 5 * 365 * 24 * 3600


def expired(value: Any, now: float) -> bool:
    """Whether an item's TTL attribute value makes it eligible for deletion at ``now``."""
    if not isinstance(value, dict) or set(value) != {"N"}:
        return False
    try:
        when = Decimal(value["N"])
    except (InvalidOperation, TypeError):
        return False
    return Decimal(now) - FIVE_YEARS <= when < Decimal(now)


def expire(db: Database) -> int:
    """Delete every expired item of every table with TTL enabled; how many were deleted."""
    return sum(_delete(db, *found) for found in _candidates(db, db.now()))


def _delete(db: Database, table_name: str, attribute: str, key: Item, seen: Any) -> bool:
    """Delete the item if its TTL attribute still holds ``seen``; whether it was deleted."""
    params = {"TableName": table_name, "Key": key, "ConditionExpression": "#ttl = :seen",
              "ExpressionAttributeNames": {"#ttl": attribute},
              "ExpressionAttributeValues": {":seen": seen}}
    try:
        execute(db, prepare(db, "DeleteItem", params), "DeleteItem")
    except DynamoDBError:
        return False  # changed, deleted, or its table gone since it was read: nothing to expire
    return True


def _candidates(db: Database, now: float) -> list[tuple[str, str, Item, Any]]:
    """The expired items as they are now (read under ``db.lock``, as a Scan reads)."""
    found = []
    with db.lock:
        for table in db.tables.values():
            if table.ttl is None or table.status(now) == "DELETING":
                continue
            attribute = table.ttl["AttributeName"]
            for item in table.items():
                value = item.get(attribute)
                if expired(value, now):
                    found.append((table.name, attribute, table.key_of(item), value))
    return found
