"""Attribute values: validation and normalization, item size, ordering, equality, keys."""

from __future__ import annotations

from typing import Any

import pytest

from fakes3.dynamodb.errors import DynamoDBError
from fakes3.dynamodb.types import (
    MAX_ITEM_SIZE,
    add_numbers,
    check_item_size,
    compare,
    item_size,
    key_of,
    normalize_number,
    validate_item,
    validate_value,
    value_size,
    values_equal,
)

INVALID = "One or more parameter values were invalid: "
DIGITS = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"


def message(call: Any, *args: Any) -> str:
    with pytest.raises(DynamoDBError) as info:
        call(*args)
    assert info.value.code == "ValidationException"
    return str(info.value.message)


@pytest.mark.parametrize(("text", "normal"), [
    ("1e3", "1000"),
    ("01.50", "1.5"),
    ("-0", "0"),
    ("0.000", "0"),
    ("+7", "7"),
    ("-1.0E-2", "-0.01"),
    (".5", "0.5"),
    ("5.", "5"),
    ("1E+2", "100"),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ("1234567890123456789012345678901234567800000", "1234567890123456789012345678901234567800000"),
    ("0.00000000000000000000000000000000000000000001", "0.00000000000000000000000000000000000000000001"),
    ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + "0" * 88),
    ("1E-130", "0." + "0" * 129 + "1"),
    ("-1E-130", "-0." + "0" * 129 + "1"),
])
def test_numbers_are_normalized_as_dynamodb_returns_them(text: str, normal: str) -> None:
    assert normalize_number(text) == normal
    assert validate_value({"N": text}) == {"N": normal}


@pytest.mark.parametrize(("text", "error"), [
    ("123456789012345678901234567890123456789", DIGITS),
    ("-1.23456789012345678901234567890123456789", DIGITS),
    ("1e126", OVERFLOW),
    ("-1e126", OVERFLOW),
    ("1e-131", UNDERFLOW),
    ("-1e-131", UNDERFLOW),
    ("", "The parameter cannot be converted to a numeric value"),
    ("b", "The parameter cannot be converted to a numeric value: b"),
    ("1.2.3", "The parameter cannot be converted to a numeric value: 1.2.3"),
    ("Infinity", "The parameter cannot be converted to a numeric value: Infinity"),
    ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
    (" 1", "The parameter cannot be converted to a numeric value:  1"),
    ("0x10", "The parameter cannot be converted to a numeric value: 0x10"),
])
def test_invalid_numbers(text: str, error: str) -> None:
    assert message(validate_value, {"N": text}) == error


@pytest.mark.parametrize(("value", "error"), [
    ({}, EMPTY),
    ({"a": ""}, EMPTY),
    ({"M": {"a": {}}}, EMPTY),
    ({"L": [{}]}, EMPTY),
    ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must contain exactly "
                           "one of "
                           "the supported datatypes"),
    ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
    ({"SS": []}, INVALID + "An string set  may not be empty"),
    ({"NS": []}, INVALID + "An number set  may not be empty"),
    ({"BS": []}, INVALID + "Binary sets should not be empty"),
    ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
    ({"BS": [b"b", b"b"]}, INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates."),
    ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
    ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
    ({"NS": ["1", ""]}, "The parameter cannot be converted to a numeric value"),
    ({"NS": ["1", "b"]}, "The parameter cannot be converted to a numeric value: b"),
    ({"M": {"x": {"L": [{"N": "1e200"}]}}}, OVERFLOW),
])
def test_invalid_values(value: dict[str, Any], error: str) -> None:
    assert message(validate_value, value) == error


def test_expression_attribute_values_are_worded_with_their_key() -> None:
    assert message(validate_value, {"SS": []}, ":b") == (
        "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: "
        "An string set  may not be empty for key :b")
    assert message(validate_value, {"N": "x"}, ":v") == (
        "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric "
        "value: x for key :v")


def test_nesting_limit() -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(32):
        value = {"L": [value]}
    validate_value(value)
    assert message(validate_value, {"M": {"x": value}}).startswith("Nesting Levels have exceeded supported "
                                                                   "limits")


def test_valid_values_are_normalized_deeply_without_mutating_input() -> None:
    item = {
        "s": {"S": ""},
        "b": {"B": b""},
        "n": {"N": "1e2"},
        "ns": {"NS": ["1e1", "2.50"]},
        "bs": {"BS": [bytearray(b"x")]},
        "m": {"M": {"n": {"N": "-0"}, "l": {"L": [{"N": "007"}, {"BOOL": False}, {"NULL": True}]}}},
        "e": {"M": {}},
        "el": {"L": []},
    }
    before = repr(item)
    assert validate_item(item) == {
        "s": {"S": ""},
        "b": {"B": b""},
        "n": {"N": "100"},
        "ns": {"NS": ["10", "2.5"]},
        "bs": {"BS": [b"x"]},
        "m": {"M": {"n": {"N": "0"}, "l": {"L": [{"N": "7"}, {"BOOL": False}, {"NULL": True}]}}},
        "e": {"M": {}},
        "el": {"L": []},
    }
    assert repr(item) == before


@pytest.mark.parametrize(("value", "size"), [
    ({"S": "abc"}, 3),
    ({"S": "é"}, 2),
    ({"S": "😀"}, 4),
    ({"B": b"\x00\x01"}, 2),
    ({"BOOL": True}, 1),
    ({"NULL": True}, 1),
    ({"N": "0"}, 1),
    ({"N": "1"}, 2),
    ({"N": "2099"}, 3),
    ({"N": "101"}, 3),
    ({"N": "500"}, 2),
    ({"N": "1000000"}, 2),
    ({"N": "-1"}, 3),
    ({"N": "0.001"}, 2),
    ({"N": "123.45"}, 4),
    ({"N": "12345678901234567890123456789012345678"}, 20),
    ({"N": "-12345678901234567890123456789012345678"}, 21),
    ({"SS": ["ab", "c"]}, 3),
    ({"NS": ["1", "2099"]}, 5),
    ({"BS": [b"ab", b"c"]}, 3),
    ({"L": []}, 3),
    ({"M": {}}, 3),
    ({"L": [{"S": "Author1"}]}, 3 + 7 + 1),
    ({"M": {"ab": {"S": "c"}}}, 3 + 2 + 1 + 1),
])
def test_value_sizes(value: dict[str, Any], size: int) -> None:
    assert value_size(value) == size


def test_item_size_examples() -> None:
    # The worked example of the ddb-calc / DynamoDB item size calculators: 137 bytes.
    book = {
        "Id": {"N": "101"}, "Title": {"S": "Book 101 Title"}, "ISBN": {"S": "111-1111111111"},
        "Authors": {"L": [{"S": "Author1"}]}, "Price": {"N": "2"}, "Dimensions": {"S": "8.5 x 11.0 x 0.5"},
        "PageCount": {"N": "500"}, "InPublication": {"BOOL": True}, "ProductCategory": {"S": "Book"},
    }
    assert item_size(book) == 137
    slot = {
        "itemType": {"S": "SLOT"}, "id": {"S": "abc1231"}, "hostName": {"S": "Harry Mason"},
        "timeSlot": {"S": "February 23, 1999"}, "slotStatus": {"S": "OPEN"}, "createdAt": {"S": "February "
                                                                                                "1, 1999"},
        "updatedAt": {"S": "February 1, 1999"}, "expiresAt": {"N": "2099"},
    }
    assert item_size(slot) == 141
    assert item_size({"née": {"S": ""}}) == 4


def test_check_item_size_limit() -> None:
    # name "a" (1 byte) + value: exactly 400 KB passes, one byte more does not.
    check_item_size({"a": {"S": "x" * (MAX_ITEM_SIZE - 1)}})
    assert message(check_item_size, {"a": {"S": "x" * MAX_ITEM_SIZE}}) == (
        "Item size has exceeded the maximum allowed size")


@pytest.mark.parametrize(("a", "b", "order"), [
    ({"N": "2"}, {"N": "10"}, -1),
    ({"N": "-1.5"}, {"N": "-1.50"}, 0),
    ({"N": "1e2"}, {"N": "99"}, 1),
    ({"S": "B"}, {"S": "a"}, -1),
    ({"S": "z"}, {"S": "é"}, -1),
    ({"S": "\uffff"}, {"S": "😀"}, -1),
    ({"S": "ab"}, {"S": "a"}, 1),
    ({"B": b"\x01"}, {"B": b"\xff"}, -1),
    ({"B": b"a"}, {"B": b"a"}, 0),
])
def test_compare(a: dict[str, Any], b: dict[str, Any], order: int) -> None:
    assert compare(a, b) == order
    assert compare(b, a) == -order


def test_compare_refuses_mixed_or_non_scalar_types() -> None:
    with pytest.raises(TypeError):
        compare({"N": "1"}, {"S": "1"})
    with pytest.raises(TypeError):
        compare({"L": []}, {"L": []})


@pytest.mark.parametrize(("a", "b", "equal"), [
    ({"N": "1"}, {"N": "1.0"}, True),
    ({"N": "1"}, {"S": "1"}, False),
    ({"SS": ["a", "b"]}, {"SS": ["b", "a"]}, True),
    ({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]}, True),
    ({"BS": [b"a"]}, {"BS": [b"b"]}, False),
    ({"L": [{"N": "1"}, {"S": "x"}]}, {"L": [{"N": "1"}, {"S": "x"}]}, True),
    ({"L": [{"N": "1"}, {"S": "x"}]}, {"L": [{"S": "x"}, {"N": "1"}]}, False),
    ({"M": {"a": {"N": "1"}}}, {"M": {"a": {"N": "1.00"}}}, True),
    ({"M": {"a": {"N": "1"}}}, {"M": {"b": {"N": "1"}}}, False),
    ({"BOOL": True}, {"BOOL": True}, True),
    ({"BOOL": True}, {"N": "1"}, False),
    ({"NULL": True}, {"NULL": True}, True),
])
def test_values_equal(a: dict[str, Any], b: dict[str, Any], equal: bool) -> None:
    assert values_equal(a, b) is equal


def test_key_of_is_hashable_and_normalized() -> None:
    schema = [{"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "pk", "KeyType": "HASH"}]
    key = key_of({"pk": {"S": "a"}, "sk": {"N": "1.0"}, "x": {"S": "y"}}, schema)
    assert key == key_of({"sk": {"N": "1"}, "pk": {"S": "a"}}, schema)
    assert key[0] == ("S", "a")
    assert {key: 1}[key] == 1
    hash_only = [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert key_of({"pk": {"B": bytearray(b"k")}}, hash_only) == (("B", b"k"),)


def test_arithmetic_is_exact_and_checked() -> None:
    assert add_numbers({"N": "0.1"}, {"N": "0.2"}) == {"N": "0.3"}
    assert add_numbers({"N": "5"}, {"N": "7"}, subtract=True) == {"N": "-2"}
    big = "9" * 38
    assert message(add_numbers, {"N": big}, {"N": "0.1"}) == DIGITS
    assert message(add_numbers, {"N": "9.9999999999999999999999999999999999999E+125"},
                   {"N": "1E+88"}) == OVERFLOW
