"""Update expressions: parsing, DynamoDB's error messages, and applying them to items."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.expressions import Context, apply_update, parse_update

NAMES = {"#c": "c", "#d": "[3]", "#dot": "a.b", "#b": "b"}
VALUES: dict[str, Any] = {
    ":one": {"N": "1"}, ":two": {"N": "2"}, ":s": {"S": "str"}, ":l": {"L": [{"S": "new"}]}, ":e": {"L": []},
    ":ss": {"SS": ["a", "z"]}, ":ns": {"NS": ["1", "5"]}, ":bs": {"BS": [b"\x01"]},
    ":m": {"M": {"k": {"S": "v"}}},
    ":b": {"B": b"b"}, ":t": {"BOOL": True}, ":null": {"NULL": True}, ":big": {"N": "9" * 38},
}


def error(text: str, names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> str:
    with pytest.raises(DynamoDBError) as info:
        parse_update(text, Context(NAMES if names is None else names, VALUES if values is None else values))
    assert info.value.code == "ValidationException"
    return str(info.value.message)


def update(text: str, item: dict[str, Any], exists: bool = True) -> tuple[dict[str, Any], set[str]]:
    ctx = Context(NAMES, VALUES)
    before = copy.deepcopy(item)
    result = apply_update(parse_update(text, ctx), item, ctx, exists=exists)
    assert item == before  # never mutated
    return result


def apply_error(text: str, item: dict[str, Any], exists: bool = True) -> str:
    ctx = Context(NAMES, VALUES)
    parsed = parse_update(text, ctx)
    with pytest.raises(DynamoDBError) as info:
        apply_update(parsed, item, ctx, exists=exists)
    return str(info.value.message)


# -- syntax -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "token", "near"), [
    ("INVALID SYNTAX HERE", "INVALID", "INVALID SYNTAX"),
    ("SET path = VALUE 1", "1", "VALUE 1"),
    ("ADD hits : incr", ":", "hits : incr"),
    ("SET a", "<EOF>", "a"),
    ("SET a =", "<EOF>", "="),
    ("SET a = :one +", "<EOF>", "+"),
    ("SET a = b + c + d", "+", "c + d"),
    ("SET numx = numx * :one", "*", "numx * :one"),
    ("SET numx = numx / :one", "/", "numx / :one"),
    ("ADD numx", "<EOF>", "numx"),
    ("DELETE setx", "<EOF>", "setx"),
    ("ADD numx 1", "1", "numx 1"),
    ("DELETE setx a", "a", "setx a"),
    ("SET :a = b", ":a", "SET :a ="),
    ("REMOVE :a", ":a", "REMOVE :a"),
    ("SET a = set", "set", "= set"),
    ("SET a[1] = \"eight\"", '"', '= "eight'),
    ("SET a[1] = 1", "1", "= 1"),
    ("SET _123 = :one", "_", "SET _123"),
    ("SET a = (b.c).d + e", ".", ").d"),
    ("SET (a = :one)", "(", "SET (a"),
    ("SET if_not_exists(a, b) = a", "(", "if_not_exists(a"),
    ("SET a = if_not_exists(a, :one + :two)", "+", ":one + :two"),
    ("SET a = :one,", "<EOF>", ","),
    ("REMOVE a b", "b", "a b"),
    ("SET a = :one REMOVE", "<EOF>", "REMOVE"),
    ("SET a[:one] = :two", ":one", "[:one]"),
    ("SET #lst[0.#c = :one", ".", "0.#c"),
])
def test_syntax_errors(text: str, token: str, near: str) -> None:
    assert error(text) == f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'


def test_empty_expression() -> None:
    assert error("") == "Invalid UpdateExpression: The expression can not be empty;"


# -- faults ---------------------------------------------------------------------------------------

OVERLAP = "Two document paths overlap with each other; must remove or rewrite one of these paths; "
CONFLICT = "Two document paths conflict with each other; must remove or rewrite one of these paths; "


@pytest.mark.parametrize(("text", "message"), [
    ("SET a = :one SET b = :one", 'The "SET" section can only be used once in an update expression;'),
    ("remove a set b = :one remove e", 'The "REMOVE" section can only be used once in an update expression;'),
    ("add a :one set b = :one add e :one", 'The "ADD" section can only be used once in an update '
                                           'expression;'),
    ("delete a :ss set b = :one delete e :ss", 'The "DELETE" section can only be used once in an update '
                                               'expression;'),
    ("SET a = :one REMOVE b SET c = :one", 'The "SET" section can only be used once in an update '
                                           'expression;'),
    (" set #c = :one set abOrt = true ", "Attribute name is a reserved keyword; reserved keyword: abOrt"),
    ("REMOVE Absolute", "Attribute name is a reserved keyword; reserved keyword: Absolute"),
    ("SET a = :one, b = size", "Attribute name is a reserved keyword; reserved keyword: size"),
    ("set #c = if_not_exist(:one) set c = d", "Invalid function name; function: if_not_exist"),
    ("SET a = LIST_APPEND(:l, :l)", "Invalid function name; function: LIST_APPEND"),
    ("SET x = size(:s)", "The function is not allowed in an update expression; function: size"),
    ("SET x = begins_with(a, :s)", "The function is not allowed in an update expression; function: "
                                   "begins_with"),
    ("SET a = list_append(list_append(:l, :l), :l)", "The function is not allowed to be used this way in an "
                                                     "expression; function: list_append"),
    ("SET a = #nope", "An expression attribute name used in the document path is not defined; "
                      "attribute name: #nope"),
    ("SET #nope = :one", "An expression attribute name used in the document path is not defined; "
                         "attribute name: #nope"),
    ("SET a = :nope", "An expression attribute value used in expression is not defined; attribute value: "
                      ":nope"),
    ("SET a = if_not_exists(:nope, :one)", "An expression attribute value used in expression is not defined; "
                                           "attribute value: :nope"),
    ("set a = #c set c = :one", 'The "SET" section can only be used once in an update expression;'),
    ("SET a = if_not_exists(c)", "Incorrect number of operands for operator or function; "
                                 "operator or function: if_not_exists, number of operands: 1"),
    ("SET a = list_append(c)", "Incorrect number of operands for operator or function; "
                               "operator or function: list_append, number of operands: 1"),
    ("SET a = if_not_exists(:one, c)", "Operator or function requires a document path; "
                                       "operator or function: if_not_exists"),
    ("SET a = if_not_exists(if_not_exists(a, b), c)", "Operator or function requires a document path; "
                                                      "operator or function: if_not_exists"),
    ("SET a = list_append(:s, a)", "Incorrect operand type for operator or function; "
                                   "operator or function: list_append, operand type: S"),
    ("SET a = list_append(a, :m)", "Incorrect operand type for operator or function; "
                                   "operator or function: list_append, operand type: M"),
    ("SET a = a + :s", "Incorrect operand type for operator or function; operator or function: +, operand "
                       "type: S"),
    ("SET a = :b - a", "Incorrect operand type for operator or function; operator or function: -, operand "
                       "type: B"),
    ("SET a = a + :ns", "Incorrect operand type for operator or function; operator or function: +, operand "
                        "type: NS"),
    ("SET a = list_append(a, :l) + :one", "Incorrect operand type for operator or function; "
                                          "operator or function: +, operand type: L"),
    ("ADD a :s", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING, "
                 "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :l", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, "
                 "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :m", "Incorrect operand type for operator or function; operator: ADD, operand type: MAP, "
                 "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :t", "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN, "
                 "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :b", "Incorrect operand type for operator or function; operator: ADD, operand type: BINARY, "
                 "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("ADD a :null", "Incorrect operand type for operator or function; operator: ADD, operand type: NULL, "
                    "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("DELETE a :one", "Incorrect operand type for operator or function; operator: DELETE, operand type: "
                      "NUMBER, "
                      "typeSet: ALLOWED_FOR_DELETE_OPERAND"),
    ("DELETE a :s", "Incorrect operand type for operator or function; operator: DELETE, operand type: "
                    "STRING, "
                    "typeSet: ALLOWED_FOR_DELETE_OPERAND"),
    # ADD/DELETE faults are found before the faults of the SET actions written before them
    ("set b = list_append(:s, a), c = if_not_exists(a) add a.b :s", "Incorrect operand type for operator or "
     "function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"),
    # overlaps and conflicts: DynamoDB checks the paths last to first
    ("SET a = :one, a = :two", OVERLAP + "path one: [a], path two: [a]"),
    ("SET #b = :one, b = :two", OVERLAP + "path one: [b], path two: [b]"),
    ("SET a = :one, a.b = :two", OVERLAP + "path one: [a], path two: [a, b]"),
    ("SET a.b = :one, a = :two", OVERLAP + "path one: [a, b], path two: [a]"),
    ("SET profile.title = :one REMOVE profile", OVERLAP + "path one: [profile, title], path two: [profile]"),
    ("SET lst[0] = :one, lst[0].ok = :one", OVERLAP + "path one: [lst, [0]], path two: [lst, [0], ok]"),
    ("SET a = :one REMOVE a[1]", OVERLAP + "path one: [a], path two: [a, [1]]"),
    ("REMOVE a, a", OVERLAP + "path one: [a], path two: [a]"),
    ("ADD n :one DELETE n :ss", OVERLAP + "path one: [n], path two: [n]"),
    ("set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a)", OVERLAP + "path one: [c, [1], a], path "
                                                                           "two: [c]"),
    ("set #c[3].#d = a, #c[3] = a", OVERLAP + "path one: [c, [3], [3]], path two: [c, [3]]"),
    ("set #c[3].#d = a, #c.#d[3] = if_not_exists(a)", CONFLICT + "path one: [c, [3], [3]], path two: [c, "
                                                                 "[3], [3]]"),
    ("remove a.#c set a[1] = #b", CONFLICT + "path one: [a, c], path two: [a, [1]]"),
    ("SET a.b = :one, a[1] = :two", CONFLICT + "path one: [a, b], path two: [a, [1]]"),
    ("SET a.b.c = :one, a.b[2] = :two", CONFLICT + "path one: [a, b, c], path two: [a, b, [2]]"),
])
def test_faults(text: str, message: str) -> None:
    assert error(text) == f"Invalid UpdateExpression: {message}"


@pytest.mark.parametrize("text", [
    "SET a.b = :one, a.c = :two",
    "SET a[1] = :one, a[2] = :two",
    "SET a.b = :one, a.c[2] = :two",
    "SET a.b.d = :one, a.b.e = :two REMOVE c, d[1] ADD e :one DELETE f :ss",
    "SET a = list_append(if_not_exists(a, :e), :l)",
    "SET a = if_not_exists(a, :one) + :two",
    "SET a = if_not_exists(b, if_not_exists(c, :one))",
    "SET a = (b + c)",
    "SET a = ((b.c.d)+(e))",
    "sEt a = :one rEmOvE b",
    "  set   b=:one  ",
    "SET #dot = a.b",
    "SET A123_ = :one, Alpha_Numeric_9 = :one",
    "SET a = a",
])
def test_valid_expressions(text: str) -> None:
    parse_update(text, Context(NAMES, VALUES))


# -- applying -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "item", "expected", "changed"), [
    ("SET a = :one", {}, {"a": {"N": "1"}}, {"a"}),
    ("SET a = :s, b = :l", {"a": {"N": "5"}}, {"a": {"S": "str"}, "b": {"L": [{"S": "new"}]}}, {"a", "b"}),
    ("SET b = a", {"a": {"S": "x"}}, {"a": {"S": "x"}, "b": {"S": "x"}}, {"b"}),
    ("SET a = a + :one", {"a": {"N": "2.5"}}, {"a": {"N": "3.5"}}, {"a"}),
    ("SET a = :one - a", {"a": {"N": "3"}}, {"a": {"N": "-2"}}, {"a"}),
    ("SET a = if_not_exists(a, :one) + :two", {}, {"a": {"N": "3"}}, {"a"}),
    ("SET a = if_not_exists(a, :one)", {"a": {"S": "kept"}}, {"a": {"S": "kept"}}, {"a"}),
    ("SET b = if_not_exists(c, :one)", {}, {"b": {"N": "1"}}, {"b"}),
    ("SET a = list_append(a, :l)", {"a": {"L": [{"N": "0"}]}},
     {"a": {"L": [{"N": "0"}, {"S": "new"}]}}, {"a"}),
    ("SET a = list_append(:l, a)", {"a": {"L": [{"N": "0"}]}},
     {"a": {"L": [{"S": "new"}, {"N": "0"}]}}, {"a"}),
    ("SET a = list_append(if_not_exists(a, :e), :l)", {}, {"a": {"L": [{"S": "new"}]}}, {"a"}),
    ("SET #dot = :one", {"a": {"M": {}}}, {"a": {"M": {}}, "a.b": {"N": "1"}}, {"a.b"}),
    ("SET m.k = :one, m.n.x = :two", {"m": {"M": {"k": {"S": "old"}, "n": {"M": {}}}}},
     {"m": {"M": {"k": {"N": "1"}, "n": {"M": {"x": {"N": "2"}}}}}}, {"m"}),
    ("SET l[1] = :one", {"l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}},
     {"l": {"L": [{"S": "a"}, {"N": "1"}, {"S": "c"}]}}, {"l"}),
    ("SET l[84] = :one, l[37] = :two, l[17] = :s", {"l": {"L": [{"S": "a"}]}},
     {"l": {"L": [{"S": "a"}, {"S": "str"}, {"N": "2"}, {"N": "1"}]}}, {"l"}),
    ("SET l[0].x = :one", {"l": {"L": [{"M": {}}]}}, {"l": {"L": [{"M": {"x": {"N": "1"}}}]}}, {"l"}),
    ("REMOVE a, b", {"a": {"N": "1"}, "c": {"N": "3"}}, {"c": {"N": "3"}}, {"a", "b"}),
    ("REMOVE m.k, m.gone, l[7]", {"m": {"M": {"k": {"N": "1"}}}, "l": {"L": []}},
     {"m": {"M": {}}, "l": {"L": []}}, {"m", "l"}),
    ("REMOVE l[1], l[3]", {"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}, {"N": "4"}]}},
     {"l": {"L": [{"N": "0"}, {"N": "2"}, {"N": "4"}]}}, {"l"}),
    ("REMOVE l[1] SET l[3] = :s", {"l": {"L": [{"N": "2"}, {"N": "3"}, {"N": "4"}, {"N": "5"}, {"N": "6"}]}},
     {"l": {"L": [{"N": "2"}, {"N": "4"}, {"S": "str"}, {"N": "6"}]}}, {"l"}),
    ("REMOVE a SET b = a", {"a": {"S": "x"}}, {"b": {"S": "x"}}, {"a", "b"}),
    ("ADD n :one", {}, {"n": {"N": "1"}}, {"n"}),
    ("ADD n :one", {"n": {"N": "-1"}}, {"n": {"N": "0"}}, {"n"}),
    ("ADD s :ss", {}, {"s": {"SS": ["a", "z"]}}, {"s"}),
    ("ADD s :ss", {"s": {"SS": ["z", "b"]}}, {"s": {"SS": ["z", "b", "a"]}}, {"s"}),
    ("ADD s :ns", {"s": {"NS": ["5", "7"]}}, {"s": {"NS": ["5", "7", "1"]}}, {"s"}),
    ("ADD m.n :one", {"m": {"M": {}}}, {"m": {"M": {"n": {"N": "1"}}}}, {"m"}),
    ("DELETE s :ss", {"s": {"SS": ["a", "b"]}}, {"s": {"SS": ["b"]}}, {"s"}),
    ("DELETE s :ss", {"s": {"SS": ["a", "z"]}, "k": {"S": "k"}}, {"k": {"S": "k"}}, {"s"}),
    ("DELETE s :ss", {}, {}, {"s"}),
    ("DELETE s :bs", {"s": {"BS": [b"\x01", b"\x02"]}}, {"s": {"BS": [b"\x02"]}}, {"s"}),
    ("DELETE s :ns", {"s": {"NS": ["2", "5"]}}, {"s": {"NS": ["2"]}}, {"s"}),
])
def test_apply(text: str, item: dict[str, Any], expected: dict[str, Any], changed: set[str]) -> None:
    assert update(text, item) == (expected, changed)


def test_set_values_are_copies() -> None:
    new, _ = update("SET a = m, b = :l", {"m": {"M": {"x": {"L": []}}}})
    new["a"]["M"]["x"]["L"].append({"N": "1"})
    new["b"]["L"].append({"N": "1"})
    assert update("SET a = m, b = :l", {"m": {"M": {"x": {"L": []}}}})[0]["b"] == {"L": [{"S": "new"}]}


MISSING = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
BAD_PATH = "The document path provided in the update expression is invalid for update"


@pytest.mark.parametrize(("text", "item", "message"), [
    ("SET c = b", {}, MISSING),
    ("SET x = :one, y = x", {}, MISSING),
    ("SET a = a + :one", {}, MISSING),
    ("SET e = list_append(b, :l)", {}, MISSING),
    ("SET a = a + :one", {"a": {"S": "x"}}, WRONG_TYPE),
    ("SET e = list_append(d, if_not_exists(f, :e))", {"d": {"NS": ["1"]}}, WRONG_TYPE),
    ("ADD d :one", {"d": {"NS": ["1"]}}, WRONG_TYPE),
    ("ADD b :ns", {"b": {"M": {}}}, WRONG_TYPE),
    ("ADD b :ns", {"b": {"SS": ["1"]}}, WRONG_TYPE),
    ("ADD b :ns", {"b": {"L": []}}, WRONG_TYPE),
    ("DELETE d :ss", {"d": {"NS": ["1"]}}, WRONG_TYPE),
    ("DELETE c :ns", {"c": {"N": "1"}}, WRONG_TYPE),
    ("SET b.a = :one", {}, BAD_PATH),
    ("SET b[1] = :one", {}, BAD_PATH),
    ("SET b.a = :one", {"b": {"S": "x"}}, BAD_PATH),
    ("SET c[1] = :one", {"c": {"M": {}}}, BAD_PATH),
    ("SET d.x = :one", {"d": {"L": []}}, BAD_PATH),
    ("SET y.a.b = :one", {"y": {"M": {}}}, BAD_PATH),
    ("REMOVE y.a", {}, BAD_PATH),
    ("REMOVE b[1]", {"b": {"S": "x"}}, BAD_PATH),
    ("ADD y.a :one", {}, BAD_PATH),
    ("ADD c[1] :one", {"c": {"M": {}}}, BAD_PATH),
    ("DELETE y.a :ss", {}, BAD_PATH),
    ("DELETE d.x :ss", {"d": {"L": []}}, BAD_PATH),
    ("ADD n :big", {"n": {"N": "9" * 38}}, "Attempting to store more than 38 significant digits in a Number"),
    ("SET n = :big + :big", {}, "Attempting to store more than 38 significant digits in a Number"),
])
def test_apply_errors(text: str, item: dict[str, Any], message: str) -> None:
    assert apply_error(text, item) == message


def test_remove_of_a_nested_path_in_a_new_item_is_ignored() -> None:
    key = {"pk": {"S": "k"}}
    assert update("REMOVE x.y, w[0], z", key, exists=False) == (key, {"x", "w", "z"})
    assert apply_error("SET x.y = :one", key, exists=False) == BAD_PATH


def test_operands_read_the_item_before_the_update() -> None:
    new, _ = update("SET a = b, b = a", {"a": {"N": "1"}, "b": {"N": "2"}})
    assert new == {"a": {"N": "2"}, "b": {"N": "1"}}
