"""Key attributes: checking them in items, in Key parameters and in ExclusiveStartKeys."""

from __future__ import annotations

from typing import Any

from fakes3.dynamodb.errors import DynamoDBError, invalid_parameters, key_mismatch, validation
from fakes3.dynamodb.model import Table
from fakes3.dynamodb.schema import KeySchema
from fakes3.dynamodb.storage import Item
from fakes3.dynamodb.types import type_of, validate_item, value_size

MAX_HASH_KEY = 2048
MAX_RANGE_KEY = 1024


def _check_size(value: dict[str, Any], is_hash: bool) -> None:
    if "N" in value:
        return
    size = value_size(value)
    if is_hash and size > MAX_HASH_KEY:
        raise invalid_parameters("Size of hashkey has exceeded the maximum size limit of2048 bytes")
    if not is_hash and size > MAX_RANGE_KEY:
        raise invalid_parameters("Aggregated size of all range keys has exceeded the size limit of "
                                 "1024 bytes")


def _empty(value: dict[str, Any]) -> bool:
    kind = type_of(value)
    return kind in ("S", "B") and len(value[kind]) == 0


def _check_key_value(name: str, kind: str, value: dict[str, Any], is_hash: bool) -> None:
    """A key attribute of the declared ``kind``: not an empty string or binary, not too large."""
    raw = value.get("S")
    if (type(raw) is str and 0 < len(raw) <= 256) or "N" in value:
        return  # the usual keys: a number, or a string too short to be over 1024 bytes in UTF-8
    if _empty(value):
        raise validation("One or more parameter values are not valid. The AttributeValue for a key "
                         f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                         f"value. Key: {name}")
    _check_size(value, is_hash)


def check_item_keys(table: Table, item: Item) -> None:
    """An item to be written: every key attribute present, of its declared type, not empty."""
    keys = table.keys
    for position, (name, kind) in enumerate(keys.typed()):
        value = item.get(name)
        if value is None:
            raise invalid_parameters(f"Missing the key {name} in the item")
        actual = type_of(value)
        if actual != kind:
            raise invalid_parameters(f"Type mismatch for key {name} expected: {kind} actual: {actual}")
        _check_key_value(name, kind, value, position == 0)
    check_index_keys(table, item)


def check_index_keys(table: Table, item: Item) -> None:
    """Index key attributes an item carries must have the type AttributeDefinitions declares."""
    for index in table.indexes.values():
        for name, kind in index.keys.typed():
            value = item.get(name)
            if value is None:
                continue
            actual = type_of(value)
            if actual != kind:
                raise invalid_parameters(f"Type mismatch for Index Key {name} Expected: {kind} "
                                         f"Actual: {actual} IndexName: {index.name}")
            if _empty(value):
                raise validation("One or more parameter values are not valid. A value specified for a "
                                 "secondary index key is not supported. The AttributeValue for a key "
                                 f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                                 f"value. IndexName: {index.name}, IndexKey: {name}")


def check_key(table: Table, key: Any, where: str = "Key") -> Item:
    """A Key parameter: exactly the table's key attributes, of their types; returned normalized."""
    key = validate_item(key, where)
    if not _matches(key, table.keys):
        raise key_mismatch()
    for position, (name, kind) in enumerate(table.keys.typed()):
        _check_key_value(name, kind, key[name], position == 0)
    return key


def _matches(key: Item, schema: KeySchema) -> bool:
    if len(key) != len(schema.names):
        return False
    for name, kind in schema.typed():
        value = key.get(name)
        if value is None or type_of(value) != kind:
            return False
    return True


def check_start_key(table: Table, start: Any, index_keys: KeySchema | None) -> Item:
    """An ExclusiveStartKey: the table's key plus, on an index, the index's key attributes."""
    try:
        start = validate_item(start, "ExclusiveStartKey")
    except DynamoDBError as err:
        raise validation(f"The provided starting key is invalid: {err.message}") from None
    wanted = dict(table.keys.typed())
    if index_keys is not None:
        wanted.update(index_keys.typed())
    if len(start) != len(wanted) or any(n not in start for n in wanted):
        raise validation("The provided starting key is invalid")
    for name, kind in wanted.items():
        if type_of(start[name]) != kind:
            raise validation("The provided starting key is invalid: The provided key element does not "
                             "match the schema")
    return start
