"""Validation of a parsed expression tree, as DynamoDB does it after parsing.

The tree is walked in post-order (operands before their operator) and the first fault is
reported: undefined placeholders, over-deep paths, operand counts, operand types, repeated
paths, then the operator's own rules (BETWEEN bounds, IN size, ...).
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
    Value,
)
from fakes3.dynamodb.types import AttributeValue, compare, type_of

CONDITION_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
                       "begins_with": 2, "contains": 2, "size": 1}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
FUNCTIONS = {**CONDITION_FUNCTIONS, **UPDATE_FUNCTIONS}
_RESULT_TYPE = {"size": "N", "list_append": "L", "attribute_exists": "BOOL", "attribute_not_exists": "BOOL",
                "attribute_type": "BOOL", "begins_with": "BOOL", "contains": "BOOL"}
_SCALARS = frozenset({"S", "N", "B"})
_OPERAND_TYPES = {
    "<": _SCALARS, "<=": _SCALARS, ">": _SCALARS, ">=": _SCALARS, "BETWEEN": _SCALARS,
    "begins_with": frozenset({"S", "B"}),
    "size": frozenset({"S", "B", "SS", "NS", "BS", "L", "M"}),
    "+": frozenset({"N"}), "-": frozenset({"N"}),
    "list_append": frozenset({"L"}),
}
_DISTINCT = frozenset({"=", "<>", "<", "<=", ">", ">=", "begins_with", "contains", "attribute_type"})
_PATH_FIRST = frozenset({"attribute_exists", "attribute_not_exists", "if_not_exists"})
_ANY_TYPE = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
ATTRIBUTE_TYPES = ("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M")
MAX_PATH_DEPTH = 32
MAX_OPERATORS = 300
MAX_IN_OPERANDS = 100


class Invalid(Exception):
    """A validation fault; the caller prefixes ``Invalid <Kind>: ``."""


def wrong_type(function: str, operand_type: str) -> Invalid:
    return Invalid("Incorrect operand type for operator or function; "
                   f"operator or function: {function}, operand type: {operand_type}")


def show_value(value: AttributeValue) -> str:
    kind = type_of(value)
    return f"AttributeValue: {{{kind}:{value[kind]}}}"


def known_type(operand: Operand) -> str | None:
    """The type of a constant or of a function's result; None for document paths (any type)."""
    if isinstance(operand, Value):
        return type_of(operand.value) if operand.value else None
    if isinstance(operand, Call):
        return _RESULT_TYPE.get(operand.name)
    if isinstance(operand, Arithmetic):
        return "N"
    return None


class Validator:
    def __init__(self) -> None:
        self.operators = 0

    def count_operator(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise Invalid(f"The expression contains too many operators; operator count: {self.operators}")

    def path(self, path: Path) -> None:
        if path.undefined is not None:
            raise Invalid("An expression attribute name used in the document path is not defined; "
                          f"attribute name: {path.undefined}")
        if len(path.elements) > MAX_PATH_DEPTH:
            raise Invalid("The document path has too many nesting levels; "
                          f"nesting levels: {len(path.elements)}")

    def operand(self, operand: Operand) -> None:
        if isinstance(operand, Path):
            self.path(operand)
        elif isinstance(operand, Value):
            if not operand.value:
                raise Invalid("An expression attribute value used in expression is not defined; "
                              f"attribute value: {operand.placeholder}")
        elif isinstance(operand, Call):
            for arg in operand.args:
                self.operand(arg)
            self.operator(operand.name, operand.args)
        else:
            self.operand(operand.left)
            self.operand(operand.right)
            self.operator(operand.op, (operand.left, operand.right))

    def operator(self, name: str, operands: tuple[Operand, ...]) -> None:
        self.count_operator()
        if name in FUNCTIONS and FUNCTIONS[name] != len(operands):
            raise Invalid("Incorrect number of operands for operator or function; "
                          f"operator or function: {name}, number of operands: {len(operands)}")
        allowed = _OPERAND_TYPES.get(name)
        if allowed is not None:
            for operand in operands:
                kind = known_type(operand)
                if kind is not None and kind not in allowed:
                    raise wrong_type(name, kind)
        first = operands[0]
        if name in _DISTINCT and isinstance(first, Path) and any(o == first for o in operands[1:]):
            raise Invalid("The first operand must be distinct from the remaining operands for this operator "
                          f"or function; operator: {name}, first operand: {first.render()}")
        if name in _PATH_FIRST and not isinstance(first, Path):
            raise Invalid(f"Operator or function requires a document path; operator or function: {name}")
        if name == "attribute_type":
            self.attribute_type(operands[1])
        elif name == "BETWEEN":
            self.bounds(operands[1], operands[2])
        elif name == "IN" and len(operands) - 1 > MAX_IN_OPERANDS:
            raise Invalid("The IN operator is provided with too many operands; "
                          f"number of operands: {len(operands) - 1}")

    def attribute_type(self, operand: Operand) -> None:
        if not isinstance(operand, Value) or type_of(operand.value) != "S":
            raise wrong_type("attribute_type", known_type(operand) or _ANY_TYPE)
        name = operand.value["S"]
        if name not in ATTRIBUTE_TYPES:
            raise Invalid(f"Invalid attribute type name found; type: {name}, "
                          "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}")

    def bounds(self, low: Operand, high: Operand) -> None:
        if not (isinstance(low, Value) and isinstance(high, Value)):
            return
        if type_of(low.value) != type_of(high.value):
            raise Invalid("The BETWEEN operator requires same data type for lower and upper bounds; "
                          f"lower bound operand: {show_value(low.value)}, "
                          f"upper bound operand: {show_value(high.value)}")
        if compare(low.value, high.value) > 0:
            raise Invalid("The BETWEEN operator requires upper bound to be greater than or equal to lower "
                          "bound; "
                          f"lower bound operand: {show_value(low.value)}, "
                          f"upper bound operand: {show_value(high.value)}")

    def condition(self, cond: Condition) -> None:
        if isinstance(cond, And | Or):
            self.condition(cond.left)
            self.condition(cond.right)
            self.count_operator()
        elif isinstance(cond, Not):
            self.condition(cond.operand)
            self.count_operator()
        elif isinstance(cond, Compare):
            self.operand(cond.left)
            self.operand(cond.right)
            self.operator(cond.op, (cond.left, cond.right))
        elif isinstance(cond, Between):
            operands = (cond.operand, cond.low, cond.high)
            for operand in operands:
                self.operand(operand)
            self.operator("BETWEEN", operands)
        elif isinstance(cond, In):
            choices = (cond.operand, *cond.choices)
            for operand in choices:
                self.operand(operand)
            self.operator("IN", choices)
        else:
            self.operand(cond)


def validate_condition(cond: Condition) -> None:
    Validator().condition(cond)
