"""Optional persistence of DynamoDB: a data dir that keeps tables and items across restarts.

Layout of ``DATA_DIR/dynamodb/`` (beside S3's ``DATA_DIR/s3/``):

* ``tables.sqlite3``: SQLite in WAL mode with ``synchronous=FULL``; one transaction per change,
  committed (and fsync'd) before the request is answered. Tables: tables (one JSON record per
  table: key schema, attribute definitions, indexes, billing, throughput, TTL, tags, stream and
  other settings, id, creation time), items (one row per item: its JSON, as the wire writes it),
  backups (one JSON record per on-demand backup: its source table's schema and settings) and
  backup_items (a backup's items, in its Scan order); a backup is written whole in one
  transaction before CreateBackup answers, and outlives its table's rows.
* ``lock``: held with ``flock`` while a server uses the directory; a second one is refused.

The in-memory model (model.py) stays the truth while serving, with its locks unchanged. Each
change is written by the thread that made it, under the lock that ordered it, so records commit
in the order the changes were applied:

* an item's change is handed over by ``Table.write`` (under ``Database.lock``) and written as
  the thread lets go of its item locks (``ItemLocks.flush``), so a TransactWriteItems' writes
  (all made under those locks) commit in one SQLite transaction: after a SIGKILL all of them
  are there or none; each BatchWriteItem request is its own write, as on AWS;
* table creates, updates and deletes are written under ``Database.lock``.

The persistence lock is the innermost lock: no model lock is taken while it is held. An item
change that reaches it after its table was deleted (or the state reset) is dropped, as the model
dropped the item with the table. After a restart every table is ACTIVE (one being created or
updated has finished; one being deleted is gone), and ClientRequestTokens are forgotten.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import weakref
from decimal import Decimal
from typing import Any

from fakes3.dynamodb.backup_snapshot import Backup
from fakes3.dynamodb.model import Database, Table
from fakes3.dynamodb.schema import IndexSpec, KeySchema, Projection, TableSpec
from fakes3.dynamodb.storage import Entry, Item, PartitionKey, SortKey, Token
from fakes3.dynamodb.types import item_size
from fakes3.protocol.json_protocol import CachedItem
from fakes3.sqlite_store import DataDirError, SqliteStore, Statement

__all__ = ["DataDirError", "Persistence"]

log = logging.getLogger("fakes3.persistence")

FORMAT = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (id INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    tbl INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, item BLOB NOT NULL,
    PRIMARY KEY (tbl, pk, sk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS backups (arn TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS backup_items (
    arn TEXT NOT NULL, seq INTEGER NOT NULL, item BLOB NOT NULL,
    PRIMARY KEY (arn, seq)) WITHOUT ROWID;
"""
_Change = tuple[Table, PartitionKey, SortKey, CachedItem | None]


# -- records ------------------------------------------------------------------------------------


def _dumps(record: Any) -> str:
    return json.dumps(record, separators=(",", ":"))  # ASCII: any string survives


def _token_bytes(tok: Token) -> bytes:
    """A key value as bytes that are equal exactly when the key values are (within a table,
    whose key types are fixed)."""
    if isinstance(tok, Decimal):
        return str(tok.normalize()).encode("ascii")
    return tok


def _row_key(pkey: PartitionKey, skey: SortKey) -> tuple[bytes, bytes]:
    return _token_bytes(pkey[1]), _token_bytes(skey[0]) if skey else b""


def encode_item(item: CachedItem) -> bytes:
    # The wire text: computed once, and cached for the reads that follow.
    return item.wire_json().encode("utf-8", "surrogatepass")


def _stored_bytes(item: Item) -> bytes:
    """A stored item's wire JSON (stored items are CachedItems: their text is reused)."""
    return encode_item(item if isinstance(item, CachedItem) else CachedItem(item))


def _binary_decoded(value: dict[str, Any]) -> dict[str, Any]:
    """An AttributeValue read from wire JSON: binaries base64-decoded, maps and lists recursed."""
    out: dict[str, Any] = {}
    for kind, member in value.items():
        if kind == "B":
            out[kind] = base64.b64decode(member)
        elif kind == "BS":
            out[kind] = [base64.b64decode(m) for m in member]
        elif kind == "M":
            out[kind] = {k: _binary_decoded(v) for k, v in member.items()}
        elif kind == "L":
            out[kind] = [_binary_decoded(v) for v in member]
        else:
            out[kind] = member
    return out


def decode_item(data: bytes) -> Item:
    raw = json.loads(data.decode("utf-8", "surrogatepass"))
    return {name: _binary_decoded(value) for name, value in raw.items()}


def _keys_record(keys: KeySchema) -> list[Any]:
    return [keys.hash, keys.hash_type, keys.range, keys.range_type]


def _index_record(spec: IndexSpec) -> dict[str, Any]:
    return {"name": spec.name, "kind": spec.kind, "keys": _keys_record(spec.keys),
            "projection": [spec.projection.type, list(spec.projection.non_key)],
            "throughput": spec.throughput}


def table_record(table: Table) -> str:
    """Everything the model keeps about a table but its items and its transient status."""
    spec = table.spec
    region, account_id = table.arn.split(":")[3:5]
    return _dumps({
        "name": table.name, "region": region, "account_id": account_id, "id": table.id,
        "created": table.created, "billing_mode": table.billing_mode,
        "billing_changed": table.billing_changed, "throughput": table.throughput,
        "tags": list(table.tags.items()), "ttl": table.ttl, "extras": table.extras,
        "pitr": table.pitr, "restored_from": table.restored_from, "spec": _spec_record(spec),
    })


def _spec_record(spec: TableSpec) -> dict[str, Any]:
    return {"keys": _keys_record(spec.keys), "attributes": list(spec.attributes.items()),
            "indexes": [_index_record(i) for i in spec.indexes],
            "billing_mode": spec.billing_mode, "throughput": spec.throughput}


def _spec_from_record(raw: dict[str, Any]) -> TableSpec:
    return TableSpec(KeySchema(*raw["keys"]), dict(raw["attributes"]),
                     [_index_spec(i) for i in raw["indexes"]], raw["billing_mode"], raw["throughput"])


def _index_spec(record: dict[str, Any]) -> IndexSpec:
    kind, non_key = record["projection"]
    return IndexSpec(record["name"], record["kind"], KeySchema(*record["keys"]),
                     Projection(kind, tuple(non_key)), record["throughput"])


def table_from_record(text: str) -> Table:
    """The table a record describes, ACTIVE, with its indexes (and no items yet)."""
    record = json.loads(text)
    spec = _spec_from_record(record["spec"])
    # ready_at 0: ACTIVE (and its indexes too) whatever the clock says
    table = Table(record["name"], spec, region=record["region"], account_id=record["account_id"],
                  created=record["created"], ready_at=0.0)
    table.id = record["id"]
    table.billing_mode = record["billing_mode"]
    table.billing_changed = record["billing_changed"]
    table.throughput = record["throughput"]
    table.tags = dict(record["tags"])
    table.ttl = record["ttl"]
    table.extras = record["extras"]
    table.pitr = record.get("pitr")  # absent from records written before backups existed
    table.restored_from = record.get("restored_from")
    return table


def backup_record(backup: Backup) -> str:
    """Everything a backup keeps but its items."""
    return _dumps({
        "arn": backup.arn, "name": backup.name, "created": backup.created,
        "available_at": backup.available_at, "table_name": backup.table_name,
        "table_id": backup.table_id, "table_arn": backup.table_arn,
        "table_created": backup.table_created, "spec": _spec_record(backup.spec),
        "billing_mode": backup.billing_mode, "throughput": backup.throughput,
        "extras": backup.extras, "ttl": backup.ttl, "size": backup.size,
    })


def backup_from_record(text: str, entries: list[Entry]) -> Backup:
    record = json.loads(text)
    return Backup(
        arn=record["arn"], name=record["name"], created=record["created"],
        available_at=0.0,  # AVAILABLE after a restart, as a CREATING table is ACTIVE then
        table_name=record["table_name"], table_id=record["table_id"], table_arn=record["table_arn"],
        table_created=record["table_created"], spec=_spec_from_record(record["spec"]),
        billing_mode=record["billing_mode"], throughput=record["throughput"],
        extras=record["extras"], ttl=record["ttl"], entries=entries, size=record["size"])


# -- the store ----------------------------------------------------------------------------------


class Persistence(SqliteStore):
    """The DynamoDB store of one data dir; ``DynamoDBService(data_dir=...)`` opens and loads it."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        super().__init__(data_dir, "dynamodb", "tables.sqlite3", _SCHEMA, FORMAT)
        self._local = threading.local()  # .changes: this thread's item changes not yet written
        self._ids: weakref.WeakKeyDictionary[Table, int] = weakref.WeakKeyDictionary()
        self._records: weakref.WeakKeyDictionary[Table, str] = weakref.WeakKeyDictionary()

    # -- items: handed over under Database.lock, written under the item locks ----------------

    def item_changed(self, table: Table, pkey: PartitionKey, skey: SortKey,
                     item: CachedItem | None) -> None:
        """Remember a stored item (None: deleted) until this thread's ``flush``."""
        try:
            self._local.changes.append((table, pkey, skey, item))
        except AttributeError:
            self._local.changes = [(table, pkey, skey, item)]

    def flush(self) -> None:
        """Write this thread's item changes in one transaction (``ItemLocks.flush``: the item
        locks that ordered them are still held)."""
        changes: list[_Change] | None = getattr(self._local, "changes", None)
        if not changes:
            return
        self._local.changes = []
        rows = [(table, *_row_key(pkey, skey), None if item is None else encode_item(item))
                for table, pkey, skey, item in changes]

        def build() -> list[Statement]:
            out: list[Statement] = []
            for table, pk, sk, data in rows:
                tid = self._ids.get(table)
                if tid is None:
                    continue  # its table was deleted (or everything reset) since
                if data is None:
                    out.append(("DELETE FROM items WHERE tbl = ? AND pk = ? AND sk = ?",
                                (tid, pk, sk)))
                else:
                    out.append(("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                                (tid, pk, sk, data)))
            return out

        self._commit(build)

    # -- tables: written under Database.lock ----------------------------------------------------

    def table_created(self, table: Table) -> None:
        record = table_record(table)
        with self._lock:
            db = self._db
            if db is None:
                raise DataDirError("the data dir is closed")
            cursor = db.execute("INSERT INTO tables (record) VALUES (?)", (record,))
            assert cursor.lastrowid is not None
            self._ids[table] = cursor.lastrowid
            self._records[table] = record
        table.persistence = self

    def table_changed(self, table: Table) -> None:
        """Write the table's record if it changed (after any operation that may change it)."""
        record = table_record(table)

        def build() -> list[Statement]:
            tid = self._ids.get(table)
            if tid is None or self._records.get(table) == record:
                return []
            self._records[table] = record
            return [("UPDATE tables SET record = ? WHERE id = ?", (record, tid))]

        self._commit(build)

    def table_deleted(self, table: Table) -> None:
        def build() -> list[Statement]:
            tid = self._ids.pop(table, None)
            self._records.pop(table, None)
            if tid is None:
                return []
            return [("DELETE FROM items WHERE tbl = ?", (tid,)),
                    ("DELETE FROM tables WHERE id = ?", (tid,))]

        self._commit(build)

    def table_restored(self, table: Table) -> None:
        """Write a table RestoreTableFromBackup built, with all its items, in one transaction
        (under Database.lock, before the table is published)."""
        record = table_record(table)
        rows = [(*_row_key(pkey, skey), _stored_bytes(entry.item))
                for pkey, skey, entry in table.store.scan()]
        with self._lock:
            db = self._db
            if db is None:
                raise DataDirError("the data dir is closed")
            db.execute("BEGIN IMMEDIATE")
            try:
                tid = db.execute("INSERT INTO tables (record) VALUES (?)", (record,)).lastrowid
                db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)",
                               [(tid, pk, sk, data) for pk, sk, data in rows])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            assert tid is not None
            self._ids[table] = tid
            self._records[table] = record
        table.persistence = self

    # -- backups: written before they are published, deleted under Database.lock ----------------

    def backup_created(self, backup: Backup) -> None:
        record = backup_record(backup)
        rows = [(backup.arn, seq, _stored_bytes(entry.item)) for seq, entry in enumerate(backup.entries)]

        def build() -> list[Statement]:
            return [("INSERT OR REPLACE INTO backups VALUES (?, ?)", (backup.arn, record)),
                    *(("INSERT OR REPLACE INTO backup_items VALUES (?, ?, ?)", row) for row in rows)]

        self._commit(build)

    def backup_deleted(self, arn: str) -> None:
        self._commit(lambda: [("DELETE FROM backup_items WHERE arn = ?", (arn,)),
                              ("DELETE FROM backups WHERE arn = ?", (arn,))])

    # -- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every table, item and backup (caller holds ``Database.lock``)."""
        def build() -> list[Statement]:
            self._ids = weakref.WeakKeyDictionary()
            self._records = weakref.WeakKeyDictionary()
            return [("DELETE FROM items", ()), ("DELETE FROM tables", ()),
                    ("DELETE FROM backup_items", ()), ("DELETE FROM backups", ())]

        self._commit(build)

    def load(self, database: Database) -> None:
        """Read every table and item into ``database`` (before it serves); from then on its
        changes are written here."""
        with self._lock:
            db = self._db
            assert db is not None
            tables: dict[int, Table] = {}
            for tid, record in db.execute("SELECT id, record FROM tables ORDER BY id").fetchall():
                table = table_from_record(record)
                tables[tid] = table
                self._ids[table] = tid
                self._records[table] = record
                database.tables[table.name] = table
            count = 0
            for tid, data in db.execute("SELECT tbl, item FROM items"):
                owner = tables.get(tid)
                if owner is None:
                    continue  # never written so: a table's items are deleted with it, atomically
                item = decode_item(data)
                owner.write(*owner.locate(owner.key_of(item)), item)
                count += 1
            entries: dict[str, list[Entry]] = {}
            for arn, data in db.execute("SELECT arn, item FROM backup_items ORDER BY arn, seq"):
                stored = CachedItem(decode_item(data))
                entries.setdefault(arn, []).append(Entry(stored, item_size(stored)))
            for arn, record in db.execute("SELECT arn, record FROM backups").fetchall():
                database.backups[arn] = backup_from_record(record, entries.get(arn, []))
        for table in tables.values():
            table.persistence = self
        database.persistence = self
        database.item_locks.flush = self.flush
        log.info("fakes3: data dir %s: %d DynamoDB tables, %d items, %d backups", self.root, len(tables),
                 count, len(database.backups))
