"""PartiQL's tokens: names, "quoted names", 'strings', numbers, ``?``, punctuation; comments skipped.

DynamoDB's syntax error is ``Statement wasn't well formed, can't be processed: <detail>`` (DynamoDB
Local's ValidationExceptionMessages.INVALID_STATEMENT); ``malformed`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakes3.dynamodb.errors import DynamoDBError, validation

IDENT, QUOTED, STRING, NUMBER, PARAM, PUNCT, EOF = "ident", "quoted", "string", "number", "?", "punct", "eof"
_PUNCT = ("<<", ">>", "<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":",
          "*", "+", "-", ";")
# Words that cannot be bare attribute or table names (quote them: "value"). PartiQL reserves many
# more (DynamoDB refuses ``WHERE pad = 'x'``); these are the ones a statement most often trips on.
KEYWORDS = frozenset({
    "ALL", "AND", "AS", "ASC", "AT", "BETWEEN", "BY", "CASE", "CAST", "COUNT", "DATE", "DELETE", "DESC",
    "DISTINCT", "ELSE", "END", "EXISTS", "FALSE", "FROM", "GROUP", "HAVING", "IN", "INSERT", "INTO", "IS",
    "JOIN", "LIKE", "LIMIT", "MISSING", "NOT", "NULL", "ON", "OR", "ORDER", "PAD", "REMOVE", "REPLACE",
    "RETURNING", "SELECT", "SET", "THEN", "TIME", "TIMESTAMP", "TRUE", "UNION", "UPDATE", "UPSERT", "USER",
    "VALUE", "VALUES", "WHEN", "WHERE",
})


def malformed(detail: str) -> DynamoDBError:
    return validation(f"Statement wasn't well formed, can't be processed: {detail}")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str

    def word(self) -> str | None:
        """The upper-cased text of a bare identifier (keywords are bare identifiers too)."""
        return self.text.upper() if self.kind == IDENT else None


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The body of a quoted token starting at ``start`` (a doubled quote is one quote), and its end."""
    out, i = [], start + 1
    while i < len(text):
        if text[i] == quote:
            if text.startswith(quote * 2, i):
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise malformed("Unterminated quoted text")


def _number_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isdigit():
        i += 1
    if i < n and text[i] == "." and i + 1 <= n:
        i += 1
        while i < n and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j].isdigit():
            i = j
            while i < n and text[i].isdigit():
                i += 1
    return i


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise malformed("Unterminated comment")
            i = end + 2
        elif c == '"' or c == "'":
            body, i = _quoted(text, i, c)
            tokens.append(Token(QUOTED if c == '"' else STRING, body))
        elif c.isascii() and (c.isalpha() or c == "_"):
            start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] in "_$"):
                i += 1
            tokens.append(Token(IDENT, text[start:i]))
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            end = _number_end(text, i)
            tokens.append(Token(NUMBER, text[i:end]))
            i = end
        elif c == "?":
            tokens.append(Token(PARAM, "?"))
            i += 1
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    tokens.append(Token(PUNCT, p))
                    i += len(p)
                    break
            else:
                raise malformed(f"Unexpected character: {c}")
    tokens.append(Token(EOF, "<EOF>"))
    return tokens
