"""The rest-xml protocol (S3), both directions, driven by botocore's shapes.

``parse_request`` turns an HTTP request into the dict ``client.<operation>(**params)`` takes;
``serialize_response`` turns the dict boto3 would return into status, headers and body.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from botocore.model import OperationModel, Shape, StructureShape

from fakes3 import checksums
from fakes3.errors import S3Error
from fakes3.protocol.body import RequestBody
from fakes3.protocol.values import from_text, to_text

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_XML_BODY = 10 * 1024 * 1024

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
    query: tuple[tuple[str, Shape, str], ...]
    headers: dict[str, tuple[str, Shape, str]]  # lower-case header name -> (member, shape, wire)
    prefixed: tuple[tuple[str, str], ...]  # (member, lower-case prefix) of "headers" maps
    payload: tuple[str, Shape] | None


@functools.cache
def _plan(op: OperationModel) -> _Plan | None:
    shape = op.input_shape
    if shape is None:
        return None
    uri: list[tuple[str, str]] = []
    query: list[tuple[str, Shape, str]] = []
    prefixed: list[tuple[str, str]] = []
    headers: dict[str, tuple[str, Shape, str]] = {}
    payload_name = shape.serialization.get("payload")
    payload = None
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            uri.append((name, wire))
        elif where == "querystring":
            query.append((name, member, wire))
        elif where == "header":
            headers[wire.lower()] = (name, member, wire)
        elif where == "headers":
            prefixed.append((name, wire.lower()))
        elif name == payload_name:
            payload = (name, member)
    return _Plan(tuple(uri), tuple(query), headers, tuple(prefixed), payload)


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
    for name, member, wire in plan.query:
        if member.type_name == "map":
            params[name] = dict(query)
        elif wire in query:
            params[name] = from_text(member, query[wire], wire)
    # A request carries a dozen headers, an operation models up to fifty: walk the request's.
    for header, value in headers.items():
        lower = header.lower()
        hit = plan.headers.get(lower)
        if hit is not None:
            params[hit[0]] = from_text(hit[1], value, hit[2])
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
                for attr, value in elem.attrib.items():
                    if _local(attr) == _local(wire):
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


def serialize_response(
    op: OperationModel, result: Mapping[str, Any]
) -> tuple[int, list[tuple[str, str]], Body]:
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
            headers.append((wire, to_text(member, value, "rfc822")))
        elif where == "headers":
            headers.extend((wire + k, str(v)) for k, v in value.items())
        elif where == "statusCode":
            status = int(value)
        elif name != payload_name:
            body_members.append(name)
    if payload_name:
        return status, headers, _payload_body(op, shape.members[payload_name], result.get(payload_name))
    root = RESPONSE_ROOTS.get(op.name) or shape.name.removesuffix("Output") + "Result"
    if op.name == "GetBucketLocation":  # the one document whose root element is the value
        text = escape(result.get("LocationConstraint") or "")  # empty for us-east-1
        return status, headers, _document(f'<{root} xmlns="{S3_NAMESPACE}">{text}</{root}>')
    if not body_members:
        return status, headers, b""
    out: list[str] = [f'<{root} xmlns="{S3_NAMESPACE}">']
    _structure_to_xml(shape, result, out, only=body_members)
    out.append(f"</{root}>")
    return status, headers, _document("".join(out))


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
