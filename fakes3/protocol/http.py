"""A request as the protocol layer sees it, built once from the WSGI environ."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, KeysView, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl

_dict_get = dict.get
_dict_contains = dict.__contains__
_ABSENT: Any = object()


class Headers(dict[str, str]):
    """Case-insensitive request headers that keep the client's spelling of each name.

    A dict from lower-case name to value: the lookups every layer makes by lower-case name
    (``headers.get("x-amz-date")``, ``"host" in headers``, ``headers["host"]``) are one dict
    lookup, and ``lower_names``/``lower_items`` are dict's own iterators. Any other spelling is
    looked up by its lower case when that first lookup misses. Iterating (``for name in``,
    ``keys``, ``items``, ``dict(headers)``) gives the names as the client spelt them: WSGI's
    ``HTTP_*`` keys turn ``_`` into ``-`` (``x-amz-meta-update_at`` would come back as
    ``update-at``), so the server hands over the raw header block when it can.

    Read-only: build a changed copy with ``replaced`` (a dict method that changes it in place
    would leave the spellings behind).
    """

    __slots__ = ("_names",)
    _names: dict[str, str]  # lower-case name -> the client's spelling

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        # Filled in the same order as the dict, so their keys line up; a name sent twice in two
        # spellings keeps its first place and its last spelling and value.
        names = self._names = {}
        for name, value in items.items() if isinstance(items, Mapping) else items:
            lower = name.lower()
            names[lower] = name
            self[lower] = value

    def __missing__(self, name: str) -> str:  # headers["Content-Type"]: dict's lookup missed
        lower = name.lower()
        if lower == name:
            raise KeyError(name)
        return dict.__getitem__(self, lower)

    def get(self, name: str, default: Any = None) -> Any:
        value = _dict_get(self, name, _ABSENT)
        if value is _ABSENT:
            lower = name.lower()
            return default if lower == name else _dict_get(self, lower, default)
        return value

    def __contains__(self, name: object) -> bool:
        return _dict_contains(self, name) or (isinstance(name, str) and _dict_contains(self, name.lower()))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        return KeysView(self)  # as spelt, and set-like and case-insensitive as a Mapping's

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(zip(self._names.values(), self.values(), strict=True))

    def lower_names(self) -> Iterator[str]:
        return iter(dict.keys(self))

    def lower_items(self) -> Iterable[tuple[str, str]]:
        """(lower-case name, value) pairs, for walks that would lower-case every name anyway."""
        return dict.items(self)

    def __eq__(self, other: object) -> bool:  # as a Mapping compares: names as spelt
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"

    def copy(self) -> Headers:
        return Headers(self.items())

    def replaced(self, changes: Mapping[str, str | None]) -> Headers:
        """A copy with some headers set (or removed, where the new value is None)."""
        changed = {c.lower() for c in changes}
        items = [(k, v) for k, v in self.items() if k.lower() not in changed]
        items += [(k, v) for k, v in changes.items() if v is not None]
        return Headers(items)

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Headers:
        raw = environ.get("fakes3.raw_headers")
        if raw is None:
            return cls(_wsgi_headers(environ))
        # The header block as the server parsed it (bytes names, as spelt, to bytes values),
        # decoded here without a second pass through __init__.
        headers = dict.__new__(cls)
        names = headers._names = {}
        for key, value in raw.items():
            name = key.decode("latin-1")
            lower = name.lower()
            names[lower] = name
            headers[lower] = value.decode("latin-1")
        return headers


def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """Headers from WSGI's ``HTTP_*`` keys, for servers that give no raw header block."""
    items = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            items[key[5:].replace("_", "-").lower()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            items[key.replace("_", "-").lower()] = environ[key]
    return items


@dataclass(slots=True)
class HttpRequest:
    method: str
    raw_path: str  # still percent-encoded
    query: dict[str, str]
    headers: Headers
    stream: IO[bytes]
    remote_addr: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> HttpRequest:
        uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        raw_path = uri.partition("?")[0] if uri else environ.get("PATH_INFO", "/")
        if "://" in raw_path:  # absolute-form request target (proxies)
            raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        query_string = environ.get("QUERY_STRING")
        # Most S3 requests (GetObject, PutObject, HeadObject) carry no query at all.
        query = dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {}
        return cls(
            environ["REQUEST_METHOD"].upper(),
            raw_path or "/",
            query,
            Headers.from_environ(environ),
            environ["wsgi.input"],
            f"{environ.get('REMOTE_ADDR', '')}:{environ.get('REMOTE_PORT', '')}",
        )
