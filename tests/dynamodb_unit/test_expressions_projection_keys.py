"""Projection expressions and key condition expressions."""

from __future__ import annotations

from typing import Any

import pytest

from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.expressions import (
    Context,
    KeyCondition,
    key_condition,
    parse_condition,
    parse_projection,
    project,
)

ITEM: dict[str, Any] = {
    "p": {"S": "key"},
    "a": {"M": {
        "b": {"L": [{"N": "2"}, {"N": "4"}, {"M": {"x": {"S": "hi"}, "y": {"S": "yo"}}}]},
        "c": {"N": "5"},
    }},
    "b": {"S": "hello"},
    "a.b": {"S": "dotted"},
}


def projected(text: str, names: dict[str, str] | None = None) -> dict[str, Any]:
    ctx = Context(names, None)
    result = project(ITEM, parse_projection(text, ctx))
    ctx.check_unused()
    return result


@pytest.mark.parametrize(("text", "expected"), [
    ("a", {"a": ITEM["a"]}),
    ("b, p", {"b": ITEM["b"], "p": ITEM["p"]}),
    (" a  ,   b  ", {"a": ITEM["a"], "b": ITEM["b"]}),
    ("a.b", {"a": {"M": {"b": ITEM["a"]["M"]["b"]}}}),
    ("a.b[0]", {"a": {"M": {"b": {"L": [{"N": "2"}]}}}}),
    ("a.b[2]", {"a": {"M": {"b": {"L": [{"M": {"x": {"S": "hi"}, "y": {"S": "yo"}}}]}}}}),
    ("a.b[2].y", {"a": {"M": {"b": {"L": [{"M": {"y": {"S": "yo"}}}]}}}}),
    ("a.b[0],a.b[1]", {"a": {"M": {"b": {"L": [{"N": "2"}, {"N": "4"}]}}}}),
    ("a.b[2], a.b[0]", {"a": {"M": {"b": {"L": [{"N": "2"}, {"M": {"x": {"S": "hi"}, "y": {"S": "yo"}}}]}}}}),
    ("a.b[0],a.c", {"a": {"M": {"b": {"L": [{"N": "2"}]}, "c": {"N": "5"}}}}),
    ("a.c,b", {"a": {"M": {"c": {"N": "5"}}}, "b": {"S": "hello"}}),
    ("a.x, a.b[0], x, a.b[3].x", {"a": {"M": {"b": {"L": [{"N": "2"}]}}}}),
    ("x", {}),
    ("a.b[3]", {}), ("a.x", {}), ("a.x.y", {}), ("a.b[3].x", {}), ("a.b.x", {}), ("a[0]", {}),
    ("a.b[0].x", {}),
    ("a.b[0][0]", {}),
])
def test_project(text: str, expected: dict[str, Any]) -> None:
    assert projected(text) == expected


def test_project_with_names() -> None:
    assert projected("#n1.#n2", {"#n1": "a", "#n2": "c"}) == {"a": {"M": {"c": {"N": "5"}}}}
    assert projected("#d", {"#d": "a.b"}) == {"a.b": {"S": "dotted"}}


def test_projected_values_are_copies() -> None:
    result = projected("a.b")
    result["a"]["M"]["b"]["L"].clear()
    assert ITEM["a"]["M"]["b"]["L"]


OVERLAP = "Two document paths overlap with each other; must remove or rewrite one of these paths; "
CONFLICT = "Two document paths conflict with each other; must remove or rewrite one of these paths; "


@pytest.mark.parametrize(("text", "message"), [
    ("", "The expression can not be empty;"),
    ("a,", 'Syntax error; token: "<EOF>", near: ","'),
    (",a", 'Syntax error; token: ",", near: ",a"'),
    ("a,,b", 'Syntax error; token: ",", near: ",,b"'),
    ("a b", 'Syntax error; token: "b", near: "a b"'),
    ("#list[].c", 'Syntax error; token: "]", near: "[]."'),
    ("a = :v", 'Syntax error; token: "=", near: "a = :v"'),
    ("COMMENT", "Attribute name is a reserved keyword; reserved keyword: COMMENT"),
    ("a[0].COMMENT", "Attribute name is a reserved keyword; reserved keyword: COMMENT"),
    ("#nope", "An expression attribute name used in the document path is not defined; attribute name: #nope"),
    ("a, a", OVERLAP + "path one: [a], path two: [a]"),
    ("a.b[0],a.b[0]", OVERLAP + "path one: [a, b, [0]], path two: [a, b, [0]]"),
    ("a, a.b", OVERLAP + "path one: [a], path two: [a, b]"),
    ("a.b, a", OVERLAP + "path one: [a, b], path two: [a]"),
    ("a, a.b[2].c", OVERLAP + "path one: [a], path two: [a, b, [2], c]"),
    ("a.b.d.e, a.b", OVERLAP + "path one: [a, b, d, e], path two: [a, b]"),
    ("#n, n", OVERLAP + "path one: [n], path two: [n]"),
    ("a.b, a[1]", CONFLICT + "path one: [a, b], path two: [a, [1]]"),
])
def test_projection_faults(text: str, message: str) -> None:
    with pytest.raises(DynamoDBError) as info:
        parse_projection(text, Context({"#n": "n"}, None))
    assert info.value.message == f"Invalid ProjectionExpression: {message}"


@pytest.mark.parametrize("text", ["a, b", "a.b, a.c", "a.b.d, a.b.e", "a[1], a[2]", "a.b, a.c[2]"])
def test_projection_paths_that_do_not_overlap(text: str) -> None:
    assert len(parse_projection(text, Context(None, None)).paths) == 2


def test_projection_names() -> None:
    assert parse_projection("a.b, c[1], d", Context(None, None)).names == {"a", "c", "d"}


# -- key conditions ---------------------------------------------------------------------------------

VALUES = {":a": {"S": "1"}, ":b": {"S": "2"}, ":n": {"N": "5"}}


def key(text: str, hash_key: str = "a", range_key: str | None = "b") -> KeyCondition:
    ctx = Context(None, VALUES)
    return key_condition(parse_condition(text, ctx, "KeyConditionExpression"), ctx, hash_key, range_key)


@pytest.mark.parametrize(("text", "sort"), [
    ("a = :a", None),
    ("a = :a AND b = :b", ("=", {"S": "2"}, None)),
    ("b >= :b and a = :a", (">=", {"S": "2"}, None)),
    (":b < b AND a = :a", (">", {"S": "2"}, None)),
    (":a = a", None),
    ("a = :a AND b BETWEEN :a AND :b", ("BETWEEN", {"S": "1"}, {"S": "2"})),
    ("a = :a AND begins_with(b, :b)", ("begins_with", {"S": "2"}, None)),
    ("(a = :a) AND (b <= :b)", ("<=", {"S": "2"}, None)),
])
def test_key_conditions(text: str, sort: tuple[Any, ...] | None) -> None:
    condition = key(text)
    assert condition.hash_value == {"S": "1"}
    assert condition.sort == sort


@pytest.mark.parametrize(("text", "value", "matches"), [
    ("a = :a", None, True),
    ("a = :a AND b = :b", {"S": "2"}, True),
    ("a = :a AND b = :b", {"S": "3"}, False),
    ("a = :a AND b = :b", None, False),
    ("a = :a AND b < :b", {"S": "10"}, True),
    ("a = :a AND b < :b", {"S": "2"}, False),
    ("a = :a AND b <= :b", {"S": "2"}, True),
    ("a = :a AND b > :a", {"S": "2"}, True),
    ("a = :a AND b >= :b", {"S": "1"}, False),
    ("a = :a AND :b > b", {"S": "1"}, True),
    ("a = :a AND b BETWEEN :a AND :b", {"S": "1"}, True),
    ("a = :a AND b BETWEEN :a AND :b", {"S": "2"}, True),
    ("a = :a AND b BETWEEN :a AND :b", {"S": "3"}, False),
    ("a = :a AND begins_with(b, :b)", {"S": "2x"}, True),
    ("a = :a AND begins_with(b, :b)", {"S": "x2"}, False),
    ("a = :a AND b > :n", {"N": "10"}, True),
    ("a = :a AND b > :n", {"N": "4.99"}, False),
    ("a = :a AND b > :n", {"S": "9"}, False),
])
def test_matches_sort(text: str, value: dict[str, Any] | None, matches: bool) -> None:
    assert key(text).matches_sort(value) is matches


@pytest.mark.parametrize(("text", "message"), [
    ("a > b and size(b) > c or a > c", "Invalid operator used in KeyConditionExpression: OR"),
    ("a in (b, size(c), d)", "Invalid operator used in KeyConditionExpression: IN"),
    ("attribute_exists(a)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
    ("attribute_not_exists(a)", "Invalid operator used in KeyConditionExpression: attribute_not_exists"),
    ("contains(a.d, b)", "Invalid operator used in KeyConditionExpression: contains"),
    ("not a > b", "Invalid operator used in KeyConditionExpression: NOT"),
    ("a <> b", "Invalid operator used in KeyConditionExpression: <>"),
    (":a between size(b) and size(a) and b > :b", "Invalid condition in KeyConditionExpression: BETWEEN "
                                                  "operator "
                                                 "must have the key attribute as its first operand"),
    ("begins_with(:a, b) and a > :b", "Invalid condition in KeyConditionExpression: begins_with operator "
                                      "must have "
                                      "the key attribute as its first operand"),
    ("size(b) > a AND a.b > b AND b > c", "KeyConditionExpressions cannot contain nested operations"),
    ("a > size(b.d)", "KeyConditionExpressions cannot contain nested operations"),
    ("a between size(b) and size(a)", "KeyConditionExpressions cannot contain nested operations"),
    ("b > a.b", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
                "condition"),
    ("b between c[1] and d", "Invalid condition in KeyConditionExpression: Multiple attribute names used in "
                             "one "
                             "condition"),
    ("a between b and size(a)", "Invalid condition in KeyConditionExpression: Multiple attribute names used "
                                "in one "
                                "condition"),
    ("begins_with(a, b)", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
                          "condition"),
    ("b.d > a AND c.d > e.f", "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("a.d > c", "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("b[0] > a", "KeyConditionExpressions cannot have conditions on nested attributes"),
    (":b > :a AND a < :b", "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("b > :a AND b < :a and c = :a and d = :a", "KeyConditionExpressions must only contain one condition "
                                                "per key"),
    ("(a > :a and b > :a) and (b > :a and c > :a)", "KeyConditionExpressions must only contain one "
                                                    "condition per key"),
    ("a = :a AND a = :b", "KeyConditionExpressions must only contain one condition per key"),
    (":a = a and b = :a and :a = c", "Conditions can be of length 1 or 2 only"),
    ("z between :a and :b", "Query condition missed key schema element: a"),
    ("b = :b", "Query condition missed key schema element: a"),
    ("a > :a", "Query key condition not supported"),
    ("begins_with(a, :a)", "Query key condition not supported"),
    ("a = :a AND z = :b", "Query key condition not supported"),
    # parse-phase and validation faults come first, with the expression's name
    ("a = :a AND", 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"'),
    ("a = :zz", "Invalid KeyConditionExpression: An expression attribute value used in expression is not "
                "defined; "
                "attribute value: :zz"),
    ("attribute_type(a, b)", "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                             "function; "
                             "operator or function: attribute_type, operand type: "
                             "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"),
    ("a = :a AND begins_with(b, :n)", "Invalid KeyConditionExpression: Incorrect operand type for operator "
                                      "or "
                                      "function; operator or function: begins_with, operand type: N"),
    ("a = :a AND b between :b and :a", "Invalid KeyConditionExpression: The BETWEEN operator requires upper "
                                       "bound to "
                                       "be greater than or equal to lower bound; lower bound operand: "
                                       "AttributeValue: {S:2}, upper bound operand: AttributeValue: {S:1}"),
    ("a between :n and :a", "Invalid KeyConditionExpression: The BETWEEN operator requires same data type "
                            "for lower "
                            "and upper bounds; lower bound operand: AttributeValue: {N:5}, "
                            "upper bound operand: AttributeValue: {S:1}"),
])
def test_key_condition_faults(text: str, message: str) -> None:
    with pytest.raises(DynamoDBError) as info:
        key(text)
    assert info.value.message == message


def test_hash_only_schema() -> None:
    assert key("a = :a", range_key=None).sort is None
    with pytest.raises(DynamoDBError) as info:
        key("a = :a AND b = :b", range_key=None)
    assert info.value.message == "Query key condition not supported"
