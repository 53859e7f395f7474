"""A service's part of a data dir: ``DATA_DIR/<service>/``, locked while a server uses it, with
one SQLite database in WAL mode, each change one transaction, committed and fsync'd
(``synchronous=FULL``) before the request that made it is answered.

S3 (fakes3.s3.persistence) and DynamoDB (fakes3.dynamodb.persistence) each build on one. The
store's lock guards the connection and is the innermost lock: no model lock is taken under it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import IO, Any

try:
    import fcntl
except ImportError:  # not POSIX: no lock; one server per data dir is then up to the user
    fcntl = None  # type: ignore[assignment]

Statement = tuple[str, tuple[Any, ...]]


class DataDirError(Exception):
    """The data dir cannot be used (in use by another server, unreadable, a newer format...)."""


class SqliteStore:
    def __init__(self, data_dir: str | os.PathLike[str], service: str, filename: str, schema: str,
                 data_format: str) -> None:
        """Lock ``DATA_DIR/<service>/`` and open (or create) ``filename`` there with ``schema``;
        a database of another ``data_format`` is refused with DataDirError."""
        self.root = os.path.join(os.path.abspath(os.fspath(data_dir)), service)
        self._lock_file: IO[str] | None = _lock_dir(self.root, data_dir)
        self._lock = threading.Lock()
        try:
            self._db: sqlite3.Connection | None = _connect(os.path.join(self.root, filename), schema,
                                                           data_format, service)
        except (sqlite3.Error, DataDirError) as exc:
            self._unlock()
            raise DataDirError(f"cannot use {data_dir}: {exc}") from None

    def _commit(self, build: Callable[[], list[Statement]]) -> None:
        """Run the statements ``build`` returns (it runs under the store's lock) in one
        transaction."""
        with self._lock:
            statements = build()
            if not statements:
                return
            db = self._db
            if db is None:
                raise DataDirError("the data dir is closed")
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    db.execute(sql, params)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        """Let go of the data dir; everything in it is kept for the next start."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a compact file for next time
                db.close()
        self._unlock()

    def _unlock(self) -> None:
        lock_file, self._lock_file = self._lock_file, None
        if lock_file is not None:
            if fcntl is not None:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
            lock_file.close()


def _lock_dir(root: str, data_dir: str | os.PathLike[str]) -> IO[str]:
    """``root``'s lock file, held: one server per data dir."""
    try:
        os.makedirs(root, exist_ok=True)
        lock_file = open(os.path.join(root, "lock"), "a")  # noqa: SIM115
    except OSError as exc:
        raise DataDirError(f"cannot use {data_dir}: {exc.strerror or exc}") from None
    try:
        if fcntl is not None:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.close()
        raise DataDirError(f"{data_dir} is in use by another fakes3 server: stop it, or give "
                           "each server its own data dir") from None
    return lock_file


def _connect(path: str, schema: str, data_format: str, service: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # each commit is fsync'd: it survives a power cut
    db.executescript(schema)
    db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (data_format,))
    (found,) = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
    if found != data_format:
        db.close()
        raise DataDirError(f"it holds {service} format {found}; this fakes3 reads format {data_format}")
    return db
