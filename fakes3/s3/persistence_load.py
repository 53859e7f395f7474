"""Start-up of a data dir (persistence.py): its records back into the model, then the clean-up.

Every bucket, version, upload, part and recent completion is read into the ``Store`` before it
serves. A record that names nothing any more (a bucket removed while a write to it was finishing,
an upload completed) is deleted; so is one whose body file is missing, with a warning (that only
happens if files were removed by hand). Then every file of the blob directory that no record
names is removed: ``tmp-`` files of bodies cut short, and complete bodies whose metadata never
committed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable
from typing import Any

from fakes3.s3 import persistence_codec as codec
from fakes3.s3 import version_ids
from fakes3.s3.blobs import BlobStore
from fakes3.s3.model import Bucket, Store
from fakes3.s3.multipart_state import (
    KEEP_COMPLETED,
    Upload,
    UploadJournal,
    Uploads,
    observe_upload_id,
    uploads_of,
)
from fakes3.sqlite_store import DataDirError, Statement

log = logging.getLogger("fakes3.persistence")


def upload_rows(bid: int, upload_id: str) -> list[Statement]:
    """Statements that delete an upload and its parts."""
    return [("DELETE FROM uploads WHERE bucket = ? AND upload_id = ?", (bid, upload_id)),
            ("DELETE FROM parts WHERE bucket = ? AND upload_id = ?", (bid, upload_id))]


class Loader:
    """One start-up: rows to model objects, then the clean-up of what nothing names."""

    def __init__(self, db: sqlite3.Connection, store: Store, blobs: BlobStore,
                 journal: Callable[[Bucket], UploadJournal],
                 remember: Callable[[Bucket, int, str], None]) -> None:
        self.db = db
        self.journal = journal
        self.remember = remember  # a bucket's row id and its settings record
        self.store = store
        self.bodies = codec.BodyReader(blobs)
        self.blobs = blobs
        self.buckets: dict[int, Bucket] = {}
        self.stale: list[Statement] = []  # rows that name nothing any more
        self.counts = {"buckets": 0, "versions": 0, "uploads": 0, "parts": 0, "files removed": 0,
                       "records dropped": 0}

    def summary(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in self.counts.items())

    def run(self) -> None:
        self._buckets()
        self._versions()
        self._uploads()
        self._completions()
        if self.stale:
            self.db.execute("BEGIN IMMEDIATE")
            for sql, params in self.stale:
                self.db.execute(sql, params)
            self.db.execute("COMMIT")
        self._remove_unnamed_files()

    def _drop(self, why: str, sql: str, params: tuple[Any, ...]) -> None:
        log.warning("fakes3: data dir: dropping a record: %s", why)
        self.counts["records dropped"] += 1
        self.stale.append((sql, params))

    def _buckets(self) -> None:
        for bid, name, settings in self.db.execute(
                "SELECT id, name, settings FROM buckets ORDER BY id"):
            try:
                bucket = codec.make_bucket(self.store, json.loads(settings))
            except Exception as exc:
                raise DataDirError(f"cannot read bucket {name!r} back: {exc!r}") from exc
            earlier = self.store.buckets.get(bucket.name)
            if earlier is not None:  # never two rows of a name; if so, the later wins
                self.buckets = {k: b for k, b in self.buckets.items() if b is not earlier}
                self.stale.append(("DELETE FROM buckets WHERE name = ? AND id < ?", (name, bid)))
            self.store.buckets[bucket.name] = bucket
            self.buckets[bid] = bucket
            self.remember(bucket, bid, settings)
            self.counts["buckets"] += 1

    def _versions(self) -> None:
        group: tuple[int, bytes] | None = None
        versions: list[Any] = []
        last_seq = 0
        rows = self.db.execute(
            "SELECT bucket, key, version_id, seq, record FROM versions ORDER BY bucket, key, seq")
        for bid, raw, version_id, seq, record in rows:
            where = ("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                     (bid, raw, version_id))
            if bid not in self.buckets:
                self.stale.append(where)
                continue
            try:
                version = codec.read_version(json.loads(record), self.bodies)
            except codec.MissingBody as exc:
                self._drop(f"a version of {raw!r} in bucket {self.buckets[bid].name}: {exc}", *where)
                continue
            if group != (bid, raw):
                self._restore(group, versions)
                group, versions = (bid, raw), []
            versions.append(version)
            last_seq = max(last_seq, seq)
            self.counts["versions"] += 1
        self._restore(group, versions)
        with version_ids._lock:  # IDs issued from now on sort after every one read back
            version_ids._last = max(version_ids._last, last_seq)

    def _restore(self, group: tuple[int, bytes] | None, versions: list[Any]) -> None:
        if group is not None and versions:
            self.buckets[group[0]].restore(versions[0].key, versions)

    def _uploads(self) -> None:
        uploads: dict[tuple[int, str], Upload] = {}
        done = set(self.db.execute("SELECT bucket, upload_id FROM completions"))
        for bid, upload_id, record in self.db.execute(
                "SELECT bucket, upload_id, record FROM uploads ORDER BY bucket, upload_id"):
            bucket = self.buckets.get(bid)
            if bucket is None or (bid, upload_id) in done:
                self.stale += upload_rows(bid, upload_id)
                continue
            upload = codec.read_upload(json.loads(record))
            registry = self._registry(bucket)
            upload.journal = registry.journal
            registry.restore(upload)
            observe_upload_id(upload_id)
            uploads[(bid, upload_id)] = upload
            self.counts["uploads"] += 1
        for bid, upload_id, number, record in self.db.execute(
                "SELECT bucket, upload_id, number, record FROM parts"):
            where = ("DELETE FROM parts WHERE bucket = ? AND upload_id = ? AND number = ?",
                     (bid, upload_id, number))
            owner = uploads.get((bid, upload_id))
            if owner is None:
                self.stale.append(where)
                continue
            try:
                owner.parts[number] = codec.read_part(json.loads(record), self.bodies)
            except codec.MissingBody as exc:
                self._drop(f"part {number} of upload {upload_id}: {exc}", *where)
                continue
            self.counts["parts"] += 1

    def _registry(self, bucket: Bucket) -> Uploads:
        if bucket.uploads is None:
            bucket.uploads = Uploads(self.journal(bucket))
        return uploads_of(bucket)

    def _completions(self) -> None:
        """The newest KEEP_COMPLETED completions of each bucket, remembered oldest first."""
        counts: dict[int, int] = {}
        kept = []
        for n, bid, upload_id, record in self.db.execute(
                "SELECT n, bucket, upload_id, record FROM completions ORDER BY n DESC"):
            count = counts.get(bid, 0)
            if bid not in self.buckets or count >= KEEP_COMPLETED:
                self.stale.append(("DELETE FROM completions WHERE n = ?", (n,)))
                continue
            counts[bid] = count + 1
            kept.append((self.buckets[bid], upload_id, record))
        for bucket, upload_id, record in reversed(kept):
            self._registry(bucket).restore_completion(upload_id, codec.decode(json.loads(record)))

    def _remove_unnamed_files(self) -> None:
        named = set(self.bodies.files)
        directory = self.blobs.directory
        for name in os.listdir(directory):
            if name in named:
                continue
            # A body cut short (tmp-...), or a complete one whose metadata never committed.
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                os.unlink(os.path.join(directory, name))
                self.counts["files removed"] += 1
