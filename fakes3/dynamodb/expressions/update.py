"""Parsing UpdateExpressions: ``SET``, ``REMOVE``, ``ADD`` and ``DELETE`` clauses.

DynamoDB validates the actions last to first: first every target path (placeholders, overlaps,
conflicts), then every value (placeholders, operands, ADD/DELETE operand types).
"""

from __future__ import annotations

import functools

from fakes3.dynamodb.expressions import cache, checks
from fakes3.dynamodb.expressions.ast import (
    Action,
    AddAction,
    Arithmetic,
    Call,
    DeleteAction,
    Operand,
    RemoveAction,
    SetAction,
    Update,
    Value,
)
from fakes3.dynamodb.expressions.context import Context
from fakes3.dynamodb.expressions.lexer import NAME
from fakes3.dynamodb.expressions.parser import MISPLACED_FUNCTION, MISUSED, SECTION, Parser
from fakes3.dynamodb.expressions.paths import PathTree
from fakes3.dynamodb.types import type_of

CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
_ALLOWED = {"ADD": ("N", "SS", "NS", "BS"), "DELETE": ("SS", "NS", "BS")}
_LONG_TYPE = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL", "M": "MAP",
              "L": "LIST", "SS": "STRING_SET", "NS": "NUMBER_SET", "BS": "BINARY_SET"}


class UpdateParser(Parser):
    keywords = frozenset(CLAUSES)
    functions = frozenset(checks.UPDATE_FUNCTIONS)
    foreign = "The function is not allowed in an update expression; function: "

    def parse(self) -> Update:
        actions = self.run(self.parse_clauses)
        try:
            validate_actions(actions)
        except checks.Invalid as e:
            raise self.error(str(e)) from None
        return Update(tuple(actions))

    def parse_clauses(self) -> list[Action]:
        actions: list[Action] = []
        seen: set[str] = set()
        if not self._at_clause():
            self.fail()
        while self._at_clause():
            clause = self.advance().text.upper()
            if clause in seen:
                self.note(SECTION, f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            actions.extend(self.comma_separated(functools.partial(self.parse_action, clause)))
        return actions

    def _at_clause(self) -> bool:
        token = self.peek()
        return token.kind == NAME and token.text.upper() in CLAUSES

    def parse_action(self, clause: str) -> Action:
        path = self.parse_path()
        if clause == "SET":
            self.expect_punct("=")
            return SetAction(path, self.parse_set_value())
        if clause == "REMOVE":
            return RemoveAction(path)
        value = self.parse_value()
        return AddAction(path, value) if clause == "ADD" else DeleteAction(path, value)

    def parse_set_value(self) -> Operand:
        left = self.parse_operand()
        token = self.peek()
        if token.is_punct("+") or token.is_punct("-"):
            self.advance()
            return Arithmetic(token.text, left, self.parse_operand())
        return left

    def parse_call(self) -> Call:
        call = super().parse_call()
        for arg in call.args:
            if isinstance(arg, Call) and arg.name == "list_append":
                self.note(MISPLACED_FUNCTION, f"{MISUSED}list_append")
        return call

    def parse_grouped(self) -> Operand:
        """In a SET value, parentheses may also hold ``x + y`` / ``x - y``."""
        return self.parse_set_value()


def validate_actions(actions: list[Action]) -> None:
    validator, tree = checks.Validator(), PathTree()
    for action in reversed(actions):
        validator.path(action.path)
        tree.add(action.path)
    for action in reversed(actions):
        if isinstance(action, SetAction):
            validator.operand(action.value)
        elif isinstance(action, AddAction | DeleteAction):
            validator.operand(action.value)
            check_action_value("ADD" if isinstance(action, AddAction) else "DELETE", action.value)


def check_action_value(clause: str, value: Value) -> None:
    kind = type_of(value.value)
    if kind not in _ALLOWED[clause]:
        raise checks.Invalid("Incorrect operand type for operator or function; "
                             f"operator: {clause}, operand type: {_LONG_TYPE[kind]}, "
                             f"typeSet: ALLOWED_FOR_{clause}_OPERAND")


def parse_update(text: str, ctx: Context) -> Update:
    """Parse an UpdateExpression."""
    kind = "UpdateExpression"
    return cache.cached(lambda: UpdateParser(text, ctx, kind).parse(), "update", kind, text, ctx)
