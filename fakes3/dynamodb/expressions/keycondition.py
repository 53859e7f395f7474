"""KeyConditionExpression: the shape DynamoDB accepts, reduced to a hash value and a sort test."""

from __future__ import annotations

from dataclasses import dataclass

from fakes3.dynamodb.errors import validation
from fakes3.dynamodb.expressions.ast import (
    And,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Not,
    Operand,
    Or,
    Path,
    Value,
)
from fakes3.dynamodb.expressions.context import Context
from fakes3.dynamodb.expressions.evaluate import begins_with, compare_values
from fakes3.dynamodb.types import AttributeValue, compare, type_of

SortTest = tuple[str, AttributeValue, AttributeValue | None]
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class KeyCondition:
    hash_value: AttributeValue
    sort: SortTest | None  # (op, value, upper bound for BETWEEN); op: = < <= > >= BETWEEN begins_with

    def matches_sort(self, value: AttributeValue | None) -> bool:
        if self.sort is None:
            return True
        if value is None:
            return False
        op, operand, upper = self.sort
        if type_of(value) != type_of(operand):
            return False
        if op == "BETWEEN":
            assert upper is not None
            return compare(operand, value) <= 0 <= compare(upper, value)
        if op == "begins_with":
            return begins_with(value, operand)
        return compare_values(op, value, operand)


def _invalid_operator(name: str) -> Exception:
    return validation(f"Invalid operator used in KeyConditionExpression: {name}")


def _flatten(cond: Condition, out: list[Condition]) -> None:
    if isinstance(cond, And):
        _flatten(cond.left, out)
        _flatten(cond.right, out)
    elif isinstance(cond, Or):
        raise _invalid_operator("OR")
    elif isinstance(cond, Not):
        raise _invalid_operator("NOT")
    elif isinstance(cond, In):
        raise _invalid_operator("IN")
    elif isinstance(cond, Compare) and cond.op == "<>":
        raise _invalid_operator("<>")
    elif isinstance(cond, Call) and cond.name != "begins_with":
        raise _invalid_operator(cond.name)
    else:
        out.append(cond)


def _operands(cond: Condition) -> tuple[str, tuple[Operand, ...]]:
    if isinstance(cond, Compare):
        return cond.op, (cond.left, cond.right)
    if isinstance(cond, Between):
        return "BETWEEN", (cond.operand, cond.low, cond.high)
    assert isinstance(cond, Call)
    return cond.name, cond.args


def _simple(cond: Condition) -> tuple[str, str, tuple[AttributeValue, ...]]:
    """(attribute name, operator, values) of one key condition, or DynamoDB's error."""
    op, operands = _operands(cond)
    if op in ("BETWEEN", "begins_with") and not isinstance(operands[0], Path):
        raise validation(f"Invalid condition in KeyConditionExpression: {op} operator must have the key "
                         "attribute as its first operand")
    paths: list[Path] = []
    for operand in operands:
        if isinstance(operand, Call):
            raise validation("KeyConditionExpressions cannot contain nested operations")
        if isinstance(operand, Path):
            if paths:
                raise validation("Invalid condition in KeyConditionExpression: "
                                 "Multiple attribute names used in one condition")
            if len(operand.elements) > 1:
                raise validation("KeyConditionExpressions cannot have conditions on nested attributes")
            paths.append(operand)
    if not paths:
        raise validation("Invalid condition in KeyConditionExpression: No key attribute specified")
    values = tuple(o.value for o in operands if isinstance(o, Value))
    if op in _FLIPPED and not isinstance(operands[0], Path):
        op = _FLIPPED[op]
    return paths[0].head, op, values


def key_condition(cond: Condition, ctx: Context | None, hash_key: str, range_key: str | None) -> KeyCondition:
    """Validate a parsed KeyConditionExpression against the key schema and reduce it."""
    conditions: list[Condition] = []
    _flatten(cond, conditions)
    simple = [_simple(c) for c in conditions]
    names = [name for name, _, _ in simple]
    if len(simple) > 2:
        if len(set(names)) < len(names):
            raise validation("KeyConditionExpressions must only contain one condition per key")
        raise validation("Conditions can be of length 1 or 2 only")
    if len(simple) == 2 and names[0] == names[1]:
        raise validation("KeyConditionExpressions must only contain one condition per key")
    by_name = {name: (op, values) for name, op, values in simple}
    if hash_key not in by_name:
        raise validation(f"Query condition missed key schema element: {hash_key}")
    if any(name not in (hash_key, range_key) for name in by_name):
        raise validation("Query key condition not supported")
    hash_op, hash_values = by_name[hash_key]
    if hash_op != "=":
        raise validation("Query key condition not supported")
    sort: SortTest | None = None
    if range_key is not None and range_key in by_name:
        op, values = by_name[range_key]
        sort = (op, values[0], values[1] if len(values) > 1 else None)
    return KeyCondition(hash_values[0], sort)
