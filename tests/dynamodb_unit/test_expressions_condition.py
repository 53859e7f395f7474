"""Condition / filter expressions: parsing, DynamoDB's error messages, evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.expressions import Context, evaluate, parse_condition
from fakes3.dynamodb.expressions.ast import And, Compare, Not, Or

NAMES = {"#n": "name", "#s": "status", "#dot": "a.b", "#i": "items"}
VALUES: dict[str, Any] = {
    ":one": {"N": "1"}, ":two": {"N": "2"}, ":ten": {"N": "10"}, ":s": {"S": "ab"}, ":x": {"S": "x"},
    ":b": {"B": b"\x01\x02"}, ":l": {"L": [{"N": "1"}]}, ":t": {"BOOL": True}, ":ss": {"SS": ["a"]},
    ":type": {"S": "N"}, ":bad_type": {"S": "STRING"}, ":null": {"NULL": True}, ":m": {"M": {}},
}
ITEM: dict[str, Any] = {
    "pk": {"S": "key"},
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "h": {"S": "hel"},
    "b": {"B": b"\x01\x02\x03"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x01"]},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"SS": ["a"]}, {"L": [{"N": "3"}]}]},
    "m": {"M": {"in1": {"M": {"deep": {"N": "7"}}}, "lst": {"L": [{"S": "p"}, {"M": {"q": {"N": "2"}}}]}}},
    "name": {"S": "Ann"},
    "status": {"S": "on"},
    "a.b": {"N": "9"},
    "items": {"N": "2"},
    "blank": {"S": ""},
}


def error(text: str, kind: str = "ConditionExpression", names: dict[str, str] | None = None,
          values: dict[str, Any] | None = None) -> str:
    with pytest.raises(DynamoDBError) as info:
        ctx = Context(NAMES if names is None else names, VALUES if values is None else values)
        parse_condition(text, ctx, kind)
    assert info.value.code == "ValidationException"
    return str(info.value.message)


def check(text: str, item: dict[str, Any] | None = ITEM) -> bool:
    ctx = Context(NAMES, VALUES)
    return evaluate(parse_condition(text, ctx), item, ctx)


# -- syntax ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "token", "near"), [
    ("a =", "<EOF>", "="),
    ("a = ", "<EOF>", "= "),
    ("a = :one AND", "<EOF>", "AND"),
    ("a > 4", "4", "> 4"),
    ("things are not gonna be ok", "are", "things are not"),
    ("a = :one b = :two", "b", ":one b ="),
    ("a == :one", "=", "== :one"),
    ("a = :one OR OR b = :one", "OR", "OR OR b"),
    ("a IN ()", ")", "()"),
    ("a BETWEEN :one", "<EOF>", ":one"),
    ("a BETWEEN :one OR :two", "OR", ":one OR :two"),
    ("a[-1] = :one", "-", "[-1"),
    ("a[abc] = :one", "abc", "[abc]"),
    ("a[] = :one", "]", "[] ="),
    ("a. = :one", "=", ". = :one"),
    ("_a = :one", "_", "_a"),
    ("a-b = :one", "-", "a-b"),
    ("a = \"x\"", '"', '= "x'),
    ("# = :one", "#", "# ="),
    ("a = :", ":", "= :"),
    ("(a = :one", "<EOF>", ":one"),
    ("a = :one)", ")", ":one)"),
    ("(size(a))[0] > a", "[", ")[0"),
    ("a", "<EOF>", "a"),
    ("   ", "<EOF>", ""),
    ("a = :one AND ()", ")", "()"),
])
def test_syntax_errors(text: str, token: str, near: str) -> None:
    assert error(text) == f'Invalid ConditionExpression: Syntax error; token: "{token}", near: "{near}"'


def test_kind_names_the_expression_in_messages() -> None:
    assert error("a =", "FilterExpression") == (
        'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "="')
    assert error("", "KeyConditionExpression") == (
        "Invalid KeyConditionExpression: The expression can not be empty;")
    assert error("x" * 4097) == (
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size;")


# -- parse-phase and validation faults -------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("status = :one", "Attribute name is a reserved keyword; reserved keyword: status"),
    ("a.Size = :one", "Attribute name is a reserved keyword; reserved keyword: Size"),
    ("#i[0].COMMENT = :one", "Attribute name is a reserved keyword; reserved keyword: COMMENT"),
    ("((a = :one))", "The expression has redundant parentheses;"),
    ("((a)) = :one", "The expression has redundant parentheses;"),
    ("a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
    ("#nope = :one", "An expression attribute name used in the document path is not defined; attribute "
                     "name: #nope"),
    ("a.#nope = :one", "An expression attribute name used in the document path is not defined; "
                       "attribute name: #nope"),
    ("foo(a)", "Invalid function name; function: foo"),
    ("ATTRIBUTE_EXISTS(a)", "Invalid function name; function: ATTRIBUTE_EXISTS"),
    ("if_not_exists(a, :one) = :one", "The function is not allowed in a condition expression; "
                                      "function: if_not_exists"),
    ("list_append(a, :l) = :l", "The function is not allowed in a condition expression; "
                                "function: list_append"),
    ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
    ("NOT size(a)", "The function is not allowed to be used this way in an expression; function: size"),
    ("size(a) AND a = :one", "The function is not allowed to be used this way in an expression; function: "
                             "size"),
    ("begins_with(a, :s) = :t", "The function is not allowed to be used this way in an expression; "
                                "function: begins_with"),
    ("attribute_exists(a) < :one", "The function is not allowed to be used this way in an expression; "
                                   "function: attribute_exists"),
    ("size(attribute_exists(a)) = :one", "The function is not allowed to be used this way in an expression; "
                                         "function: attribute_exists"),
    ("a = a", "The first operand must be distinct from the remaining operands for this operator or function; "
              "operator: =, first operand: [a]"),
    ("contains(a.b[1], a.b[1])", "The first operand must be distinct from the remaining operands for this "
                                 "operator "
                                 "or function; operator: contains, first operand: [a, b, [1]]"),
    ("size(a, b) = :one", "Incorrect number of operands for operator or function; operator or function: "
                          "size, "
                          "number of operands: 2"),
    ("attribute_exists(a, b)", "Incorrect number of operands for operator or function; "
                               "operator or function: attribute_exists, number of operands: 2"),
    ("begins_with(a, :one)", "Incorrect operand type for operator or function; operator or function: "
                             "begins_with, "
                             "operand type: N"),
    ("begins_with(size(a), :s)", "Incorrect operand type for operator or function; "
                                 "operator or function: begins_with, operand type: N"),
    ("size(:one) = :one", "Incorrect operand type for operator or function; operator or function: size, "
                          "operand type: N"),
    ("size(:t) > :one", "Incorrect operand type for operator or function; operator or function: size, "
                        "operand type: BOOL"),
    ("a < :l", "Incorrect operand type for operator or function; operator or function: <, operand type: L"),
    (":m >= a", "Incorrect operand type for operator or function; operator or function: >=, operand type: M"),
    ("a BETWEEN :l AND :l", "Incorrect operand type for operator or function; operator or function: BETWEEN, "
                            "operand type: L"),
    ("attribute_exists(:one)", "Operator or function requires a document path; operator or function: "
                               "attribute_exists"),
    ("attribute_not_exists(size(a))", "Operator or function requires a document path; operator or function: "
                                      "attribute_not_exists"),
    ("attribute_type(a, b)", "Incorrect operand type for operator or function; operator or function: "
                             "attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"),
    ("attribute_type(a, :one)", "Incorrect operand type for operator or function; operator or function: "
                                "attribute_type, operand type: N"),
    ("attribute_type(a, :bad_type)", "Invalid attribute type name found; type: STRING, "
                                     "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
    ("a BETWEEN :two AND :one", "The BETWEEN operator requires upper bound to be greater than or equal to "
                                "lower "
                                "bound; lower bound operand: AttributeValue: {N:2}, "
                                "upper bound operand: AttributeValue: {N:1}"),
    ("a BETWEEN :one AND :s", "The BETWEEN operator requires same data type for lower and upper bounds; "
                              "lower bound operand: AttributeValue: {N:1}, upper bound operand: "
                              "AttributeValue: {S:ab}"),
])
def test_validation_faults(text: str, message: str) -> None:
    assert error(text) == f"Invalid ConditionExpression: {message}"


@pytest.mark.parametrize(("text", "message"), [
    # syntax errors beat everything
    ("status = :nope AND", 'Syntax error; token: "<EOF>", near: "AND"'),
    # parse-phase faults: parentheses, then function names, then misplaced functions, then reserved words
    ("((status = :one)) AND foo(a)", "The expression has redundant parentheses;"),
    ("status = :one AND foo(a)", "Invalid function name; function: foo"),
    ("status = :one AND size(a)", "The function is not allowed to be used this way in an expression; "
                                  "function: size"),
    ("a = :nope AND status = :one", "Attribute name is a reserved keyword; reserved keyword: status"),
    # then validation, in post-order: the first fault met wins
    ("begins_with(a, :one) AND b = :nope", "Incorrect operand type for operator or function; "
                                           "operator or function: begins_with, operand type: N"),
    ("b = :nope AND begins_with(a, :one)", "An expression attribute value used in expression is not defined; "
                                           "attribute value: :nope"),
    ("size(a, :nope) = :one", "An expression attribute value used in expression is not defined; "
                              "attribute value: :nope"),
])
def test_fault_precedence(text: str, message: str) -> None:
    assert error(text) == f"Invalid ConditionExpression: {message}"


def test_in_accepts_up_to_100_values() -> None:
    values = {f":v{i}": {"N": str(i)} for i in range(101)}
    parse_condition(f"a IN ({', '.join(list(values)[:100])})", Context(None, values))
    assert error(f"a IN ({', '.join(values)})", values=values, names={"#x": "x"}) == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of "
        "operands: 101")


def test_path_depth_and_operator_limits() -> None:
    deep = ".".join(["a"] * 33)
    assert error(f"{deep} = :one") == ("Invalid ConditionExpression: The document path has too many nesting "
                                       "levels; "
                                       "nesting levels: 33")
    parse_condition(".".join(["a"] * 32) + " = :one", Context(None, {":one": {"N": "1"}}))
    many = " OR ".join(["a = :one"] * 151)
    assert error(many, values={":one": {"N": "1"}}, names={"#x": "x"}) == (
        "Invalid ConditionExpression: The expression contains too many operators; operator count: 301")


# -- precedence and structure -------------------------------------------------------------------

def test_precedence_not_and_or() -> None:
    ctx = Context(None, {":v": {"N": "1"}})
    tree = parse_condition("a = :v OR b = :v AND c = :v", ctx)
    assert isinstance(tree, Or) and isinstance(tree.right, And)
    tree = parse_condition("NOT a = :v AND b = :v", ctx)
    assert isinstance(tree, And) and isinstance(tree.left, Not)
    tree = parse_condition("(a = :v OR b = :v) AND c = :v", ctx)
    assert isinstance(tree, And) and isinstance(tree.left, Or)
    tree = parse_condition("NOT (a = :v OR b = :v)", ctx)
    assert isinstance(tree, Not) and isinstance(tree.operand, Or)
    tree = parse_condition("a = :v and b = :v Or not c = :v", ctx)
    assert isinstance(tree, Or) and isinstance(tree.left, And) and isinstance(tree.right, Not)
    tree = parse_condition("NOT NOT a = :v", ctx)
    assert isinstance(tree, Not) and isinstance(tree.operand, Not)
    tree = parse_condition("(a) = :v", ctx)
    assert isinstance(tree, Compare)


@pytest.mark.parametrize(("text", "expected"), [
    ("n = :two OR n = :one AND s = :x", False),
    ("n = :two AND n = :one OR t = :t", True),
    ("n = :one OR s = :s AND t = :t", False),
    ("NOT n = :one AND t = :t", True),
    ("NOT (n = :one AND t = :t)", True),
    ("NOT (n <> :one OR t = :t)", False),
    ("(n = :one OR t = :t) AND s = :x", False),
])
def test_precedence_evaluation(text: str, expected: bool) -> None:
    assert check(text) is expected


# -- evaluation ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # comparisons, numbers numerically
    ("n = :one", False), ("n > :two", True), ("n >= :ten", False), ("n < :ten", True), ("n <= :two", False),
    ("n <> :one", True), ("s > :s", True), ("s = s2", False),
    ("b > :b", True), ("b < :b", False),
    # different types: false, except <>
    ("n = :s", False), ("n <> :s", True), ("n < :s", False), ("s > :one", False), ("t = :one", False),
    # absent attributes: false, except <>
    ("absent = :one", False), ("absent <> :one", True), ("absent < :one", False), ("absent = gone", False),
    ("absent <> gone", True), (":one > absent", False),
    # deep equality
    ("l = :l", False), ("ss = :ss", False), ("m.in1.deep = :one", False), ("z = :null", True),
    # nested paths
    ("m.in1.deep > :two", True), ("m.lst[0] = :x", False), ("m.lst[1].q = :two", True),
    ("l[3][0] = :one", False), ("l[3][0] > :two", True), ("l[9] = :one", False), ("m.lst.q = :two", False),
    ("s[0] = :x", False), ("m[0] = :x", False), ("l.x = :x", False),
    # placeholders for names; a dot inside a name is part of the name
    ("#n = s", False), ("#dot = :one", False), ("#dot > :two", True), ("#i = :two", True), ("#s <> :x", True),
    # BETWEEN is inclusive and typed
    ("n BETWEEN :one AND :ten", True), ("n BETWEEN :two AND n", True), ("n BETWEEN n AND :ten", True),
    ("n BETWEEN :one AND :two", False), ("s BETWEEN :one AND :two", False),
    ("absent BETWEEN :one AND :two", False),
    ("n BETWEEN s AND :ten", False),
    # IN
    ("n IN (:one, :two, n)", True), ("n IN (:one, :two)", False), ("s IN (:one, :s, :x)", False),
    ("absent IN (:one)", False), ("ss IN (:ss, ss)", True),
    # attribute_exists / attribute_not_exists
    ("attribute_exists(n)", True), ("attribute_exists(absent)", False),
    ("attribute_not_exists(absent)", True),
    ("attribute_exists(m.in1.deep)", True), ("attribute_exists(m.in1.gone)", False),
    ("attribute_exists(l[3][0])", True), ("attribute_exists(l[4])", False), ("attribute_exists(#dot)", True),
    ("attribute_exists(blank)", True),
    # attribute_type
    ("attribute_type(n, :type)", True), ("attribute_type(s, :type)", False),
    ("attribute_type(absent, :type)", False),
    # begins_with: S and B only
    ("begins_with(s, :s)", False), ("begins_with(s, h)", True), ("begins_with(b, :b)", True),
    ("begins_with(n, :s)", False), ("begins_with(absent, :s)", False), ("begins_with(:x, s)", False),
    # contains: substring, subsequence, set and list membership
    ("contains(s, :x)", False), ("contains(s, h)", True), ("contains(ss, :x)", False),
    ("contains(b, :b)", True), ("contains(ns, :one)", True), ("contains(ns, :two)", False),
    ("contains(l, :one)", True), ("contains(l, :x)", True), ("contains(l, :ss)", True),
    ("contains(l, :two)", False),
    ("contains(ss, :ss)", False), ("contains(n, :one)", False), ("contains(absent, :one)", False),
    ("contains(m, :x)", False),
    # size
    ("size(s) = :one", False), ("size(s) > :two", True), ("size(b) < :ten", True), ("size(ss) = :two", True),
    ("size(ns) = :two", True), ("size(l) > :two", True), ("size(m) = :two", True),
    ("size(m.in1) = :one", True),
    ("size(n) = :one", False), ("size(t) = :one", False), ("size(absent) = :one", False),
    ("size(absent) <> :one", True), ("size(s) = :s", False), ("size(:s) = :two", True),
    ("size(blank) < :one", True),
])
def test_evaluate(text: str, expected: bool) -> None:
    assert check(text) is expected


def test_evaluate_string_size_counts_characters() -> None:
    ctx = Context(None, {":three": {"N": "3"}})
    assert evaluate(parse_condition("size(s) = :three", ctx), {"s": {"S": "é😀x"}}, ctx)


def test_evaluate_against_a_missing_item() -> None:
    assert check("attribute_not_exists(pk)", None) is True
    assert check("attribute_exists(pk)", None) is False
    assert check("n <> :one", None) is True
    assert check("NOT n = :one", None) is True
    assert check("n = :one", None) is False


def test_string_order_is_utf8_byte_order() -> None:
    ctx = Context(None, {":v": {"S": "\uffff"}})
    assert evaluate(parse_condition("s > :v", ctx), {"s": {"S": "😀"}}, ctx)


# -- placeholders ---------------------------------------------------------------------------------

def test_context_records_usage_and_reports_unused() -> None:
    ctx = Context({"#a": "a", "#b": "b", "#c": "c"}, {":x": {"S": "x"}, ":y": {"S": "y"}, ":z": {"N": "1"}})
    parse_condition("#a = :x", ctx)
    with pytest.raises(DynamoDBError) as info:
        ctx.check_unused()
    assert info.value.message == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #c}")
    parse_condition("#b = :y AND #c = :x", ctx)
    with pytest.raises(DynamoDBError) as info:
        ctx.check_unused()
    assert info.value.message == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:z}")
    parse_condition("size(#a) = :z", ctx)
    ctx.check_unused()


@pytest.mark.parametrize(("names", "values", "message"), [
    ({}, None, "ExpressionAttributeNames must not be empty"),
    (None, {}, "ExpressionAttributeValues must not be empty"),
    ({"a": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
    ({"#a-b": "a"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'),
    (None, {"b": {"S": "a"}}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'),
    (None, {":b": {"NS": []}}, "ExpressionAttributeValues contains invalid value: One or more parameter "
                               "values were "
                               "invalid: An number set  may not be empty for key :b"),
    (None, {":b": {"S": "a", "N": "1"}}, "ExpressionAttributeValues contains invalid value: Supplied "
                                         "AttributeValue "
                                         "has more than one datatypes set, must contain exactly one of the "
                                         "supported "
                                         "datatypes for key :b"),
])
def test_context_validation(names: dict[str, str] | None, values: dict[str, Any] | None,
                            message: str) -> None:
    with pytest.raises(DynamoDBError) as info:
        Context(names, values)
    assert info.value.message == message


def test_context_normalizes_values_and_accepts_absent_maps() -> None:
    ctx = Context(None, {":n": {"N": "1e3"}, ":_0": {"NS": ["01", "2.50"]}})
    assert ctx.values == {":n": {"N": "1000"}, ":_0": {"NS": ["1", "2.5"]}}
    ctx = Context(None, None)
    ctx.check_unused()
    assert evaluate(parse_condition("attribute_exists(a)", ctx), {"a": {"S": ""}}, ctx)


def test_parsing_never_mutates_the_request_maps() -> None:
    names, values = {"#a": "a"}, {":v": {"N": "01"}}
    ctx = Context(names, values)
    parse_condition("#a = :v", ctx)
    assert names == {"#a": "a"} and values == {":v": {"N": "01"}}


def test_absurd_nesting_is_a_validation_error_not_a_crash() -> None:
    text = "NOT (" * 600 + "a = :one" + ")" * 600
    assert error(text).startswith("Invalid ConditionExpression: The expression contains too many operators")
    ctx = Context(None, {":one": {"N": "1"}})
    assert evaluate(parse_condition("NOT (" * 100 + "a = :one" + ")" * 100, ctx), {"a": {"N": "1"}}, ctx)
