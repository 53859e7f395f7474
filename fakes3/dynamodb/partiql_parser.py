"""PartiQL for DynamoDB: tokens, and a recursive-descent parser for the statements DynamoDB runs.

    SELECT * | path, ... FROM "table"[."index"] [WHERE cond] [ORDER BY key [ASC|DESC], ...]
    INSERT INTO "table" VALUE {'k': v, ...}
    UPDATE "table" SET path = v [, ...] [SET ...] [REMOVE path, ...] WHERE cond [RETURNING ...]
    DELETE FROM "table" WHERE cond [RETURNING ALL OLD *]
    EXISTS(SELECT * FROM "table" WHERE cond)          -- only in ExecuteTransaction

Names are bare identifiers or "double quoted"; 'single quotes' make strings. ``?`` takes the next of
the request's Parameters, already as an AttributeValue. Conditions and update actions are built
from the nodes of ``fakes3.dynamodb.expressions.ast`` (constants are ``Value("?", av)``), so the
rest of the code can render them into DynamoDB's own expressions.

Syntax errors read ``Statement wasn't well formed, can't be processed: <detail>``; the prefix and
the detail ``Expected data manipulation`` are DynamoDB's (DynamoDB Local's
ValidationExceptionMessages.INVALID_STATEMENT; real DynamoDB per nubo-db/dynoxide PR #149), the
other details are ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from fakes3.dynamodb.errors import DynamoDBError, validation
from fakes3.dynamodb.expressions.ast import (
    Action,
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    DeleteAction,
    In,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    RemoveAction,
    SetAction,
    Value,
)
from fakes3.dynamodb.expressions.checks import CONDITION_FUNCTIONS
from fakes3.dynamodb.partiql_lexer import (
    EOF,
    IDENT,
    KEYWORDS,
    NUMBER,
    PARAM,
    PUNCT,
    QUOTED,
    STRING,
    Token,
    malformed,
    tokenize,
)
from fakes3.dynamodb.types import AttributeValue, normalize_number, validate_value

_COMPARATORS = ("=", "<>", "!=", "<", "<=", ">", ">=")
RETURN_VALUES = {("ALL", "OLD"): "ALL_OLD", ("MODIFIED", "OLD"): "UPDATED_OLD",
                 ("ALL", "NEW"): "ALL_NEW", ("MODIFIED", "NEW"): "UPDATED_NEW"}


def parameter_count() -> DynamoDBError:
    # DynamoDB Local's PARAMETERS_IN_STATEMENT_AND_PARAMETERS_IN_REQUEST (too many are accepted).
    return validation("Number of parameters in request and statement don't match.")


# -- statements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    table: str
    index: str | None = None


@dataclass(frozen=True)
class Select:
    source: Source
    projection: tuple[Path, ...] | None  # None: *
    where: Condition | None
    order_by: tuple[tuple[str, bool], ...] = ()  # (key attribute, descending)


@dataclass(frozen=True)
class Insert:
    source: Source
    item: dict[str, AttributeValue]


@dataclass(frozen=True)
class Update:
    source: Source
    actions: tuple[Action, ...]
    where: Condition | None
    returning: str | None  # UpdateItem's ReturnValues: ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW


@dataclass(frozen=True)
class Delete:
    source: Source
    where: Condition | None
    returning: str | None


@dataclass(frozen=True)
class Exists:
    """``EXISTS(SELECT ...)``: a condition check in ExecuteTransaction."""

    select: Select


Statement = Select | Insert | Update | Delete | Exists


# -- parser ----------------------------------------------------------------------------------------


class Parser:
    def __init__(self, text: str, parameters: list[Any] | None) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.parameters = list(parameters or [])
        self.used = 0

    # tokens

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def at(self, word: str) -> bool:
        return self.peek().word() == word

    def at_punct(self, text: str) -> bool:
        token = self.peek()
        return token.kind == PUNCT and token.text == text

    def accept(self, word: str) -> bool:
        if self.at(word):
            self.advance()
            return True
        return False

    def accept_punct(self, text: str) -> bool:
        if self.at_punct(text):
            self.advance()
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(f"Expected {word}")

    def expect_punct(self, text: str) -> None:
        if not self.accept_punct(text):
            self.fail(f"Expected '{text}'")

    def fail(self, detail: str) -> NoReturn:
        token = self.peek()
        if token.kind == EOF:
            raise malformed("Unexpected end of statement")
        if token.word() in KEYWORDS:
            raise malformed("Unexpected keyword")
        raise malformed(f"{detail}, found: {token.text}")

    # statements

    def statement(self, *, allow_exists: bool = False) -> Statement:
        word = self.peek().word()
        if word == "SELECT":
            result: Statement = self.select()
        elif word == "INSERT":
            result = self.insert()
        elif word == "UPDATE":
            result = self.update()
        elif word == "DELETE":
            result = self.delete()
        elif word == "EXISTS" and allow_exists:
            self.advance()
            self.expect_punct("(")
            if not self.at("SELECT"):
                self.fail("Expected SELECT")
            result = Exists(self.select())
            self.expect_punct(")")
        elif word == "EXISTS":
            raise validation("EXISTS can only be used in ExecuteTransaction write requests.")
        else:
            raise malformed("Expected data manipulation")
        self.accept_punct(";")
        if self.peek().kind != EOF:
            self.fail("Unexpected token after expression")
        if self.used > len(self.parameters):
            raise parameter_count()
        return result

    def select(self) -> Select:
        self.expect("SELECT")
        if self.at("DISTINCT"):
            raise validation("Unsupported token in expression: DISTINCT")
        projection: tuple[Path, ...] | None = None
        if self.accept_punct("*"):
            if self.at_punct(","):
                raise validation("Other attributes should not be present in the projection when '*' is used.")
        else:
            paths = [self.path()]
            while self.accept_punct(","):
                if self.at_punct("*"):
                    raise validation("Other attributes should not be present in the projection when '*' is "
                                     "used.")
                paths.append(self.path())
            projection = tuple(paths)
        self.expect("FROM")
        source = self.source(allow_index=True)
        where = self.where(required=False)
        order_by: list[tuple[str, bool]] = []
        if self.accept("ORDER"):
            self.expect("BY")
            while True:
                name = self.name()
                descending = self.accept("DESC")
                if not descending:
                    self.accept("ASC")
                order_by.append((name, descending))
                if not self.accept_punct(","):
                    break
        for clause in ("LIMIT", "GROUP", "HAVING"):
            if self.at(clause):
                raise validation(f"Unsupported clause: {'GROUP BY' if clause == 'GROUP' else clause}")
        return Select(source, projection, where, tuple(order_by))

    def insert(self) -> Insert:
        self.expect("INSERT")
        self.expect("INTO")
        source = self.source(allow_index=False)
        if self.at("VALUES") or self.at_punct("("):
            raise validation("Unsupported operation: Inserting multiple items in a single statement is not "
                             "supported, use \"INSERT INTO tableName VALUE item\" instead")
        self.expect("VALUE")
        if not self.at_punct("{"):
            raise validation("Unsupported format in item expression. Please use struct format {...} to "
                             "express item values for insert statement.")
        item = self.literal()
        if self.at("RETURNING"):
            raise validation("RETURNING is not supported in INSERT")
        return Insert(source, item["M"])

    def update(self) -> Update:
        self.expect("UPDATE")
        source = self.source(allow_index=False)
        actions: list[Action] = []
        while self.at("SET") or self.at("REMOVE"):
            if self.advance().word() == "SET":
                actions.append(self.assignment())
                while self.accept_punct(","):
                    actions.append(self.assignment())
            else:
                actions.append(RemoveAction(self.path()))
                while self.accept_punct(","):
                    actions.append(RemoveAction(self.path()))
        if not actions:
            self.fail("Expected SET or REMOVE")
        where = self.where(required=True)
        return Update(source, tuple(actions), where, self.returning())

    def delete(self) -> Delete:
        self.expect("DELETE")
        self.expect("FROM")
        source = self.source(allow_index=False)
        where = self.where(required=True)
        returning = self.returning()
        if returning is not None and returning != "ALL_OLD":
            shown = {v: f"{a} {b}" for (a, b), v in RETURN_VALUES.items()}[returning]
            raise validation(f"Invalid returning clause: RETURNING {shown} *. Only RETURNING ALL OLD * is "
                             "allowed in DELETE statements.")
        return Delete(source, where, returning)

    def returning(self) -> str | None:
        if not self.accept("RETURNING"):
            return None
        first, second = (self.advance().word() or ""), (self.advance().word() or "")
        mode = RETURN_VALUES.get((first, second))
        if mode is None:
            raise malformed("Expected ALL OLD, MODIFIED OLD, ALL NEW or MODIFIED NEW after RETURNING")
        if not self.accept_punct("*"):
            raise validation("Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
        return mode

    def where(self, *, required: bool) -> Condition | None:
        if not self.accept("WHERE"):
            if required:
                raise validation("Where clause does not contain a mandatory equality on all key attributes")
            return None
        return self.condition()

    def source(self, *, allow_index: bool) -> Source:
        table = self.name()
        if not self.accept_punct("."):
            return Source(table)
        index = self.name()
        if not allow_index:
            raise validation("FROM clause may only contain a single table name in data manipulation "
                             "statements")
        if self.at_punct("."):
            raise validation("A path may contain at most 2 components in the FROM clause")
        return Source(table, index)

    # names and paths

    def name(self) -> str:
        token = self.peek()
        if token.kind == QUOTED:
            self.advance()
            if not token.text:
                raise validation("Path component cannot be an empty string")
            return token.text
        if token.kind == IDENT and token.word() not in KEYWORDS:
            self.advance()
            return token.text
        self.fail("Expected identifier")

    def path(self) -> Path:
        if self.at_punct("["):
            raise validation("A path cannot start with a list index")
        elements: list[PathElement] = [self.name()]
        while True:
            if self.accept_punct("."):
                elements.append(self.name())
            elif self.accept_punct("["):
                token = self.advance()
                if token.kind == NUMBER and token.text.isdigit():
                    elements.append(int(token.text))
                elif token.kind == STRING:
                    elements.append(token.text)
                else:
                    raise malformed("Expected a list index or a quoted map key in '[...]'")
                self.expect_punct("]")
            else:
                return Path(tuple(elements))

    # update actions

    def assignment(self) -> Action:
        target = self.path()
        self.expect_punct("=")
        token, after = self.peek(), self.peek(1)
        function = (token.text.lower() if token.kind == IDENT and after.kind == PUNCT and after.text == "("
                    else None)
        if function in ("set_add", "set_delete"):
            self.advance()
            self.expect_punct("(")
            first = self.path()
            self.expect_punct(",")
            second = self.operand()
            self.expect_punct(")")
            label = function.upper()[4:]
            if first != target:
                raise validation(f"The first argument to SET_{label} must equal the assignment value")
            if not isinstance(second, Value) or next(iter(second.value)) not in ("SS", "NS", "BS"):
                raise validation(f"The second argument to SET_{label} must be a value with type SET")
            return AddAction(target, second) if function == "set_add" else DeleteAction(target, second)
        if function == "list_append":
            self.advance()
            self.expect_punct("(")
            head = self.operand()
            self.expect_punct(",")
            tail = self.operand()
            self.expect_punct(")")
            return SetAction(target, Call("list_append", (head, tail)))
        left = self.operand()
        if self.at_punct("+") or self.at_punct("-"):
            op = self.advance().text
            return SetAction(target, Arithmetic(op, left, self.operand()))
        return SetAction(target, left)

    # conditions

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.accept("OR"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.accept("AND"):
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.accept("NOT"):
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Condition:
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        left = self.operand()
        token = self.peek()
        if token.kind == PUNCT and token.text in _COMPARATORS:
            self.advance()
            return Compare("<>" if token.text == "!=" else token.text, left, self.operand())
        if self.accept("BETWEEN"):
            low = self.operand()
            self.expect("AND")
            return Between(left, low, self.operand())
        negated = self.at("NOT") and self.peek(1).word() == "IN"
        if negated:
            self.advance()
        if self.accept("IN"):
            condition: Condition = In(left, tuple(self.choices()))
            return Not(condition) if negated else condition
        if self.accept("IS"):
            return self.is_test(left)
        if isinstance(left, Call) and left.name != "size":
            return left
        self.fail("Expected a comparison")

    def choices(self) -> list[Operand]:
        closing = {"[": "]", "(": ")"}.get(self.peek().text if self.peek().kind == PUNCT else "")
        if closing is None:
            raise validation("IN operator must have a left hand argument of type Variable Reference and "
                             "right hand argument of type Seq with at least one member")
        self.advance()
        choices = [self.operand()]
        while self.accept_punct(","):
            choices.append(self.operand())
        self.expect_punct(closing)
        return choices

    def is_test(self, left: Operand) -> Condition:
        if not isinstance(left, Path):
            raise validation("The left hand side argument to IS must be a Variable Reference, Literal, or "
                             "Path")
        negated = self.accept("NOT")
        word = self.advance().word()
        if word == "MISSING":
            test: Condition = Call("attribute_not_exists", (left,))
        elif word == "NULL":
            test = Call("attribute_type", (left, Value("?", {"S": "NULL"})))
        else:
            raise validation(f"Unsupported data type for IS operator: {word}. Supported data types are "
                             "[MISSING, NULL]")
        return Not(test) if negated else test

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind == IDENT and self.peek(1).kind == PUNCT and self.peek(1).text == "(" \
                and token.word() not in KEYWORDS:
            return self.call()
        if token.kind in (IDENT, QUOTED) and token.word() not in KEYWORDS:
            return self.path()
        if token.word() == "MISSING":
            raise validation("MISSING must be compared using IS operator")
        return Value("?", self.value())

    def call(self) -> Call:
        name = self.advance().text.lower()
        if name not in CONDITION_FUNCTIONS:
            raise validation(f"Unrecognized function: {name}")
        self.expect_punct("(")
        args = [self.operand()]
        while self.accept_punct(","):
            args.append(self.operand())
        self.expect_punct(")")
        return Call(name, tuple(args))

    # values

    def value(self) -> AttributeValue:
        """A literal or a ``?`` parameter."""
        if self.peek().kind == PARAM:
            self.advance()
            self.used += 1
            if self.used > len(self.parameters):
                raise parameter_count()
            return validate_value(self.parameters[self.used - 1], "Parameters")
        return self.literal()

    def literal(self) -> AttributeValue:
        start = self.pos
        token = self.advance()
        word = token.word()
        if token.kind == STRING:
            return {"S": token.text}
        if token.kind == NUMBER:
            return {"N": normalize_number(token.text)}
        if token.kind == PUNCT and token.text == "-" and self.peek().kind == NUMBER:
            return {"N": normalize_number("-" + self.advance().text)}
        if word in ("TRUE", "FALSE"):
            return {"BOOL": word == "TRUE"}
        if word == "NULL":
            return {"NULL": True}
        if token.kind == PUNCT and token.text == "[":
            return {"L": self.sequence("]")}
        if token.kind == PUNCT and token.text == "{":
            return self.struct()
        if token.kind == PUNCT and token.text == "<<":
            return self.bag()
        self.pos = start
        self.fail("Expected a value")

    def sequence(self, closing: str) -> list[AttributeValue]:
        values: list[AttributeValue] = []
        if self.accept_punct(closing):
            return values
        values.append(self.value())
        while self.accept_punct(","):
            values.append(self.value())
        self.expect_punct(closing)
        return values

    def struct(self) -> AttributeValue:
        members: dict[str, AttributeValue] = {}
        if self.accept_punct("}"):
            return {"M": members}
        while True:
            key = self.advance()
            if key.kind != STRING:
                raise validation(f"Tuple keys must be of type String. Actual type: {key.kind.upper()} "
                                 "under struct")
            self.expect_punct(":")
            if key.text in members:
                raise validation(f"Duplicate keys in tuple. Key: {key.text} under struct")
            members[key.text] = self.value()
            if not self.accept_punct(","):
                break
        self.expect_punct("}")
        return {"M": members}

    def bag(self) -> AttributeValue:
        if self.accept_punct(">>"):
            raise validation("Empty bags are not supported")
        members: list[AttributeValue] = []
        while True:
            if self.peek().kind == PARAM:
                raise validation("Unsupported data type in Bag. DynamoDB only supports either numbers or "
                                 "strings in bags")
            members.append(self.literal())
            if not self.accept_punct(","):
                break
        self.expect_punct(">>")
        kinds = {next(iter(m)) for m in members}
        if len(kinds) != 1 or not kinds <= {"S", "N"}:
            raise validation("Unsupported data type in Bag. DynamoDB only supports either numbers or strings "
                             "in bags")
        kind = kinds.pop()
        raw = [m[kind] for m in members]
        if len(set(raw)) != len(raw):
            raise validation("Input collection contains duplicates")
        return {kind + "S": raw}


def parse(text: str, parameters: list[Any] | None = None, *, allow_exists: bool = False) -> Statement:
    """One statement, with its ``?`` bound to ``parameters`` (AttributeValues as boto3 sends them)."""
    if not isinstance(text, str) or not text.strip():
        raise malformed("Expected data manipulation")
    try:
        return Parser(text, parameters).statement(allow_exists=allow_exists)
    except RecursionError:
        raise malformed("The statement is nested too deeply") from None
