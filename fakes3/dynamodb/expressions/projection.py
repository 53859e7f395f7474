"""ProjectionExpression: parsing, and picking the named parts of an item.

Nested paths keep their structure (``a.b`` gives ``{"a": {"M": {"b": ...}}}``); list elements picked
by index come back in index order, compacted, as DynamoDB returns them.
"""

from __future__ import annotations

import copy
from typing import Any

from fakes3.dynamodb.expressions import cache
from fakes3.dynamodb.expressions.ast import Path, Projection
from fakes3.dynamodb.expressions.checks import Invalid, Validator
from fakes3.dynamodb.expressions.context import Context
from fakes3.dynamodb.expressions.evaluate import child
from fakes3.dynamodb.expressions.parser import Parser
from fakes3.dynamodb.expressions.paths import PathTree
from fakes3.dynamodb.types import AttributeValue, Item, type_of


class ProjectionParser(Parser):
    def parse(self) -> Projection:
        paths = self.run(self.parse_paths)
        validator, tree = Validator(), PathTree()
        try:
            for path in reversed(paths):  # DynamoDB checks the paths last to first
                validator.path(path)
                tree.add(path)
        except Invalid as e:
            raise self.error(str(e)) from None
        return Projection(tuple(paths))

    def parse_paths(self) -> list[Path]:
        return self.comma_separated(self.parse_path)


def parse_projection(text: str, ctx: Context) -> Projection:
    """Parse a ProjectionExpression."""
    kind = "ProjectionExpression"
    return cache.cached(lambda: ProjectionParser(text, ctx, kind).parse(), "projection", kind, text, ctx)


class _Node:
    """The parts of one value a projection keeps: a whole value, or selected children."""

    def __init__(self) -> None:
        self.value: AttributeValue | None = None
        self.kind = ""
        self.children: dict[Any, _Node] = {}

    def build(self) -> AttributeValue:
        if self.value is not None:
            return copy.deepcopy(self.value)
        if self.kind == "M":
            return {"M": {k: child.build() for k, child in self.children.items()}}
        return {"L": [self.children[i].build() for i in sorted(self.children)]}


def project(item: Item, projection: Projection) -> Item:
    """The parts of ``item`` that ``projection`` names (missing paths are left out)."""
    roots: dict[str, _Node] = {}
    for path in projection.paths:
        value: AttributeValue | None = item.get(path.head)
        chain = [value]
        for element in path.elements[1:]:
            if value is None:
                break
            value = child(value, element)
            chain.append(value)
        if value is None:
            continue
        node = roots.setdefault(path.head, _Node())
        for element, parent in zip(path.elements[1:], chain, strict=False):
            assert parent is not None
            node.kind = type_of(parent)
            node = node.children.setdefault(element, _Node())
        node.value = value
    return {name: node.build() for name, node in roots.items()}
