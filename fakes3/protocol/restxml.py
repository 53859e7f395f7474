"""The rest-xml protocol (S3), both directions, driven by botocore's shapes.

``parse_request`` turns an HTTP request into the dict ``client.<operation>(**params)`` takes;
``serialize_response`` turns the dict boto3 would return into status, headers and body.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from botocore.model import OperationModel, Shape, StructureShape

from fakes3 import checksums
from fakes3.errors import S3Error
from fakes3.protocol.body import RequestBody
from fakes3.protocol.http import Headers
from fakes3.protocol.values import from_text, is_plain_text, text_formatter, to_text

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_XML_BODY = 10 * 1024 * 1024

# A result key no member can have (members are CamelCase words): the items of several flattened
# lists of the output shape in the order S3 interleaves them, as (member, item) pairs. botocore's
# shape splits one XML sequence into two lists (ListObjectVersions: <Version> and <DeleteMarker>
# elements by key, newest first); the result keeps those lists for its readers, and the document
# writes the sequence where the first of its members goes (a flattened list is parsed by element
# name, so boto3 reads the interleaved elements back into both lists).
INTERLEAVED = "(interleaved)"

# botocore's models drop the XML root element names of S3's responses (Smithy's @xmlName on the
# output shapes); these are S3's, from its API reference. Anything else: the shape name minus
# "Output", plus "Result".
RESPONSE_ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListParts": "ListPartsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "DeleteObjects": "DeleteResult",
    "GetObjectTagging": "Tagging",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetBucketLocation": "LocationConstraint",
}


def verify_payload_integrity(headers: Mapping[str, str], data: bytes, modeled: Collection[str]) -> None:
    """Content-MD5 and x-amz-checksum-* headers against a document body read whole.

    A checksum header that is an input member of the operation describes something else
    (CompleteMultipartUpload's full-object checksum), not this document.
    """
    content_md5 = headers.get("content-md5")
    if content_md5 is not None:
        sent = checksums.parse_content_md5(content_md5)
        calculated = hashlib.md5(data).digest()
        if sent != calculated:
            raise checksums.md5_mismatch(sent, calculated)
    for algorithm in checksums.ALGORITHMS:
        header = checksums.header_name(algorithm)
        value = headers.get(header)
        if value is not None and header not in modeled:
            checksums.check_value(algorithm, value)
            if checksums.compute(algorithm, [data]) != value:
                raise checksums.mismatch(algorithm)


def malformed_xml(detail: str = "") -> S3Error:
    message = "The XML you provided was not well-formed or did not validate against our published schema"
    return S3Error("MalformedXML", message + (f" ({detail})" if detail else "") + ".")


# ---------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class _Plan:
    """Where each input member of an operation travels, worked out once per operation."""

    uri: tuple[tuple[str, str], ...]
    query: dict[str, tuple[str, Shape, bool]]  # query name -> (member, shape, plain text)
    query_maps: tuple[str, ...]  # members that take the whole query string
    headers: dict[str, tuple[str, Shape, str, bool]]  # lower-case name -> (member, shape, wire, plain)
    prefixed: tuple[tuple[str, str], ...]  # (member, lower-case prefix) of "headers" maps
    payload: tuple[str, Shape] | None


@functools.cache
def _plan(op: OperationModel) -> _Plan | None:
    shape = op.input_shape
    if shape is None:
        return None
    uri: list[tuple[str, str]] = []
    query: dict[str, tuple[str, Shape, bool]] = {}
    query_maps: list[str] = []
    prefixed: list[tuple[str, str]] = []
    headers: dict[str, tuple[str, Shape, str, bool]] = {}
    payload_name = shape.serialization.get("payload")
    payload = None
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            uri.append((name, wire))
        elif where == "querystring" and member.type_name == "map":
            query_maps.append(name)
        elif where == "querystring":
            query[wire] = (name, member, is_plain_text(member))
        elif where == "header":
            headers[wire.lower()] = (name, member, wire, is_plain_text(member))
        elif where == "headers":
            prefixed.append((name, wire.lower()))
        elif name == payload_name:
            payload = (name, member)
    return _Plan(tuple(uri), query, tuple(query_maps), headers, tuple(prefixed), payload)


def parse_request(
    op: OperationModel,
    uri_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: RequestBody,
) -> dict[str, Any]:
    plan = _plan(op)
    params: dict[str, Any] = {}
    if plan is None:
        return params
    for name, wire in plan.uri:
        if wire in uri_params:
            params[name] = uri_params[wire]
    # A request carries a few query parameters and a dozen headers, an operation models up to
    # fifty: walk the request's.
    for name in plan.query_maps:
        params[name] = dict(query)
    for wire, text in query.items():
        hit = plan.query.get(wire)
        if hit is not None:
            params[hit[0]] = text if hit[2] else from_text(hit[1], text, wire)
    pairs = headers.lower_items() if isinstance(headers, Headers) else (
        (name.lower(), value) for name, value in headers.items())
    for lower, value in pairs:
        found = plan.headers.get(lower)
        if found is not None:
            name, member, wire, plain = found
            params[name] = value if plain else from_text(member, value, wire)
            continue
        for name, prefix in plan.prefixed:
            if lower.startswith(prefix):
                params.setdefault(name, {})[lower[len(prefix):]] = value
    if plan.payload is not None:
        name, member = plan.payload
        value = _parse_payload(member, name, body, headers, plan.headers.keys())
        if value is not None:
            params[name] = value
    return params


def _parse_payload(
    member: Shape, name: str, body: RequestBody, headers: Mapping[str, str], modeled: Collection[str]
) -> Any:
    if member.type_name == "blob" and member.serialization.get("streaming"):
        return body
    if body.length is not None and body.length > MAX_XML_BODY:
        raise S3Error(
            "MaxMessageLengthExceeded",
            f"Your request was too big: the {name} document may be at most {MAX_XML_BODY} bytes.",
        )
    data = body.read(MAX_XML_BODY + 1)
    if len(data) > MAX_XML_BODY:
        raise S3Error("MaxMessageLengthExceeded", f"Your {name} document is too big.")
    verify_payload_integrity(headers, data, modeled)
    if member.type_name == "blob":
        return data
    if member.type_name == "string":
        return data.decode("utf-8", errors="replace")
    if not data.strip():
        return None
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises ParseError and its own DTD/entity errors
        raise malformed_xml() from exc
    return _from_xml(member, root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _from_xml(shape: Shape, elem: Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        children: dict[str, list[Element]] = {}
        for child in elem:
            children.setdefault(_local(child.tag), []).append(child)
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if member.serialization.get("xmlAttribute"):
                local = wire.rsplit(":", 1)[-1]  # "xsi:type" arrives as "{...XMLSchema-instance}type"
                for attr, value in elem.attrib.items():
                    if _local(attr) == local:
                        result[name] = value
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                item_wire = member.member.serialization.get("name", wire)
                found = children.get(item_wire)
                if found:
                    result[name] = [_from_xml(member.member, e) for e in found]
            elif wire in children:
                result[name] = _from_xml(member, children[wire][0])
        return result
    if kind == "list":
        item_wire = shape.member.serialization.get("name", "member")
        return [_from_xml(shape.member, c) for c in elem if _local(c.tag) == item_wire]
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        out = {}
        for entry in elem:
            parts = {_local(c.tag): c for c in entry}
            if key_name in parts and value_name in parts:
                out[parts[key_name].text or ""] = _from_xml(shape.value, parts[value_name])
        return out
    try:
        return from_text(shape, elem.text or "", _local(elem.tag))
    except S3Error as exc:
        raise malformed_xml(f"{_local(elem.tag)} is not a valid {kind}") from exc


# ---------------------------------------------------------------------------------------------
# Responses

Body = bytes | Iterable[bytes]


# Where an output member travels (besides the payload).
_HEADER, _PREFIXED, _STATUS, _ELEMENT = range(4)
# (member, where, header name or prefix, how a header value is written: str but for headers)
_Step = tuple[str, int, str, Callable[[Any], str]]


@dataclass(frozen=True, eq=False)
class _Output:
    """Where each output member of an operation travels, worked out once per operation.

    A result holds a handful of the output shape's members (GetObject: 10 of 60), and a handler
    returns the same keys request after request: the response is built from a layout per set of
    keys, the members it holds in the shape's order, which is the order of the headers and of
    the XML document's elements.
    """

    shape: StructureShape
    status: int
    members: dict[str, tuple[int, _Step]]  # every member but the payload -> (place in shape, step)
    payload: str | None
    root: str
    # Some member travels in the XML document: S3 sends its root even when none is set (a
    # never-configured GetBucketVersioning answers an empty <VersioningConfiguration/>).
    document: bool
    layouts: dict[tuple[str, ...], tuple[_Step, ...]] = field(default_factory=dict)

    MAX_LAYOUTS = 64  # per operation; handlers return a few key sets each

    def layout(self, keys: tuple[str, ...]) -> tuple[_Step, ...]:
        layout = self.layouts.get(keys)
        if layout is None:
            places = sorted(self.members[k] for k in keys if k in self.members)
            layout = tuple(step for _, step in places)
            if len(self.layouts) >= self.MAX_LAYOUTS:
                self.layouts.clear()
            self.layouts[keys] = layout
        return layout


@functools.cache
def _output(op: OperationModel) -> _Output | None:
    shape = op.output_shape
    if shape is None:
        return None
    assert isinstance(shape, StructureShape)
    payload = shape.serialization.get("payload")
    members: dict[str, tuple[int, _Step]] = {}
    for place, (name, member) in enumerate(shape.members.items()):
        if name == payload:
            continue
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "header":
            members[name] = (place, (name, _HEADER, wire, text_formatter(member, "rfc822")))
        elif where == "headers":
            members[name] = (place, (name, _PREFIXED, wire, str))
        elif where == "statusCode":
            members[name] = (place, (name, _STATUS, wire, str))
        else:
            members[name] = (place, (name, _ELEMENT, wire, str))
    root = RESPONSE_ROOTS.get(op.name) or shape.name.removesuffix("Output") + "Result"
    document = any(where == _ELEMENT for _, (_, where, _, _) in members.values())
    return _Output(shape, int(op.http.get("responseCode", 200)), members, payload, root, document)


def serialize_response(
    op: OperationModel, result: Mapping[str, Any]
) -> tuple[int, list[tuple[str, str]], Body]:
    out = _output(op)
    if out is None:
        return int(op.http.get("responseCode", 200)), [], b""
    status = out.status
    headers: list[tuple[str, str]] = []
    body_members = []
    for name, where, wire, write in out.layout(tuple(result)):
        value = result[name]
        if value is None:
            continue
        if where == _HEADER:
            headers.append((wire, write(value)))
        elif where == _PREFIXED:
            headers.extend((wire + k, write(v)) for k, v in value.items())
        elif where == _STATUS:
            status = int(value)
        else:
            body_members.append(name)
    if out.payload:
        member = out.shape.members[out.payload]
        return status, headers, _payload_body(op, member, result.get(out.payload))
    root = out.root
    if op.name == "GetBucketLocation":  # the one document whose root element is the value
        text = escape(result.get("LocationConstraint") or "")  # empty for us-east-1
        return status, headers, _document(f'<{root} xmlns="{S3_NAMESPACE}">{text}</{root}>')
    if not out.document:
        return status, headers, b""
    xml: list[str] = [f'<{root} xmlns="{S3_NAMESPACE}">']
    interleaved = result.get(INTERLEAVED)
    if interleaved is None:
        _structure_to_xml(out.shape, result, xml, only=body_members)
    else:
        _interleaved_to_xml(out.shape, result, interleaved, xml, body_members)
    xml.append(f"</{root}>")
    return status, headers, _document("".join(xml))


def _payload_body(op: OperationModel, member: Shape, value: Any) -> Body:
    if value is None:
        return b""
    if member.type_name == "blob":
        return value if not isinstance(value, bytearray) else bytes(value)
    if member.type_name == "string":
        return value.encode("utf-8")
    root = member.serialization.get("name") or member.name
    out = [f'<{root} xmlns="{S3_NAMESPACE}">']
    _structure_to_xml(member, value, out)
    out.append(f"</{root}>")
    return _document("".join(out))


def _document(xml: str) -> bytes:
    return (XML_DECLARATION + xml).encode("utf-8")


def _structure_to_xml(
    shape: Shape, value: Mapping[str, Any], out: list[str], only: list[str] | None = None
) -> None:
    assert isinstance(shape, StructureShape)
    for name in only if only is not None else shape.members:
        member = shape.members[name]
        item = value.get(name)
        if item is None or member.serialization.get("xmlAttribute"):
            continue
        wire = member.serialization.get("name", name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            item_wire = member.member.serialization.get("name", wire)
            for element in item:
                _value_to_xml(member.member, item_wire, element, out)
        else:
            _value_to_xml(member, wire, item, out)


def _interleaved_to_xml(
    shape: StructureShape, value: Mapping[str, Any], sequence: Iterable[tuple[str, Any]],
    out: list[str], only: list[str],
) -> None:
    """The members in ``only``, with the (member, item) pairs of ``sequence`` written in their
    order where the first member they name goes, instead of those members' own lists."""
    items = list(sequence)
    merged = {name for name, _ in items}
    written = False
    for name in only:
        if name not in merged:
            _structure_to_xml(shape, value, out, only=[name])
        elif not written:
            written = True
            for member_name, item in items:
                member = shape.members[member_name]
                wire = member.serialization.get("name", member_name)
                _value_to_xml(member.member, member.member.serialization.get("name", wire), item, out)


def _value_to_xml(shape: Shape, tag: str, value: Any, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        attrs = _attributes(shape, value)
        out.append(f"<{tag}{attrs}>")
        _structure_to_xml(shape, value, out)
        out.append(f"</{tag}>")
    elif kind == "list":
        item_wire = shape.member.serialization.get("name", "member")
        out.append(f"<{tag}>")
        for element in value:
            _value_to_xml(shape.member, item_wire, element, out)
        out.append(f"</{tag}>")
    elif kind == "map":
        out.append(f"<{tag}>")
        for k, v in value.items():
            out.append(f"<entry><key>{escape(str(k))}</key>")
            _value_to_xml(shape.value, "value", v, out)
            out.append("</entry>")
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{escape(to_text(shape, value, 'iso8601'), _QUOTE)}</{tag}>")


_QUOTE = {'"': "&quot;"}


def _attributes(shape: Shape, value: Mapping[str, Any]) -> str:
    parts = []
    namespace = shape.serialization.get("xmlNamespace")
    if namespace:
        prefix = namespace.get("prefix")
        parts.append(f' xmlns{":" + prefix if prefix else ""}="{namespace["uri"]}"')
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute") and value.get(name) is not None:
            wire = member.serialization.get("name", name)
            parts.append(f' {wire}="{escape(str(value[name]), _QUOTE)}"')
    return "".join(parts)


def serialize_error(
    code: str, message: str, fields: Mapping[str, Any], request_id: str, host_id: str
) -> bytes:
    parts = [f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"]
    for name, value in fields.items():
        if value is not None:
            parts.append(f"<{name}>{escape(str(value))}</{name}>")
    parts.append(f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>")
    return _document("".join(parts))
