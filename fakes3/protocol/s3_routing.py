"""Which S3 operation a request is, and which bucket and key it names.

The operation table is derived from botocore's model: an operation's HTTP method, whether its
URI names a bucket and a key, and what the request must carry to be that operation (query
literals such as ``?uploads``, required query members such as ``uploadId``, required headers
such as ``x-amz-copy-source``). The most specific match wins.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

from botocore.model import ServiceModel

from fakes3.errors import S3Error

# Same method, same URI and same requirements: prefer the operation current clients use.
_SHADOWED = {"GetBucketLifecycle", "PutBucketLifecycle", "GetBucketNotification",
             "PutBucketNotification", "ListDirectoryBuckets"}
# Required headers that do not tell operations apart: a request without one is that operation's
# error (GetObjectAttributes without x-amz-object-attributes), not another operation.
_NOT_ROUTING_HEADERS = frozenset({"x-amz-object-attributes"})


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    scope: str  # "service", "bucket" or "object"
    query_keys: frozenset[str]
    query_values: tuple[tuple[str, str], ...]
    header_keys: frozenset[str]

    @property
    def specificity(self) -> int:
        return len(self.query_keys) + len(self.header_keys)

    def matches(self, query: Mapping[str, str], header_names: frozenset[str]) -> bool:
        return (
            self.query_keys.issubset(query.keys())
            and all(query.get(k) == v for k, v in self.query_values)
            and self.header_keys.issubset(header_names)
        )


@functools.cache  # once per process: the model is shared, and the table is only read
def build_routes(model: ServiceModel) -> dict[tuple[str, str], list[Route]]:
    table: dict[tuple[str, str], list[Route]] = {}
    for name in model.operation_names:
        if name in _SHADOWED:
            continue
        op = model.operation_model(name)
        uri = op.http["requestUri"]
        path, _, literal = uri.partition("?")
        if not path.startswith("/{Bucket}"):
            scope = "service" if path == "/" else ""
        else:
            scope = "object" if "{Key+}" in path else "bucket"
        if not scope:
            continue  # WriteGetObjectResponse and friends live on other hosts
        query_keys: set[str] = set()
        query_values: list[tuple[str, str]] = []
        for part in filter(None, literal.split("&")):
            key, eq, value = part.partition("=")
            query_keys.add(key)
            if eq:
                query_values.append((key, value))
        header_keys: set[str] = set()
        shape = op.input_shape
        if shape is not None:
            for member_name in shape.required_members:
                member = shape.members[member_name]
                where = member.serialization.get("location")
                wire = member.serialization.get("name", member_name)
                if where == "querystring":
                    query_keys.add(wire)
                elif where == "header" and wire.lower() not in _NOT_ROUTING_HEADERS:
                    header_keys.add(wire.lower())
        route = Route(name, op.http["method"], scope, frozenset(query_keys),
                      tuple(query_values), frozenset(header_keys))
        table.setdefault((route.method, scope), []).append(route)
    for routes in table.values():
        routes.sort(key=lambda r: -r.specificity)
    return table


def resolve(
    table: Mapping[tuple[str, str], list[Route]],
    method: str,
    scope: str,
    query: Mapping[str, str],
    header_names: Iterable[str],
) -> str | None:
    names = frozenset(h.lower() for h in header_names)
    for route in table.get((method, scope), ()):
        if route.matches(query, names):
            return route.operation
    return None


class Router:
    """``resolve`` over one route table, its answer remembered per kind of request.

    Routes look only at a few things: which of ~50 query names are present, the values of two
    (``list-type``, ``select-type``) and whether three headers are (``x-amz-copy-source``, ...).
    Those, with the method and scope, are the cache key: one dict lookup instead of testing up
    to 34 routes of a method and scope on every request.
    """

    MAX_CACHED = 1024  # the key holds two query values as sent: bound what a client can fill

    def __init__(self, table: Mapping[tuple[str, str], list[Route]]) -> None:
        self.table = table
        routes = [route for candidates in table.values() for route in candidates]
        self._query_names = frozenset(k for route in routes for k in route.query_keys)
        self._query_values = tuple(sorted({k for route in routes for k, _ in route.query_values}))
        self._header_names = frozenset(h for route in routes for h in route.header_keys)
        self._cache: dict[tuple[object, ...], str | None] = {}

    def resolve(self, method: str, scope: str, query: Mapping[str, str],
                lower_header_names: Iterable[str]) -> str | None:
        """The operation; ``lower_header_names`` are the request's header names in lower case."""
        key = (method, scope, self._query_names.intersection(query),
               tuple(map(query.get, self._query_values)),
               self._header_names.intersection(lower_header_names))
        try:
            return self._cache[key]
        except KeyError:
            pass
        operation = resolve(self.table, method, scope, query, key[4])
        if len(self._cache) >= self.MAX_CACHED:
            self._cache.clear()
        self._cache[key] = operation
        return operation


# --- addressing --------------------------------------------------------------------------------

_AWS_VHOST = re.compile(r"^(?P<bucket>.+)\.s3[.-](?:[a-z0-9-]+\.)*amazonaws\.com$")


class Target(NamedTuple):  # a tuple: built per request, and cheaper to build than a dataclass
    bucket: str | None
    key: str | None

    @property
    def scope(self) -> str:
        if self.bucket is None:
            return "service"
        return "object" if self.key else "bucket"


def split_target(raw_path: str, host: str, vhost_domains: Iterable[str]) -> Target:
    """Bucket and key from the Host header (virtual-host style) or the path (path style)."""
    bucket = host_bucket(host, tuple(vhost_domains))
    path = _decode_path(raw_path) if "%" in raw_path else raw_path
    if bucket is not None:
        key = path[1:] if path.startswith("/") else path
        return Target(bucket, key or None)
    stripped = path[1:] if path.startswith("/") else path
    if not stripped:
        return Target(None, None)
    name, _, key = stripped.partition("/")
    return Target(name, key or None)


@functools.lru_cache(maxsize=256)  # a client sends the same Host header on every request
def host_bucket(host: str, vhost_domains: tuple[str, ...]) -> str | None:
    """The bucket a virtual-host style Host header names (None: path style)."""
    hostname = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
    for domain in vhost_domains:
        suffix = "." + domain
        if hostname.endswith(suffix) and len(hostname) > len(suffix):
            return hostname[: -len(suffix)]
    match = _AWS_VHOST.match(hostname)
    return match.group("bucket") if match else None


def _decode_path(raw_path: str) -> str:
    try:
        return unquote(raw_path, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI: it is not UTF-8.") from exc
