"""ExpressionAttributeNames / ExpressionAttributeValues of one request, and which were used."""

from __future__ import annotations

import re
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
        if names is not None:
            if not names:
                raise validation("ExpressionAttributeNames must not be empty")
            for key in names:
                if not _NAME_KEY.fullmatch(key):
                    raise validation(f'ExpressionAttributeNames contains invalid key: Syntax error; '
                                     f'key: "{key}"')
        if values is not None:
            if not values:
                raise validation("ExpressionAttributeValues must not be empty")
            for key in values:
                if not _VALUE_KEY.fullmatch(key):
                    raise validation(f'ExpressionAttributeValues contains invalid key: Syntax error; '
                                     f'key: "{key}"')
        self.names: dict[str, str] = dict(names or {})
        self.values: dict[str, AttributeValue] = {k: validate_value(v, k) for k, v in (values or {}).items()}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

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
        unused_names = [k for k in self.names if k not in self.used_names]
        if unused_names:
            raise validation("Value provided in ExpressionAttributeNames unused in expressions: "
                             f"keys: {{{', '.join(unused_names)}}}")
        unused_values = [k for k in self.values if k not in self.used_values]
        if unused_values:
            raise validation("Value provided in ExpressionAttributeValues unused in expressions: "
                             f"keys: {{{', '.join(unused_values)}}}")
