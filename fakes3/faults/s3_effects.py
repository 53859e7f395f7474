"""Faults that change what later S3 reads see: torn PUTs, stale reads, lagging listings.

They need the S3 model: a PUT in flight is tracked while its body streams in (readers of the key
see a prefix of it, nothing, or no object); a write subject to a stale-read or list-lag fault
remembers the key's version from before it, which the next K reads or listings are served.
The clock is logical (a count of reads or listings), so tests never depend on wall time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fakes3.faults import actions as A
from fakes3.faults.lag import Lag
from fakes3.faults.rules import Call
from fakes3.s3.blobs import Blob
from fakes3.s3.model import MISSING, ObjectVersion, Owner

MAX_TORN_BUFFER = 64 * 1024 * 1024
WRITES = ("PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject", "DeleteObjects")
LISTINGS = ("ListObjects", "ListObjectsV2")


@dataclasses.dataclass
class _InFlight:
    visible: str
    received: bytearray = dataclasses.field(default_factory=bytearray)


class _Tee:
    """A request body that also keeps what was read so far (for torn-PUT readers)."""

    def __init__(self, body: Any, inflight: _InFlight) -> None:
        self._body = body
        self._inflight = inflight

    def read(self, size: int = -1) -> bytes:
        data = self._body.read(size)
        if len(self._inflight.received) < MAX_TORN_BUFFER:
            self._inflight.received += data
        return bytes(data)

    def iter_chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        while chunk := self.read(size):
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._body, name)


class S3Effects:
    def __init__(self, service: Any) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, str], _InFlight] = {}
        self._stale: dict[tuple[str, str], Lag] = {}
        self._lagging: dict[tuple[str, str], Lag] = {}
        service.store.read_hook = self.read_view

    def reset(self) -> None:
        with self._lock:
            self._inflight.clear()
            self._stale.clear()
            self._lagging.clear()

    # -- around the operation -------------------------------------------------------------------

    def idle(self, operation: str) -> bool:
        """Whether a call no action applies to has nothing to do here: ``before`` and ``after``
        change nothing then, except a listing while some listings lag, and ``done`` nothing but
        end a torn PUT in flight (lock-free reads: a change racing with them orders after)."""
        if self._lagging and operation in LISTINGS:
            return False
        return not (self._inflight and operation == "PutObject")

    def before(self, call: Call, actions: list[A.Action],
               params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Params to run the operation with, and a memo for ``after``."""
        torn = [a for a in actions if isinstance(a, A.TornPut)]
        if torn and call.operation == "PutObject" and call.bucket and call.key and "Body" in params:
            inflight = _InFlight(torn[0].visible)
            with self._lock:
                self._inflight[(call.bucket, call.key)] = inflight
            params = {**params, "Body": _Tee(params["Body"], inflight)}
        memo = None
        if any(isinstance(a, (A.StaleRead, A.ListLag)) for a in actions) and call.operation in WRITES:
            memo = {k: self._current(call.bucket, k) for k in _written_keys(call, params)}
        return params, memo

    def after(self, call: Call, actions: list[A.Action], params: dict[str, Any],
              result: dict[str, Any], memo: Any) -> dict[str, Any]:
        """Remember what lagging reads will see; a listing as lagging writes leave it."""
        with self._lock:
            for action in actions:
                for key, version in (memo or {}).items():
                    if isinstance(action, A.StaleRead):
                        self._stale[(call.bucket or "", key)] = Lag(version, action.reads, action.seconds)
                    elif isinstance(action, A.ListLag):
                        lag = Lag(version, action.listings, action.seconds)
                        self._lagging[(call.bucket or "", key)] = lag
        if call.operation in LISTINGS and call.bucket:
            url = params.get("EncodingType") == "url"
            encode = (lambda k: quote(k, safe="/")) if url else (lambda k: k)
            return self._lagging_listing(call.bucket, result, encode, params.get("Prefix") or "")
        return result

    def done(self, call: Call) -> None:
        if call.operation == "PutObject" and call.bucket and call.key:
            with self._lock:
                self._inflight.pop((call.bucket, call.key), None)

    # -- reads ----------------------------------------------------------------------------------

    def read_view(self, bucket: str, key: str) -> ObjectVersion | object | None:
        if not self._inflight and not self._stale:  # the common case: nothing lingers
            return None
        with self._lock:
            inflight = self._inflight.get((bucket, key))
            if inflight is not None:
                return _torn_version(key, inflight)
            stale = self._stale.get((bucket, key))
            if stale is None:
                return None
            seen = stale.use()
            if stale.spent:
                del self._stale[(bucket, key)]
            if not seen:
                return None
            return stale.before if stale.before is not None else MISSING

    def _lagging_listing(self, bucket: str, result: dict[str, Any], encode: Any,
                        prefix: str) -> dict[str, Any]:
        """A listing as it looked before the lagging writes: their new keys hidden, their deleted
        keys shown again (where they fall inside this page; not folded into CommonPrefixes)."""
        with self._lock:
            lagging = {}
            for (b, key), state in list(self._lagging.items()):
                if b != bucket:
                    continue
                if state.use():
                    lagging[key] = state
                if state.spent:
                    del self._lagging[(bucket, key)]
        if not lagging:
            return result
        contents = [c for c in result.get("Contents", [])
                    if c["Key"] not in {encode(k) for k, s in lagging.items() if s.before is None}]
        shown = {c["Key"] for c in contents}
        last = contents[-1]["Key"] if contents and result.get("IsTruncated") else None
        for key, state in lagging.items():
            old = state.before
            if old is None or not key.startswith(prefix) or encode(key) in shown:
                continue
            if last is None or encode(key) < last:
                contents.append({"Key": encode(key), "LastModified": old.last_modified, "ETag": old.etag,
                                 "Size": old.size, "StorageClass": old.storage_class})
        contents.sort(key=lambda c: c["Key"])
        out = {**result, "Contents": contents}
        if not contents:
            out.pop("Contents")
        if "KeyCount" in out:
            out["KeyCount"] = len(contents) + len(out.get("CommonPrefixes", []))
        return out

    def _current(self, bucket: str | None, key: str) -> ObjectVersion | None:
        try:
            return self.service.store.bucket(bucket).get(key)
        except Exception:  # no such bucket: nothing to remember
            return None


def _written_keys(call: Call, params: dict[str, Any]) -> list[str]:
    if call.operation == "DeleteObjects":
        return [o.get("Key", "") for o in (params.get("Delete") or {}).get("Objects", [])]
    return [call.key] if call.key else []


def _torn_version(key: str, inflight: _InFlight) -> ObjectVersion | object:
    """What a reader sees of a PUT in flight: no object, nothing, or the first half of what has
    arrived so far (a truncated body)."""
    if inflight.visible == "missing":
        return MISSING
    data = bytes(inflight.received[: len(inflight.received) // 2]) if inflight.visible == "prefix" else b""
    blob = Blob(size=len(data), md5=hashlib.md5(data).digest(), checksums={}, data=data)
    return ObjectVersion(key=key, blob=blob, last_modified=dt.datetime.now(dt.UTC).replace(microsecond=0),
                         owner=Owner.for_account("000000000000"))
