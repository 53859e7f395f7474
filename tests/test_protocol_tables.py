"""The protocol layer's per-request shortcuts give what the straightforward walks give.

Headers is a dict keyed by lower-case name; responses are built from per-operation tables, requests
parsed from per-operation plans, operations resolved through a cache, Last-Modified formatted
without ``email.utils``. Each is checked here against a plain reference over every S3 operation.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import time
from typing import Any

import pytest
from botocore.model import OperationModel, Shape

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.protocol import restxml
from fakes3.protocol.body import RequestBody
from fakes3.protocol.http import Headers, HttpRequest
from fakes3.protocol.s3_routing import Router, build_routes, resolve
from fakes3.protocol.service_models import service_model
from fakes3.protocol.values import from_text, http_date, text_formatter, to_text

MODEL = service_model("s3")
OPERATIONS = [MODEL.operation_model(name) for name in MODEL.operation_names]
WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=dt.UTC)


# --- Headers -------------------------------------------------------------------------------------


def test_headers_look_up_any_spelling_and_iterate_the_clients():
    headers = Headers({"Content-Type": "text/plain", "x-amz-meta-Update_At": "1"})
    assert headers["content-type"] == headers["Content-Type"] == headers.get("CONTENT-TYPE") == "text/plain"
    assert "content-type" in headers and "Content-TYPE" in headers and "x-amz-meta-update_at" in headers
    assert "Nope" not in headers and 3 not in headers
    assert headers.get("nope") is None and headers.get("Nope", "d") == "d"
    with pytest.raises(KeyError):
        headers["Nope"]
    assert list(headers) == list(headers.keys()) == ["Content-Type", "x-amz-meta-Update_At"]
    names = headers.keys()  # a KeysView, as a Mapping's: case-insensitive and set-like
    assert "content-type" in names and names & {"Content-Type"} == {"Content-Type"}
    assert headers.items() == [("Content-Type", "text/plain"), ("x-amz-meta-Update_At", "1")]
    assert dict(headers) == {"Content-Type": "text/plain", "x-amz-meta-Update_At": "1"}
    assert list(headers.lower_names()) == ["content-type", "x-amz-meta-update_at"]
    assert dict(headers.lower_items()) == {"content-type": "text/plain", "x-amz-meta-update_at": "1"}
    assert len(headers) == 2 and headers == {"Content-Type": "text/plain", "x-amz-meta-Update_At": "1"}
    assert headers != {"content-type": "text/plain", "x-amz-meta-update_at": "1"}  # as a Mapping did


def test_headers_from_the_raw_block_keep_first_place_and_last_spelling():
    raw = {b"Host": b"a", b"X-Amz-Date": b"d", b"host": b"b", b"x-amz-meta-\xe9": b"\xe9"}
    headers = Headers.from_environ({"fakes3.raw_headers": raw})
    assert headers.items() == [("host", "b"), ("X-Amz-Date", "d"), ("x-amz-meta-\xe9", "\xe9")]
    assert headers == Headers([("Host", "a"), ("X-Amz-Date", "d"), ("host", "b"),
                               ("x-amz-meta-\xe9", "\xe9")])


def test_headers_from_wsgi_keys_without_a_raw_block():
    environ = {"HTTP_X_AMZ_DATE": "d", "CONTENT_LENGTH": "3", "CONTENT_TYPE": "", "PATH_INFO": "/"}
    assert Headers.from_environ(environ).items() == [("x-amz-date", "d"), ("content-length", "3")]


def test_replaced_headers_change_only_what_they_name():
    headers = Headers({"Content-Length": "10", "Content-Encoding": "aws-chunked", "Host": "h"})
    fixed = headers.replaced({"content-length": "3", "Content-Encoding": None})
    assert fixed.items() == [("Host", "h"), ("content-length", "3")]
    assert fixed.copy() == fixed and isinstance(fixed.copy(), Headers)
    assert headers["content-length"] == "10"


def test_a_request_without_a_query_string_has_an_empty_query():
    environ = {"REQUEST_METHOD": "get", "REQUEST_URI": "/b/k?x=1&y=", "QUERY_STRING": "x=1&y=",
               "wsgi.input": io.BytesIO(), "fakes3.raw_headers": {b"Host": b"h"}}
    request = HttpRequest.from_environ(environ)
    assert (request.method, request.raw_path, request.query) == ("GET", "/b/k", {"x": "1", "y": ""})
    request = HttpRequest.from_environ({**environ, "QUERY_STRING": "", "REQUEST_URI": "/b/k"})
    assert request.query == {} and request.headers["host"] == "h" and request.remote_addr == ":"


# --- RequestContext ------------------------------------------------------------------------------


def test_request_context_makes_its_datetime_when_asked():
    stamp = 1_700_000_000.5
    assert RequestContext("r", clock=stamp).now == dt.datetime.fromtimestamp(stamp, dt.UTC)
    ctx = RequestContext("r", now=WHEN)
    assert ctx.now is WHEN
    ctx.now = ctx.now + dt.timedelta(seconds=5)  # a clock-skew fault moves it
    assert ctx.now == WHEN + dt.timedelta(seconds=5)
    before = dt.datetime.now(dt.UTC)
    assert before <= RequestContext("r").now <= dt.datetime.now(dt.UTC)
    assert RequestContext("r").headers == {}


# --- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", [
    WHEN, dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), dt.datetime(2024, 2, 29, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    dt.datetime(2026, 1, 1, 12, 0),  # naive: local time, as astimezone takes it
])
def test_http_date_is_what_email_utils_writes(when):
    expected = email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)
    assert http_date(when) == expected
    assert http_date(when) == expected  # remembered


def _members(shapes: list[Shape | None]) -> list[Shape]:
    return [m for s in shapes if s is not None for m in s.members.values()]


@pytest.mark.parametrize("member", [
    m for m in _members([op.output_shape for op in OPERATIONS])
    if m.serialization.get("location") == "header"
], ids=lambda m: m.name)
def test_text_formatters_format_as_to_text(member):
    value = _sample(member, 0)
    assert text_formatter(member, "rfc822")(value) == to_text(member, value, "rfc822")
    if member.type_name == "timestamp":  # a value a handler passes through as text
        assert text_formatter(member, "rfc822")("sent") == "sent"


# --- responses -----------------------------------------------------------------------------------


def _sample(shape: Shape, depth: int) -> Any:
    """A value of every member, nested a few levels, with characters XML must escape."""
    kind = shape.type_name
    if kind == "structure":
        return {} if depth > 4 else {n: _sample(m, depth + 1) for n, m in shape.members.items()}
    if kind == "list":
        return [_sample(shape.member, depth + 1), _sample(shape.member, depth + 1)]
    if kind == "map":
        return {"k1": _sample(shape.value, depth + 1), "K2": _sample(shape.value, depth + 1)}
    return {"timestamp": WHEN, "boolean": True, "integer": 7, "long": 1 << 40, "float": 1.5,
            "double": 2.25, "blob": b"<blob>"}.get(kind, 'v<&>"')


def _reference_serialize(op: OperationModel, result: dict[str, Any]) -> tuple[int, list[Any], Any]:
    """serialize_response by a walk over every output member of the shape, per call."""
    status = int(op.http.get("responseCode", 200))
    headers: list[tuple[str, str]] = []
    shape = op.output_shape
    if shape is None:
        return status, headers, b""
    payload_name = shape.serialization.get("payload")
    body_members = []
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "header":
            if member.type_name == "timestamp" and isinstance(value, dt.datetime):
                fmt = member.serialization.get("timestampFormat", "rfc822")
                text = (email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)
                        if fmt == "rfc822" else to_text(member, value, "rfc822"))
            else:
                text = to_text(member, value, "rfc822")
            headers.append((wire, text))
        elif where == "headers":
            headers.extend((wire + k, str(v)) for k, v in value.items())
        elif where == "statusCode":
            status = int(value)
        elif name != payload_name:
            body_members.append(name)
    if payload_name:
        return status, headers, restxml._payload_body(op, shape.members[payload_name],
                                                      result.get(payload_name))
    root = restxml.RESPONSE_ROOTS.get(op.name) or shape.name.removesuffix("Output") + "Result"
    if op.name == "GetBucketLocation":
        text = restxml.escape(result.get("LocationConstraint") or "")
        return status, headers, restxml._document(f'<{root} xmlns="{restxml.S3_NAMESPACE}">{text}</{root}>')
    in_document = [name for name, member in shape.members.items() if name != payload_name
                   and member.serialization.get("location") not in ("header", "headers", "statusCode")]
    if not in_document:  # all headers; else the root is sent even when no member is set
        return status, headers, b""
    out: list[str] = [f'<{root} xmlns="{restxml.S3_NAMESPACE}">']
    restxml._structure_to_xml(shape, result, out, only=body_members)
    out.append(f"</{root}>")
    return status, headers, restxml._document("".join(out))


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_responses_from_the_table_are_what_the_shape_walk_writes(op):
    full = _sample(op.output_shape, 0) if op.output_shape is not None else {"Extra": 1}
    # Every member; every other one, in reverse order, with None for some and keys no member has.
    partial = {name: (None if i % 4 == 0 else full[name])
               for i, name in enumerate(reversed(list(full))) if i % 2 == 0}
    for result in (full, partial, {**partial, "NotAMember": "x"}, {}):
        assert restxml.serialize_response(op, result) == _reference_serialize(op, result)


def test_a_get_objects_headers_keep_the_shapes_order():
    op = MODEL.operation_model("GetObject")
    _, headers, body = restxml.serialize_response(op, {
        "Metadata": {"a": "1"}, "ContentLength": 3, "LastModified": WHEN, "ETag": '"e"',
        "TagCount": 2, "Body": [b"abc"], "AcceptRanges": "bytes", "DeleteMarker": False})
    assert headers == [("x-amz-delete-marker", "false"), ("accept-ranges", "bytes"),
                       ("Last-Modified", "Wed, 04 Mar 2026 05:06:07 GMT"), ("Content-Length", "3"),
                       ("ETag", '"e"'), ("x-amz-meta-a", "1"), ("x-amz-tagging-count", "2")]
    assert body == [b"abc"]


# --- requests ------------------------------------------------------------------------------------

_CHECKED = {"content-md5", *(checksums.header_name(a) for a in checksums.ALGORITHMS)}
_TEXT = {"integer": "5", "long": "6", "boolean": "true", "timestamp": "2026-03-04T05:06:07Z",
         "blob": "YWJj", "list": "a, b", "float": "1.5", "double": "2.5"}


def _reference_parse(op: OperationModel, uri: dict[str, str], query: dict[str, str],
                     headers: dict[str, str]) -> dict[str, Any]:
    """parse_request's non-payload members, walking the operation's every member."""
    lowered = {k.lower(): v for k, v in headers.items()}
    params: dict[str, Any] = {}
    for name, member in op.input_shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri" and wire in uri:
            params[name] = uri[wire]
        elif where == "querystring" and member.type_name == "map":
            params[name] = dict(query)
        elif where == "querystring" and wire in query:
            params[name] = from_text(member, query[wire], wire)
        elif where == "header" and wire.lower() in lowered:
            params[name] = from_text(member, lowered[wire.lower()], wire)
        elif where == "headers":
            prefix = wire.lower()
            found = {k[len(prefix):]: v for k, v in lowered.items() if k.startswith(prefix)}
            if found:
                params[name] = found
    return params


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.input_shape is not None],
                         ids=lambda op: op.name)
def test_requests_are_parsed_as_the_member_walk_parses_them(op):
    query = {"unmodelled": "q"}
    headers = {"Host": "h", "User-Agent": "u", "X-Amz-Meta-Colour": "Blue", "x-amz-meta-b_c": "d"}
    payload = op.input_shape.serialization.get("payload")
    document = payload is not None and not op.input_shape.members[payload].serialization.get("streaming")
    for name, member in op.input_shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if document and wire.lower() in _CHECKED:
            continue  # checked against the (empty) document: not this test's business
        text = _TEXT.get(member.type_name, f"text of {name}")
        if member.type_name == "string" and member.serialization.get("jsonvalue"):
            text = "eyJhIjogMX0="  # base64 of {"a": 1}
        if where == "querystring":
            query[wire] = text
        elif where == "header":
            headers[wire.title() if len(name) % 2 else wire] = text
    uri = {"Bucket": "b", "Key": "k/e y"}
    for sent in (Headers(headers), headers):
        params = restxml.parse_request(op, uri, query, sent, RequestBody.from_bytes(b""))
        params.pop(payload, None)
        assert params == _reference_parse(op, uri, query, headers)


# --- routing -------------------------------------------------------------------------------------


def _requests() -> list[tuple[str, str, dict[str, str], list[str]]]:
    """For every route: the request it describes, the same with extra query names and headers,
    and with its query values changed."""
    out = []
    for routes in build_routes(MODEL).values():
        for route in routes:
            query = {k: "" for k in route.query_keys} | dict(route.query_values)
            headers = sorted(route.header_keys)
            out.append((route.method, route.scope, query, headers))
            out.append((route.method, route.scope, {**query, "prefix": "p", "versionId": "v"},
                        [*headers, "x-amz-copy-source", "host"]))
            out.append((route.method, route.scope, {k: "9" for k in query}, []))
    return out


def test_the_router_answers_as_resolve_does():
    table = build_routes(MODEL)
    router = Router(table)
    for method, scope, query, headers in _requests() * 2:  # the second time from its cache
        assert router.resolve(method, scope, query, headers) == resolve(table, method, scope, query, headers)
    assert router.resolve("POST", "object", {}, []) is None


def test_the_router_cache_is_bounded():
    router = Router(build_routes(MODEL))
    for i in range(router.MAX_CACHED + 10):
        expected = "ListObjectsV2" if i == 2 else "ListObjects"
        assert router.resolve("GET", "bucket", {"list-type": str(i)}, []) == expected
    assert len(router._cache) <= router.MAX_CACHED


def test_http_date_of_now_is_cheap_enough_to_call_per_request():
    # Not a benchmark: a guard that the per-value cache does not grow without bound.
    base = dt.datetime.fromtimestamp(time.time(), dt.UTC)
    for seconds in range(5000):
        http_date(base + dt.timedelta(seconds=seconds))
    from fakes3.protocol import values
    assert len(values._http_dates) <= 4096


def test_response_layouts_are_remembered_per_key_set_and_bounded():
    op = MODEL.operation_model("HeadObject")
    members = [name for name, member in op.output_shape.members.items()
               if member.serialization.get("location") == "header"]
    for i in range(len(members)):
        restxml.serialize_response(op, {name: "1" for name in members[i:] + ["NotAMember"]})
    layouts = restxml._output(op).layouts
    assert 0 < len(layouts) <= restxml._Output.MAX_LAYOUTS
