"""ExpressionAttributeNames / ExpressionAttributeValues of one request, and which were used."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fakes3.dynamodb.errors import validation
from fakes3.dynamodb.types import AttributeValue, validate_value

_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


class Context:
    """The placeholders of one request.

    Pass ``None`` for a parameter the request did not send: an empty map is DynamoDB's
    ``ExpressionAttributeNames must not be empty``. Values are validated and normalized. Parsing
    records which placeholders an expression used; call ``check_unused()`` once every expression
    of the request has been parsed.
    """

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        _check_keys("ExpressionAttributeNames", names, _NAME_KEY)
        _check_keys("ExpressionAttributeValues", values, _VALUE_KEY)
        self.names: dict[str, str] = dict(names or {})
        self.values: dict[str, AttributeValue] = {k: validate_value(v, k) for k, v in (values or {}).items()}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self._key: tuple[Any, ...] | None | bool = False  # False: not computed yet

    def key(self) -> tuple[Any, ...] | None:
        """The placeholders as a hashable value, for the parse cache; None when the values are not
        all small scalars (such requests are not cached)."""
        if self._key is False:
            self._key = _placeholders_key(self.names, self.values)
        return self._key  # type: ignore[return-value]

    def name(self, placeholder: str) -> str | None:
        """The attribute name behind ``#placeholder`` (recorded as used), or None if undefined."""
        if placeholder not in self.names:
            return None
        self.used_names.add(placeholder)
        return self.names[placeholder]

    def value(self, placeholder: str) -> AttributeValue | None:
        """The value behind ``:placeholder`` (recorded as used), or None if undefined."""
        if placeholder not in self.values:
            return None
        self.used_values.add(placeholder)
        return self.values[placeholder]

    def check_unused(self) -> None:
        _check_used("ExpressionAttributeNames", self.names, self.used_names)
        _check_used("ExpressionAttributeValues", self.values, self.used_values)


MAX_CACHED_VALUE = 256  # characters or bytes of one cacheable ExpressionAttributeValue


def _placeholders_key(names: dict[str, str], values: dict[str, AttributeValue]) -> tuple[Any, ...] | None:
    frozen = []
    for placeholder, value in values.items():
        if len(value) != 1:
            return None
        kind, raw = next(iter(value.items()))
        if kind in ("S", "N", "B"):
            if len(raw) > MAX_CACHED_VALUE:
                return None
            frozen.append((placeholder, kind, raw))
        elif kind in ("BOOL", "NULL"):
            frozen.append((placeholder, kind, raw is True))
        else:
            return None
    return tuple(names.items()), tuple(frozen)


def _check_keys(parameter: str, given: Mapping[str, Any] | None, pattern: re.Pattern[str]) -> None:
    """A placeholder map as sent (None: not sent): not empty, and every key well formed."""
    if given is None:
        return
    if not given:
        raise validation(f"{parameter} must not be empty")
    for key in given:
        if not pattern.fullmatch(key):
            raise validation(f'{parameter} contains invalid key: Syntax error; key: "{key}"')


def _check_used(parameter: str, defined: Mapping[str, Any], used: set[str]) -> None:
    unused = [k for k in defined if k not in used]
    if unused:
        raise validation(f"Value provided in {parameter} unused in expressions: "
                         f"keys: {{{', '.join(unused)}}}")
