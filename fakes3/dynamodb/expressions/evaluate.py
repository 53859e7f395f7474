"""Evaluating a parsed condition against an item, with DynamoDB's semantics.

A missing attribute, a missing item, or operands of different types never raise: they make the
comparison false (``<>`` true, as it is in DynamoDB).
"""

from __future__ import annotations

from fakes3.dynamodb.expressions.ast import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    In,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    Value,
)
from fakes3.dynamodb.expressions.context import Context
from fakes3.dynamodb.types import SCALAR_TYPES, AttributeValue, Item, compare, type_of, values_equal

_SET_MEMBER = {"SS": "S", "NS": "N", "BS": "B"}


def child(value: AttributeValue, element: PathElement) -> AttributeValue | None:
    """The list element or map member of ``value`` that ``element`` names, or None when it has none."""
    if isinstance(element, int):
        items = value.get("L")
        return items[element] if items is not None and element < len(items) else None
    members = value.get("M")
    return members.get(element) if members is not None else None


def resolve(path: Path, item: Item | None) -> AttributeValue | None:
    """The value at ``path`` in ``item``, or None when any step is missing or of the wrong type."""
    if item is None:
        return None
    current: AttributeValue | None = item.get(path.head)
    for element in path.elements[1:]:
        if current is None:
            return None
        current = child(current, element)
    return current


def size_of(value: AttributeValue | None) -> AttributeValue | None:
    if value is None:
        return None
    kind = type_of(value)
    if kind in ("N", "BOOL", "NULL"):
        return None
    return {"N": str(len(value[kind]))}


def operand_value(operand: Operand, item: Item | None) -> AttributeValue | None:
    if isinstance(operand, Value):
        return operand.value
    if isinstance(operand, Path):
        return resolve(operand, item)
    if isinstance(operand, Call) and operand.name == "size":
        return size_of(operand_value(operand.args[0], item))
    if isinstance(operand, Arithmetic):
        raise TypeError("arithmetic is only valid in an update expression")
    return None


def _ordered(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    return a is not None and b is not None and type_of(a) == type_of(b) and type_of(a) in SCALAR_TYPES


def compare_values(op: str, a: AttributeValue | None, b: AttributeValue | None) -> bool:
    if op == "=":
        return a is not None and b is not None and values_equal(a, b)
    if op == "<>":
        return not (a is not None and b is not None and values_equal(a, b))
    if a is None or b is None or not _ordered(a, b):
        return False
    order = compare(a, b)
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def begins_with(value: AttributeValue | None, prefix: AttributeValue | None) -> bool:
    if value is None or prefix is None or type_of(value) != type_of(prefix):
        return False
    if type_of(value) == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if type_of(value) == "B":
        return bytes(value["B"]).startswith(bytes(prefix["B"]))
    return False


def contains(container: AttributeValue | None, member: AttributeValue | None) -> bool:
    if container is None or member is None:
        return False
    kind, member_kind = type_of(container), type_of(member)
    if kind == "S":
        return member_kind == "S" and member["S"] in container["S"]
    if kind == "B":
        return member_kind == "B" and bytes(member["B"]) in bytes(container["B"])
    if kind in _SET_MEMBER:
        return member_kind == _SET_MEMBER[kind] and any(
            values_equal({member_kind: m}, member) for m in container[kind])
    if kind == "L":
        return any(values_equal(element, member) for element in container["L"])
    return False


def _call(call: Call, item: Item | None) -> bool:
    args = [operand_value(a, item) for a in call.args]
    if call.name == "attribute_exists":
        return args[0] is not None
    if call.name == "attribute_not_exists":
        return args[0] is None
    if call.name == "attribute_type":
        return args[0] is not None and args[1] is not None and type_of(args[0]) == args[1].get("S")
    if call.name == "begins_with":
        return begins_with(args[0], args[1])
    if call.name == "contains":
        return contains(args[0], args[1])
    return False


def evaluate(cond: Condition, item: Item | None, ctx: Context | None = None) -> bool:
    """Whether ``item`` (None: no item) satisfies ``cond``."""
    if isinstance(cond, And):
        return evaluate(cond.left, item) and evaluate(cond.right, item)
    if isinstance(cond, Or):
        return evaluate(cond.left, item) or evaluate(cond.right, item)
    if isinstance(cond, Not):
        return not evaluate(cond.operand, item)
    if isinstance(cond, Compare):
        return compare_values(cond.op, operand_value(cond.left, item), operand_value(cond.right, item))
    if isinstance(cond, Between):
        value = operand_value(cond.operand, item)
        low, high = operand_value(cond.low, item), operand_value(cond.high, item)
        if not (_ordered(value, low) and _ordered(value, high)):
            return False
        assert value is not None and low is not None and high is not None
        return compare(low, value) <= 0 <= compare(high, value)
    if isinstance(cond, In):
        value = operand_value(cond.operand, item)
        return any(compare_values("=", value, operand_value(c, item)) for c in cond.choices)
    return _call(cond, item)
