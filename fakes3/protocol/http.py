"""A request as the protocol layer sees it, built once from the WSGI environ."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl


class Headers(Mapping[str, str]):
    """Case-insensitive request headers that keep the client's spelling of each name.

    WSGI's ``HTTP_*`` keys turn ``_`` into ``-`` (``x-amz-meta-update_at`` would come back as
    ``update-at``), so the server hands over the raw header block when it can.
    """

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = {k.lower(): (k, v) for k, v in items.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def get(self, name: str, default: Any = None) -> Any:
        item = self._items.get(name.lower())
        return default if item is None else item[1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def lower_names(self) -> Iterator[str]:
        return iter(self._items)

    def replaced(self, changes: Mapping[str, str | None]) -> Headers:
        """A copy with some headers set (or removed, where the new value is None)."""
        items = {k: v for k, v in self._items.values() if k.lower() not in
                 {c.lower() for c in changes}}
        items.update({k: v for k, v in changes.items() if v is not None})
        return Headers(items)

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Headers:
        raw = environ.get("fakes3.raw_headers")
        if raw is not None:
            return cls({k.decode("latin-1"): v.decode("latin-1") for k, v in raw.items()})
        items = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                items[key[5:].replace("_", "-").lower()] = value
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                items[key.replace("_", "-").lower()] = environ[key]
        return cls(items)


@dataclass
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
        raw_path = uri.split("?", 1)[0] if uri else environ.get("PATH_INFO", "/")
        if "://" in raw_path:  # absolute-form request target (proxies)
            raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            raw_path=raw_path or "/",
            query=query,
            headers=Headers.from_environ(environ),
            stream=environ["wsgi.input"],
            remote_addr=f"{environ.get('REMOTE_ADDR', '')}:{environ.get('REMOTE_PORT', '')}",
        )
