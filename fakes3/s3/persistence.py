"""Optional persistence: a data dir that keeps buckets, objects, versions and uploads across restarts.

Layout of ``DATA_DIR/s3/`` (room is left beside it for other services):

* ``blobs/``: one file per body, named by a random id. blobs.py writes a body to a ``tmp-`` file
  in the same directory, fsyncs it and renames it into place, so a file with a final name is
  complete.
* ``metadata.sqlite3``: SQLite in WAL mode with ``synchronous=FULL``; one transaction per change,
  committed (and fsync'd) before the request is answered. Tables: buckets (the generic settings
  record, persistence_codec.py), versions (one row per version or delete marker), uploads, parts,
  completions (recent CompleteMultipartUpload answers, replayed to a retried complete).
* ``lock``: held with ``flock`` while a server uses the directory; a second one is refused.

Crash safety follows from one order: a body's file is durable before the metadata that names it
commits, and a file is unlinked only once no metadata (and no reader) names it. A SIGKILL in the
middle of a PUT leaves at most a ``tmp-`` file, or a complete file no record names; both are
removed at the next start, and the key is as it was.

The in-memory model stays the truth while serving (model.py's locks, unchanged). Each change is
written by the thread that made it, under the lock that ordered it, so records commit in the
order the changes were applied: a key's changes under the key's lock (model.Bucket._writing), a
part under its upload's lock, bucket creates and deletes under ``Store.registry``, and bucket
settings stamped with a generation taken under the bucket's lock (the newest snapshot wins).
The metadata lock is the innermost lock: no model lock is taken while it is held.

A multipart upload's completion is written in the same transaction as the object it creates
(``key_changed`` sees the key's uploads marked completed under the key's lock), so a restart
never shows both the object and the upload still in progress.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import sqlite3
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes3.s3 import persistence_codec as codec
from fakes3.s3.blobs import TEMP_PREFIX, BlobStore
from fakes3.s3.model import Bucket, Change, Store
from fakes3.s3.multipart_state import ACTIVE, COMPLETED, Part, Upload, Uploads
from fakes3.s3.persistence_load import Loader, Statement, upload_rows
from fakes3.sqlite_store import DataDirError, SqliteStore

__all__ = ["DataDirError", "Persistence"]

log = logging.getLogger("fakes3.persistence")

FORMAT = "1"
_TABLES = ("versions", "parts", "uploads", "completions")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    bucket INTEGER NOT NULL, key BLOB NOT NULL, version_id TEXT NOT NULL, seq INTEGER NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (bucket, key, version_id));
CREATE TABLE IF NOT EXISTS uploads (
    bucket INTEGER NOT NULL, upload_id TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (bucket, upload_id));
CREATE TABLE IF NOT EXISTS parts (
    bucket INTEGER NOT NULL, upload_id TEXT NOT NULL, number INTEGER NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (bucket, upload_id, number));
CREATE TABLE IF NOT EXISTS completions (
    n INTEGER PRIMARY KEY AUTOINCREMENT, bucket INTEGER NOT NULL, upload_id TEXT NOT NULL,
    record TEXT NOT NULL, UNIQUE (bucket, upload_id));
"""


@dataclass
class _BucketState:
    id: int
    settings: str  # the last settings record written
    generation: int = 0  # of that record's snapshot


def _dumps(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"))  # ASCII: any key survives


def _key(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")


class Persistence(SqliteStore):
    """The metadata store of one data dir; ``S3Service(data_dir=...)`` opens and loads it."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.blob_dir = os.path.join(os.path.abspath(os.fspath(data_dir)), "s3", "blobs")
        try:
            os.makedirs(self.blob_dir, exist_ok=True)
        except OSError as exc:
            raise DataDirError(f"cannot use {data_dir}: {exc.strerror or exc}") from None
        super().__init__(data_dir, "s3", "metadata.sqlite3", _SCHEMA, FORMAT)
        self._buckets: weakref.WeakKeyDictionary[Bucket, _BucketState] = weakref.WeakKeyDictionary()
        self._generations = itertools.count(1)  # next() is atomic: buckets snapshot concurrently

    # -- writing ------------------------------------------------------------------------------

    def _remember(self, bucket: Bucket, bid: int, settings: str) -> None:
        """A bucket read back at start-up: its row and settings record (caller holds ``_lock``)."""
        self._buckets[bucket] = _BucketState(bid, settings)

    def _id(self, bucket: Bucket) -> int | None:
        """The bucket's row (caller holds ``_lock``); None: not written, or removed."""
        state = self._buckets.get(bucket)
        return state.id if state is not None else None

    def bucket_added(self, bucket: Bucket) -> None:
        with bucket.lock:
            settings = _dumps(codec.bucket_settings(bucket))
        with self._lock:
            db = self._db
            if db is None:
                raise DataDirError("the data dir is closed")
            cursor = db.execute("INSERT INTO buckets (name, settings) VALUES (?, ?)",
                                (bucket.name, settings))
            assert cursor.lastrowid is not None
            self._buckets[bucket] = _BucketState(cursor.lastrowid, settings)

    def bucket_removed(self, bucket: Bucket) -> None:
        def build() -> list[Statement]:
            state = self._buckets.pop(bucket, None)
            if state is None:
                return []
            return [("DELETE FROM buckets WHERE id = ?", (state.id,)),
                    *((f"DELETE FROM {table} WHERE bucket = ?", (state.id,)) for table in _TABLES)]

        self._commit(build)

    def bucket_settings(self, store: Store, name: str | None) -> None:
        """Write the bucket's settings if they changed (after any operation that may change
        them: S3Service.handle calls this)."""
        with store.lock:
            bucket = store.buckets.get(name) if name else None
        if bucket is None:
            return
        with bucket.lock:  # so snapshots of one bucket are numbered in the order they were taken
            settings = _dumps(codec.bucket_settings(bucket))
            generation = next(self._generations)

        def build() -> list[Statement]:
            state = self._buckets.get(bucket)
            if state is None or generation <= state.generation:
                return []  # removed, or a newer snapshot is written already
            state.generation = generation
            if settings == state.settings:
                return []
            state.settings = settings
            return [("UPDATE buckets SET settings = ? WHERE id = ?", (settings, state.id))]

        self._commit(build)

    def key_changed(self, bucket: Bucket, key: str, changes: list[Change]) -> None:
        raw = _key(key)
        removed: list[str] = []
        added: list[tuple[str, int, str]] = []
        for old, new in changes:
            kept_old, kept_new = {id(v) for v in old}, {id(v) for v in new}
            removed += [v.version_id for v in old if id(v) not in kept_new]
            added += [(v.version_id, v.seq, _dumps(codec.version_record(v)))
                      for v in new if id(v) not in kept_old]
        uploads = self._uploads_of_key(bucket, key)

        def build() -> list[Statement]:
            bid = self._id(bucket)
            if bid is None:
                return []
            out: list[Statement] = []
            for version_id in removed:
                out.append(("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                            (bid, raw, version_id)))
            for version_id, seq, record in added:
                out.append(("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?)",
                            (bid, raw, version_id, seq, record)))
            for upload_id, completion, record in uploads:
                if completion is not None:  # completed by this change: gone with it, atomically
                    out += upload_rows(bid, upload_id)
                    out.append(("INSERT OR REPLACE INTO completions (bucket, upload_id, record) "
                                "VALUES (?, ?, ?)", (bid, upload_id, completion)))
                else:  # a delete made it "conflicted"
                    out.append(("UPDATE uploads SET record = ? WHERE bucket = ? AND upload_id = ?",
                                (record, bid, upload_id)))
            return out

        self._commit(build)

    def _uploads_of_key(self, bucket: Bucket, key: str) -> list[tuple[str, str | None, str]]:
        """(upload id, completion record, upload record) of the key's uploads that this change
        completed or marked conflicted (caller holds the key's lock)."""
        registry = bucket.uploads
        if not isinstance(registry, Uploads):
            return []
        out: list[tuple[str, str | None, str]] = []
        for upload in registry.of_key(key):
            with upload.lock:
                state, completion, conflicted = upload.state, upload.completion, upload.conflicted
            if state == COMPLETED and completion is not None:
                out.append((upload.upload_id, _dumps(codec.encode(completion)), ""))
            elif state == ACTIVE and conflicted:
                out.append((upload.upload_id, None, _dumps(codec.upload_record(upload))))
        return out

    def upload_journal(self, bucket: Bucket) -> UploadRecorder:
        return UploadRecorder(self, bucket)

    # -- lifecycle ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (the blob store removes the files)."""
        def build() -> list[Statement]:
            self._buckets = weakref.WeakKeyDictionary()
            return [("DELETE FROM buckets", ()), *((f"DELETE FROM {t}", ()) for t in _TABLES)]

        self._commit(build)

    def backup(self, dest: str | os.PathLike[str]) -> None:
        """Copy the data dir to ``dest`` (a new directory), consistently, while it serves: the
        metadata with SQLite's backup API, each body by a hard link (a copy across file systems).
        Both happen under the metadata lock: no change commits meanwhile, and a body file is only
        unlinked after a commit stops naming it, so every file the copied records name is there."""
        blob_dir = os.path.join(os.path.abspath(os.fspath(dest)), "s3", "blobs")
        os.makedirs(blob_dir)
        with self._lock:
            if self._db is None:
                raise DataDirError("the data dir is closed")
            copy = sqlite3.connect(os.path.join(os.path.dirname(blob_dir), "metadata.sqlite3"))
            try:
                self._db.backup(copy)
            finally:
                copy.close()
            for name in os.listdir(self.blob_dir):
                if name.startswith(TEMP_PREFIX):
                    continue
                source, target = os.path.join(self.blob_dir, name), os.path.join(blob_dir, name)
                try:
                    os.link(source, target)
                except FileNotFoundError:
                    continue  # its last holder just let go: no committed record names it
                except OSError:
                    shutil.copyfile(source, target)

    # -- start-up -----------------------------------------------------------------------------

    def load(self, store: Store, blobs: BlobStore) -> None:
        """Read every bucket, version and upload into ``store`` (before it serves), drop records
        that name nothing, and remove body files no record names."""
        with self._lock:
            db = self._db
            assert db is not None
            loader = Loader(db, store, blobs, self.upload_journal, self._remember)
            loader.run()
        log.info("fakes3: data dir %s: %s", self.root, loader.summary())


class UploadRecorder:
    """multipart_state.UploadJournal for one bucket."""

    def __init__(self, persistence: Persistence, bucket: Bucket) -> None:
        self._persistence = persistence
        self._bucket = weakref.ref(bucket)  # an upload registry must not keep its bucket alive

    def _commit(self, build: Callable[[int], list[Statement]]) -> None:
        bucket = self._bucket()
        if bucket is None:
            return
        persistence = self._persistence

        def statements() -> list[Statement]:
            bid = persistence._id(bucket)
            return [] if bid is None else build(bid)

        persistence._commit(statements)

    def upload_created(self, upload: Upload) -> None:
        record = _dumps(codec.upload_record(upload))
        self._commit(lambda bid: [("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?)",
                                   (bid, upload.upload_id, record))])

    def part_added(self, upload: Upload, part: Part) -> None:
        record = _dumps(codec.part_record(part))
        self._commit(lambda bid: [("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?)",
                                   (bid, upload.upload_id, part.number, record))])

    def upload_ended(self, upload: Upload) -> None:
        self._commit(lambda bid: upload_rows(bid, upload.upload_id))
