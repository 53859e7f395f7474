"""The protocol layer on its own: routing from botocore's model, aws-chunked framing, XML."""

from __future__ import annotations

import io

import pytest

from fakes3.errors import S3Error
from fakes3.protocol import restxml
from fakes3.protocol.awschunked import AwsChunkedReader
from fakes3.protocol.body import RequestBody
from fakes3.protocol.s3_routing import build_routes, resolve, split_target
from fakes3.protocol.service_models import service_model

MODEL = service_model("s3")
ROUTES = build_routes(MODEL)


@pytest.mark.parametrize(
    ("method", "scope", "query", "headers", "expected"),
    [
        ("GET", "service", {}, [], "ListBuckets"),
        ("PUT", "bucket", {}, [], "CreateBucket"),
        ("GET", "bucket", {}, [], "ListObjects"),
        ("GET", "bucket", {"list-type": "2", "prefix": "a"}, [], "ListObjectsV2"),
        ("GET", "bucket", {"location": ""}, [], "GetBucketLocation"),
        ("POST", "bucket", {"delete": ""}, ["Content-MD5"], "DeleteObjects"),
        ("PUT", "object", {}, [], "PutObject"),
        ("PUT", "object", {}, ["X-Amz-Copy-Source"], "CopyObject"),
        ("PUT", "object", {"partNumber": "1", "uploadId": "u"}, [], "UploadPart"),
        ("PUT", "object", {"partNumber": "1", "uploadId": "u"}, ["x-amz-copy-source"], "UploadPartCopy"),
        ("GET", "object", {"uploadId": "u"}, [], "ListParts"),
        ("GET", "object", {}, [], "GetObject"),
        ("GET", "object", {"tagging": ""}, [], "GetObjectTagging"),
        ("DELETE", "object", {"uploadId": "u"}, [], "AbortMultipartUpload"),
        ("DELETE", "object", {}, [], "DeleteObject"),
        ("POST", "object", {"uploads": ""}, [], "CreateMultipartUpload"),
        ("POST", "object", {"uploadId": "u"}, [], "CompleteMultipartUpload"),
        ("GET", "bucket", {"lifecycle": ""}, [], "GetBucketLifecycleConfiguration"),
        ("HEAD", "object", {}, [], "HeadObject"),
    ],
)
def test_operations_are_resolved_from_the_model(method, scope, query, headers, expected):
    assert resolve(ROUTES, method, scope, query, headers) == expected


def test_a_method_no_operation_takes_is_not_resolved():
    assert resolve(ROUTES, "POST", "object", {}, []) is None


@pytest.mark.parametrize(
    ("path", "host", "bucket", "key"),
    [
        ("/", "127.0.0.1:4566", None, None),
        ("/b", "127.0.0.1:4566", "b", None),
        ("/b/", "127.0.0.1:4566", "b", None),
        ("/b/a/b%20c/%E2%82%AC+x", "127.0.0.1:4566", "b", "a/b c/€+x"),
        ("/b//double", "127.0.0.1:4566", "b", "/double"),
        ("/k/x", "bucket.localhost:4566", "bucket", "k/x"),
        ("/", "my.dotted.bucket.localhost", "my.dotted.bucket", None),
        ("/k", "b.s3.us-east-1.amazonaws.com", "b", "k"),
        ("/k", "b.fake.test:9000", "b", "k"),
    ],
)
def test_bucket_and_key_from_path_or_host(path, host, bucket, key):
    target = split_target(path, host, ["localhost", "fake.test"])
    assert (target.bucket, target.key) == (bucket, key)


def frame(chunks: list[bytes], trailers: dict[str, str] | None = None, signed: bool = False) -> bytes:
    out = b""
    for chunk in [*chunks, b""]:
        ext = b";chunk-signature=" + b"0" * 64 if signed else b""
        out += f"{len(chunk):x}".encode() + ext + b"\r\n"
        if chunk:
            out += chunk + b"\r\n"
    for name, value in (trailers or {}).items():
        out += f"{name}:{value}\r\n".encode()
    return out + b"\r\n"


def test_aws_chunked_body_is_decoded_with_its_trailers():
    raw = frame([b"a" * 70000, b"b" * 5], {"x-amz-checksum-crc32": "AAAAAA=="})
    seen = []
    reader = AwsChunkedReader(io.BytesIO(raw), observer=lambda sig, data: seen.append((sig, len(data))))
    assert reader.read(-1) == b"a" * 70000 + b"b" * 5
    assert reader.trailers == {"x-amz-checksum-crc32": "AAAAAA=="}
    assert seen == [(None, 70000), (None, 5), (None, 0)]


def test_signed_chunks_hand_each_signature_to_the_observer():
    seen = []
    reader = AwsChunkedReader(io.BytesIO(frame([b"xyz"], signed=True)),
                              observer=lambda sig, data: seen.append((sig, data)))
    assert reader.read(2) + reader.read(10) + reader.read(10) == b"xyz"
    assert seen == [("0" * 64, b"xyz"), ("0" * 64, b"")]


@pytest.mark.parametrize("raw", [b"5\r\nabc", b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcXX0\r\n\r\n"])
def test_broken_aws_chunked_framing_is_a_client_error(raw):
    with pytest.raises(S3Error) as err:
        AwsChunkedReader(io.BytesIO(raw)).read(-1)
    assert err.value.code in ("IncompleteBody", "InvalidChunkSizeError")
    assert err.value.status == 400


def test_xml_payload_is_parsed_into_boto3_shapes():
    op = MODEL.operation_model("DeleteObjects")
    body = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>'
            b"<Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>v</VersionId></Object>"
            b"</Delete>")
    params = restxml.parse_request(op, {"Bucket": "b"}, {"delete": ""}, {},
                                   RequestBody.from_bytes(body))
    assert params == {"Bucket": "b", "Delete": {
        "Quiet": True, "Objects": [{"Key": "a&b"}, {"Key": "c", "VersionId": "v"}]}}


@pytest.mark.parametrize("body", [b"<Delete><Object>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><Delete>&a;</Delete>"])
def test_malformed_or_hostile_xml_is_malformed_xml(body):
    op = MODEL.operation_model("DeleteObjects")
    with pytest.raises(S3Error) as err:
        restxml.parse_request(op, {"Bucket": "b"}, {}, {}, RequestBody.from_bytes(body))
    assert err.value.code == "MalformedXML"


def test_list_result_is_serialized_with_s3s_root_and_flattened_lists():
    op = MODEL.operation_model("ListObjectsV2")
    status, headers, body = restxml.serialize_response(op, {
        "Name": "b", "KeyCount": 1, "IsTruncated": False,
        "Contents": [{"Key": "<k>", "ETag": '"e"', "Size": 3}],
        "CommonPrefixes": [{"Prefix": "p/"}],
    })
    assert status == 200 and headers == []
    text = bytes(body).decode()
    assert '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' in text
    assert "<Contents><Key>&lt;k&gt;</Key><ETag>&quot;e&quot;</ETag><Size>3</Size></Contents>" in text
    assert "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>" in text


def test_an_xml_document_keeps_its_root_when_nothing_is_set() -> None:
    # A bucket whose versioning was never configured: S3 answers an empty VersioningConfiguration
    # element, not an empty body; operations whose output is all headers still send no body.
    model = service_model("s3")
    _, _, body = restxml.serialize_response(model.operation_model("GetBucketVersioning"), {})
    assert body == (b'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration '
                    b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></VersioningConfiguration>')
    _, headers, body = restxml.serialize_response(model.operation_model("PutObject"), {"ETag": '"e"'})
    assert body == b"" and headers == [("ETag", '"e"')]


def test_an_xml_attribute_with_a_namespace_prefix_is_read():
    """A Grantee's type travels as ``xsi:type`` (botocore's model names the attribute so)."""
    op = MODEL.operation_model("PutObjectAcl")
    body = (b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b'<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            b' xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>'
            b'<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>')
    params = restxml.parse_request(op, {"Bucket": "b", "Key": "k"}, {"acl": ""}, {},
                                   RequestBody.from_bytes(body))
    grantee = params["AccessControlPolicy"]["Grants"][0]["Grantee"]
    assert grantee == {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}
