"""Applying a parsed UpdateExpression to an item.

Every operand is evaluated against the item as it was before the update (as DynamoDB does), then
the actions are applied to a copy. The input item is never modified.
"""

from __future__ import annotations

import copy
from typing import Any

from fakes3.dynamodb.errors import DynamoDBError, validation
from fakes3.dynamodb.expressions.ast import (
    Action,
    AddAction,
    Arithmetic,
    Call,
    DeleteAction,
    Operand,
    Path,
    RemoveAction,
    SetAction,
    Update,
    Value,
)
from fakes3.dynamodb.expressions.context import Context
from fakes3.dynamodb.expressions.evaluate import resolve
from fakes3.dynamodb.types import AttributeValue, Item, add_numbers, type_of

_SETS = ("SS", "NS", "BS")


def _missing_attribute() -> DynamoDBError:
    return validation("The provided expression refers to an attribute that does not exist in the item")


def _wrong_type() -> DynamoDBError:
    return validation("An operand in the update expression has an incorrect data type")


def _invalid_path() -> DynamoDBError:
    return validation("The document path provided in the update expression is invalid for update")


def set_value(operand: Operand, item: Item) -> AttributeValue:
    """The value a SET action's right-hand side produces against ``item``."""
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        value = resolve(operand, item)
        if value is None:
            raise _missing_attribute()
        return value
    if isinstance(operand, Arithmetic):
        left, right = set_value(operand.left, item), set_value(operand.right, item)
        if type_of(left) != "N" or type_of(right) != "N":
            raise _wrong_type()
        return add_numbers(left, right, subtract=operand.op == "-")
    assert isinstance(operand, Call)
    if operand.name == "if_not_exists":
        path = operand.args[0]
        assert isinstance(path, Path)
        existing = resolve(path, item)
        return existing if existing is not None else set_value(operand.args[1], item)
    first, second = set_value(operand.args[0], item), set_value(operand.args[1], item)
    if type_of(first) != "L" or type_of(second) != "L":
        raise _wrong_type()
    return {"L": first["L"] + second["L"]}


def _parent(item: Item, path: Path) -> AttributeValue | None:
    """The container of ``path``'s last element (None: the item itself), or the invalid-path error."""
    if len(path.elements) == 1:
        return None
    parent = resolve(Path(path.elements[:-1]), item)
    last = path.elements[-1]
    if parent is None or type_of(parent) != ("L" if isinstance(last, int) else "M"):
        raise _invalid_path()
    return parent


def _put(item: Item, path: Path, value: AttributeValue) -> None:
    parent = _parent(item, path)
    value = copy.deepcopy(value)
    last = path.elements[-1]
    if parent is None:
        item[path.head] = value
    elif isinstance(last, int):
        elements = parent["L"]
        if last < len(elements):
            elements[last] = value
        else:
            elements.append(value)
    else:
        parent["M"][last] = value


def _remove(item: Item, path: Path, exists: bool = True) -> None:
    try:
        parent = _parent(item, path)
    except DynamoDBError:
        if exists:
            raise
        return  # DynamoDB ignores REMOVE of a nested path when the item does not exist
    last = path.elements[-1]
    if parent is None:
        item.pop(path.head, None)
    elif isinstance(last, int):
        if last < len(parent["L"]):
            del parent["L"][last]
    else:
        parent["M"].pop(last, None)


def _member_key(kind: str, member: Any) -> Any:
    return bytes(member) if kind == "BS" else member


def _add(item: Item, action: AddAction) -> None:
    value = action.value.value
    existing = resolve(action.path, item)
    if existing is None:
        _put(item, action.path, value)
        return
    kind = type_of(existing)
    if kind != type_of(value):
        raise _wrong_type()
    if kind == "N":
        _put(item, action.path, add_numbers(existing, value))
    elif kind in _SETS:
        have = {_member_key(kind, m) for m in existing[kind]}
        extra = [m for m in value[kind] if _member_key(kind, m) not in have]
        _put(item, action.path, {kind: list(existing[kind]) + extra})
    else:
        raise _wrong_type()


def _delete(item: Item, action: DeleteAction) -> None:
    value = action.value.value
    _parent(item, action.path)
    existing = resolve(action.path, item)
    if existing is None:
        return
    kind = type_of(existing)
    if kind != type_of(value) or kind not in _SETS:
        raise _wrong_type()
    gone = {_member_key(kind, m) for m in value[kind]}
    left = [m for m in existing[kind] if _member_key(kind, m) not in gone]
    if left:
        _put(item, action.path, {kind: left})
    else:
        _remove(item, action.path)


def _index(action: Action) -> int:
    last = action.path.elements[-1]
    return last if isinstance(last, int) else 0


def apply_update(update: Update, item: Item, ctx: Context | None = None, *,
                 exists: bool = True) -> tuple[Item, set[str]]:
    """Apply ``update`` to ``item``; for an item that does not exist yet pass its key and ``exists=False``.

    Returns the new item and the top-level attribute names the update touched. List indexes mean
    the positions before the update: SETs beyond the end append in index order, REMOVEs go last,
    highest index first.
    """
    values = {id(a): set_value(a.value, item) for a in update.actions if isinstance(a, SetAction)}
    new = copy.deepcopy(item)
    removals: list[RemoveAction] = []
    for action in sorted(update.actions, key=_index):
        if isinstance(action, SetAction):
            _put(new, action.path, values[id(action)])
        elif isinstance(action, RemoveAction):
            removals.append(action)
        elif isinstance(action, AddAction):
            _add(new, action)
        else:
            _delete(new, action)
    for action in sorted(removals, key=_index, reverse=True):
        _remove(new, action.path, exists)
    return new, {a.path.head for a in update.actions}
