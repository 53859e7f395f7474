"""PartiQL statements as the parameters of DynamoDB's own operations.

A statement's conditions and update actions are rendered into a ConditionExpression /
UpdateExpression with ``#n`` / ``:v`` placeholders, so the native parser, validator and evaluator
judge them exactly as they judge PutItem, UpdateItem, DeleteItem, Query and Scan. An UPDATE or
DELETE names its item by equalities on every key attribute in its WHERE; what else the WHERE says
becomes the write's condition.

Behaviour (DynamoDB Developer Guide, "PartiQL update/delete/insert statements"):
- UPDATE of a missing item fails with ConditionalCheckFailedException (so ``attribute_exists(pk)``
  is part of its condition);
- DELETE of a missing item succeeds, whatever else its WHERE says (``attribute_not_exists(pk) OR``);
- INSERT of an existing key fails with DuplicateItemException.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes3.dynamodb.errors import DynamoDBError, validation
from fakes3.dynamodb.expressions.ast import (
    Action,
    AddAction,
    And,
    Arithmetic,
    Between,
    Compare,
    Condition,
    DeleteAction,
    In,
    Not,
    Operand,
    Or,
    Path,
    RemoveAction,
    SetAction,
    Value,
)
from fakes3.dynamodb.partiql_parser import Delete, Exists, Insert, Select, Update
from fakes3.dynamodb.schema import KeySchema
from fakes3.dynamodb.types import AttributeValue, Item, type_of

# DynamoDB Local's ValidationExceptionMessages (eznix86/dynamodb-local-decompiled,
# ddb/partiql/shared/exceptions/ValidationExceptionMessages.java).
INCOMPLETE_KEY = "Where clause does not contain a mandatory equality on all key attributes"
DUPLICATE_ITEM = "Duplicate primary key exists in table"


def key_type_mismatch(name: str) -> DynamoDBError:
    return validation(f"Key attribute's data type should match its data type in table's schema: Key {name}")


def duplicate_item() -> DynamoDBError:
    return DynamoDBError("DuplicateItemException", DUPLICATE_ITEM)


@dataclass
class Renderer:
    """Renders nodes as expression text, collecting ExpressionAttributeNames and Values."""

    names: dict[str, str] = field(default_factory=dict)  # placeholder -> name
    values: dict[str, AttributeValue] = field(default_factory=dict)
    _by_name: dict[str, str] = field(default_factory=dict)

    def name(self, name: str) -> str:
        placeholder = self._by_name.get(name)
        if placeholder is None:
            placeholder = self._by_name[name] = f"#n{len(self._by_name)}"
            self.names[placeholder] = name
        return placeholder

    def path(self, path: Path) -> str:
        out = self.name(path.head)
        for element in path.elements[1:]:
            out += f"[{element}]" if isinstance(element, int) else f".{self.name(element)}"
        return out

    def value(self, value: AttributeValue) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def operand(self, node: Operand) -> str:
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Value):
            return self.value(node.value)
        if isinstance(node, Arithmetic):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        return f"{node.name}({', '.join(self.operand(a) for a in node.args)})"

    def condition(self, node: Condition) -> str:
        if isinstance(node, And | Or):
            word = "AND" if isinstance(node, And) else "OR"
            return f"{self._grouped(node.left)} {word} {self._grouped(node.right)}"
        if isinstance(node, Not):
            return f"NOT {self._grouped(node.operand)}"
        if isinstance(node, Compare):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        if isinstance(node, Between):
            return (f"{self.operand(node.operand)} BETWEEN {self.operand(node.low)} AND "
                    f"{self.operand(node.high)}")
        if isinstance(node, In):
            return f"{self.operand(node.operand)} IN ({', '.join(self.operand(c) for c in node.choices)})"
        return self.operand(node)

    def _grouped(self, node: Condition) -> str:
        text = self.condition(node)
        return f"({text})" if isinstance(node, And | Or) else text

    def update(self, actions: tuple[Action, ...]) -> str:
        clauses: dict[str, list[str]] = {}
        for action in actions:
            if isinstance(action, SetAction):
                target, value = self.path(action.path), self.operand(action.value)
                clauses.setdefault("SET", []).append(f"{target} = {value}")
            elif isinstance(action, RemoveAction):
                clauses.setdefault("REMOVE", []).append(self.path(action.path))
            elif isinstance(action, AddAction | DeleteAction):
                clause = "ADD" if isinstance(action, AddAction) else "DELETE"
                target, value = self.path(action.path), self.value(action.value.value)
                clauses.setdefault(clause, []).append(f"{target} {value}")
        return " ".join(f"{clause} {', '.join(parts)}" for clause, parts in clauses.items())

    def placeholders(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` with the collected placeholders (a map is left out when empty, as it must be)."""
        if self.names:
            params["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            params["ExpressionAttributeValues"] = dict(self.values)
        return params


def conjuncts(where: Condition | None) -> list[Condition]:
    """The conditions a WHERE ANDs together at its top level."""
    if where is None:
        return []
    if isinstance(where, And):
        return conjuncts(where.left) + conjuncts(where.right)
    return [where]


def joined(conditions: list[Condition]) -> Condition | None:
    if not conditions:
        return None
    out = conditions[0]
    for condition in conditions[1:]:
        out = And(out, condition)
    return out


def key_equality(condition: Condition, names: tuple[str, ...]) -> tuple[str, AttributeValue] | None:
    """(key attribute, value) when ``condition`` is ``key = value`` (either way round)."""
    if not isinstance(condition, Compare) or condition.op != "=":
        return None
    for path, value in ((condition.left, condition.right), (condition.right, condition.left)):
        if isinstance(path, Path) and len(path.elements) == 1 and path.head in names \
                and isinstance(value, Value):
            return path.head, value.value
    return None


def split_key(where: Condition | None, keys: KeySchema) -> tuple[Item, Condition | None]:
    """The item a single-item statement names (an equality on every key attribute, ANDed at the top
    of its WHERE), and the rest of the WHERE."""
    key: Item = {}
    rest: list[Condition] = []
    for condition in conjuncts(where):
        found = key_equality(condition, keys.names)
        if found is None:
            rest.append(condition)
            continue
        name, value = found
        if name in key:
            raise validation(f"Multiple conditions on same key {name}. Only single item Update/Insert/Delete "
                             "are supported")
        key[name] = value
    if any(name not in key for name in keys.names):
        raise validation(INCOMPLETE_KEY)
    for name, kind in keys.typed():
        if type_of(key[name]) != kind:
            raise key_type_mismatch(name)
    return key, joined(rest)


def check_insert_keys(item: Item, keys: KeySchema) -> None:
    for name, kind in keys.typed():
        if name not in item:
            raise validation(f"Key attribute should be present in the item: Key {name}")
        if type_of(item[name]) != kind:
            raise key_type_mismatch(name)


# -- statements as native parameters ----------------------------------------------------------------


def put_params(statement: Insert, keys: KeySchema) -> dict[str, Any]:
    check_insert_keys(statement.item, keys)
    renderer = Renderer()
    params = {"TableName": statement.source.table, "Item": statement.item,
              "ConditionExpression": f"attribute_not_exists({renderer.name(keys.hash)})"}
    return renderer.placeholders(params)


def update_params(statement: Update, keys: KeySchema) -> dict[str, Any]:
    key, rest = split_key(statement.where, keys)
    renderer = Renderer()
    update = renderer.update(statement.actions)
    condition = f"attribute_exists({renderer.name(keys.hash)})"
    if rest is not None:
        condition += f" AND ({renderer.condition(rest)})"
    params: dict[str, Any] = {"TableName": statement.source.table, "Key": key, "UpdateExpression": update,
                              "ConditionExpression": condition}
    if statement.returning is not None:
        params["ReturnValues"] = statement.returning
    return renderer.placeholders(params)


def delete_params(statement: Delete, keys: KeySchema) -> dict[str, Any]:
    key, rest = split_key(statement.where, keys)
    params: dict[str, Any] = {"TableName": statement.source.table, "Key": key}
    if rest is not None:
        renderer = Renderer()
        params["ConditionExpression"] = (f"attribute_not_exists({renderer.name(keys.hash)}) OR "
                                         f"({renderer.condition(rest)})")
        renderer.placeholders(params)
    if statement.returning is not None:
        params["ReturnValues"] = statement.returning
    return params


def check_params(statement: Exists, keys: KeySchema) -> dict[str, Any]:
    """EXISTS(SELECT ...) as TransactWriteItems' ConditionCheck: the item exists and matches."""
    select = statement.select
    if select.source.index is not None:
        raise validation("Operations on indices are not supported in transactions")
    try:
        key, rest = split_key(select.where, keys)
    except DynamoDBError:
        raise validation("EXISTS() must contain a single item read with additional condition") from None
    renderer = Renderer()
    condition = f"attribute_exists({renderer.name(keys.hash)})"
    if rest is not None:
        condition += f" AND ({renderer.condition(rest)})"
    return renderer.placeholders({"TableName": select.source.table, "Key": key,
                                  "ConditionExpression": condition})


def single_item_key(statement: Select, keys: KeySchema, refusal: str) -> Item:
    """The key of a SELECT that must read one item by its full key and nothing else (batches and
    transactions); ``refusal`` is the message otherwise."""
    try:
        key, rest = split_key(statement.where, keys)
    except DynamoDBError as err:
        if err.message.startswith("Key attribute's data type"):
            raise
        raise validation(refusal) from None
    if rest is not None:
        raise validation(refusal)
    return key
