"""The request journal: the history the conformance checker reads.

One entry per request: when it was invoked and completed (monotonic seconds), on which connection
and thread, what it was (service, operation, bucket/key or table/item key), how it ended (status,
error code), what it read or wrote (ETag, version) and which faults were applied. Bounded: the
oldest entries go first.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Entry:
    seq: int
    request_id: str
    service: str
    operation: str
    invoke: float
    thread: str
    connection: str = ""
    access_key: str | None = None  # the key that signed the request (None: unsigned)
    bucket: str | None = None
    key: str | None = None
    table: str | None = None
    item_key: dict[str, Any] | None = None
    complete: float | None = None
    status: int | None = None
    error: str | None = None
    etag: str | None = None
    version_id: str | None = None
    faults: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != []}


class Journal:
    def __init__(self, max_entries: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)

    def begin(self, request_id: str, service: str, operation: str, connection: str = "",
              access_key: str | None = None, bucket: str | None = None, key: str | None = None,
              table: str | None = None, item_key: dict[str, Any] | None = None) -> Entry:
        entry = Entry(next(self._seq), request_id, service, operation, time.monotonic(),
                      threading.current_thread().name, connection, access_key, bucket, key, table, item_key)
        with self._lock:
            self._entries.append(entry)
        return entry

    @staticmethod
    def end(entry: Entry, status: int, error: str | None = None) -> None:
        entry.complete = time.monotonic()
        entry.status = status
        entry.error = error

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def jsonl(self) -> str:
        return "".join(json.dumps(e.to_json(), sort_keys=True) + "\n" for e in self.entries())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
