"""Signature verification end to end: boto3, the AWS CLI and raw HTTP against a running fake."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fakes3 import FakeAWS
from fakes3.auth import Credential
from fakes3.auth.signing import seed_signature, sign_headers

AWS_CLI = str(Path(sys.executable).with_name("aws"))
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


class Clock:
    """The server's clock: real time plus an offset a test moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return {**err.value.response["Error"],
            "Status": err.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def raw(aws: FakeAWS, method: str, path: str, body: bytes = b"",
        headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", aws.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def exists(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return False
    return True


# -- keys and signatures ----------------------------------------------------------------------


def test_the_right_key_passes_and_a_wrong_secret_is_signature_does_not_match(fakes3, s3_client):
    s3_client.create_bucket(Bucket="auth-bkt")
    s3_client.put_object(Bucket="auth-bkt", Key="k", Body=b"v")
    wrong = fakes3.client("s3", aws_secret_access_key="not-the-secret", config=NO_RETRY)
    err = error_of(wrong.get_object, Bucket="auth-bkt", Key="k")
    assert (err["Code"], err["Status"]) == ("SignatureDoesNotMatch", 403)
    assert err["AWSAccessKeyId"] == "test"
    assert err["CanonicalRequest"].startswith("GET\n/auth-bkt/k\n")
    assert err["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert err["SignatureProvided"] and err["StringToSignBytes"] and err["CanonicalRequestBytes"]
    err = error_of(wrong.put_object, Bucket="auth-bkt", Key="k", Body=b"overwritten?")
    assert err["Code"] == "SignatureDoesNotMatch"
    assert s3_client.get_object(Bucket="auth-bkt", Key="k")["Body"].read() == b"v"


def test_an_unknown_access_key_is_invalid_access_key_id(fakes3):
    stranger = fakes3.client("s3", aws_access_key_id="AKIANOBODY", config=NO_RETRY)
    err = error_of(stranger.list_buckets)
    assert (err["Code"], err["Status"], err["AWSAccessKeyId"]) == ("InvalidAccessKeyId", 403, "AKIANOBODY")


def test_an_unsigned_request_is_access_denied(fakes3, s3_client):
    s3_client.create_bucket(Bucket="auth-bkt")
    status, body = raw(fakes3, "GET", "/auth-bkt/k")
    assert status == 403
    assert b"<Code>AccessDenied</Code><Message>Access Denied</Message>" in body
    status, _ = raw(fakes3, "PUT", "/auth-bkt/k", b"data")
    assert status == 403
    assert not exists(s3_client, "auth-bkt", "k")


def test_the_control_plane_is_not_signed(fakes3):
    status, body = raw(fakes3, "GET", "/_fakes3/health")
    assert status == 200 and b'"ok"' in body


def test_keys_of_other_accounts_own_their_buckets():
    other = Credential("AKIAOTHER", "other-secret", account_id="111111111111")
    with FakeAWS(credentials=[other, Credential("AKIASECOND", "second")]) as aws:
        mine = aws.client("s3")
        theirs = aws.client("s3", **other.client_kwargs())
        theirs.create_bucket(Bucket="their-bucket")
        mine.create_bucket(Bucket="my-bucket")
        assert [b["Name"] for b in theirs.list_buckets()["Buckets"]] == ["their-bucket"]
        assert [b["Name"] for b in mine.list_buckets()["Buckets"]] == ["my-bucket"]
        second = aws.client("s3", aws_access_key_id="AKIASECOND", aws_secret_access_key="second")
        assert [b["Name"] for b in second.list_buckets()["Buckets"]] == ["my-bucket"]  # same account


def test_sigv2_clients_are_verified_too(fakes3, s3_client):
    s3_client.create_bucket(Bucket="auth-bkt")
    v2 = fakes3.client("s3", config=Config(signature_version="s3"))
    v2.put_object(Bucket="auth-bkt", Key="dir/ä b+c", Body=b"v2", Metadata={"m": "1"})
    assert v2.get_object(Bucket="auth-bkt", Key="dir/ä b+c")["Body"].read() == b"v2"
    assert v2.list_objects_v2(Bucket="auth-bkt")["KeyCount"] == 1
    wrong = fakes3.client("s3", aws_secret_access_key="wrong",
                          config=Config(signature_version="s3", retries={"max_attempts": 1}))
    err = error_of(wrong.list_objects_v2, Bucket="auth-bkt")
    assert err["Code"] == "SignatureDoesNotMatch"
    assert err["StringToSign"].startswith("GET\n\n\n")


# -- the AWS CLI ------------------------------------------------------------------------------


def _cli(aws: FakeAWS, secret: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws.env)
    env.update({"AWS_SECRET_ACCESS_KEY": secret, "AWS_MAX_ATTEMPTS": "1",
                "AWS_CONFIG_FILE": str(tmp_path / "nonexistent" / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "nonexistent" / "credentials"),
                "AWS_EC2_METADATA_DISABLED": "true"})
    return subprocess.run([AWS_CLI, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_aws_cli_sees_signature_does_not_match(fakes3, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-auth")
    ok = _cli(fakes3, "test", tmp_path, "s3api", "list-buckets")
    assert ok.returncode == 0, ok.stderr
    assert "cli-auth" in ok.stdout
    bad = _cli(fakes3, "wrong", tmp_path, "s3api", "list-buckets")
    assert bad.returncode != 0
    assert "SignatureDoesNotMatch" in bad.stderr
    assert "The request signature we calculated does not match" in bad.stderr


def test_aws_s3_presign_urls_work_with_plain_http(fakes3, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="cli-auth")
    s3_client.put_object(Bucket="cli-auth", Key="doc.txt", Body=b"presigned by the CLI")
    result = _cli(fakes3, "test", tmp_path, "s3", "presign", "s3://cli-auth/doc.txt", "--expires-in", "60")
    assert result.returncode == 0, result.stderr
    with urllib.request.urlopen(result.stdout.strip(), timeout=10) as response:
        assert response.read() == b"presigned by the CLI"


# -- presigned URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize("signature_version", ["s3v4", None], ids=["sigv4", "boto3-default-sigv2"])
def test_presigned_get_and_put_work_until_they_expire(signature_version):
    clock = Clock()
    with FakeAWS(clock=clock) as aws:
        s3 = aws.client("s3")
        presigner = aws.client("s3", config=Config(signature_version=signature_version)
                               if signature_version else None)
        s3.create_bucket(Bucket="presign")
        s3.put_object(Bucket="presign", Key="a b/ü.txt", Body=b"secret")
        get_url = presigner.generate_presigned_url(
            "get_object", Params={"Bucket": "presign", "Key": "a b/ü.txt"}, ExpiresIn=60)
        put_url = presigner.generate_presigned_url(
            "put_object", Params={"Bucket": "presign", "Key": "up", "ContentType": "text/plain"},
            ExpiresIn=60)
        with urllib.request.urlopen(get_url, timeout=10) as response:
            assert response.read() == b"secret"
        put = urllib.request.Request(put_url, data=b"uploaded", method="PUT",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(put, timeout=10) as response:
            assert response.status == 200
        assert s3.get_object(Bucket="presign", Key="up")["Body"].read() == b"uploaded"

        clock.offset = 61 + 1  # past the URLs' expiry (the server's time only)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(get_url, timeout=10)
        body = err.value.read().decode()
        assert err.value.code == 403
        assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
        assert "<Expires>" in body and "<ServerTime>" in body
        if signature_version == "s3v4":
            assert "<X-Amz-Expires>60</X-Amz-Expires>" in body
        put = urllib.request.Request(put_url, data=b"too late", method="PUT",
                                     headers={"Content-Type": "text/plain"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(put, timeout=10)
        assert err.value.code == 403
        assert s3.get_object(Bucket="presign", Key="up")["Body"].read() == b"uploaded"


def test_a_tampered_presigned_url_is_refused(fakes3, s3_client):
    s3_client.create_bucket(Bucket="presign")
    s3v4 = fakes3.client("s3", config=Config(signature_version="s3v4"))
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "a"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url.replace("/presign/a?", "/presign/b?"), timeout=10)
    assert err.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in err.value.read()


# -- the clock --------------------------------------------------------------------------------


def test_a_client_clock_off_by_more_than_15_minutes_is_request_time_too_skewed():
    clock = Clock()
    with FakeAWS(clock=clock) as aws:
        s3 = aws.client("s3", config=NO_RETRY)
        clock.offset = 14 * 60
        s3.list_buckets()
        clock.offset = 16 * 60
        err = error_of(s3.list_buckets)
        assert (err["Code"], err["Status"]) == ("RequestTimeTooSkewed", 403)
        assert err["MaxAllowedSkewMilliseconds"] == "900000"
        assert err["RequestTime"].endswith("Z") and err["ServerTime"].endswith("Z")


# -- session tokens ---------------------------------------------------------------------------


def test_session_tokens_valid_wrong_and_expired():
    clock = Clock()
    with FakeAWS(clock=clock) as aws:
        temporary = aws.credential_store.issue_temporary("222222222222", lifetime=900)
        assert temporary.access_key.startswith("ASIA") and temporary.temporary
        s3 = aws.client("s3", **temporary.client_kwargs(), config=NO_RETRY)
        s3.create_bucket(Bucket="temp-bucket")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["temp-bucket"]
        presigner = aws.client("s3", **temporary.client_kwargs(),
                               config=Config(signature_version="s3v4"))
        url = presigner.generate_presigned_url("list_objects_v2", Params={"Bucket": "temp-bucket"})
        assert "X-Amz-Security-Token=" in url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200

        wrong = aws.client("s3", aws_access_key_id=temporary.access_key,
                           aws_secret_access_key=temporary.secret_key,
                           aws_session_token="not-the-token", config=NO_RETRY)
        err = error_of(wrong.list_buckets)
        assert (err["Code"], err["Status"]) == ("InvalidToken", 400)
        no_token = aws.client("s3", aws_access_key_id=temporary.access_key,
                              aws_secret_access_key=temporary.secret_key, config=NO_RETRY)
        assert error_of(no_token.list_buckets)["Code"] == "InvalidAccessKeyId"

        clock.offset = 901
        err = error_of(s3.list_buckets)
        assert (err["Code"], err["Status"], err["Message"]) == (
            "ExpiredToken", 400, "The provided token has expired.")
        with pytest.raises(urllib.error.HTTPError) as expired:
            urllib.request.urlopen(url, timeout=10)
        assert b"<Code>ExpiredToken</Code>" in expired.value.read()


# -- the body: x-amz-content-sha256 and aws-chunked signatures --------------------------------


def test_a_body_that_does_not_match_its_sha256_stores_nothing(fakes3, s3_client):
    s3_client.create_bucket(Bucket="sha-bkt")
    url = f"{fakes3.endpoint_url}/sha-bkt/k"
    for size in (10, 3 * 1024 * 1024):  # in memory, and spilled to a blob file
        body = os.urandom(size)
        claimed = hashlib.sha256(body[:-1] + b"x").hexdigest()
        headers = sign_headers("PUT", url, body=body, payload=claimed,
                               headers={"Content-Length": str(size)})
        status, answer = raw(fakes3, "PUT", "/sha-bkt/k", body, headers)
        assert status == 400
        assert b"<Code>XAmzContentSHA256Mismatch</Code>" in answer
        assert f"<ClientComputedContentSHA256>{claimed}".encode() in answer
        assert f"<S3ComputedContentSHA256>{hashlib.sha256(body).hexdigest()}".encode() in answer
        assert not exists(s3_client, "sha-bkt", "k")
        assert fakes3.s3.blobs.files() == []


def test_a_delete_objects_document_that_does_not_match_its_sha256_deletes_nothing(fakes3, s3_client):
    s3_client.create_bucket(Bucket="sha-bkt")
    s3_client.put_object(Bucket="sha-bkt", Key="keep", Body=b"1")
    document = b"<Delete><Object><Key>keep</Key></Object></Delete>"
    md5 = base64.b64encode(hashlib.md5(document).digest()).decode()
    url = f"{fakes3.endpoint_url}/sha-bkt?delete="
    headers = sign_headers("POST", url, body=document, payload=hashlib.sha256(b"other").hexdigest(),
                           headers={"Content-MD5": md5, "Content-Length": str(len(document))})
    status, answer = raw(fakes3, "POST", "/sha-bkt?delete=", document, headers)
    assert status == 400 and b"XAmzContentSHA256Mismatch" in answer
    assert exists(s3_client, "sha-bkt", "keep")


def _chunk_signature(secret: str, scope: str, timestamp: str, previous: str, data: bytes) -> str:
    """Independent of fakes3.auth: AWS's chunk string to sign, signed with the derived key."""
    date, region, service = scope.split("/")[:3]
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", timestamp, scope, previous,
                                hashlib.sha256(b"").hexdigest(), hashlib.sha256(data).hexdigest()])
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _trailer_signature(secret: str, scope: str, timestamp: str, previous: str, trailer: str) -> str:
    date, region, service = scope.split("/")[:3]
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", timestamp, scope, previous,
                                hashlib.sha256(trailer.encode()).hexdigest()])
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _frame(pieces: list[bytes], signatures: list[str], trailers: list[str]) -> bytes:
    """aws-chunked framing: signed chunks, the final empty one, then trailer lines (if any)."""
    body = b""
    for piece, signature in zip(pieces, signatures, strict=True):
        body += f"{len(piece):x};chunk-signature={signature}\r\n".encode() + piece
        if piece or not trailers:
            body += b"\r\n"
    return body + "".join(f"{line}\r\n" for line in trailers).encode() + (b"\r\n" if trailers else b"")


def _signed_chunked_put(aws: FakeAWS, path: str, data: bytes, *, chunk: int = 8192,
                        tamper: str | None = None, trailer: bool = False) -> tuple[int, bytes]:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] upload, built by hand as the SDKs build it.
    ``tamper``: "data" changes a byte of the second chunk after signing, "final" breaks the
    final chunk's signature, "trailer" changes the checksum trailer after signing it."""
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    checksum = f"x-amz-checksum-crc32:{crc}"
    placeholder = "0" * 64
    trailers = [checksum, f"x-amz-trailer-signature:{placeholder}"] if trailer else []
    length = len(_frame(pieces, [placeholder] * len(pieces), trailers))  # signatures are fixed-size
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "Content-Length": str(length)}
    if trailer:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    payload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    signed = sign_headers("PUT", aws.endpoint_url + path, headers=headers, payload=payload)
    timestamp = signed["X-Amz-Date"]
    scope = signed["Authorization"].split("Credential=")[1].split(",")[0].split("/", 1)[1]
    previous = seed_signature(signed)
    signatures = []
    for piece in pieces:
        previous = _chunk_signature("test", scope, timestamp, previous, piece)
        signatures.append(previous)
    if tamper == "data":
        pieces[1] = b"X" + pieces[1][1:] if pieces[1][:1] != b"X" else b"Y" + pieces[1][1:]
    if tamper == "final":
        signatures[-1] = "1" * 64
    if trailer:
        signature = _trailer_signature("test", scope, timestamp, previous, checksum + "\n")
        sent = checksum if tamper != "trailer" else "x-amz-checksum-crc32:AAAAAA=="
        trailers = [sent, f"x-amz-trailer-signature:{signature}"]
    body = _frame(pieces, signatures, trailers)
    assert len(body) == length
    return raw(aws, "PUT", path, body, signed)


@pytest.mark.parametrize("trailer", [False, True], ids=["payload", "payload-trailer"])
def test_signed_aws_chunked_uploads_verify_every_chunk(fakes3, s3_client, trailer):
    s3_client.create_bucket(Bucket="chunk-bkt")
    data = os.urandom(3 * 8192 + 100)
    status, answer = _signed_chunked_put(fakes3, "/chunk-bkt/good", data, trailer=trailer)
    assert status == 200, answer
    got = s3_client.get_object(Bucket="chunk-bkt", Key="good", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    if trailer:
        assert got["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("tamper", ["data", "final", "trailer"])
def test_a_tampered_signed_aws_chunked_upload_stores_nothing(fakes3, s3_client, tamper):
    s3_client.create_bucket(Bucket="chunk-bkt")
    data = os.urandom(3 * 8192 + 100)
    status, answer = _signed_chunked_put(fakes3, "/chunk-bkt/bad", data, tamper=tamper,
                                         trailer=tamper == "trailer")
    assert status == 403, answer
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer
    assert not exists(s3_client, "chunk-bkt", "bad")


def test_unsigned_payload_trailer_uploads_need_only_the_header_signature(fakes3, s3_client):
    s3_client.create_bucket(Bucket="chunk-bkt")
    data = b"hello trailer"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body = f"{len(data):x}\r\n".encode() + data + f"\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()
    headers = sign_headers("PUT", f"{fakes3.endpoint_url}/chunk-bkt/t",
                           payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                           headers={"Content-Encoding": "aws-chunked",
                                    "x-amz-trailer": "x-amz-checksum-crc32",
                                    "x-amz-decoded-content-length": str(len(data)),
                                    "Content-Length": str(len(body))})
    status, answer = raw(fakes3, "PUT", "/chunk-bkt/t", body, headers)
    assert status == 200, answer
    assert s3_client.get_object(Bucket="chunk-bkt", Key="t")["Body"].read() == data


# -- open mode --------------------------------------------------------------------------------


def test_open_mode_accepts_a_wrong_secret_an_unknown_key_and_no_signature():
    with FakeAWS(auth="open") as aws:
        wrong = aws.client("s3", aws_secret_access_key="wrong")
        wrong.create_bucket(Bucket="open-bucket")
        stranger = aws.client("s3", aws_access_key_id="AKIASTRANGER", aws_secret_access_key="x")
        assert [b["Name"] for b in stranger.list_buckets()["Buckets"]] == ["open-bucket"]
        status, _ = raw(aws, "PUT", "/open-bucket/k", b"unsigned")
        assert status == 200
        assert aws.client("s3").get_object(Bucket="open-bucket", Key="k")["Body"].read() == b"unsigned"
