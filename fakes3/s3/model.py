"""The S3 model: buckets, keys, object versions, and the locks that make it linearizable per key.

Locking (why it is correct, and why it stays fast):

* ``Store.lock`` guards the bucket registry (create, delete; a look-up is one atomic dict read).
  Never held while waiting for anything else but a bucket lock (order: store -> bucket).
* ``Bucket.lock`` guards the bucket's key map and its sorted index of live keys. It is held only
  for O(log n) dict / SortedList updates and for copying one listing page, never for I/O.
  Every writer swaps a key's version list in whole under it (a published list is never changed
  in place), so a reader sees either the old or the new version, never a mix: a LIST takes the
  lock to copy a page; a GET or HEAD of one key reads its entry and list without it (each read
  is one atomic step).
* ``KeyEntry.lock`` serialises the writers of one key. A write checks its conditions and acts
  while holding it (order: entry -> bucket), so a conditional write is atomic, and a fault hook
  called between check and act holds up only that key, not the whole bucket.

Bodies are written to a blob *before* any of this (see objects.py): the locks only ever cover
swapping an immutable ``ObjectVersion`` in or out.

Versioning: a key keeps its versions oldest first. Whether a write gets a new version ID or the
"null" one, and whether a delete removes the null version or adds a delete marker, is decided by the
bucket's versioning state read under the bucket lock in the same step that publishes the change, so
every write is ordered exactly once against every PutBucketVersioning. Version IDs and sequence
numbers are stamped there too: per key, ID order is publish order (see version_ids.py).

A bucket's in-progress multipart uploads live in ``Bucket.uploads`` (see multipart_state.py, which
owns them and their locks). Completing one is a ``put`` like any other, its check run under the key
lock; a delete tells the key's uploads, also under the key lock, so a conditional complete can see
that a delete won the race (S3's 409 ConditionalRequestConflict).

With a data dir (``Store.persistence``, see persistence.py), every change to a key's versions is
queued on its entry as it is published and written out, in publish order, before the writer lets
go of the key's lock (so before it answers). The replaced version lists are held until then: a
body's file outlives the metadata that names it. Buckets are written before they are registered
and after they are removed, one create or delete at a time (``Store.registry``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sortedcontainers import SortedList

from fakes3.s3 import errors, version_ids
from fakes3.s3.blobs import Blob, BlobStore

if TYPE_CHECKING:
    from fakes3.s3.encryption import BucketEncryption, Encryption
    from fakes3.s3.lifecycle_rules import LifecycleConfiguration
    from fakes3.s3.object_lock import Lock, LockConfiguration

DISPLAY_NAME = "fakes3"
NULL_VERSION = "null"
ENABLED, SUSPENDED = "Enabled", "Suspended"  # a bucket's versioning; None: never configured

# Called between a write's check and its act: (operation, bucket, key, key lock). Fault injection
# uses it to hold or delay a write there, and may let go of the key's lock meanwhile (the TOCTOU
# window of stores that check, then write).
FaultHook = Callable[[str, str, str, "threading.Lock"], None]
# Consulted by reads of a key's current version: (bucket, key) -> a version to serve instead,
# MISSING to answer 404, or None to read normally (stale reads, torn PUTs).
ReadHook = Callable[[str, str], "ObjectVersion | object | None"]
MISSING = object()
# A write's condition: sees the current version (None: no object) and raises to refuse.
Check = Callable[["ObjectVersion | None"], None]
# Picks the version a request names from a key's versions (oldest first); raises if there is none.
Pick = Callable[[list["ObjectVersion"]], "ObjectVersion"]


class UploadTracker(Protocol):
    """A bucket's multipart uploads, as the model sees them (multipart_state.Uploads)."""

    def key_deleted(self, key: str) -> None:
        """A delete removed ``key``'s object (called under the key's lock)."""


# A key's version list before and after one published change.
Change = tuple[list["ObjectVersion"], list["ObjectVersion"]]


class Persistence(Protocol):
    """A data dir's metadata store (persistence.Persistence), as the model sees it."""

    def bucket_added(self, bucket: Bucket) -> None: ...

    def bucket_removed(self, bucket: Bucket) -> None: ...

    def key_changed(self, bucket: Bucket, key: str, changes: list[Change]) -> None:
        """Record a key's published changes, oldest first (called under the key's lock)."""

    def upload_journal(self, bucket: Bucket) -> Any:
        """The bucket's multipart_state.UploadJournal."""


@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    display_name: str = DISPLAY_NAME

    @classmethod
    def for_account(cls, account_id: str) -> Owner:
        return _owner_of(account_id)

    def to_dict(self) -> dict[str, str]:
        return {"DisplayName": self.display_name, "ID": self.id}


@functools.lru_cache(maxsize=1024)
def _owner_of(account_id: str) -> Owner:
    # A stable 64-hex canonical user id, as S3 shows them, derived from the account id.
    return Owner(hashlib.sha256(f"fakes3-canonical:{account_id}".encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One immutable version of a key. Replacing an object swaps in a new one."""

    key: str
    blob: Blob
    last_modified: dt.datetime  # whole seconds, UTC: what HEAD and LIST both show
    owner: Owner
    content_type: str = "binary/octet-stream"
    content_encoding: str | None = None
    content_disposition: str | None = None
    content_language: str | None = None
    cache_control: str | None = None
    expires: dt.datetime | str | None = None
    website_redirect_location: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_value: str | None = None
    checksum_type: str = "FULL_OBJECT"
    storage_class: str = "STANDARD"
    version_id: str = NULL_VERSION
    delete_marker: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    seq: int = 0  # when it was published (version_ids.next_sequence); orders the null version too
    # The object's ACL grants, ("id" | "uri", grantee, permission) each (see acl.py); () is the
    # canned "private": the owner's FULL_CONTROL alone.
    acl: tuple[tuple[str, str, str], ...] = ()
    # How it is encrypted (encryption.py); None is SSE-S3, S3's default.
    encryption: Encryption | None = None
    # Its Object Lock retention and legal hold (object_lock.py); None: nothing protects it.
    object_lock: Lock | None = None

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def etag(self) -> str:
        if self.encryption is None:  # SSE-S3: the MD5 of the bytes (of the parts' MD5s, multipart)
            return self.blob.etag
        return encrypted_etag(self.blob.etag)


@functools.lru_cache(maxsize=4096)
def encrypted_etag(etag: str) -> str:
    # S3: "Objects encrypted by SSE-C or SSE-KMS have ETags that are not an MD5 digest of their
    # object data." One derived from the MD5 stays stable per object; a multipart one keeps "-N".
    digest, dash, parts = etag.strip('"').partition("-")
    return f'"{hashlib.md5(b"fakes3-sse:" + digest.encode()).hexdigest()}{dash}{parts}"'


def _slot_setting_init(cls: type) -> None:
    """Give a frozen slots dataclass an ``__init__`` that fills each slot through its descriptor.

    The ``__init__`` dataclasses writes for a frozen class calls ``object.__setattr__`` once per
    field, which looks the name up each time; this one, with the same signature, defaults and
    default factories, takes twice less time (an ObjectVersion is made per PUT). Instances stay
    frozen: assigning an attribute still raises FrozenInstanceError."""
    assert not hasattr(cls, "__post_init__")
    env: dict[str, Any] = {"_HAS_FACTORY": object()}
    params, lines = [], []
    for f in dataclasses.fields(cls):
        name = f.name
        env[f"_set_{name}"] = cls.__dict__[name].__set__
        value = name
        if f.default is not dataclasses.MISSING:
            env[f"_default_{name}"] = f.default
            params.append(f"{name}=_default_{name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_factory_{name}"] = f.default_factory
            params.append(f"{name}=_HAS_FACTORY")
            value = f"_factory_{name}() if {name} is _HAS_FACTORY else {name}"
        else:
            params.append(name)
        lines.append(f"    _set_{name}(self, {value})\n")
    exec(f"def __init__(self, {', '.join(params)}):\n{''.join(lines)}", env)  # noqa: S102
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]


_slot_setting_init(ObjectVersion)


class KeyEntry:
    """The versions of one key, oldest first. Unversioned buckets keep one "null" version."""

    __slots__ = ("key", "lock", "versions", "pins", "pending")

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.versions: list[ObjectVersion] = []
        self.pins = 0  # writers holding this entry; an empty unpinned entry is dropped
        self.pending: list[Change] | None = None  # published, not yet persisted (data dir only)

    @property
    def current(self) -> ObjectVersion | None:
        if not self.versions or self.versions[-1].delete_marker:
            return None
        return self.versions[-1]


EMPTY_BLOB = Blob(size=0, md5=hashlib.md5(b"").digest(), checksums={}, data=b"")


def delete_marker(key: str, owner: Owner, when: dt.datetime) -> ObjectVersion:
    """A delete marker to publish with ``Bucket.delete`` (its version ID is stamped there)."""
    return ObjectVersion(key=key, blob=EMPTY_BLOB, last_modified=when.replace(microsecond=0),
                         owner=owner, delete_marker=True)


@dataclass(frozen=True, slots=True)
class Deletion:
    """What a DELETE without a version ID did: the version it removed, the marker it added."""

    removed: ObjectVersion | None = None
    marker: ObjectVersion | None = None


@dataclass(frozen=True)
class PublicAccessBlock:
    """A bucket's Block Public Access settings (PublicAccessBlockConfiguration)."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


class Bucket:
    def __init__(
        self,
        store: Store,
        name: str,
        *,
        owner: Owner,
        account_id: str,
        location_constraint: str | None,
        region: str,
        created: dt.datetime,
    ) -> None:
        self._store = store
        self.name = name
        self.owner = owner
        self.account_id = account_id
        self.location_constraint = location_constraint
        self.region = region
        self.created = created
        self.lock = threading.Lock()
        self.deleted = False
        self._entries: dict[str, KeyEntry] = {}
        self.keys: SortedList = SortedList()  # keys with a live current version
        self.all_keys: SortedList = SortedList()  # keys with any version or delete marker
        self.uploads: UploadTracker | None = None  # created on first use, under ``lock``
        # Bucket configuration, guarded by ``lock``.
        self.versioning: str | None = None  # ENABLED, SUSPENDED, or None: never configured
        self.mfa_delete: str | None = None
        self.tags: dict[str, str] | None = None
        # Access: the bucket's ACL grants (as ObjectVersion.acl; () is "private") and its bucket
        # policy, the JSON text as put (None: no policy). See access.py.
        self.acl: tuple[tuple[str, str, str], ...] = ()
        self.policy: str | None = None
        # Object Ownership and Block Public Access (ownership.py). None is "never configured": the
        # behaviour of a bucket from before AWS's April 2023 defaults (ACLs on, nothing blocked), as
        # buckets read back from an older data dir are; CreateBucket sets today's defaults.
        self.object_ownership: str | None = None
        self.public_access_block: PublicAccessBlock | None = None
        # Default encryption and SSE-C blocking (encryption.py); None, as for the two above: a
        # bucket from before fakes3 had them (SSE-S3, SSE-C allowed). CreateBucket sets today's.
        self.encryption: BucketEncryption | None = None
        self.cors: tuple[Any, ...] | None = None  # CORS rules (cors.CorsRule each); None: not configured
        self.object_lock: LockConfiguration | None = None  # Object Lock (object_lock.py); None: off
        self.lifecycle: LifecycleConfiguration | None = None  # lifecycle_rules.py; None: none
        self.website: dict[str, Any] | None = None  # website.py: WebsiteConfiguration; None: none
        self.logging: dict[str, Any] | None = None  # bucket_settings.py: LoggingEnabled; None: off
        self.request_payer: str | None = None  # bucket_settings.py: Payer; None: BucketOwner
        self.accelerate: str | None = None  # bucket_settings.py: Enabled, Suspended; None: never set
        self.replication: dict[str, Any] | None = None  # replication.py: its document; None: none
        self.notifications: dict[str, Any] | None = None  # notifications.py: its document; None: none

    # -- reads ------------------------------------------------------------------------------

    # One key's reads take no lock: a key's version list is only ever replaced whole (under
    # ``lock``), never changed in place, and reading the entry, then its list, are each one atomic
    # step, so a reader sees the list as it was before or after any change, as under the lock.

    def get(self, key: str) -> ObjectVersion | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        versions = entry.versions  # read once: ``entry.current`` would read it three times
        return versions[-1] if versions and not versions[-1].delete_marker else None

    def history(self, key: str) -> list[ObjectVersion]:
        """The key's versions and delete markers, oldest first (an immutable snapshot)."""
        entry = self._entries.get(key)
        return entry.versions if entry is not None else []

    def versions_of(self, key: str) -> list[ObjectVersion]:
        """Like ``history``; the caller holds ``lock``."""
        entry = self._entries.get(key)
        return entry.versions if entry is not None else []

    def holds_versions(self) -> bool:
        """Whether any key has a version or delete marker (caller holds ``lock``)."""
        return bool(self.all_keys)

    @property
    def persistence(self) -> Persistence | None:
        return self._store.persistence

    def restore(self, key: str, versions: list[ObjectVersion]) -> None:
        """Install a key's versions read back from a data dir (at start-up, before serving)."""
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = KeyEntry(key)
        with self.lock:
            self._publish(entry, versions)

    # -- writes -----------------------------------------------------------------------------

    # A write pins the key's entry (so it is not dropped while the writer waits for its lock),
    # takes the key's lock, and before letting go of it writes out what it published (data dir);
    # then unpins it, dropping an entry left with no versions: ``with self._writing(key)``.

    def _pin(self, key: str) -> KeyEntry:
        with self.lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = KeyEntry(key)
            entry.pins += 1
        return entry

    def _unpin(self, entry: KeyEntry) -> None:
        with self.lock:
            entry.pins -= 1
            if entry.pins == 0 and not entry.versions and self._entries.get(entry.key) is entry:
                del self._entries[entry.key]

    def _persist(self, entry: KeyEntry) -> None:
        """Write out the key's published changes (caller holds the key's lock)."""
        changes, entry.pending = entry.pending, None
        persistence = self._store.persistence
        if changes and persistence is not None:
            persistence.key_changed(self, entry.key, changes)

    def _writing(self, key: str) -> _Writing:
        return _Writing(self, self._pin(key))

    def _check(self, entry: KeyEntry, check: Check | None, operation: str) -> ObjectVersion | None:
        """A write's condition on the key's current version, then the fault window between the
        check and the act (caller holds the key's lock); returns that current version."""
        versions = entry.versions
        previous = versions[-1] if versions and not versions[-1].delete_marker else None  # .current
        if check is not None:
            check(previous)
        hook = self._store.fault_hook
        if hook is not None:
            hook(operation, self.name, entry.key, entry.lock)
        return previous

    def _publish(self, entry: KeyEntry, versions: list[ObjectVersion]) -> None:
        """Swap in a key's new version list and keep the key indexes in step (bucket lock)."""
        if self.deleted:
            raise errors.no_such_bucket(self.name)
        if self._store.persistence is not None:
            if entry.pending is None:
                entry.pending = []
            entry.pending.append((entry.versions, versions))
        old = entry.versions
        had, has = bool(old), bool(versions)
        was_live = had and not old[-1].delete_marker  # entry.current is not None
        live = has and not versions[-1].delete_marker
        entry.versions = versions
        if live != was_live:
            if live:
                self.keys.add(entry.key)
            else:
                self.keys.remove(entry.key)
        if has != had:
            if has:
                self.all_keys.add(entry.key)
            else:
                self.all_keys.remove(entry.key)

    def _stamp(self, version: ObjectVersion) -> ObjectVersion:
        """The version as published: a new version ID if versioning is enabled, else "null"
        (caller holds ``lock``, so the state cannot change before the version is visible)."""
        if self.versioning is None:
            return version  # never versioned: the only version; seq 0 sorts before any later one
        seq = version_ids.next_sequence()
        vid = version_ids.encode(seq) if self.versioning == ENABLED else NULL_VERSION
        return dataclasses.replace(version, version_id=vid, seq=seq)

    @staticmethod
    def _without_null(versions: list[ObjectVersion]) -> list[ObjectVersion]:
        return [v for v in versions if v.version_id != NULL_VERSION]

    def put(self, version: ObjectVersion, check: Check | None = None,
            after: Callable[[ObjectVersion], None] | None = None) -> ObjectVersion:
        """Make ``version`` the key's current version; returns it as stored, with its version ID.

        ``after`` runs with the stored version while the key's lock is still held.
        """
        with self._writing(version.key) as entry:
            self._check(entry, check, "put")
            with self.lock:
                stored = version if self.versioning is None else self._stamp(version)
                versions = entry.versions
                if stored.version_id != NULL_VERSION:
                    kept = [*versions, stored]
                elif not versions or (len(versions) == 1 and versions[0].version_id == NULL_VERSION):
                    kept = [stored]  # unversioned, the common case: it replaces the one
                else:  # a "null" version replaces the key's null version
                    kept = self._without_null(versions)
                    kept.append(stored)
                self._publish(entry, kept)
            if after is not None:
                after(stored)
            return stored

    def delete(self, key: str, check: Check | None = None,
               marker: ObjectVersion | Callable[[], ObjectVersion] | None = None) -> Deletion:
        """A DELETE without a version ID. Unversioned: the null version goes. Versioning enabled:
        ``marker`` becomes the current version. Suspended: ``marker``, as the null version,
        replaces the null version. ``marker`` may be a function making it, called only then."""
        with self._writing(key) as entry:
            return self._delete(entry, key, check, marker)

    def _delete(self, entry: KeyEntry, key: str, check: Check | None,
                marker: ObjectVersion | Callable[[], ObjectVersion] | None) -> Deletion:
        previous = self._check(entry, check, "delete")
        removed = next((v for v in entry.versions if v.version_id == NULL_VERSION), None)
        with self.lock:
            if self.versioning is None or marker is None:
                if removed is None:
                    return Deletion()
                self._publish(entry, [v for v in entry.versions if v is not removed])
                added = None
            else:
                added = self._stamp(marker if isinstance(marker, ObjectVersion) else marker())
                if added.version_id == NULL_VERSION:  # suspended
                    self._publish(entry, [*self._without_null(entry.versions), added])
                else:  # enabled: every version stays
                    removed = None
                    self._publish(entry, [*entry.versions, added])
            uploads = self.uploads
        if previous is not None and uploads is not None:
            uploads.key_deleted(key)
        return Deletion(removed, added)

    def delete_version(self, key: str, version_id: str, check: Check | None = None,
                       protect: Callable[[ObjectVersion], None] | None = None) -> ObjectVersion | None:
        """Remove one version or delete marker for good; returns it (None: there was none).
        ``protect`` sees the version under the key's lock and raises to keep it (Object Lock)."""
        with self._writing(key) as entry:
            previous = self._check(entry, check, "delete")
            target = next((v for v in entry.versions if v.version_id == version_id), None)
            if target is None:
                return None
            if protect is not None:
                protect(target)
            with self.lock:
                self._publish(entry, [v for v in entry.versions if v is not target])
                uploads = self.uploads
            if target is previous and uploads is not None:
                uploads.key_deleted(key)
            return target

    def update_version(self, key: str, pick: Pick,
                       change: Callable[[ObjectVersion], ObjectVersion]) -> ObjectVersion:
        """Replace the version ``pick`` names with ``change(version)`` in place (same version ID,
        same position: PutObjectTagging and friends); returns the new one."""
        with self._writing(key) as entry:
            target = pick(entry.versions)
            updated = change(target)
            with self.lock:
                self._publish(entry, [updated if v is target else v for v in entry.versions])
            return updated

    # -- listing ----------------------------------------------------------------------------

    def versions_at(self, keys: list[str]) -> list[ObjectVersion]:
        """Current versions of ``keys`` (caller holds ``lock``)."""
        out = []
        for key in keys:
            current = self._entries[key].current
            if current is not None:
                out.append(current)
        return out


class Store:
    """The bucket registry of one S3Service."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, Bucket] = {}
        self.fault_hook: FaultHook | None = None
        self.read_hook: ReadHook | None = None
        self.persistence: Persistence | None = None
        # With a data dir: one bucket create or delete at a time, written in the order applied.
        self.registry = threading.Lock()

    def bucket(self, name: str) -> Bucket:
        bucket = self.buckets.get(name)  # one atomic read: no lock needed (see Bucket.get)
        if bucket is None:
            raise errors.no_such_bucket(name)
        return bucket

    def add(self, bucket: Bucket) -> Bucket | None:
        """Register ``bucket`` unless the name is taken; returns the existing bucket if it is."""
        persistence = self.persistence
        if persistence is None:
            with self.lock:
                existing = self.buckets.get(bucket.name)
                if existing is None:
                    self.buckets[bucket.name] = bucket
                return existing
        with self.registry:  # written before it is visible: a write into it can be recorded
            with self.lock:
                existing = self.buckets.get(bucket.name)
            if existing is None:
                persistence.bucket_added(bucket)
                with self.lock:
                    self.buckets[bucket.name] = bucket
            return existing

    def remove(self, name: str, refuse: Callable[[Bucket], None]) -> None:
        """Delete a bucket; ``refuse`` runs under the bucket's lock and raises to keep it."""
        with self.registry:
            with self.lock:
                bucket = self.buckets.get(name)
                if bucket is None:
                    raise errors.no_such_bucket(name)
                with bucket.lock:
                    refuse(bucket)
                    bucket.deleted = True  # in-flight writes into it now fail with NoSuchBucket
                del self.buckets[name]
            persistence = self.persistence
            if persistence is not None:
                persistence.bucket_removed(bucket)  # ``bucket`` holds its uploads' files till then

    def all(self) -> list[Bucket]:
        with self.lock:
            return list(self.buckets.values())

    def clear(self) -> None:
        with self.lock:
            for bucket in self.buckets.values():
                bucket.deleted = True
            self.buckets = {}


@dataclass
class Backend:
    """What the operation modules share: the model, the blob store and the limits."""

    store: Store
    blobs: BlobStore
    max_put_size: int
    min_part_size: int = 5 * 1024**2  # every part of a multipart upload but the last


class _Writing:
    """A write's hold on one key (see ``Bucket._writing``): the entry, pinned, is locked on
    entry; on exit what was published is written out, then the lock goes, then the pin. A class
    rather than a ``@contextmanager`` generator, which costs more: it runs on every PUT and DELETE."""

    __slots__ = ("bucket", "entry")

    def __init__(self, bucket: Bucket, entry: KeyEntry) -> None:
        self.bucket = bucket
        self.entry = entry

    def __enter__(self) -> KeyEntry:
        try:
            self.entry.lock.acquire()
        except BaseException:
            self.bucket._unpin(self.entry)
            raise
        return self.entry

    def __exit__(self, *exc: object) -> None:
        entry = self.entry
        try:
            try:
                if entry.pending is not None:
                    self.bucket._persist(entry)
            finally:
                entry.lock.release()
        finally:
            self.bucket._unpin(entry)
