"""The parsed forms of condition, update and projection expressions.

Placeholders are resolved while parsing: a ``Path`` holds real attribute names, a ``Value`` the
normalized attribute value (and its placeholder, for messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PathElement = str | int  # a map key, or a list index


@dataclass(frozen=True)
class Path:
    elements: tuple[PathElement, ...]
    # the first ``#placeholder`` that ExpressionAttributeNames does not define (reported on validation)
    undefined: str | None = field(default=None, compare=False)

    @property
    def head(self) -> str:
        head = self.elements[0]
        assert isinstance(head, str)
        return head

    def render(self) -> str:
        """DynamoDB's rendering in messages: ``[a, b, [1]]``."""
        return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in self.elements) + "]"


@dataclass(frozen=True)
class Value:
    placeholder: str
    value: dict[str, Any] = field(compare=False)  # empty when the placeholder is not defined


@dataclass(frozen=True)
class Call:
    """A function call: ``size(p)``, ``begins_with(p, :v)``, ``if_not_exists(p, :v)``, ..."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Arithmetic:
    """``x + y`` / ``x - y`` in a SET action."""

    op: str
    left: Operand
    right: Operand


Operand = Path | Value | Call | Arithmetic


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | And | Or | Not | Call


@dataclass(frozen=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True)
class AddAction:
    path: Path
    value: Value


@dataclass(frozen=True)
class DeleteAction:
    path: Path
    value: Value


Action = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True)
class Update:
    actions: tuple[Action, ...]

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every target path, in the expression's order."""
        return tuple(a.path for a in self.actions)


@dataclass(frozen=True)
class Projection:
    paths: tuple[Path, ...]

    @property
    def names(self) -> frozenset[str]:
        """The top-level attribute names the projection reads."""
        return frozenset(p.head for p in self.paths)


def operand_paths(node: Operand | Condition) -> list[Path]:
    """Every document path an operand or condition reads, in order."""
    if isinstance(node, Path):
        return [node]
    if isinstance(node, Value):
        return []
    if isinstance(node, Call):
        return [p for a in node.args for p in operand_paths(a)]
    if isinstance(node, Arithmetic | Compare):
        return operand_paths(node.left) + operand_paths(node.right)
    if isinstance(node, Between):
        return operand_paths(node.operand) + operand_paths(node.low) + operand_paths(node.high)
    if isinstance(node, In):
        return operand_paths(node.operand) + [p for c in node.choices for p in operand_paths(c)]
    if isinstance(node, And | Or):
        return operand_paths(node.left) + operand_paths(node.right)
    return operand_paths(node.operand)
