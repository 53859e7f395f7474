"""Parsed expressions, kept for requests that send the same expression again.

An expression's parse (or its error) depends only on its text, its kind and the request's
placeholders. A parse that succeeded is kept under those, with the placeholders it used (recorded
as used again on a hit, so ``Context.check_unused`` sees what a fresh parse would have shown).
Only requests whose ExpressionAttributeValues are a few small scalars are kept (``Context.key``),
so the cache stays small whatever clients send; parse errors are never kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fakes3.dynamodb.expressions.context import Context

T = TypeVar("T")
MAX_ENTRIES = 1024

# key -> (result, placeholder names used, placeholder values used)
_entries: dict[tuple[Any, ...], tuple[Any, frozenset[str], frozenset[str]]] = {}
_mutex = threading.Lock()


def cached(parse: Callable[[], T], family: str, kind: str, text: str, ctx: Context) -> T:
    """``parse()``'s result for this expression and placeholders, parsing only on a miss."""
    placeholders = ctx.key()
    if placeholders is None or not isinstance(text, str):
        return parse()
    key = (family, kind, text, placeholders)
    try:
        hit = _entries.get(key)
    except TypeError:  # a placeholder map that is not plain strings (a direct caller's)
        return parse()
    if hit is not None:
        result, names, values = hit
        ctx.used_names.update(names)
        ctx.used_values.update(values)
        return result
    used_names, used_values = ctx.used_names, ctx.used_values
    ctx.used_names, ctx.used_values = set(), set()
    try:
        result = parse()
        names, values = frozenset(ctx.used_names), frozenset(ctx.used_values)
    finally:
        used_names.update(ctx.used_names)
        used_values.update(ctx.used_values)
        ctx.used_names, ctx.used_values = used_names, used_values
    with _mutex:
        if len(_entries) >= MAX_ENTRIES:
            del _entries[next(iter(_entries))]  # the oldest
        _entries[key] = (result, names, values)
    return result


def clear() -> None:
    with _mutex:
        _entries.clear()
