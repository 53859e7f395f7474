"""Multipart uploads in progress: an upload's parts, and the bucket's registry that lists them.

Locking (it extends model.py's; no lock is held while a body is received):

* ``Uploads.lock`` guards one bucket's registry: id -> upload, the listing order and the record of
  recently completed uploads. It is held only for dict / SortedList updates and for copying one
  listing page.
* ``Upload.lock`` guards one upload's parts and state. Order: registry -> upload, and
  key entry -> upload (a completion runs its check under the key's lock, then takes the upload's).
  A delete marks the key's uploads "conflicted" under the key's lock and the registry's.

An upload id sorts after every id created before it, so "lexicographically after the
upload-id-marker" (S3's ListMultipartUploads rule) is also "initiated later" for one key.

With a data dir, ``Uploads.journal`` (persistence.py) records each change before it is answered:
an upload is written before it is registered, a part under its upload's lock (so the parts of one
number are written in the order they were stored), the end of an upload after it is unregistered;
dropped parts are held until then, so their files outlive the metadata that names them.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from sortedcontainers import SortedList

from fakes3.errors import S3Error
from fakes3.s3 import errors
from fakes3.s3.blobs import Blob
from fakes3.s3.model import Bucket, Owner, encrypted_etag
from fakes3.s3.multipart_checksums import Mode

if TYPE_CHECKING:
    from fakes3.s3.encryption import Encryption
    from fakes3.s3.object_lock import Lock

ACTIVE, COMPLETED, ABORTED = "active", "completed", "aborted"
MAX_PARTS = 10_000
KEEP_COMPLETED = 10_000  # completions remembered per bucket, for retried (idempotent) completes

_sequence_lock = threading.Lock()
_last_sequence = 0


def new_upload_id() -> str:
    global _last_sequence
    with _sequence_lock:
        _last_sequence += 1
        number = _last_sequence
    return f"{number:016x}{secrets.token_hex(24)}"


def observe_upload_id(upload_id: str) -> None:
    """Make every later id sort after ``upload_id`` (an upload read back from a data dir)."""
    global _last_sequence
    try:
        number = int(upload_id[:16], 16)
    except ValueError:
        return
    with _sequence_lock:
        _last_sequence = max(_last_sequence, number)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
        "been aborted or completed.",
        404,
        fields={"UploadId": upload_id},
    )


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    blob: Blob
    last_modified: dt.datetime
    # Every checksum known for the part, base64: the upload's algorithm, and for S3's default mode
    # also the one the request carried.
    checksums: Mapping[str, str]
    encrypted: bool = False  # a part of an SSE-KMS or SSE-C upload: its ETag is not its MD5

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def etag(self) -> str:
        return encrypted_etag(self.blob.etag) if self.encrypted else self.blob.etag


@dataclass(frozen=True, slots=True)
class Completion:
    """What a successful CompleteMultipartUpload answered: replayed to an identical retry."""

    key: str
    parts: tuple[tuple[int, str], ...]  # (part number, bare ETag), as the request listed them
    result: Mapping[str, Any]


class UploadJournal(Protocol):
    """Where a data dir records a bucket's uploads (persistence.py)."""

    def upload_created(self, upload: Upload) -> None: ...

    def part_added(self, upload: Upload, part: Part) -> None: ...

    def upload_ended(self, upload: Upload) -> None: ...


@dataclass(eq=False)
class Upload:
    upload_id: str
    key: str
    initiated: dt.datetime
    owner: Owner
    mode: Mode
    storage_class: str
    headers: Mapping[str, Any]  # the stored representation headers (objects.content_headers)
    metadata: Mapping[str, str]
    tags: Mapping[str, str] = field(default_factory=dict)  # from x-amz-tagging, for the object
    # The object's ACL grants, from x-amz-acl / x-amz-grant-* (acl.py; () is "private").
    acl: tuple[tuple[str, str, str], ...] = ()
    encryption: Encryption | None = None  # the object's (encryption.py); None: SSE-S3
    object_lock: Lock | None = None  # the object's Object Lock retention and legal hold (object_lock.py)
    lock: threading.Lock = field(default_factory=threading.Lock)
    parts: dict[int, Part] = field(default_factory=dict)
    state: str = ACTIVE
    # A delete removed the key's object after this upload began: a conditional complete is then
    # refused with 409 ConditionalRequestConflict.
    conflicted: bool = False
    completion: Completion | None = None
    journal: UploadJournal | None = field(default=None, repr=False)

    def add_part(self, part: Part) -> None:
        """Store (or replace) a part; NoSuchUpload if the upload ended while it was received."""
        with self.lock:
            if self.state != ACTIVE:
                raise no_such_upload(self.upload_id)
            replaced = self.parts.get(part.number)  # held until the new part is recorded
            self.parts[part.number] = part
            if self.journal is not None:
                self.journal.part_added(self, part)
        del replaced

    def sorted_parts(self) -> list[Part]:
        with self.lock:
            return sorted(self.parts.values(), key=lambda p: p.number)


class Uploads:
    """One bucket's multipart uploads (``Bucket.uploads``)."""

    def __init__(self, journal: UploadJournal | None = None) -> None:
        self.lock = threading.Lock()
        self._by_id: dict[str, Upload] = {}
        self.order: SortedList = SortedList()  # (key, upload id): S3's listing order
        self._completed: OrderedDict[str, Completion] = OrderedDict()
        self.journal = journal

    def add(self, upload: Upload) -> None:
        if self.journal is not None:
            upload.journal = self.journal
            self.journal.upload_created(upload)  # recorded before anyone can add a part
        self.restore(upload)

    def restore(self, upload: Upload) -> None:
        """Register an upload without recording it (read back from a data dir)."""
        with self.lock:
            self._by_id[upload.upload_id] = upload
            self.order.add((upload.key, upload.upload_id))

    def restore_completion(self, upload_id: str, completion: Completion) -> None:
        with self.lock:
            self._completed[upload_id] = completion

    def of_key(self, key: str) -> list[Upload]:
        """The key's uploads in progress (or completing right now)."""
        with self.lock:
            return [self._by_id[upload_id] for _, upload_id in self._ids_of(key)]

    def _ids_of(self, key: str) -> Iterator[tuple[str, str]]:
        return self.order.irange((key, ""), (key + "\x00", ""), inclusive=(True, False))

    def get(self, upload_id: str, key: str) -> Upload:
        with self.lock:
            upload = self._by_id.get(upload_id)
        if upload is None or upload.key != key:
            raise no_such_upload(upload_id)
        return upload

    def completed(self, upload_id: str, key: str) -> Completion | None:
        with self.lock:
            done = self._completed.get(upload_id)
        return done if done is not None and done.key == key else None

    def finish(self, upload: Upload) -> None:
        """Forget a completed upload, keeping what it answered; its unused parts are released."""
        with self.lock:
            self._remove(upload)
            if upload.completion is not None:
                self._completed[upload.upload_id] = upload.completion
                while len(self._completed) > KEEP_COMPLETED:
                    self._completed.popitem(last=False)
        with upload.lock:
            dropped, upload.parts = upload.parts, {}
        if self.journal is not None:
            self.journal.upload_ended(upload)
        del dropped  # only now may the files of parts left out of the object go

    def abort(self, upload_id: str, key: str, initiated: dt.datetime | None) -> None:
        """AbortMultipartUpload: the upload and its parts are gone (their files once unread)."""
        with self.lock:
            upload = self._by_id.get(upload_id)
            if upload is None or upload.key != key:
                if upload_id in self._completed and self._completed[upload_id].key == key:
                    return  # S3 answers 204 for an upload completed a moment ago
                raise no_such_upload(upload_id)
            if initiated is not None and _whole(initiated) != _whole(upload.initiated):
                raise errors.precondition_failed("x-amz-if-match-initiated-time")
            with upload.lock:
                if upload.state == COMPLETED:
                    return  # completing right now: the object wins
                upload.state = ABORTED
                dropped, upload.parts = upload.parts, {}
            self._remove(upload)
        if self.journal is not None:
            self.journal.upload_ended(upload)
        del dropped

    def _remove(self, upload: Upload) -> None:
        if self._by_id.get(upload.upload_id) is upload:
            del self._by_id[upload.upload_id]
            self.order.discard((upload.key, upload.upload_id))

    def key_deleted(self, key: str) -> None:
        with self.lock:
            for _, upload_id in self._ids_of(key):
                self._by_id[upload_id].conflicted = True

    def lookup(self, upload_id: str) -> Upload:
        """An upload of the listing (caller holds ``lock``)."""
        return self._by_id[upload_id]


def _whole(when: dt.datetime) -> dt.datetime:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.replace(microsecond=0)


def uploads_of(bucket: Bucket) -> Uploads:
    """The bucket's registry, created on first use."""
    registry = bucket.uploads
    if registry is None:
        persistence = bucket.persistence
        journal = persistence.upload_journal(bucket) if persistence is not None else None
        with bucket.lock:
            if bucket.uploads is None:
                bucket.uploads = Uploads(journal)
            registry = bucket.uploads
    return cast(Uploads, registry)
