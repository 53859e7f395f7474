"""The ``Condition`` element of bucket policies: its operators, and the request's condition keys.

As the IAM User Guide gives them ("IAM JSON policy elements: Condition operators", "Condition
with multiple context keys or values"):

* ``{"<operator>": {"<key>": value-or-values, ...}, ...}``: every operator and every key of a
  block must hold (AND); a key's values are alternatives (OR).
* A key the request does not have makes the condition false, except for negated operators
  (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``, ...: true), ``...IfExists`` (true) and
  ``Null`` (which tests just that: ``"true"`` means absent).
* ``ForAnyValue:`` (some request value matches; false when the key is absent or empty) and
  ``ForAllValues:`` (every request value matches; true when absent or empty), for keys with many
  values such as ``s3:RequestObjectTagKeys``.
* Key names are case-insensitive; values compare case-sensitively unless the operator says not.

``Conditions.parse`` validates a block at PutBucketPolicy (MalformedPolicy); ``Conditions.hold``
evaluates it against a ``KeyLookup`` (``RequestKeys``: the request's keys, each worked out on
first use, so that a policy without conditions costs nothing).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from fakes3.errors import S3Error

Values = tuple[str, ...]  # a key's values in the request (most keys have one)
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def malformed(message: str, detail: str = "") -> S3Error:
    return S3Error("MalformedPolicy", message + (f" ({detail})" if detail else ""), 400)


class KeyLookup(Protocol):
    def get(self, key: str) -> Values | None:
        """The request's values of ``key`` (lower-cased), or None when the request has no such key."""
        ...


# -- comparisons ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _like(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's wildcards in StringLike and ArnLike: ``*`` any run of characters, ``?`` one."""
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(text, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> dt.datetime | None:
    """ISO 8601 (``2026-01-01T00:00:00Z``, a date alone) or POSIX seconds, as IAM takes dates."""
    seconds = _number(text)
    if seconds is not None:
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):  # "inf", "nan", out of range
            return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=1024)
def _network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _in_network(address: str, cidr: str) -> bool:
    network = _network(cidr)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return network is not None and ip.version == network.version and ip in network


def _arn_like(value: str, pattern: str) -> bool:
    """ArnEquals and ArnLike alike: the six colon-separated parts match one by one, each with
    StringLike's wildcards (a pattern of fewer parts, such as ``arn:aws:*``, as a whole)."""
    parts, wanted = value.split(":", 5), pattern.split(":", 5)
    if len(wanted) != 6:
        return _like(pattern).fullmatch(value) is not None
    return len(parts) == 6 and all(_like(w).fullmatch(p) is not None
                                   for p, w in zip(parts, wanted, strict=True))


def _compare(test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(value: str, wanted: str) -> bool:
        a, b = _number(value), _number(wanted)
        return a is not None and b is not None and test(a, b)
    return compare


def _compare_dates(test: Callable[[dt.datetime, dt.datetime], bool]) -> Callable[[str, str], bool]:
    def compare(value: str, wanted: str) -> bool:
        a, b = _date(value), _date(wanted)
        return a is not None and b is not None and test(a, b)
    return compare


def _bool(value: str, wanted: str) -> bool:
    return value.lower() == wanted.lower()


@dataclass(frozen=True)
class Operator:
    name: str
    test: Callable[[str, str], bool]  # one request value against one policy value
    negated: bool = False
    check: Callable[[str], bool] | None = None  # a policy value it can compare with, at Put time
    expects: str = ""


def _family(positive: tuple[str, Callable[[str, str], bool]], negative: str | None,
            check: Callable[[str], bool] | None = None, expects: str = "") -> list[Operator]:
    name, test = positive
    found = [Operator(name, test, False, check, expects)]
    if negative:
        found.append(Operator(negative, test, True, check, expects))
    return found


def _is_number(text: str) -> bool:
    return _number(text) is not None


def _is_date(text: str) -> bool:
    return _date(text) is not None


def _is_bool(text: str) -> bool:
    return text.lower() in ("true", "false")


def _is_network(text: str) -> bool:
    return _network(text) is not None


_NUMBER = (_is_number, "a number")
_DATE = (_is_date, "a date (ISO 8601, e.g. 2026-01-01T00:00:00Z, or epoch seconds)")
_BOOL = (_is_bool, "true or false")
_IP = (_is_network, "an IP address or CIDR block (e.g. 192.0.2.0/24)")

OPERATORS: dict[str, Operator] = {op.name: op for op in [
    *_family(("StringEquals", str.__eq__), "StringNotEquals"),
    *_family(("StringEqualsIgnoreCase", lambda v, w: v.casefold() == w.casefold()),
             "StringNotEqualsIgnoreCase"),
    *_family(("StringLike", lambda v, w: _like(w).fullmatch(v) is not None), "StringNotLike"),
    *_family(("NumericEquals", _compare(lambda a, b: a == b)), "NumericNotEquals", *_NUMBER),
    *_family(("NumericLessThan", _compare(lambda a, b: a < b)), None, *_NUMBER),
    *_family(("NumericLessThanEquals", _compare(lambda a, b: a <= b)), None, *_NUMBER),
    *_family(("NumericGreaterThan", _compare(lambda a, b: a > b)), None, *_NUMBER),
    *_family(("NumericGreaterThanEquals", _compare(lambda a, b: a >= b)), None, *_NUMBER),
    *_family(("DateEquals", _compare_dates(lambda a, b: a == b)), "DateNotEquals", *_DATE),
    *_family(("DateLessThan", _compare_dates(lambda a, b: a < b)), None, *_DATE),
    *_family(("DateLessThanEquals", _compare_dates(lambda a, b: a <= b)), None, *_DATE),
    *_family(("DateGreaterThan", _compare_dates(lambda a, b: a > b)), None, *_DATE),
    *_family(("DateGreaterThanEquals", _compare_dates(lambda a, b: a >= b)), None, *_DATE),
    *_family(("Bool", _bool), None, *_BOOL),
    *_family(("IpAddress", _in_network), "NotIpAddress", *_IP),
    *_family(("ArnEquals", _arn_like), "ArnNotEquals"),
    *_family(("ArnLike", _arn_like), "ArnNotLike"),
]}
NULL = "Null"
_KNOWN_LOWER = {name.lower(): name for name in [*OPERATORS, NULL]}
# Real IAM operators fakes3 does not evaluate: refused by name rather than called unknown.
_UNSUPPORTED = frozenset({"binaryequals"})
_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")


# -- one condition: operator, key, values ---------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # "StringLike", or "Null"
    key: str  # lower-cased
    values: Values
    if_exists: bool = False
    quantifier: str = ""  # "", "ForAnyValue:" or "ForAllValues:"

    def holds(self, keys: KeyLookup) -> bool:
        found = keys.get(self.key)
        if self.base == NULL:
            absent = found is None or not found
            return any((v.lower() == "true") == absent for v in self.values)
        if self.quantifier == "ForAllValues:":
            return found is None or all(self._one(value) for value in found)
        if self.quantifier == "ForAnyValue:":
            return found is not None and any(self._one(value) for value in found)
        if found is None:
            return self.if_exists or OPERATORS[self.base].negated
        return any(self._one(value) for value in found)

    def _one(self, value: str) -> bool:
        """One request value against the policy's values: any of them (none, when negated)."""
        op = OPERATORS[self.base]
        matched = any(op.test(value, wanted) for wanted in self.values)
        return matched != op.negated


@dataclass(frozen=True)
class Conditions:
    items: tuple[Condition, ...]

    def hold(self, keys: KeyLookup) -> bool:
        return all(condition.holds(keys) for condition in self.items)

    @classmethod
    def parse(cls, block: Any, *, variables: bool) -> Conditions:
        """A statement's Condition element; ``variables``: the policy's Version has policy
        variables (2012-10-17), which fakes3 does not substitute."""
        if not isinstance(block, dict) or not block:
            raise malformed("Invalid Condition", "Condition must be an object of "
                            '{"<operator>": {"<condition key>": value or [values]}}')
        items = [_condition(name, key, value, variables)
                 for name, entries in block.items() for key, value in _entries(name, entries)]
        return cls(tuple(items))


def _entries(operator: str, entries: Any) -> list[tuple[str, Any]]:
    if not isinstance(entries, dict) or not entries:
        raise malformed("Invalid Condition", f"{operator} must map condition keys to values, "
                        'e.g. {"aws:SecureTransport": "false"}')
    return list(entries.items())


def _operator(written: str) -> tuple[str, str, bool]:
    """(quantifier, base operator, IfExists) of an operator as written; MalformedPolicy if unknown."""
    quantifier = next((p for p in _SET_PREFIXES if written.lower().startswith(p.lower())), "")
    rest = written[len(quantifier):]
    if_exists = rest.lower().endswith("ifexists")
    base = rest[:-len("IfExists")] if if_exists else rest
    known = _KNOWN_LOWER.get(base.lower())
    names = ", ".join(sorted(_KNOWN_LOWER.values()))
    # S3 answers an operator it does not know with the message it gives for an unknown key.
    if base.lower() in _UNSUPPORTED:
        raise malformed("Policy has an invalid condition key",
                        f"fakes3 does not evaluate the condition operator {base}; it knows {names}")
    if known is None or (known == NULL and (if_exists or quantifier)):
        raise malformed("Policy has an invalid condition key",
                        f"unknown condition operator {written}; use one of {names}, optionally "
                        "with IfExists (not Null) and ForAnyValue:/ForAllValues:")
    return quantifier, known, if_exists


def _condition(written: str, key: Any, value: Any, variables: bool) -> Condition:
    quantifier, base, if_exists = _operator(written)
    values = _values(written, key, value)
    check, expects = (_is_bool, "true or false") if base == NULL else (
        OPERATORS[base].check, OPERATORS[base].expects)
    for item in values:
        if check is not None and not check(item):
            ip = check is _is_network
            raise malformed("Invalid IP address in Conditions" if ip else "Invalid Condition value",
                            f"{written} {key}: {item!r} is not {expects}")
        if variables and "${" in item:
            raise malformed("fakes3 does not support policy variables in Condition values",
                            f"{key}: {item!r}; write the value itself")
    return Condition(written, base, normal_key(key), values, if_exists, quantifier)


def _values(operator: str, key: str, value: Any) -> Values:
    items = value if isinstance(value, list) else [value]  # an empty list: S3 takes it, nothing matches
    if not all(isinstance(v, (str, int, float)) for v in items):
        raise malformed("Invalid Condition value",
                        f"{operator} {key}: a value is a string, number or boolean, or a list of them")
    return tuple(("true" if v else "false") if isinstance(v, bool) else str(v) for v in items)


# -- is a condition a fixed restriction? (Block Public Access) ------------------------------------

# S3 User Guide, "Blocking public access" > "The meaning of 'public'": an Allow to everyone is not
# public when it is limited to fixed values (no wildcard) of these keys.
_FIXED_KEYS = frozenset({
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
    "aws:principalaccount", "aws:principalorgid", "aws:principalarn", "aws:userid",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
})
_FIXED_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike",
                              "ArnEquals", "ArnLike"})


def restricts_to_fixed_values(condition: Condition) -> bool:
    """Whether the condition limits a statement to fixed principals, sources or networks."""
    if condition.if_exists or condition.quantifier or condition.base == NULL:
        return False  # true for requests without the key, or for some set of values
    if condition.key == "aws:sourceip":
        return condition.base == "IpAddress" and all(_narrow(v) for v in condition.values)
    if condition.key == "aws:userid" and any(v.endswith(":*") for v in condition.values):
        return False  # "AROLEID:*": any session of a role
    return (condition.key in _FIXED_KEYS and condition.base in _FIXED_OPERATORS
            and not any("*" in v or "?" in v for v in condition.values))


def _narrow(cidr: str) -> bool:
    network = _network(cidr)
    return network is not None and network.prefixlen > 0  # 0.0.0.0/0 and ::/0: everyone


# -- the request's keys ---------------------------------------------------------------------------

LIST_OPERATIONS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions"})


def normal_key(key: str) -> str:
    """Key names are case-insensitive; a tag key after the ``/`` is not."""
    prefix, slash, tag = key.partition("/")
    return prefix.lower() + slash + tag


def parse_tagging(header: str) -> dict[str, str]:
    """x-amz-tagging: ``k1=v1&k2=v2``, URL-encoded."""
    return dict(parse_qsl(header, keep_blank_values=True))


@dataclass(frozen=True)
class Request:
    """What the access decision knows of a request (``fakes3.s3.access`` fills it)."""

    account_id: str | None  # None: anonymous
    operation: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    connection: str  # "address:port" of the client
    now: Callable[[], dt.datetime]
    existing_tags: Callable[[], Mapping[str, str] | None]  # the object's, None when there is none


class RequestKeys:
    """The condition keys of one request, each worked out when a condition first asks for it.
    A key the request does not have is None (``aws:PrincipalArn`` for anonymous callers,
    ``s3:prefix`` outside listings, ``s3:TlsVersion`` on fakes3's plain HTTP, ...)."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self._cache: dict[str, Values | None] = {}

    def get(self, key: str) -> Values | None:
        if key not in self._cache:
            self._cache[key] = self._resolve(key)
        return self._cache[key]

    def _resolve(self, key: str) -> Values | None:
        resolver = _RESOLVERS.get(key)
        if resolver is not None:
            found = resolver(self.request)
            return None if found is None else (found,)
        prefix, _, tag = key.partition("/")
        if prefix == "s3:existingobjecttag":
            tags = self.request.existing_tags()
            return None if tags is None or tag not in tags else (tags[tag],)
        if prefix == "s3:requestobjecttag":
            given = self._request_tags()
            return None if given is None or tag not in given else (given[tag],)
        if key == "s3:requestobjecttagkeys":
            given = self._request_tags()
            return None if given is None else tuple(given)
        return None

    def _request_tags(self) -> dict[str, str] | None:
        header = self.request.headers.get("x-amz-tagging")
        return None if header is None else parse_tagging(header)


def _source_ip(r: Request) -> str | None:
    address = r.connection.rsplit(":", 1)[0].strip("[]") if ":" in r.connection else r.connection
    return address or None


def _principal_arn(r: Request) -> str | None:
    return None if r.account_id is None else f"arn:aws:iam::{r.account_id}:root"


def _signature_version(r: Request) -> str | None:
    if r.account_id is None or r.operation == "PostObject":
        return None
    authorization = r.headers.get("authorization", "")
    if authorization.startswith("AWS4-HMAC-SHA256") or "X-Amz-Algorithm" in r.query:
        return "AWS4-HMAC-SHA256"
    if authorization.startswith("AWS ") or "Signature" in r.query:
        return "AWS"
    return None


def _auth_type(r: Request) -> str | None:
    if r.account_id is None:
        return None
    if r.operation == "PostObject":
        return "POST"
    return "REST-HEADER" if "authorization" in r.headers else "REST-QUERY-STRING"


def _listing(name: str, default: str | None = None) -> Callable[[Request], str | None]:
    def value(r: Request) -> str | None:
        return r.query.get(name, default) if r.operation in LIST_OPERATIONS else None
    return value


def _header(name: str) -> Callable[[Request], str | None]:
    return lambda r: r.headers.get(name)


_RESOLVERS: dict[str, Callable[[Request], str | None]] = {
    # fakes3 serves plain HTTP: no request comes over TLS, and there is no TLS version.
    "aws:securetransport": lambda r: "false",
    "aws:sourceip": _source_ip,
    "aws:principalaccount": lambda r: r.account_id,
    "aws:principalarn": _principal_arn,
    "aws:principaltype": lambda r: "Anonymous" if r.account_id is None else "Account",
    "aws:userid": lambda r: "anonymous" if r.account_id is None else r.account_id,
    "aws:currenttime": lambda r: r.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    "aws:epochtime": lambda r: str(int(r.now().timestamp())),
    "aws:useragent": _header("user-agent"),
    "aws:referer": _header("referer"),
    # A listing without a prefix has the prefix "" (the S3 User Guide's examples allow "" to let
    # the root be listed).
    "s3:prefix": _listing("prefix", ""),
    "s3:delimiter": _listing("delimiter"),
    "s3:max-keys": _listing("max-keys"),
    "s3:x-amz-acl": _header("x-amz-acl"),
    "s3:x-amz-server-side-encryption": _header("x-amz-server-side-encryption"),
    "s3:x-amz-server-side-encryption-aws-kms-key-id":
        _header("x-amz-server-side-encryption-aws-kms-key-id"),
    "s3:x-amz-storage-class": _header("x-amz-storage-class"),
    "s3:x-amz-content-sha256": _header("x-amz-content-sha256"),
    "s3:x-amz-copy-source": _header("x-amz-copy-source"),
    "s3:x-amz-metadata-directive": _header("x-amz-metadata-directive"),
    "s3:signatureversion": _signature_version,
    "s3:authtype": _auth_type,
}
