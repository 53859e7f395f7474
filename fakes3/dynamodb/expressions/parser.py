"""Recursive-descent parsing shared by every expression kind, and condition expressions.

DynamoDB checks an expression in two phases, and so do we. Parsing stops at the first syntax
error; the parse-phase faults (redundant parentheses, unknown or misplaced functions, reserved
words, repeated update sections) are collected and the most important is raised. Then the tree is
validated (``checks``): placeholders, operand counts and types, in post-order, first fault wins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, TypeVar

from fakes3.dynamodb.errors import validation
from fakes3.dynamodb.expressions import cache, checks
from fakes3.dynamodb.expressions.ast import (
    And,
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
from fakes3.dynamodb.expressions.lexer import (
    ATTR_NAME,
    EOF,
    NAME,
    NUMBER,
    PUNCT,
    VALUE,
    ParseFailure,
    Token,
    syntax_error,
    tokenize,
)
from fakes3.dynamodb.expressions.reserved import is_reserved

T = TypeVar("T")


@functools.lru_cache(maxsize=512)
def _tokens(text: str) -> list[Token]:
    """``tokenize``, kept for texts seen again (the list is never changed)."""
    return tokenize(text)


# parse-phase fault categories, most important first
PARENS = "parens"
UNKNOWN_FUNCTION = "unknown_function"
MISPLACED_FUNCTION = "misplaced_function"
RESERVED = "reserved"
SECTION = "section"
PARSE_PHASE = (PARENS, UNKNOWN_FUNCTION, MISPLACED_FUNCTION, RESERVED, SECTION)

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
MAX_EXPRESSION_LENGTH = 4096
_BOOLEAN_FUNCTIONS = frozenset(checks.CONDITION_FUNCTIONS) - {"size"}
MISUSED = "The function is not allowed to be used this way in an expression; function: "


class Parser:
    """Tokens, paths, placeholders and fault bookkeeping common to every expression kind."""

    keywords: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()  # the functions this expression kind may call
    foreign: str = ""  # the message for a function of another expression kind

    def __init__(self, text: str, ctx: Context, kind: str) -> None:
        if not isinstance(text, str) or not text:
            raise validation(f"Invalid {kind}: The expression can not be empty;")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise validation(f"Invalid {kind}: Expression size has exceeded the maximum allowed size;")
        self.text, self.ctx, self.kind = text, ctx, kind
        self.tokens = _tokens(text)
        self.pos = 0
        self.problems: dict[str, str] = {}
        self._parenthesized: dict[int, object] = {}

    # -- tokens -----------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def fail(self) -> NoReturn:
        raise ParseFailure(self.pos)

    def expect_punct(self, text: str) -> None:
        if not self.peek().is_punct(text):
            self.fail()
        self.advance()

    def at_keyword(self, word: str) -> bool:
        return self.peek().is_keyword(word)

    def comma_separated(self, rule: Callable[[], T]) -> list[T]:
        """``rule`` once, then again after each comma."""
        items = [rule()]
        while self.peek().is_punct(","):
            self.advance()
            items.append(rule())
        return items

    def run(self, rule: Callable[[], T]) -> T:
        """Parse the whole text with ``rule``, then raise the syntax error or parse-phase fault."""
        try:
            result = rule()
            if self.peek().kind != EOF:
                self.fail()
        except ParseFailure as failure:
            raise syntax_error(self.kind, self.text, self.tokens, failure.index) from None
        except RecursionError:
            # Only hundreds of nested parentheses get here; DynamoDB refuses such an expression too
            # (redundant parentheses, or more than 300 operators). Never let it become a 500.
            raise self.error("The expression contains too many operators; "
                             f"operator count: {checks.MAX_OPERATORS + 1}") from None
        for category in PARSE_PHASE:
            if category in self.problems:
                raise self.error(self.problems[category])
        return result

    # -- faults -------------------------------------------------------------------------------

    def error(self, message: str) -> Exception:
        return validation(f"Invalid {self.kind}: {message}")

    def note(self, category: str, message: str) -> None:
        self.problems.setdefault(category, message)

    def mark_parenthesized(self, node: object) -> None:
        if id(node) in self._parenthesized:
            self.note(PARENS, "The expression has redundant parentheses;")
        self._parenthesized[id(node)] = node

    # -- paths, placeholders, calls -----------------------------------------------------------

    def path_name(self, path_undefined: list[str]) -> str:
        token = self.peek()
        if token.kind == NAME and token.text.upper() not in self.keywords:
            self.advance()
            if is_reserved(token.text):
                self.note(RESERVED, f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
            return token.text
        if token.kind == ATTR_NAME:
            self.advance()
            name = self.ctx.name(token.text)
            if name is None:
                path_undefined.append(token.text)
                return token.text
            return name
        self.fail()

    def parse_path(self) -> Path:
        undefined: list[str] = []
        elements: list[PathElement] = [self.path_name(undefined)]
        while True:
            if self.peek().is_punct("."):
                self.advance()
                elements.append(self.path_name(undefined))
            elif self.peek().is_punct("["):
                self.advance()
                token = self.peek()
                if token.kind != NUMBER:
                    self.fail()
                self.advance()
                self.expect_punct("]")
                elements.append(int(token.text))
            else:
                return Path(tuple(elements), undefined[0] if undefined else None)

    def parse_value(self) -> Value:
        token = self.peek()
        if token.kind != VALUE:
            self.fail()
        self.advance()
        return Value(token.text, self.ctx.value(token.text) or {})

    def parse_call(self) -> Call:
        name = self.advance().text
        self.expect_punct("(")
        args = self.comma_separated(self.parse_operand)
        self.expect_punct(")")
        if name not in self.functions:
            if name in checks.FUNCTIONS:
                self.note(MISPLACED_FUNCTION, f"{self.foreign}{name}")
            else:
                self.note(UNKNOWN_FUNCTION, f"Invalid function name; function: {name}")
        return Call(name, tuple(args))

    def parse_operand(self) -> Operand:
        token = self.peek()
        if token.is_punct("("):
            self.advance()
            inner = self.parse_grouped()
            self.expect_punct(")")
            self.mark_parenthesized(inner)
            return inner
        if token.kind == NAME and self.peek(1).is_punct("("):
            return self.parse_call()
        if token.kind == VALUE:
            return self.parse_value()
        return self.parse_path()

    def parse_grouped(self) -> Operand:
        """What parentheses may hold where an operand is expected: another operand."""
        return self.parse_operand()


class ConditionParser(Parser):
    keywords = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
    functions = frozenset(checks.CONDITION_FUNCTIONS)
    foreign = "The function is not allowed in a condition expression; function: "

    def parse(self) -> Condition:
        condition = self.run(self.parse_top)
        try:
            checks.validate_condition(condition)
        except checks.Invalid as e:
            raise self.error(str(e)) from None
        return condition

    def parse_top(self) -> Condition:
        condition = self.parse_or()
        self.check_boolean(condition)
        return condition

    def parse_or(self) -> Condition:
        left = self.parse_and()
        while self.at_keyword("OR"):
            self.advance()
            right = self.parse_and()
            self.check_boolean(left)
            self.check_boolean(right)
            left = Or(left, right)
        return left

    def parse_and(self) -> Condition:
        left = self.parse_not()
        while self.at_keyword("AND"):
            self.advance()
            right = self.parse_not()
            self.check_boolean(left)
            self.check_boolean(right)
            left = And(left, right)
        return left

    def parse_not(self) -> Condition:
        if self.at_keyword("NOT"):
            self.advance()
            operand = self.parse_not()
            self.check_boolean(operand)
            return Not(operand)
        return self.parse_primary()

    def parse_primary(self) -> Condition:
        if not self.peek().is_punct("("):
            return self.parse_comparison()
        # "(" opens either a parenthesized condition or a parenthesized operand: try both.
        start, problems = self.pos, dict(self.problems)
        try:
            self.advance()
            inner = self.parse_or()
            self.expect_punct(")")
            if self.peek().kind == PUNCT and self.peek().text in COMPARATORS:
                self.fail()
            self.mark_parenthesized(inner)
            return inner
        except ParseFailure as first:
            self.pos, self.problems = start, problems
            try:
                return self.parse_comparison()
            except ParseFailure as second:
                raise (first if first.index >= second.index else second) from None

    def parse_comparison(self) -> Condition:
        left = self.parse_operand()
        token = self.peek()
        if token.kind == PUNCT and token.text in COMPARATORS:
            self.advance()
            right = self.parse_operand()
            self.check_operands((left, right))
            return Compare(token.text, left, right)
        if token.is_keyword("BETWEEN"):
            self.advance()
            low = self.parse_operand()
            if not self.at_keyword("AND"):
                self.fail()
            self.advance()
            high = self.parse_operand()
            self.check_operands((left, low, high))
            return Between(left, low, high)
        if token.is_keyword("IN"):
            self.advance()
            self.expect_punct("(")
            choices = self.comma_separated(self.parse_operand)
            self.expect_punct(")")
            self.check_operands((left, *choices))
            return In(left, tuple(choices))
        if isinstance(left, Call):
            self.check_operands(left.args)
            return left
        self.fail()

    def parse_call(self) -> Call:
        call = super().parse_call()
        self.check_operands(call.args)
        return call

    def check_operands(self, operands: tuple[Operand, ...]) -> None:
        """Only ``size`` yields a value; the other condition functions are conditions themselves."""
        for operand in operands:
            if isinstance(operand, Call) and operand.name in _BOOLEAN_FUNCTIONS:
                self.note(MISPLACED_FUNCTION, f"{MISUSED}{operand.name}")
                return

    def check_boolean(self, condition: Condition) -> None:
        if isinstance(condition, Call) and condition.name == "size":
            self.note(MISPLACED_FUNCTION, f"{MISUSED}size")


def parse_condition(text: str, ctx: Context, kind: str = "ConditionExpression") -> Condition:
    """Parse a ConditionExpression, FilterExpression or KeyConditionExpression."""
    return cache.cached(lambda: ConditionParser(text, ctx, kind).parse(), "condition", kind, text, ctx)
