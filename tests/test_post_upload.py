"""Browser-style POST uploads: forms from ``generate_presigned_post``, posted as a browser would.

The forms are encoded here with the standard library (and with ``requests`` where it is
installed), sent with ``http.client``; each condition of the policy is violated once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import tracemalloc
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import defusedxml.ElementTree as SafeET
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from fakes3 import FakeAWS

BUCKET = "form-uploads"
Fields = Sequence[tuple[str, str]]


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def error(self) -> dict[str, str]:
        root = SafeET.fromstring(self.body)
        return {child.tag: child.text or "" for child in root}


def encode(fields: Fields | dict[str, str], file: bytes | None = b"data", filename: str = "f.txt",
           after: Fields = ()) -> tuple[bytes, str]:
    """multipart/form-data as a browser sends it: the fields, then ``file``, then ``after``."""
    boundary = uuid.uuid4().hex
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    out = bytearray()
    for name, value in items:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    if file is not None:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + file + b"\r\n"
    for name, value in after:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def send(url: str, body: bytes | Iterable[bytes], content_type: str, length: int | None = None,
         host: str | None = None) -> Reply:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": content_type}
    if host is not None:
        headers["Host"] = host
    if length is not None:
        headers["Content-Length"] = str(length)
    try:
        conn.request("POST", parts.path or "/", body=body, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def post(form: dict[str, Any], file: bytes | None = b"data", *, extra: dict[str, str] | None = None,
         drop: Sequence[str] = (), filename: str = "f.txt", url: str | None = None) -> Reply:
    fields = {k: v for k, v in {**form["fields"], **(extra or {})}.items() if k not in drop}
    body, content_type = encode(fields, file, filename)
    return send(url or form["url"], body, content_type)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    s3_client.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def s3v4(fakes3: FakeAWS) -> Any:
    return fakes3.client("s3", config=Config(signature_version="s3v4"))


def stored(s3_client: Any, key: str) -> bytes | None:
    try:
        return bytes(s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchKey"
        return None


# -- uploads that succeed ---------------------------------------------------------------------------


def test_a_sigv2_form_uploads_and_answers_204(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "docs/a.txt")
    assert "signature" in form["fields"] and "AWSAccessKeyId" in form["fields"]  # boto3's default here
    reply = post(form, b"hello")
    assert (reply.status, reply.body) == (204, b"")
    assert reply.headers["ETag"] == f'"{hashlib.md5(b"hello").hexdigest()}"'
    assert reply.headers["Location"] == f"{fakes3.endpoint_url}/{BUCKET}/docs/a.txt"
    entry = fakes3.journal.entries()[-1]
    assert stored(s3_client, "docs/a.txt") == b"hello"
    assert (entry.operation, entry.status, entry.key) == ("PostObject", 204, "docs/a.txt")
    assert entry.access_key == "test"  # the key that signed the policy
    assert entry.etag == reply.headers["ETag"]


def test_a_sigv4_form_uploads(fakes3, s3_client, s3v4, bucket):
    form = s3v4.generate_presigned_post(BUCKET, "v4.bin")
    assert {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"} <= form["fields"].keys()
    assert post(form, b"\x00\x01binary").status == 204
    assert stored(s3_client, "v4.bin") == b"\x00\x01binary"


def test_temporary_credentials_sign_with_their_session_token(fakes3, s3_client, bucket):
    temporary = fakes3.credential_store.issue_temporary()
    client = fakes3.client("s3", config=Config(signature_version="s3v4"), **temporary.client_kwargs())
    form = client.generate_presigned_post(BUCKET, "temp")
    assert form["fields"]["x-amz-security-token"] == temporary.session_token
    assert post(form, b"t").status == 204
    assert fakes3.journal.entries()[-1].access_key == temporary.access_key
    assert post(form, b"t", extra={"x-amz-security-token": "not-the-token"}).error()["Code"] == "InvalidToken"


def test_success_action_status_201_answers_a_post_response(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(
        BUCKET, "uploads/${filename}", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}])
    reply = post(form, b"photo", filename="cat picture.png")
    assert reply.status == 201 and reply.headers["Content-Type"] == "application/xml"
    doc = SafeET.fromstring(reply.body)
    assert doc.tag == "PostResponse"
    fields = {child.tag: child.text for child in doc}
    assert fields == {"Location": f"{fakes3.endpoint_url}/{BUCKET}/uploads/cat%20picture.png",
                      "Bucket": BUCKET, "Key": "uploads/cat picture.png",
                      "ETag": f'"{hashlib.md5(b"photo").hexdigest()}"'}
    assert stored(s3_client, "uploads/cat picture.png") == b"photo"


def test_success_action_status_200_and_unknown_values(fakes3, s3_client, bucket):
    for status, expected in (("200", 200), ("302", 204)):
        form = s3_client.generate_presigned_post(BUCKET, "s", Fields={"success_action_status": status},
                                                 Conditions=[{"success_action_status": status}])
        reply = post(form)
        assert (reply.status, reply.body) == (expected, b"")


def test_success_action_redirect_sends_303_with_bucket_key_and_etag(fakes3, s3_client, bucket):
    target = "https://app.example/done?upload=1"
    form = s3_client.generate_presigned_post(BUCKET, "r", Fields={"success_action_redirect": target},
                                             Conditions=[{"success_action_redirect": target}])
    reply = post(form, b"r")
    assert reply.status == 303
    location = urlsplit(reply.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "app.example", "/done")
    assert parse_qs(location.query) == {"upload": ["1"], "bucket": [BUCKET], "key": ["r"],
                                        "etag": [f'"{hashlib.md5(b"r").hexdigest()}"']}


def acls_enabled(s3: Any) -> None:
    """As on AWS, where a new bucket has ACLs disabled and Block Public Access on."""
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=BUCKET)


def test_form_fields_set_content_type_metadata_and_acl(fakes3, s3_client, bucket):
    anon = fakes3.client("s3", config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    acls_enabled(s3_client)
    form = s3_client.generate_presigned_post(
        BUCKET, "page.html",
        Fields={"Content-Type": "text/html", "acl": "public-read", "x-amz-meta-owner": "alice",
                "Cache-Control": "max-age=60"},
        Conditions=[["eq", "$Content-Type", "text/html"], {"acl": "public-read"},
                    ["starts-with", "$x-amz-meta-owner", ""], {"Cache-Control": "max-age=60"}])
    assert post(form, b"<p>hi</p>").status == 204
    head = s3_client.head_object(Bucket=BUCKET, Key="page.html")
    assert (head["ContentType"], head["Metadata"], head["CacheControl"]) == \
        ("text/html", {"owner": "alice"}, "max-age=60")
    assert anon.get_object(Bucket=BUCKET, Key="page.html")["Body"].read() == b"<p>hi</p>"


def test_form_fields_ask_for_server_side_encryption(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(
        BUCKET, "kms.bin",
        Fields={"x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": "form-key"},
        Conditions=[{"x-amz-server-side-encryption": "aws:kms"},
                    {"x-amz-server-side-encryption-aws-kms-key-id": "form-key"}])
    assert post(form, b"v").status == 204
    head = s3_client.head_object(Bucket=BUCKET, Key="kms.bin")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == \
        ("aws:kms", "arn:aws:kms:us-east-1:000000000000:key/form-key")


def test_tagging_field_and_fields_after_the_file(fakes3, s3_client, bucket):
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>data</Value></Tag></TagSet></Tagging>"
    form = s3_client.generate_presigned_post(BUCKET, "tagged", Fields={"tagging": tagging},
                                             Conditions=[{"tagging": tagging}])
    body, content_type = encode(form["fields"], b"x", after=[("x-amz-meta-late", "ignored")])
    assert send(form["url"], body, content_type).status == 204
    assert s3_client.get_object_tagging(Bucket=BUCKET, Key="tagged")["TagSet"] == \
        [{"Key": "team", "Value": "data"}]
    assert s3_client.head_object(Bucket=BUCKET, Key="tagged")["Metadata"] == {}


def test_virtual_host_style_post_to_the_root(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "vhost")
    body, content_type = encode(form["fields"], b"vh")
    reply = send(fakes3.endpoint_url + "/", body, content_type, host=f"{BUCKET}.localhost:{fakes3.port}")
    assert reply.status == 204
    assert reply.headers["Location"] == f"http://{BUCKET}.localhost:{fakes3.port}/vhost"
    assert stored(s3_client, "vhost") == b"vh"


def test_requests_posts_the_form_too(fakes3, s3_client, bucket):
    requests = pytest.importorskip("requests")
    form = s3_client.generate_presigned_post(BUCKET, "via-requests/${filename}")
    response = requests.post(form["url"], data=form["fields"], files={"file": ("r.txt", b"req")}, timeout=30)
    assert response.status_code == 204
    assert stored(s3_client, "via-requests/r.txt") == b"req"


def test_anonymous_forms_need_a_publicly_writable_bucket(fakes3, s3_client, bucket):
    body, content_type = encode({"key": "anon"}, b"a")
    reply = send(f"{fakes3.endpoint_url}/{BUCKET}", body, content_type)
    assert (reply.status, reply.error()["Code"]) == (403, "AccessDenied")
    acls_enabled(s3_client)
    s3_client.put_bucket_acl(Bucket=BUCKET, ACL="public-read-write")
    assert send(f"{fakes3.endpoint_url}/{BUCKET}", body, content_type).status == 204
    assert stored(s3_client, "anon") == b"a"
    assert fakes3.journal.entries()[-2].access_key is None


def test_a_large_upload_streams_through(fakes3, s3_client, bucket):
    size = 24 * 1024 * 1024
    form = s3_client.generate_presigned_post(BUCKET, "big", Conditions=[["content-length-range", 1, size]])
    head, content_type = encode(form["fields"], None)
    boundary = content_type.split("boundary=")[1]
    prefix = head[: -len(f"--{boundary}--\r\n")] + (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big\"\r\n\r\n").encode()
    suffix = f"\r\n--{boundary}--\r\n".encode()
    chunk = bytes(range(256)) * 4096  # 1 MiB

    def body() -> Iterator[bytes]:
        yield prefix
        for _ in range(size // len(chunk)):
            yield chunk
        yield suffix

    tracemalloc.start()
    try:
        reply = send(form["url"], body(), content_type, length=len(prefix) + size + len(suffix))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reply.status == 204, reply.body
    assert peak < size // 3, f"the upload was held in memory: peak {peak} bytes"
    head_object = s3_client.head_object(Bucket=BUCKET, Key="big")
    assert head_object["ContentLength"] == size


# -- conditions that fail ---------------------------------------------------------------------------


def denied_by_policy(reply: Reply, detail: str) -> bool:
    error = reply.error()
    return (reply.status, error["Code"], error["Message"]) == \
        (403, "AccessDenied", f"Invalid according to Policy: {detail}")


def test_a_key_outside_the_starts_with_prefix(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "user/42/${filename}")
    reply = post(form, extra={"key": "user/43/f.txt"})
    assert denied_by_policy(reply, 'Policy Condition failed: ["starts-with", "$key", "user/42/"]')
    assert stored(s3_client, "user/43/f.txt") is None


def test_an_exact_key_and_a_wrong_content_type(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "exact", Fields={"Content-Type": "image/png"},
                                             Conditions=[["eq", "$Content-Type", "image/png"]])
    assert denied_by_policy(post(form, extra={"key": "other"}),
                            'Policy Condition failed: ["eq", "$key", "exact"]')
    assert denied_by_policy(post(form, extra={"Content-Type": "text/plain"}),
                            'Policy Condition failed: ["eq", "$Content-Type", "image/png"]')
    assert post(form).status == 204


def test_the_bucket_condition_and_the_acl_condition(fakes3, s3_client, bucket):
    s3_client.create_bucket(Bucket="another-bucket")
    form = s3_client.generate_presigned_post(BUCKET, "k", Fields={"acl": "private"},
                                             Conditions=[{"acl": "private"}])
    reply = post(form, url=f"{fakes3.endpoint_url}/another-bucket")
    assert denied_by_policy(reply, f'Policy Condition failed: ["eq", "$bucket", "{BUCKET}"]')
    assert denied_by_policy(post(form, extra={"acl": "public-read"}),
                            'Policy Condition failed: ["eq", "$acl", "private"]')


def test_a_field_no_condition_names_is_refused(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "k")
    assert denied_by_policy(post(form, extra={"x-amz-meta-sneaky": "1"}),
                            "Extra input fields: x-amz-meta-sneaky")
    assert post(form, extra={"x-ignore-tracking": "1"}).status == 204  # x-ignore-* need no condition


def test_content_length_range(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "sized", Conditions=[["content-length-range", 3, 5]])
    too_big = post(form, b"123456")
    assert (too_big.status, too_big.error()["Code"]) == (400, "EntityTooLarge")
    assert (too_big.error()["ProposedSize"], too_big.error()["MaxSizeAllowed"]) == ("6", "5")
    too_small = post(form, b"12")
    assert (too_small.status, too_small.error()["Code"]) == (400, "EntityTooSmall")
    assert (too_small.error()["ProposedSize"], too_small.error()["MinSizeAllowed"]) == ("2", "3")
    assert [e.error for e in fakes3.journal.entries() if e.operation == "PostObject"] == \
        ["EntityTooLarge", "EntityTooSmall"]
    assert stored(s3_client, "sized") is None
    assert post(form, b"1234").status == 204


def test_an_expired_policy_by_the_servers_clock():
    offset = [0.0]
    with FakeAWS(clock=lambda: time.time() + offset[0]) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        form = s3.generate_presigned_post(BUCKET, "late", ExpiresIn=60)
        offset[0] = 61.0
        assert denied_by_policy(post(form), "Policy expired.")
        offset[0] = 30.0
        assert post(form).status == 204


# -- malformed forms and signatures -----------------------------------------------------------------


def test_a_wrong_signature_or_an_unknown_key(fakes3, s3_client, s3v4, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "k")
    reply = post(form, extra={"signature": base64.b64encode(b"x" * 20).decode()})
    assert (reply.status, reply.error()["Code"]) == (403, "SignatureDoesNotMatch")
    assert reply.error()["StringToSign"] == form["fields"]["policy"]
    reply = post(s3v4.generate_presigned_post(BUCKET, "k"), extra={"x-amz-signature": "0" * 64})
    assert (reply.status, reply.error()["Code"]) == (403, "SignatureDoesNotMatch")
    reply = post(form, extra={"AWSAccessKeyId": "AKIANOBODY"})
    assert (reply.status, reply.error()["Code"]) == (403, "InvalidAccessKeyId")
    # The policy is what is signed: changing it (to widen a condition) breaks the signature.
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [["starts-with", "$key", ""], {"bucket": BUCKET}]
    tampered = base64.b64encode(json.dumps(policy).encode()).decode()
    reply = post(form, extra={"policy": tampered, "key": "anything"})
    assert reply.error()["Code"] == "SignatureDoesNotMatch"
    assert stored(s3_client, "k") is None


@pytest.mark.parametrize(("drop", "named"), [
    ("key", "key"), ("signature", "Signature"), ("policy", "Policy"), ("AWSAccessKeyId", "AWSAccessKeyId")])
def test_missing_fields_are_invalid_argument(fakes3, s3_client, bucket, drop, named):
    reply = post(s3_client.generate_presigned_post(BUCKET, "k"), drop=[drop])
    error = reply.error()
    assert (reply.status, error["Code"], error["ArgumentName"]) == (400, "InvalidArgument", named)
    assert error["Message"] == (f"Bucket POST must contain a field named '{named}'.  If it is specified, "
                                "please check the order of the fields.")


def test_missing_sigv4_fields(fakes3, s3v4, bucket):
    reply = post(s3v4.generate_presigned_post(BUCKET, "k"), drop=["x-amz-signature"])
    assert (reply.status, reply.error()["ArgumentName"]) == (400, "X-Amz-Signature")


def test_no_file_not_multipart_and_malformed_bodies(fakes3, s3_client, bucket):
    form = s3_client.generate_presigned_post(BUCKET, "k")
    assert post(form, None).error()["Code"] == "IncorrectNumberOfFilesInPostRequest"
    reply = send(form["url"], b"key=k", "application/x-www-form-urlencoded")
    assert (reply.status, reply.error()["Code"]) == (412, "PreconditionFailed")
    truncated = b"--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk"
    reply = send(form["url"], truncated, "multipart/form-data; boundary=b")
    assert (reply.status, reply.error()["Code"]) == (400, "MalformedPOSTRequest")
    endless = send(form["url"], b"x" * (1 << 20), "multipart/form-data; boundary=never")
    assert (endless.status, endless.error()["Code"]) == (400, "MalformedPOSTRequest")
    big = {"key": "k", "x-ignore-padding": "p" * 30_000}
    body, content_type = encode(big)
    assert send(form["url"], body, content_type).error()["Code"] == "MaxPostPreDataLengthExceededError"


def test_a_policy_that_is_not_a_policy(fakes3, s3_client, bucket):
    def signed(policy_text: str) -> dict[str, str]:
        signature = base64.b64encode(hmac.new(b"test", policy_text.encode(), hashlib.sha1).digest()).decode()
        return {"key": "k", "AWSAccessKeyId": "test", "policy": policy_text, "signature": signature}

    for document, detail in (("not base64 json", "Invalid JSON."),
                             (base64.b64encode(b'{"conditions": []}').decode(), "Policy missing expiration."),
                             (base64.b64encode(b'{"expiration": "2099-01-01T00:00:00Z"}').decode(),
                              "Policy missing conditions.")):
        body, content_type = encode(signed(document))
        reply = send(f"{fakes3.endpoint_url}/{BUCKET}", body, content_type)
        assert (reply.status, reply.error()["Code"], reply.error()["Message"]) == \
            (400, "InvalidPolicyDocument", f"Invalid Policy: {detail}")


def test_a_missing_bucket_is_404(fakes3, s3_client):
    form = s3_client.generate_presigned_post("no-such-bucket", "k")
    reply = post(form)
    assert (reply.status, reply.error()["Code"]) == (404, "NoSuchBucket")
