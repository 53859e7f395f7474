"""The document-path tree that update and projection expressions build, and its two faults.

Paths are added one by one. A path that ends on, or runs through, a path already added
*overlaps* it; a path that indexes a list where another path names a map key (or the reverse)
*conflicts* with it. DynamoDB names the path being added first ("path one") and the path
already in the tree second ("path two").
"""

from __future__ import annotations

from typing import Any

from fakes3.dynamodb.expressions.ast import Path, PathElement
from fakes3.dynamodb.expressions.checks import Invalid

_TAIL = "must remove or rewrite one of these paths"
# A node maps (is_list_index, element) to its child node; None marks the end of a path.
Node = dict[tuple[bool, PathElement], Any]


def _render(elements: list[PathElement]) -> str:
    return Path(tuple(elements)).render()


def _to_leaf(path: Path, depth: int, node: Node | None) -> list[PathElement]:
    """``path`` up to ``depth``, then down ``node``'s first branch to the end of a path."""
    elements = list(path.elements[:depth])
    current = node
    while current:
        key = next(iter(current))
        elements.append(key[1])
        current = current[key]
    return elements


class PathTree:
    def __init__(self) -> None:
        self.root: Node = {}

    def add(self, path: Path) -> None:
        """Add ``path``, raising ``Invalid`` if it overlaps or conflicts with one already added."""
        node = self.root
        elements = path.elements
        for depth, element in enumerate(elements):
            key = (isinstance(element, int), element)
            if key not in node:
                if node and next(iter(node))[0] != key[0]:
                    raise Invalid(f"Two document paths conflict with each other; {_TAIL}; path one: "
                                  f"{path.render()}, path two: {_render(_to_leaf(path, depth, node))}")
                child: Node | None = None
                for rest in reversed(elements[depth + 1:]):
                    child = {(isinstance(rest, int), rest): child}
                node[key] = child
                return
            child = node[key]
            if child is None or depth + 1 == len(elements):
                raise Invalid(f"Two document paths overlap with each other; {_TAIL}; path one: "
                              f"{path.render()}, path two: {_render(_to_leaf(path, depth + 1, child))}")
            node = child
