"""The socketless path: boto3 clients in this process served by the fake's WSGI app, no socket."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import botocore.config
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from botocore.httpsession import URLLib3Session
from botocore.response import StreamingBody

import fakes3.inprocess as inprocess
from fakes3.faults import ambiguous, error
from fakes3.server import FakeAWS

NO_RETRIES = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
BUCKET = "socketless"


@pytest.fixture
def aws() -> Iterator[FakeAWS]:
    fake = FakeAWS(imds=False)  # never started: no port, no thread
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def patched(aws: FakeAWS) -> Iterator[inprocess.InProcess]:
    with aws.patch() as fake:
        yield fake


@pytest.fixture
def s3(patched: inprocess.InProcess):
    client = patched.client("s3", config=NO_RETRIES)
    client.create_bucket(Bucket=BUCKET)
    return client


def test_s3_operations_without_a_server(aws, patched, s3):
    assert not aws.http.running
    assert patched.endpoint_url.endswith(".fakes3.invalid")
    s3.put_object(Bucket=BUCKET, Key="dir/a file.txt", Body=b"hello", ContentType="text/plain",
                  Metadata={"updated_at": "1", "Owner": "me"})
    head = s3.head_object(Bucket=BUCKET, Key="dir/a file.txt")
    assert head["ContentLength"] == 5
    assert head["ContentType"] == "text/plain"
    # raw header names reach the protocol layer: an underscore survives, as over cheroot
    assert head["Metadata"] == {"updated_at": "1", "owner": "me"}
    got = s3.get_object(Bucket=BUCKET, Key="dir/a file.txt")
    assert got["Body"].read() == b"hello"
    assert got["ETag"] == '"' + hashlib.md5(b"hello").hexdigest() + '"'
    s3.put_object(Bucket=BUCKET, Key="dir/ünï cødé", Body=b"")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a file.txt", "dir/ünï cødé"]
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "dir/a file.txt"})
    out = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "copy"}, {"Key": "dir/ünï cødé"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["copy", "dir/ünï cødé"]
    s3.delete_object(Bucket=BUCKET, Key="dir/a file.txt")
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    # every request went through the same journal as over HTTP, from a loopback "connection"
    entries = aws.journal.entries()
    assert {e.operation for e in entries} >= {"PutObject", "HeadObject", "GetObject", "DeleteObjects"}
    assert all(e.connection.startswith("127.0.0.1:") for e in entries)


def test_dynamodb_operations(patched):
    ddb = patched.client("dynamodb", config=NO_RETRIES)
    ddb.create_table(TableName="items", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}])
    for i in range(5):
        ddb.put_item(TableName="items", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"B": b"\x00\x01"}})
    assert ddb.get_item(TableName="items", Key={"pk": {"S": "p"}, "sk": {"N": "3"}})["Item"]["v"] == {
        "B": b"\x00\x01"}
    out = ddb.query(TableName="items", KeyConditionExpression="pk = :p AND sk >= :s",
                    ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"N": "2"}})
    assert [item["sk"]["N"] for item in out["Items"]] == ["2", "3", "4"]
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName="items", Item={"pk": {"S": "p"}, "sk": {"N": "0"}},
                     ConditionExpression="attribute_not_exists(pk)")
    ddb.delete_item(TableName="items", Key={"pk": {"S": "p"}, "sk": {"N": "0"}})
    assert ddb.query(TableName="items", KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}})["Count"] == 4


def test_streaming_get_of_a_spilled_object_and_ranges(s3):
    data = bytes(range(256)) * (12 * 1024)  # 3 MiB: past the 1 MiB spill threshold, a file blob
    s3.put_object(Bucket=BUCKET, Key="big", Body=data)
    got = s3.get_object(Bucket=BUCKET, Key="big")
    body = got["Body"]
    assert isinstance(body, StreamingBody)
    assert got["ContentLength"] == len(data)
    chunks = list(body.iter_chunks(256 * 1024))
    assert len(chunks) == 12 and b"".join(chunks) == data
    ranged = s3.get_object(Bucket=BUCKET, Key="big", Range="bytes=1000-1999")
    assert ranged["ContentRange"] == f"bytes 1000-1999/{len(data)}"
    assert ranged["Body"].read() == data[1000:2000]
    partial = s3.get_object(Bucket=BUCKET, Key="big")["Body"]
    assert partial.read(10) == data[:10]
    partial.close()  # closing early releases the blob, as closing a socket response would


def test_streamed_and_multipart_uploads_from_file_objects(s3):
    data = b"0123456789abcdef" * (640 * 1024)  # 10 MiB
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024,
                            max_concurrency=4)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, "multi", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="multi")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-2"')
    sink = io.BytesIO()
    s3.download_fileobj(BUCKET, "multi", sink, Config=config)
    assert sink.getvalue() == data


def test_errors_come_back_as_over_http(patched, s3):
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=BUCKET, Key="missing")
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=BUCKET, Key="missing")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.list_objects_v2(Bucket="no-such-bucket")
    # authentication runs too: a wrong secret is refused
    forged = patched.client("s3", aws_secret_access_key="wrong", config=NO_RETRIES)
    with pytest.raises(ClientError) as err:
        forged.list_objects_v2(Bucket=BUCKET)
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_fault_rules_apply_through_the_socketless_path(aws, s3):
    aws.faults.add(error(503, "SlowDown"), operation="PutObject", key="slow", times=1)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="slow", Body=b"v")
    assert err.value.response["Error"]["Code"] == "SlowDown"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    s3.put_object(Bucket=BUCKET, Key="slow", Body=b"v")  # times=1: the next one succeeds
    puts = [(e.status, e.error) for e in aws.journal.entries() if e.key == "slow"]
    assert puts == [(503, "SlowDown"), (200, None)]


def test_an_ambiguous_drop_is_a_closed_connection(aws, s3):
    aws.faults.add(ambiguous("drop"), operation="PutObject", key="dropped", times=1)
    with pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket=BUCKET, Key="dropped", Body=b"applied")
    assert s3.get_object(Bucket=BUCKET, Key="dropped")["Body"].read() == b"applied"


class _Recorder(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.paths.append(self.path)
        body = b"<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_other_endpoints_go_over_the_network(patched):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        other = patched.client("s3", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
                               config=NO_RETRIES)
        assert other.list_buckets()["Buckets"] == []
        assert _Recorder.paths == ["/"]
    finally:
        server.shutdown()
        server.server_close()


def test_the_patch_is_undone_on_exit(aws):
    original = URLLib3Session.send
    with aws.patch() as fake:
        assert URLLib3Session.send is not original
        s3 = fake.client("s3", config=NO_RETRIES)
        s3.list_buckets()
    assert URLLib3Session.send is original
    with pytest.raises(EndpointConnectionError):  # the made-up endpoint does not exist
        s3.list_buckets()


def test_a_running_fake_is_served_in_process_until_it_stops(monkeypatch):
    served: list[str] = []
    call_app = inprocess.call_app

    def counting(app, request, url, port):
        served.append(request.method)
        return call_app(app, request, url, port)

    monkeypatch.setattr(inprocess, "call_app", counting)
    with FakeAWS(imds=False) as aws, aws.patch() as fake:
        assert fake.endpoint_url == aws.endpoint_url
        s3 = aws.client("s3", config=NO_RETRIES)  # an ordinary client of the running fake
        s3.create_bucket(Bucket=BUCKET)
        assert served == ["PUT"]  # in-process, not over the socket
        aws.http.stop()  # the "endpoint down" window is kept for patched clients too
        with pytest.raises(EndpointConnectionError):
            s3.list_buckets()
        aws.http.start()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [BUCKET]


def test_two_fakes_patched_at_once_keep_their_own_state():
    with inprocess.fake(imds=False) as one, inprocess.fake(imds=False) as two:
        assert one.endpoint_url != two.endpoint_url
        one.client("s3").create_bucket(Bucket="only-in-one")
        assert [b["Name"] for b in one.client("s3").list_buckets()["Buckets"]] == ["only-in-one"]
        assert two.client("s3").list_buckets()["Buckets"] == []


def test_the_same_endpoint_cannot_be_patched_twice(aws):
    with aws.patch("http://twice.fakes3.invalid"), pytest.raises(RuntimeError):
        aws.patch("http://twice.fakes3.invalid").start()


def test_threads_share_a_patched_client(s3):
    def work(i: int) -> bytes:
        s3.put_object(Bucket=BUCKET, Key=f"t/{i}", Body=str(i).encode())
        return s3.get_object(Bucket=BUCKET, Key=f"t/{i}")["Body"].read()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(64))) == [str(i).encode() for i in range(64)]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="t/")["KeyCount"] == 64


def test_attach_serves_one_client_without_a_process_wide_patch(aws):
    import boto3

    original = URLLib3Session.send
    s3 = boto3.session.Session().client("s3", endpoint_url="http://attached.fakes3.invalid",
                                        region_name="us-east-1", config=NO_RETRIES, **aws.credentials)
    inprocess.attach(s3, aws)
    assert URLLib3Session.send is original
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"


def test_build_environ_matches_what_the_http_server_gives():
    from urllib.parse import urlsplit

    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="PUT", url="http://127.0.0.1:9000/b/a%20b?tagging",
                         headers={"x-amz-meta-a_b": "1", "Content-Length": "3", "Content-Type": "text/plain"},
                         data=b"abc").prepare()
    env = inprocess.build_environ(request, urlsplit(request.url), 50000)
    assert env["REQUEST_URI"] == "/b/a%20b?tagging"
    assert env["PATH_INFO"] == "/b/a b" and env["QUERY_STRING"] == "tagging"
    assert env["REMOTE_ADDR"] == "127.0.0.1" and env["REMOTE_PORT"] == "50000"
    assert env["HTTP_HOST"] == "127.0.0.1:9000"
    assert env["CONTENT_LENGTH"] == "3" and env["CONTENT_TYPE"] == "text/plain"
    assert env["fakes3.raw_headers"][b"x-amz-meta-a_b"] == b"1"
    assert env["wsgi.input"].read() == b"abc"


def test_an_https_endpoint_gets_aws_chunked_uploads_with_trailing_checksums(aws):
    # over https boto3 streams PutObject bodies aws-chunked, with no Content-Length
    with aws.patch("https://secure.fakes3.invalid") as fake:
        s3 = fake.client("s3", config=NO_RETRIES)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="chunked", Body=io.BytesIO(b"hello" * 1000))
        got = s3.get_object(Bucket=BUCKET, Key="chunked", ChecksumMode="ENABLED")
        assert got["Body"].read() == b"hello" * 1000
        assert got.get("ChecksumCRC32") or got.get("ChecksumCRC64NVME")
