"""HTTP behaviour every client relies on: keep-alive, 100-continue, addressing, errors, framing."""

from __future__ import annotations

import base64
import http.client
import socket
import subprocess
import sys
import tracemalloc
import zlib

import pytest

from fakes3 import FakeAWS
from fakes3.auth.signing import sign_headers


def connect(aws: FakeAWS) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", aws.port, timeout=10)


def signed(aws: FakeAWS, method: str, path: str, body: bytes = b"", **headers: str) -> dict[str, str]:
    """Headers for a raw request, signed with the default key as boto3 would sign it."""
    return sign_headers(method, aws.endpoint_url + path, body=body, headers=headers)


def test_connections_are_kept_alive(fakes3):
    conn = connect(fakes3)
    try:
        sockets = set()
        for _ in range(3):
            conn.request("GET", "/_fakes3/health")
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
            response.read()
            sockets.add(id(conn.sock))
        assert len(sockets) == 1  # one TCP connection served all three
    finally:
        conn.close()


def test_expect_100_continue_is_answered_once_before_the_body(fakes3, s3_client):
    s3_client.create_bucket(Bucket="bkt")
    headers = signed(fakes3, "PUT", "/bkt/k", b"hello", Host="127.0.0.1", **{"Content-Length": "5"})
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection(("127.0.0.1", fakes3.port), timeout=10) as sock:
        sock.sendall(f"PUT /bkt/k HTTP/1.1\r\n{head}Expect: 100-continue\r\n\r\n".encode())
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"hello")
        final = b""
        while b"\r\n\r\n" not in final:
            final += sock.recv(4096)
        assert final.startswith(b"HTTP/1.1 200")
        assert b"100 Continue" not in final
    assert s3_client.get_object(Bucket="bkt", Key="k")["Body"].read() == b"hello"


def test_every_response_carries_a_request_id_and_errors_have_s3s_shape(fakes3):
    conn = connect(fakes3)
    conn.request("GET", "/no-such-bucket/key", headers=signed(fakes3, "GET", "/no-such-bucket/key"))
    response = conn.getresponse()
    body = response.read().decode()
    assert response.status == 404
    request_id = response.getheader("x-amz-request-id")
    assert request_id and response.getheader("x-amz-id-2")
    assert response.getheader("Content-Type") == "application/xml"
    assert "<Error><Code>NoSuchBucket</Code><Message>" in body
    assert "<BucketName>no-such-bucket</BucketName>" in body
    assert f"<RequestId>{request_id}</RequestId>" in body
    conn.request("HEAD", "/no-such-bucket/key", headers=signed(fakes3, "HEAD", "/no-such-bucket/key"))
    head = conn.getresponse()
    assert head.status == 404 and head.read() == b""  # no body on HEAD errors, as S3
    assert head.getheader("x-amz-request-id")


def test_virtual_host_style_addressing(fakes3, s3_client):
    s3_client.create_bucket(Bucket="vhost-bucket")
    conn = connect(fakes3)
    conn.request("PUT", "/dir/file.txt", body=b"data",
                 headers=signed(fakes3, "PUT", "/dir/file.txt", b"data",
                                Host=f"vhost-bucket.localhost:{fakes3.port}"))
    assert conn.getresponse().read() == b"" or True
    assert s3_client.get_object(Bucket="vhost-bucket", Key="dir/file.txt")["Body"].read() == b"data"


def test_a_configured_base_domain_serves_virtual_hosts():
    with FakeAWS(virtual_host_domains=["s3.fake.test"]) as aws:
        aws.client("s3").create_bucket(Bucket="bkt")
        conn = connect(aws)
        conn.request("GET", "/?list-type=2", headers=signed(aws, "GET", "/?list-type=2",
                                                            Host="bkt.s3.fake.test"))
        response = conn.getresponse()
        assert response.status == 200
        assert b"<Name>bkt</Name>" in response.read()


def test_a_request_no_operation_matches_is_method_not_allowed(fakes3, s3_client):
    s3_client.create_bucket(Bucket="bkt")
    conn = connect(fakes3)
    conn.request("POST", "/bkt/some-key", body=b"")
    response = conn.getresponse()
    assert response.status == 405
    assert b"<Code>MethodNotAllowed</Code>" in response.read()


def test_an_unimplemented_operation_is_501_naming_it(fakes3, s3_client):
    s3_client.create_bucket(Bucket="bkt")
    with pytest.raises(s3_client.exceptions.ClientError) as err:
        s3_client.get_bucket_analytics_configuration(Bucket="bkt", Id="a")
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "GetBucketAnalyticsConfiguration" in err.value.response["Error"]["Message"]


def test_an_unexpected_exception_is_500_without_traceback_and_serving_goes_on(caplog):
    with FakeAWS() as aws:
        real = aws.app.s3.handler

        def broken(operation, params, ctx):
            if operation == "ListBuckets":
                raise RuntimeError("a bug in fakes3")
            return real(operation, params, ctx)

        aws.app.s3.handler = broken
        conn = connect(aws)
        conn.request("GET", "/", headers=signed(aws, "GET", "/"))
        response = conn.getresponse()
        body = response.read().decode()
        assert response.status == 500
        assert "<Code>InternalError</Code>" in body
        assert "Traceback" not in body and "a bug in fakes3" not in body
        assert "a bug in fakes3" in caplog.text  # logged for the maintainer
        aws.client("s3").create_bucket(Bucket="still-serving")


def _aws_chunked(data: bytes, chunk: int, trailer: tuple[str, str] | None) -> bytes:
    out = b""
    for start in range(0, len(data), chunk):
        piece = data[start:start + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    if trailer:
        out += f"{trailer[0]}:{trailer[1]}\r\n".encode()
    return out + b"\r\n"


def _put_aws_chunked(aws: FakeAWS, key: str, data: bytes, crc: str) -> http.client.HTTPResponse:
    body = _aws_chunked(data, 8192, ("x-amz-checksum-crc32", crc))
    conn = connect(aws)
    conn.request("PUT", f"/bkt/{key}", body=body, headers=sign_headers(
        "PUT", f"{aws.endpoint_url}/bkt/{key}", payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "Content-Type": "text/plain",
        }))
    response = conn.getresponse()
    response.read()
    return response


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_aws_chunked_upload_with_trailing_checksum(fakes3, s3_client):
    s3_client.create_bucket(Bucket="bkt")
    data = bytes(range(256)) * 100
    response = _put_aws_chunked(fakes3, "chunked", data, crc32_b64(data))
    assert response.status == 200
    got = s3_client.get_object(Bucket="bkt", Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got.get("ContentEncoding") in (None, "")  # the framing is not stored as an encoding
    assert got["ChecksumCRC32"] == crc32_b64(data)


def test_aws_chunked_upload_with_a_wrong_trailing_checksum_is_rejected(fakes3, s3_client):
    s3_client.create_bucket(Bucket="bkt")
    response = _put_aws_chunked(fakes3, "bad", b"payload", crc32_b64(b"other"))
    assert response.status == 400
    with pytest.raises(s3_client.exceptions.NoSuchKey):
        s3_client.get_object(Bucket="bkt", Key="bad")


def test_a_large_upload_is_streamed_not_held_in_memory(fakes3, s3_client, tmp_path):
    s3_client.create_bucket(Bucket="bkt")
    size = 48 * 1024 * 1024
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        for i in range(size // (1 << 20)):
            f.write(bytes([i % 251]) * (1 << 20))
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            s3_client.put_object(Bucket="bkt", Key="big", Body=f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Client and server share this process: neither may hold the whole body.
    assert peak < size / 3, f"peak {peak / 2**20:.1f} MiB while uploading {size / 2**20:.0f} MiB"
    head = s3_client.head_object(Bucket="bkt", Key="big")
    assert head["ContentLength"] == size


def test_a_script_that_never_stops_its_fake_still_exits() -> None:
    # The worker threads are daemons: forgetting stop() must not hang the interpreter at exit.
    script = (
        "from fakes3.server import FakeAWS\n"
        "aws = FakeAWS().start()\n"
        "assert aws.client('s3').list_buckets()['Buckets'] == []\n"
        "print('served')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "served"
