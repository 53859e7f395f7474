"""How a data dir writes the S3 model down (persistence.py keeps it): values, records and bodies.

Records are JSON. Dataclass fields, and a bucket's attributes, are written generically, so a field
or setting added later is kept across restarts with no change here:

* A value is JSON, or a one-key object tagging what JSON lacks: ``{"$dt": iso}`` (datetime),
  ``{"$tuple": [...]}``, ``{"$set": [...]}``, ``{"$frozenset": [...]}``, ``{"$bytes": base64}``,
  ``{"$map": [[k, v], ...]}`` (a dict whose keys JSON cannot carry as they are),
  ``{"$dc": ["module:Class", {field: value}]}`` (a dataclass), ``{"$enum": ["module:Class", v]}``,
  ``{"$obj": ["module:Class", {attribute: value}]}`` (any other object with a ``__dict__``).
  Only classes of the fakes3 package are rebuilt from a record.
* A bucket is every attribute of ``Bucket`` but the structural ones (its lock, keys, uploads...):
  rebuilt by calling ``Bucket`` with the keyword arguments it takes, then setting the rest. An
  attribute that cannot be encoded (a lock, say) is left out, with a warning, and comes back as
  the constructor makes it.
* A body is ``{"f": file name, "n": size, "m": md5 hex, "c": {algorithm: checksum}}`` (a file of
  the blob directory), ``{"d": base64, ...}`` (a body held in memory only, e.g. a delete marker's
  empty one) or ``{"s": [[body, offset, length], ...], "p": multipart, "m", "c"}`` (a
  CompositeBlob). Bodies that name the same file are read back as one ``Blob``: its file must be
  unlinked once, when the last version or part holding it goes.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import importlib
import inspect
import logging
import os
from collections.abc import Mapping
from typing import Any

from fakes3.s3.blobs import Blob, BlobStore, CompositeBlob
from fakes3.s3.model import Bucket, ObjectVersion, Store
from fakes3.s3.multipart_state import Part, Upload

log = logging.getLogger("fakes3.persistence")

# Bucket attributes that are the model's machinery, not the bucket's settings.
STRUCTURAL = frozenset({"_store", "lock", "deleted", "_entries", "keys", "all_keys", "uploads"})
# Upload fields that are runtime state (an upload is written while it is in progress).
UPLOAD_RUNTIME = frozenset({"lock", "parts", "state", "completion", "journal"})
_PACKAGE = "fakes3."
_warned: set[str] = set()


class Unencodable(TypeError):
    pass


class MissingBody(LookupError):
    """A record names a body file that is not there (or is not the size recorded)."""


# -- values ---------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, enum.Enum):
        return {"$enum": [_path_of(type(value)), encode(value.value)]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$dc": [_path_of(type(value)), fields]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value) and not (len(value) == 1 and _tagged(value)):
            return {k: encode(v) for k, v in value.items()}
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode(v) for v in value]}
    if isinstance(value, set):
        return {"$set": [encode(v) for v in value]}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if hasattr(value, "__dict__") and type(value).__module__.startswith(_PACKAGE):
        return {"$obj": [_path_of(type(value)), encode(vars(value))]}
    raise Unencodable(f"cannot write a {type(value).__qualname__} to a data dir")


def _tagged(value: Mapping[str, Any]) -> bool:
    return any(k.startswith("$") for k in value)


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not _tagged(value):
        return {k: decode(v) for k, v in value.items()}
    [(tag, body)] = value.items()
    if tag == "$dt":
        return dt.datetime.fromisoformat(body)
    if tag == "$tuple":
        return tuple(decode(v) for v in body)
    if tag == "$set":
        return {decode(v) for v in body}
    if tag == "$frozenset":
        return frozenset(decode(v) for v in body)
    if tag == "$bytes":
        return base64.b64decode(body)
    if tag == "$map":
        return {decode(k): decode(v) for k, v in body}
    if tag == "$enum":
        return _class(body[0])(decode(body[1]))
    if tag == "$dc":
        cls = _class(body[0])
        given = body[1]
        return cls(**{f.name: decode(given[f.name]) for f in dataclasses.fields(cls)
                      if f.init and f.name in given})
    if tag == "$obj":
        cls = _class(body[0])
        obj = cls.__new__(cls)
        obj.__dict__.update(decode(body[1]))
        return obj
    raise ValueError(f"unknown tag {tag!r} in a data dir record")


def _path_of(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(path: str) -> Any:
    module, _, qualname = path.partition(":")
    if not module.startswith(_PACKAGE):
        raise ValueError(f"a data dir record names {path!r}, not a class of fakes3")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _warn_once(what: str, exc: Exception) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("fakes3: %s is not kept in the data dir: %s", what, exc)


def fields_of(value: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A dataclass's fields, encoded (those in ``skip`` left out)."""
    return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)
            if f.name not in skip}


def build(cls: type, given: Mapping[str, Any], **extra: Any) -> Any:
    """``cls(**fields)`` from encoded fields; fields it no longer has are dropped."""
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: decode(v) for k, v in given.items() if k in known}, **extra)


# -- buckets --------------------------------------------------------------------------------


def bucket_settings(bucket: Bucket) -> dict[str, Any]:
    """Every setting of ``bucket``, encoded (the caller holds ``bucket.lock``)."""
    out: dict[str, Any] = {}
    for name, value in vars(bucket).items():
        if name in STRUCTURAL:
            continue
        try:
            out[name] = encode(value)
        except Unencodable as exc:
            _warn_once(f"Bucket.{name}", exc)
    return out


def make_bucket(store: Store, settings: Mapping[str, Any]) -> Bucket:
    values: dict[str, Any] = {}
    for name, value in settings.items():
        try:
            values[name] = decode(value)
        except (ValueError, ImportError, AttributeError, TypeError) as exc:
            _warn_once(f"Bucket.{name}", exc)
    params = inspect.signature(Bucket).parameters
    kwargs = {name: values[name] for name, p in params.items()
              if p.kind is inspect.Parameter.KEYWORD_ONLY and name in values}
    bucket = Bucket(store, values["name"], **kwargs)
    for name, value in values.items():
        if name not in kwargs and name != "name":
            setattr(bucket, name, value)
    return bucket


# -- bodies ---------------------------------------------------------------------------------


def describe(blob: Blob) -> dict[str, Any]:
    sums = blob.known_checksums()
    if isinstance(blob, CompositeBlob):
        return {"s": [[describe(b), offset, length] for b, offset, length in blob.segments],
                "p": blob.multipart, "m": blob.md5.hex(), "c": sums}
    if blob.path is not None:
        return {"f": os.path.basename(blob.path), "n": blob.size, "m": blob.md5.hex(), "c": sums}
    return {"d": base64.b64encode(blob.read()).decode("ascii"), "m": blob.md5.hex(), "c": sums}


class BodyReader:
    """Reads bodies back, one ``Blob`` per file (``files``: every file named so far)."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self.files: dict[str, Blob] = {}

    def read(self, desc: Mapping[str, Any]) -> Blob:
        md5, sums = bytes.fromhex(desc["m"]), dict(desc["c"])
        if "s" in desc:
            segments = [(self.read(d), int(offset), int(length)) for d, offset, length in desc["s"]]
            return CompositeBlob(segments, md5=md5, checksums=sums, multipart=bool(desc["p"]))
        if "d" in desc:
            data = base64.b64decode(desc["d"])
            return Blob(size=len(data), md5=md5, checksums=sums, data=data)
        name, size = str(desc["f"]), int(desc["n"])
        blob = self.files.get(name)
        if blob is not None:
            return blob
        if os.path.basename(name) != name or name.startswith("."):
            raise MissingBody(f"bad body file name {name!r}")
        try:
            actual = os.stat(os.path.join(self._blobs.directory, name)).st_size
        except FileNotFoundError:
            raise MissingBody(f"body file {name} is missing") from None
        if actual != size:
            raise MissingBody(f"body file {name} has {actual} bytes, not {size}")
        blob = self.files[name] = self._blobs.adopt(name, size=size, md5=md5, checksums=sums)
        return blob


# -- records --------------------------------------------------------------------------------


def version_record(version: ObjectVersion) -> dict[str, Any]:
    return {"v": fields_of(version, frozenset({"blob"})), "b": describe(version.blob)}


def read_version(record: Mapping[str, Any], bodies: BodyReader) -> ObjectVersion:
    version: ObjectVersion = build(ObjectVersion, record["v"], blob=bodies.read(record["b"]))
    return version


def part_record(part: Part) -> dict[str, Any]:
    return {"p": fields_of(part, frozenset({"blob"})), "b": describe(part.blob)}


def read_part(record: Mapping[str, Any], bodies: BodyReader) -> Part:
    part: Part = build(Part, record["p"], blob=bodies.read(record["b"]))
    return part


def upload_record(upload: Upload) -> dict[str, Any]:
    return fields_of(upload, UPLOAD_RUNTIME)


def read_upload(record: Mapping[str, Any]) -> Upload:
    upload: Upload = build(Upload, {k: v for k, v in record.items() if k not in UPLOAD_RUNTIME})
    return upload
