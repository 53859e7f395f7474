"""The pre-expression parameters (Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
AttributesToGet, ConditionalOperator), rewritten as the expressions they are equivalent to.

Generated placeholders (``#_legacy0``, ``:_legacy0``) join the request's own in one ``Context``;
the rewritten text then goes through the same parser and evaluator as any expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes3.dynamodb.errors import invalid_parameters, validation
from fakes3.dynamodb.expressions import Context
from fakes3.dynamodb.types import type_of, validate_value

_ARGUMENTS = {"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
              "BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "BETWEEN": 2}
_TYPES = {"LE": "SNB", "LT": "SNB", "GE": "SNB", "GT": "SNB", "CONTAINS": "SNB", "NOT_CONTAINS": "SNB",
          "BEGINS_WITH": "SB", "IN": "SNB", "BETWEEN": "SNB"}
_COMPARE = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}

# (expression parameters, non-expression parameters) per operation, as DynamoDB groups them.
_GROUPS = {
    "PutItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "DeleteItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "UpdateItem": (("UpdateExpression", "ConditionExpression"),
                   ("AttributeUpdates", "Expected", "ConditionalOperator")),
    "GetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "Query": (("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
              ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions")),
    "Scan": (("ProjectionExpression", "FilterExpression"),
             ("AttributesToGet", "ScanFilter", "ConditionalOperator")),
}
# Per operation, the parameters whose presence can make ``check_styles`` object.
_STYLED = {operation: frozenset(expressions) | {"ExpressionAttributeNames", "ExpressionAttributeValues"}
           for operation, (expressions, _legacy) in _GROUPS.items()}


def check_styles(operation: str, params: Mapping[str, Any]) -> None:
    """Expressions and legacy parameters may not be mixed (KeyConditions excepted, as on AWS)."""
    if _STYLED[operation].isdisjoint(params):
        return  # no expression and no placeholders: nothing can be mixed (the usual plain call)
    expressions, legacy = _GROUPS[operation]
    used = [e for e in expressions if params.get(e) is not None]
    if used:
        old = [p for p in legacy if params.get(p) is not None
               and not (p == "KeyConditions" and params.get("KeyConditionExpression") is None)]
        if old:
            raise validation("Can not use both expression and non-expression parameters in the same "
                             f"request: Non-expression parameters: {{{', '.join(old)}}} Expression "
                             f"parameters: {{{', '.join(used)}}}")
    if params.get("ExpressionAttributeNames") is not None and not used:
        raise validation("ExpressionAttributeNames can only be specified when using expressions")
    valued = [e for e in expressions if e != "ProjectionExpression"]
    if valued and params.get("ExpressionAttributeValues") is not None and not any(
            params.get(e) is not None for e in valued):
        raise validation("ExpressionAttributeValues can only be specified when using expressions: "
                         f"{' and '.join(valued)} {'are' if len(valued) > 1 else 'is'} null")


class Rewriter:
    """Collects generated placeholders while rewriting legacy parameters as expressions."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        key = f"#_legacy{len(self.names)}"
        self.names[key] = attribute
        return key

    def value(self, value: Any) -> str:
        key = f":_legacy{len(self.values)}"
        self.values[key] = value
        return key

    def context(self, params: Mapping[str, Any]) -> Context:
        """The request's placeholders plus the generated ones."""
        names = params.get("ExpressionAttributeNames")
        values = params.get("ExpressionAttributeValues")
        if self.names:
            names = {**(names or {}), **self.names}
        if self.values:
            values = {**(values or {}), **self.values}
        return Context(names, values)

    # -- conditions -------------------------------------------------------------------------------

    def conditions(self, conditions: Mapping[str, Any], operator: str | None) -> str | None:
        """QueryFilter / ScanFilter / KeyConditions: {attr: {ComparisonOperator, AttributeValueList}}."""
        parts = [self._condition(attr, c.get("ComparisonOperator"), c.get("AttributeValueList") or [])
                 for attr, c in conditions.items()]
        return self._join(parts, operator)

    def expected(self, expected: Mapping[str, Any], operator: str | None) -> str | None:
        parts = []
        for attr, cond in expected.items():
            has_value = cond.get("Value") is not None
            if cond.get("AttributeValueList") is not None and has_value:
                raise invalid_parameters(f"Value and AttributeValueList cannot be used together for "
                                         f"Attribute: {attr}")
            if cond.get("ComparisonOperator") is not None:
                if cond.get("Exists") is not None:
                    raise invalid_parameters(f"Exists and ComparisonOperator cannot be used together for "
                                             f"Attribute: {attr}")
                values = cond.get("AttributeValueList")
                if values is None:
                    values = [cond["Value"]] if has_value else []
                parts.append(self._condition(attr, cond["ComparisonOperator"], values))
                continue
            if cond.get("AttributeValueList") is not None:
                raise invalid_parameters(f"AttributeValueList can only be used with a ComparisonOperator "
                                         f"for Attribute: {attr}")
            exists = cond.get("Exists")
            if exists is False:
                if has_value:
                    raise invalid_parameters(f"Value cannot be used when Exists is false for Attribute: "
                                             f"{attr}")
                parts.append(f"attribute_not_exists({self.name(attr)})")
            elif not has_value:
                shown = "null" if exists is None else "true"
                raise invalid_parameters(f"Value must be provided when Exists is {shown} for "
                                         f"Attribute: {attr}")
            else:
                parts.append(f"{self.name(attr)} = {self.value(cond['Value'])}")
        return self._join(parts, operator)

    def _condition(self, attr: str, operator: str | None, values: list[Any]) -> str:
        if operator is None:
            raise validation("1 validation error detected: Value null at 'comparisonOperator' failed to "
                             "satisfy constraint: Member must not be null")
        wanted = _ARGUMENTS.get(operator)
        if (wanted is not None and len(values) != wanted) or (operator == "IN" and not values):
            raise invalid_parameters(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
        checked = [validate_value(v) for v in values]
        if checked and any(type_of(v) != type_of(checked[0]) for v in checked):
            raise invalid_parameters("AttributeValues inside AttributeValueList must be of same type")
        allowed = _TYPES.get(operator)
        for v in checked:
            kind = type_of(v)
            if allowed is not None and (len(kind) != 1 or kind not in allowed):
                raise invalid_parameters(f"ComparisonOperator {operator} is not valid for {kind} "
                                         "AttributeValue type")
        path = self.name(attr)
        refs = [self.value(v) for v in checked]
        if operator in _COMPARE:
            return f"{path} {_COMPARE[operator]} {refs[0]}"
        if operator == "NULL":
            return f"attribute_not_exists({path})"
        if operator == "NOT_NULL":
            return f"attribute_exists({path})"
        if operator == "CONTAINS":
            return f"contains({path}, {refs[0]})"
        if operator == "NOT_CONTAINS":
            return f"(attribute_exists({path}) AND NOT contains({path}, {refs[0]}))"
        if operator == "BEGINS_WITH":
            return f"begins_with({path}, {refs[0]})"
        if operator == "IN":
            return f"{path} IN ({', '.join(refs)})"
        return f"{path} BETWEEN {refs[0]} AND {refs[1]}"

    @staticmethod
    def _join(parts: list[str], operator: str | None) -> str | None:
        if not parts:
            return None
        return f" {operator or 'AND'} ".join(f"({p})" for p in parts)

    # -- updates and projections ------------------------------------------------------------------

    def updates(self, updates: Mapping[str, Any]) -> str | None:
        """AttributeUpdates: {attr: {Value, Action: PUT | ADD | DELETE}}."""
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for attr, update in updates.items():
            action = update.get("Action") or "PUT"
            value = update.get("Value")
            path = self.name(attr)
            if action == "PUT":
                if value is None:
                    raise invalid_parameters(f"Only DELETE action is allowed when no attribute value is "
                                             f"specified: {attr}")
                clauses["SET"].append(f"{path} = {self.value(value)}")
            elif action == "DELETE":
                if value is None:
                    clauses["REMOVE"].append(path)
                else:
                    if type_of(validate_value(value)) not in ("SS", "NS", "BS"):
                        raise invalid_parameters("DELETE action with value is not supported for the "
                                                 f"type {type_of(value)}")
                    clauses["DELETE"].append(f"{path} {self.value(value)}")
            else:  # ADD
                if value is None:
                    raise invalid_parameters(f"Only DELETE action is allowed when no attribute value is "
                                             f"specified: {attr}")
                if type_of(validate_value(value)) == "L":
                    empty = self.value({"L": []})
                    clauses["SET"].append(f"{path} = list_append(if_not_exists({path}, {empty}), "
                                          f"{self.value(value)})")
                else:
                    clauses["ADD"].append(f"{path} {self.value(value)}")
        text = " ".join(f"{kind} {', '.join(items)}" for kind, items in clauses.items() if items)
        return text or None

    def projection(self, attributes: list[str]) -> str:
        if len(set(attributes)) != len(attributes):
            duplicate = next(a for a in attributes if attributes.count(a) > 1)
            raise invalid_parameters(f"Duplicate value in attribute name: {duplicate}")
        return ", ".join(self.name(a) for a in attributes)
