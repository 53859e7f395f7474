"""ConsumedCapacity: what an operation would have cost, as DynamoDB reports it.

Writes cost one unit per started KB of the larger of the old and new item, reads one unit per
started 4 KB (Query and Scan: of everything read, added up), halved for eventually consistent
reads; transactions cost twice that. A write to an item that changes a GSI or LSI entry costs
that index a write too (two when the item moves within the index).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes3.dynamodb.model import WriteResult

KB = 1024


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / KB)))


def read_units(size: int, consistent: bool) -> float:
    units = float(max(1, math.ceil(size / (4 * KB))))
    return units if consistent else units / 2


@dataclass
class Usage:
    """Units one table (and its indexes) consumed in one operation."""

    table: str
    read: bool
    units: float = 0.0
    gsis: dict[str, float] = field(default_factory=dict)
    lsis: dict[str, float] = field(default_factory=dict)

    def add_write(self, result: WriteResult, factor: float = 1.0) -> None:
        self.units += write_units(max(result.old_size, result.new_size)) * factor
        for change in result.indexes:
            cost = write_units(max(change.old_size, change.new_size)) * (2 if change.moved else 1) * factor
            target = self.gsis if change.kind == "GLOBAL" else self.lsis
            target[change.name] = target.get(change.name, 0.0) + cost

    @property
    def total(self) -> float:
        return self.units + sum(self.gsis.values()) + sum(self.lsis.values())


def _capacity(units: float, read: bool) -> dict[str, float]:
    return {"CapacityUnits": units, ("ReadCapacityUnits" if read else "WriteCapacityUnits"): units}


def report(mode: str | None, usage: Usage) -> dict[str, Any] | None:
    """The ConsumedCapacity member for one table, or None when not asked for."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    out: dict[str, Any] = {"TableName": usage.table, **_capacity(usage.total, usage.read)}
    if mode == "INDEXES":
        out["Table"] = _capacity(usage.units, usage.read)
        if usage.gsis:
            out["GlobalSecondaryIndexes"] = {k: _capacity(v, usage.read) for k, v in usage.gsis.items()}
        if usage.lsis:
            out["LocalSecondaryIndexes"] = {k: _capacity(v, usage.read) for k, v in usage.lsis.items()}
    return out


def report_all(mode: str | None, usages: dict[str, Usage]) -> list[dict[str, Any]] | None:
    """ConsumedCapacity for operations on several tables: one entry per table."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    return [r for u in usages.values() if (r := report(mode, u)) is not None]


def wanted(params: Mapping[str, Any]) -> bool:
    """Whether the request's ReturnConsumedCapacity asks for a report (else skip the accounting)."""
    return params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES")


def add_consumed(out: dict[str, Any], params: Mapping[str, Any], usage: Usage) -> None:
    """Add ``report``'s ConsumedCapacity to ``out`` when the request's ReturnConsumedCapacity asks."""
    consumed = report(params.get("ReturnConsumedCapacity"), usage)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed


def add_consumed_all(out: dict[str, Any], params: Mapping[str, Any], usages: dict[str, Usage]) -> None:
    """Add ``report_all``'s ConsumedCapacity to ``out`` when the request's ReturnConsumedCapacity asks."""
    consumed = report_all(params.get("ReturnConsumedCapacity"), usages)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
