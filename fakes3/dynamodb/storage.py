"""Where items live: partitions in hash order, each a sorted map of its sort keys.

A ``Store`` holds the items of one table or one secondary index. Partitions are ordered by the
MD5 of their partition key (DynamoDB's own Scan order is by a hash of the partition key, so a
client cannot come to rely on insertion order), which also makes Scan segments contiguous ranges
of that order. Inside a partition a ``SortedDict`` orders the sort key (strings by UTF-8 bytes,
numbers by value, binary by unsigned bytes), so a Query costs O(log n + page).

Nothing here locks: ``Database.lock`` guards every Store (see ``model.py``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sortedcontainers import SortedDict

Item = dict[str, Any]
Token = bytes | Decimal
SortKey = tuple[Token, ...]
PartitionKey = tuple[bytes, Token]


def token(value: dict[str, Any]) -> Token:
    """A key attribute's value as a Python value that sorts and hashes as DynamoDB orders it."""
    if "S" in value:
        return value["S"].encode("utf-8")
    if "N" in value:
        try:
            number = Decimal(value["N"])
        except InvalidOperation:
            return Decimal(0)
        return number if number != 0 else Decimal(0)
    return bytes(value["B"])


@functools.lru_cache(maxsize=4096)  # keys repeat (a partition's items, a hot item): MD5 once
def hash_digest(tok: Token) -> bytes:
    if isinstance(tok, Decimal):
        raw = ("N" + str(tok.normalize() if tok != 0 else Decimal(0))).encode()
    else:
        raw = b"X" + tok
    return hashlib.md5(raw).digest()


def partition_key(tok: Token) -> PartitionKey:
    return hash_digest(tok), tok


def segment_bounds(segment: int, total: int) -> tuple[bytes, bytes | None]:
    """The MD5 range [low, high) of Scan segment ``segment`` of ``total``."""
    space = 1 << 128
    low = (space * segment) // total
    high = (space * (segment + 1)) // total
    return low.to_bytes(16, "big"), (high.to_bytes(16, "big") if high < space else None)


@dataclass(slots=True)
class Entry:
    """One stored item (never mutated: a write replaces the entry) and its size in bytes."""

    item: Item
    size: int


class Store:
    def __init__(self) -> None:
        self.partitions: SortedDict = SortedDict()  # PartitionKey -> SortedDict[SortKey, Entry]
        self.count = 0
        self.size = 0

    def clear(self) -> None:
        self.partitions = SortedDict()
        self.count = 0
        self.size = 0

    def get(self, pkey: PartitionKey, skey: SortKey) -> Entry | None:
        partition = self.partitions.get(pkey)
        return None if partition is None else partition.get(skey)

    def put(self, pkey: PartitionKey, skey: SortKey, entry: Entry) -> Entry | None:
        partition = self.partitions.get(pkey)
        if partition is None:
            partition = self.partitions[pkey] = SortedDict()
        old = partition.get(skey)
        partition[skey] = entry
        if old is not None:
            self.size -= old.size
        else:
            self.count += 1
        self.size += entry.size
        return old

    def delete(self, pkey: PartitionKey, skey: SortKey) -> Entry | None:
        partition = self.partitions.get(pkey)
        if partition is None:
            return None
        old = partition.pop(skey, None)
        if old is not None:
            self.count -= 1
            self.size -= old.size
            if not partition:
                del self.partitions[pkey]
        return old

    def partition(self, pkey: PartitionKey) -> SortedDict | None:
        return self.partitions.get(pkey)

    def scan(self, start: tuple[PartitionKey, SortKey] | None = None, low: bytes | None = None,
             high: bytes | None = None) -> Iterator[tuple[PartitionKey, SortKey, Entry]]:
        """Entries in Scan order, strictly after ``start``, within the MD5 range [low, high).

        Lazy: the caller holds the database lock while it consumes the iterator."""
        minimum: Any = (low,) if low is not None else None
        inclusive = (True, True)
        if start is not None:
            first_pkey, first_skey = start
            partition = self.partitions.get(first_pkey)
            if partition is not None:
                for skey in partition.irange(minimum=first_skey, inclusive=(False, True)):
                    yield first_pkey, skey, partition[skey]
            minimum, inclusive = first_pkey, (False, True)
        for pkey in self.partitions.irange(minimum=minimum, inclusive=inclusive):
            if high is not None and pkey[0] >= high:
                return
            for skey, entry in self.partitions[pkey].items():
                yield pkey, skey, entry
