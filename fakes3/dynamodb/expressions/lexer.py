"""Tokens of DynamoDB's expression languages, and the syntax error DynamoDB reports.

DynamoDB words a syntax error as ``Invalid <Kind>: Syntax error; token: "<tok>", near: "<text>"``
where ``near`` is the source from the previous token through the next one (``<EOF>`` at the end).
"""

from __future__ import annotations

from dataclasses import dataclass

from fakes3.dynamodb.errors import DynamoDBError, validation

NAME = "name"  # a bare identifier: attribute name, keyword or function name
ATTR_NAME = "#"  # an ExpressionAttributeNames placeholder
VALUE = ":"  # an ExpressionAttributeValues placeholder
NUMBER = "number"  # digits (only meaningful as a list index)
PUNCT = "punct"
BAD = "bad"  # a character no expression may contain
EOF = "eof"

_PUNCT = ("<=", ">=", "<>", "=", "<", ">", "(", ")", "[", "]", ",", ".", "+", "-")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == NAME and self.text.upper() == word

    def is_punct(self, text: str) -> bool:
        return self.kind == PUNCT and self.text == text


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        start = i
        if c.isascii() and c.isalpha():  # a bare name starts with a letter: "_a" is a syntax error
            while i < n and text[i] in _WORD:
                i += 1
            tokens.append(Token(NAME, text[start:i], start, i))
        elif c.isascii() and c.isdigit():
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            tokens.append(Token(NUMBER, text[start:i], start, i))
        elif c in "#:":
            i += 1
            while i < n and text[i] in _WORD:
                i += 1
            kind = (ATTR_NAME if c == "#" else VALUE) if i > start + 1 else BAD
            tokens.append(Token(kind, text[start:i], start, i))
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    tokens.append(Token(PUNCT, p, i, i + len(p)))
                    i += len(p)
                    break
            else:
                tokens.append(Token(BAD, c, i, i + 1))
                i += 1
    tokens.append(Token(EOF, "<EOF>", n, n))
    return tokens


def syntax_error(kind: str, text: str, tokens: list[Token], index: int) -> DynamoDBError:
    """DynamoDB's syntax error for the token at ``index``."""
    index = min(index, len(tokens) - 1)
    token = tokens[index]
    start = tokens[index - 1].start if index > 0 else token.start
    if token.kind == EOF:
        end = len(text)
    elif index + 1 < len(tokens) and tokens[index + 1].kind != EOF:
        end = tokens[index + 1].end
    else:
        end = token.end
    return validation(f'Invalid {kind}: Syntax error; token: "{token.text}", near: "{text[start:end]}"')


class ParseFailure(Exception):
    """A syntax error at a token index (turned into DynamoDB's message by the caller)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index
