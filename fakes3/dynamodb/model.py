"""Tables and the database that holds them, and the locks that make writes atomic.

Concurrency: ``Database.lock`` guards every container (the tables map, each table's and index's
``Store``) and is held only for short, in-memory steps, so readers always see a committed
state. ``Database.item_locks`` serializes writers of one item: a conditional write holds its
item's lock from reading the old item, through evaluating the condition, to storing the new
one. A transaction holds the locks of all its items (taken in one stable order, so two
transactions cannot deadlock) and commits all its writes in one ``Database.lock`` section, so no
reader sees half of it. Because conflicting writers wait instead of failing, the fake never
answers TransactionConflictException.

With a data dir (persistence.py) a stored item change is also handed to ``Table.persistence`` (under
``Database.lock``, in apply order), and the changes a thread made while it held item locks are
written, in one transaction, as it lets go of them: the lock that ordered them is still held,
and a transaction's writes are kept all together or not at all. Without one, ``persistence`` and
``ItemLocks.flush`` are None and nothing is called.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes3.dynamodb.errors import (
    DynamoDBError,
    resource_in_use,
    resource_not_found,
    table_not_found,
    validation,
)
from fakes3.dynamodb.indexes import Index, IndexChange
from fakes3.dynamodb.schema import TableSpec
from fakes3.dynamodb.storage import Entry, Item, PartitionKey, SortKey, Store, partition_key, token
from fakes3.dynamodb.types import item_size
from fakes3.protocol.json_protocol import CachedItem

if TYPE_CHECKING:
    from fakes3.dynamodb.backup_snapshot import Backup
    from fakes3.dynamodb.persistence import Persistence

ARN_PREFIX = "arn:aws:dynamodb:"
IDEMPOTENCY_SECONDS = 600
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
LockKey = tuple[str, PartitionKey, SortKey]
_CHANGING = {"CREATING": "created", "DELETING": "deleted", "UPDATING": "updated"}  # status -> message


@dataclass
class WriteResult:
    old: Item | None
    new: Item | None
    old_size: int
    new_size: int
    indexes: list[IndexChange] = field(default_factory=list)


class Table:
    persistence: Persistence | None = None  # with a data dir: told of every stored item change

    def __init__(self, name: str, spec: TableSpec, *, region: str, account_id: str, created: float,
                 ready_at: float) -> None:
        self.name = name
        self.spec = spec
        self.keys = spec.keys
        self.arn = f"{ARN_PREFIX}{region}:{account_id}:table/{name}"
        self.id = str(uuid.uuid4())
        self.created = created
        self.ready_at = ready_at
        self.updating_until = 0.0
        self.deleting_until: float | None = None
        self.billing_mode = spec.billing_mode
        self.billing_changed: float | None = None
        self.throughput = dict(spec.throughput or {})
        self.store = Store()
        self.indexes: dict[str, Index] = {}
        for index in spec.indexes:
            self.add_index(index, ready_at)
        self.tags: dict[str, str] = {}
        self.ttl: dict[str, str] | None = None
        self.extras: dict[str, Any] = {}  # StreamSpecification, SSE, TableClass, DeletionProtection
        # Point-in-time recovery while enabled: {"enabled_at": epoch seconds, "days": 1-35}
        self.pitr: dict[str, Any] | None = None
        # A table made by RestoreTableFromBackup: {"backup_arn", "table_arn", "at"} (its RestoreSummary)
        self.restored_from: dict[str, Any] | None = None

    # -- shape ------------------------------------------------------------------------------------

    def add_index(self, spec: Any, ready_at: float) -> Index:
        index = Index(spec, self.keys, f"{self.arn}/index/{spec.name}", ready_at)
        self.indexes[spec.name] = index
        return index

    @property
    def pay_per_request(self) -> bool:
        return self.billing_mode == "PAY_PER_REQUEST"

    def status(self, now: float) -> str:
        if self.deleting_until is not None:
            return "DELETING"
        if now < self.ready_at:
            return "CREATING"
        if now < self.updating_until:
            return "UPDATING"
        return "ACTIVE"

    # -- items --------------------------------------------------------------------------------------

    def locate(self, key: Item) -> tuple[PartitionKey, SortKey]:
        """Where an item with these (already validated) key attributes lives."""
        pkey = partition_key(token(key[self.keys.hash]))
        skey: SortKey = (token(key[self.keys.range]),) if self.keys.range is not None else ()
        return pkey, skey

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys.names}

    def get(self, pkey: PartitionKey, skey: SortKey) -> Entry | None:
        return self.store.get(pkey, skey)

    def write(self, pkey: PartitionKey, skey: SortKey, new: Item | None,
              size: int | None = None) -> WriteResult:
        """Store (or, with None, delete) one item and update every index. Caller holds the lock.

        ``size``: the new item's ``item_size``, when the caller knows it already."""
        stored: CachedItem | None = None
        if new is None:
            old_entry = self.store.delete(pkey, skey)
            new_size = 0
        else:
            new_size = item_size(new) if size is None else size
            stored = CachedItem(new)
            old_entry = self.store.put(pkey, skey, Entry(stored, new_size))
        if self.persistence is not None:
            self.persistence.item_changed(self, pkey, skey, stored)
        old = old_entry.item if old_entry else None
        result = WriteResult(old, new, old_entry.size if old_entry else 0, new_size)
        for index in self.indexes.values():
            change = index.apply(old, new)
            if change is not None:
                result.indexes.append(change)
        return result

    def items(self) -> Iterator[Item]:
        for _pkey, _skey, entry in self.store.scan():
            yield entry.item

    def clear(self) -> None:
        self.store.clear()
        for index in self.indexes.values():
            index.store.clear()


class ItemLocks:
    """One lock per item being written, created on demand and dropped when nobody holds it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[LockKey, list[Any]] = {}  # key -> [Lock, users]
        # With a data dir: writes the changes this thread made, before its locks are let go.
        self.flush: Callable[[], None] | None = None

    @staticmethod
    def _order(key: LockKey) -> tuple[str, bytes, str]:
        return key[0], key[1][0], repr(key[2])

    def hold(self, keys: Iterable[LockKey]) -> _Held:
        """Hold every key's lock (taken in one stable order) for a ``with`` block."""
        return _Held(self, sorted(set(keys), key=self._order))

    def hold_one(self, key: LockKey) -> _HeldOne:
        return _HeldOne(self, key)

    def _acquire(self, key: LockKey) -> None:
        with self._mutex:
            record = self._locks.get(key)
            if record is None:
                record = self._locks[key] = [threading.Lock(), 0]
            record[1] += 1
        record[0].acquire()

    def _release(self, key: LockKey) -> None:
        with self._mutex:
            record = self._locks[key]
            record[0].release()
            record[1] -= 1
            if record[1] == 0:
                del self._locks[key]


class _Held:
    """The locks of ``ItemLocks.hold``: acquired on entry, released (in reverse) on exit."""

    __slots__ = ("_owner", "_keys", "_taken")

    def __init__(self, owner: ItemLocks, keys: list[LockKey]) -> None:
        self._owner = owner
        self._keys = keys
        self._taken = 0

    def __enter__(self) -> None:
        try:
            for key in self._keys:
                self._owner._acquire(key)
                self._taken += 1
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def __exit__(self, *_: object) -> None:
        keys, taken = self._keys, self._taken
        self._taken = 0
        try:
            if taken and self._owner.flush is not None:
                self._owner.flush()
        finally:
            for key in reversed(keys[:taken]):
                self._owner._release(key)


class _HeldOne:
    """``hold_one``'s lock: ``_Held`` for a single key, without its list and loop (every
    single-item write takes one)."""

    __slots__ = ("_owner", "_key")

    def __init__(self, owner: ItemLocks, key: LockKey) -> None:
        self._owner = owner
        self._key = key

    def __enter__(self) -> None:
        self._owner._acquire(self._key)

    def __exit__(self, *_: object) -> None:
        owner = self._owner
        if owner.flush is None:
            owner._release(self._key)
            return
        try:
            owner.flush()
        finally:
            owner._release(self._key)


@dataclass
class _Remembered:
    expires: float
    fingerprint: str
    result: dict[str, Any]


class Idempotency:
    """Results of successful TransactWriteItems by ClientRequestToken, for 10 minutes."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._seen: dict[str, _Remembered] = {}

    def get(self, token: str, fingerprint: str, now: float) -> dict[str, Any] | None:
        with self._mutex:
            self._seen = {k: v for k, v in self._seen.items() if v.expires > now}
            remembered = self._seen.get(token)
        if remembered is None:
            return None
        if remembered.fingerprint != fingerprint:
            raise DynamoDBError("IdempotentParameterMismatchException",
                                "DynamoDB rejected the request because you retried a request with a "
                                "different payload but with an idempotent token that was already used.")
        return remembered.result

    def put(self, token: str, fingerprint: str, now: float, result: dict[str, Any]) -> None:
        with self._mutex:
            self._seen[token] = _Remembered(now + IDEMPOTENCY_SECONDS, fingerprint, result)

    def clear(self) -> None:
        with self._mutex:
            self._seen.clear()


class Database:
    def __init__(self, *, region: str, account_id: str, clock: Callable[[], float],
                 table_delay: float = 0.0) -> None:
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.table_delay = table_delay
        self.lock = threading.RLock()
        self.item_locks = ItemLocks()
        self.tables: dict[str, Table] = {}
        # On-demand backups by ARN (guarded by ``lock``); they outlive the tables they copy.
        self.backups: dict[str, Backup] = {}
        self.resets = 0  # how many times reset() ran: work begun before one must not land after it
        self.idempotency = Idempotency()
        # Called between a write's condition check and its act, with (operation, table, key) and
        # the item's lock held: fault injection can pause or fail a write there.
        self.fault_hook: Callable[[str, str, Item], None] | None = None
        self.persistence: Persistence | None = None  # with a data dir (DynamoDBService sets it)

    def now(self) -> float:
        return self.clock()

    def reset(self) -> None:
        with self.lock:
            self.tables.clear()
            self.backups.clear()
            self.resets += 1
            if self.persistence is not None:
                self.persistence.reset()
        self.idempotency.clear()

    @staticmethod
    def table_name(name_or_arn: str) -> str:
        """The table a TableName parameter names: a name, or a table's ARN."""
        if name_or_arn.startswith(ARN_PREFIX) and ":table/" in name_or_arn:
            return name_or_arn.split(":table/", 1)[1].split("/", 1)[0]
        problems = []
        if not 3 <= len(name_or_arn) <= 255:
            bound = "greater than or equal to 3" if len(name_or_arn) < 3 else "less than or equal to 255"
            problems.append(f"Member must have length {bound}")
        if not _TABLE_NAME.fullmatch(name_or_arn):
            problems.append("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        if problems:
            count = len(problems)
            raise validation(f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(
                f"Value '{name_or_arn}' at 'tableName' failed to satisfy constraint: {p}" for p in problems))
        return name_or_arn

    def purge(self) -> None:
        """Forget tables whose deletion has finished (caller holds the lock)."""
        now = self.clock()
        gone = [n for n, t in self.tables.items()
                if t.deleting_until is not None and now >= t.deleting_until]
        for name in gone:
            del self.tables[name]

    def find(self, name_or_arn: str) -> Table | None:
        """The table, whatever its status (caller holds the lock)."""
        self.purge()
        return self.tables.get(self.table_name(name_or_arn))

    def describe_target(self, name_or_arn: str) -> Table:
        """A table for DescribeTable and friends: any status; missing names the table."""
        table = self.find(name_or_arn)
        if table is None:
            raise table_not_found(self.table_name(name_or_arn))
        return table

    def table(self, name_or_arn: str) -> Table:
        """A table for item operations: it must be ACTIVE or UPDATING."""
        table = self.tables.get(name_or_arn)  # a live table's own name: nothing to purge or check
        if table is None or table.deleting_until is not None:
            table = self.find(name_or_arn)
        if table is None or table.status(self.clock()) in ("CREATING", "DELETING"):
            raise resource_not_found()
        return table

    def changeable(self, name_or_arn: str) -> Table:
        """A table for UpdateTable/DeleteTable: missing names it, one mid-change is in use."""
        table = self.describe_target(name_or_arn)
        status = table.status(self.clock())
        if status in _CHANGING:
            raise resource_in_use(f"Attempt to change a resource which is still in use: Table is being "
                                  f"{_CHANGING[status]}: {table.name}")
        return table

    def by_arn(self, arn: str) -> Table | None:
        self.purge()
        for table in self.tables.values():
            if table.arn == arn:
                return table
        return None
