"""Secondary indexes: where an item lands in an index, what the index holds of it, keeping it current.

An index is a ``Store`` like the table's, partitioned by the index's partition key. Index keys
are not unique, so an entry's sort position is the index sort key followed by the table's key
(which also gives Query on an index a stable order and resumable LastEvaluatedKeys). Items
without every index key attribute are not in the index (sparse indexes).
"""

from __future__ import annotations

from dataclasses import dataclass

from fakes3.dynamodb.schema import IndexSpec, KeySchema
from fakes3.dynamodb.storage import Entry, Item, PartitionKey, SortKey, Store, partition_key, token
from fakes3.dynamodb.types import item_size
from fakes3.protocol.json_protocol import CachedItem

Position = tuple[PartitionKey, SortKey]


@dataclass
class IndexChange:
    """What one write did to one index (for capacity accounting)."""

    name: str
    kind: str
    old_size: int
    new_size: int
    moved: bool  # removed from one position and added at another


def has_key(item: Item, keys: KeySchema) -> bool:
    for name, kind in keys.typed():
        value = item.get(name)
        if value is None or kind not in value:
            return False
    return True


class Index:
    def __init__(self, spec: IndexSpec, table_keys: KeySchema, arn: str, ready_at: float) -> None:
        self.spec = spec
        self.table_keys = table_keys
        self.arn = arn
        self.ready_at = ready_at  # a GSI added by UpdateTable backfills until then
        self.store = Store()
        projection = spec.projection
        if projection.type == "ALL":
            self.attributes: frozenset[str] | None = None
        else:
            names = {*spec.keys.names, *table_keys.names}
            if projection.type == "INCLUDE":
                names.update(projection.non_key)
            self.attributes = frozenset(names)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def keys(self) -> KeySchema:
        return self.spec.keys

    @property
    def is_global(self) -> bool:
        return self.spec.kind == "GLOBAL"

    def position(self, item: Item) -> Position | None:
        """Where the item sits in this index, or None when it lacks an index key."""
        if not has_key(item, self.keys):
            return None
        keys = self.keys
        pkey = partition_key(token(item[keys.hash]))
        sort: list = []
        if keys.range is not None:
            sort.append(token(item[keys.range]))
        sort.append(token(item[self.table_keys.hash]))
        if self.table_keys.range is not None:
            sort.append(token(item[self.table_keys.range]))
        return pkey, tuple(sort)

    def start_position(self, key: Item) -> Position:
        """The position named by an ExclusiveStartKey (index and table keys, already checked)."""
        position = self.position(key)
        assert position is not None
        return position

    def project(self, item: Item) -> Item:
        if self.attributes is None:
            return item
        return {k: v for k, v in item.items() if k in self.attributes}

    def apply(self, old: Item | None, new: Item | None) -> IndexChange | None:
        """Bring the index up to date with one item's write; None when the index did not change."""
        old_pos = self.position(old) if old is not None else None
        new_pos = self.position(new) if new is not None else None
        if old_pos is None and new_pos is None:
            return None
        old_size = new_size = 0
        if old_pos is not None and old_pos != new_pos:
            removed = self.store.delete(*old_pos)
            old_size = removed.size if removed else 0
        if new_pos is not None:
            assert new is not None
            projected = CachedItem(self.project(new))
            replaced = self.store.put(new_pos[0], new_pos[1], Entry(projected, item_size(projected)))
            if replaced is not None:
                if replaced.item == projected:
                    return None  # the write touched nothing this index holds
                old_size = replaced.size
            new_size = self.store.partitions[new_pos[0]][new_pos[1]].size
        moved = old_pos is not None and new_pos is not None and old_pos != new_pos
        return IndexChange(self.name, self.spec.kind, old_size, new_size, moved)

    def rebuild(self, items: list[Item]) -> None:
        self.store.clear()
        for item in items:
            self.apply(None, item)
