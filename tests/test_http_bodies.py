"""Response bodies on fakes3's HTTP server: spilled objects sent from a memory map of their file,
byte ranges, multipart and persisted bodies, chunked framing, faults that drop the connection,
and the worker pool started in the background."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

import fakes3.http_server as http_server
from fakes3.faults import ambiguous
from fakes3.http_server import HttpServer
from fakes3.s3.blobs import BlobStore, FileSpan, RangeBody
from fakes3.server import FakeAWS

MIB = 1024 * 1024
BUCKET = "bodies"


def pattern(size: int, seed: int = 7) -> bytes:
    """Bytes where every offset is distinct enough that a misplaced window shows."""
    block = bytes((seed * 31 + i * 7) % 251 for i in range(65521))  # a prime length
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
def spilled_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bytes the server sent out of a memory map (not read into Python)."""
    sent: list[int] = []
    real = http_server._send_mapped

    def counting(sock: Any, fd: int, offset: int, length: int) -> None:
        sent.append(length)
        real(sock, fd, offset, length)

    monkeypatch.setattr(http_server, "_send_mapped", counting)
    return sent


def test_a_spilled_object_and_its_ranges_come_back_exact(spilled_counter: list[int]) -> None:
    data = pattern(9 * MIB + 4321)  # more than two of the server's 4 MiB windows
    with FakeAWS(imds=False, spill_threshold=64 * 1024) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="big", Body=data)
        got = s3.get_object(Bucket=BUCKET, Key="big")
        assert got["ContentLength"] == len(data)
        assert got["Body"].read() == data
        assert spilled_counter == [len(data)]
        window = http_server.WINDOW
        for first, last in [(0, 0), (1, 4096), (4095, 3 * 4096 + 1), (window - 3, window + 2),
                            (5, 2 * window + 17), (len(data) - 7, len(data) - 1), (12345, len(data) - 1)]:
            part = s3.get_object(Bucket=BUCKET, Key="big", Range=f"bytes={first}-{last}")
            assert part["ContentRange"] == f"bytes {first}-{last}/{len(data)}"
            assert part["Body"].read() == data[first:last + 1], (first, last)
        suffix = s3.get_object(Bucket=BUCKET, Key="big", Range="bytes=-1000")["Body"].read()
        assert suffix == data[-1000:]
        head = s3.head_object(Bucket=BUCKET, Key="big")
        assert head["ContentLength"] == len(data)
        # Keep-alive still works after all of that on the same pooled connection.
        assert s3.get_object(Bucket=BUCKET, Key="big", Range="bytes=0-9")["Body"].read() == data[:10]


def test_a_multipart_object_mixes_file_and_memory_parts(spilled_counter: list[int]) -> None:
    part = 256 * 1024
    parts = [pattern(part, 1), pattern(part, 2), pattern(1000, 3)]  # the last one stays in memory
    data = b"".join(parts)
    with FakeAWS(imds=False, spill_threshold=100 * 1024, min_part_size=part) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
        etags = [s3.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=n,
                                Body=body)["ETag"] for n, body in enumerate(parts, 1)]
        s3.complete_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
        assert s3.get_object(Bucket=BUCKET, Key="mp")["Body"].read() == data
        assert spilled_counter == [part, part]  # the file parts; the small one went as bytes
        for first, last in [(part - 5, part + 5), (part + 1, len(data) - 1), (10, 2 * part + 999)]:
            got = s3.get_object(Bucket=BUCKET, Key="mp", Range=f"bytes={first}-{last}")["Body"].read()
            assert got == data[first:last + 1], (first, last)
        assert s3.get_object(Bucket=BUCKET, Key="mp", PartNumber=2)["Body"].read() == parts[1]
        assert s3.get_object(Bucket=BUCKET, Key="mp", PartNumber=3)["Body"].read() == parts[2]


def test_a_persisted_object_is_sent_from_its_file_after_a_restart(tmp_path: Path,
                                                                 spilled_counter: list[int]) -> None:
    data = pattern(3 * MIB + 11)
    with FakeAWS(imds=False, data_dir=tmp_path) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="kept", Body=data)
    spilled_counter.clear()
    with FakeAWS(imds=False, data_dir=tmp_path) as aws:
        s3 = aws.client("s3")
        assert s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read() == data
        got = s3.get_object(Bucket=BUCKET, Key="kept", Range="bytes=1048570-2097160")["Body"].read()
        assert got == data[1048570:2097161]
        assert spilled_counter == [len(data), 2097160 - 1048570 + 1]


def test_a_blob_file_cut_short_fails_the_read_instead_of_passing_for_the_whole(
        spilled_counter: list[int]) -> None:
    data = pattern(2 * MIB)
    with FakeAWS(imds=False, spill_threshold=64 * 1024) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="cut", Body=data)
        (path,) = aws.s3.blobs.files()
        os.truncate(path, MIB)  # damage from outside: fakes3 never truncates a blob file
        with pytest.raises(Exception):  # noqa: B017, PT011 - urllib3/botocore name it variously
            s3.get_object(Bucket=BUCKET, Key="cut")["Body"].read()
        assert spilled_counter == []  # never mapped past the file's end
        s3.put_object(Bucket=BUCKET, Key="fine", Body=b"still serving")
        assert s3.get_object(Bucket=BUCKET, Key="fine")["Body"].read() == b"still serving"


def test_a_dropped_get_of_a_spilled_object_drops_and_serving_goes_on() -> None:
    data = pattern(2 * MIB)
    with FakeAWS(imds=False, spill_threshold=64 * 1024) as aws:
        import botocore.config

        s3 = aws.client("s3", config=botocore.config.Config(retries={"total_max_attempts": 1}))
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="k", Body=data)
        aws.faults.add(ambiguous("drop"), operation="GetObject", times=1)
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            s3.get_object(Bucket=BUCKET, Key="k")["Body"].read()
        assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == data


def test_the_socketless_path_reads_a_spilled_object_too() -> None:
    data = pattern(MIB + 5)
    aws = FakeAWS(imds=False, spill_threshold=64 * 1024)
    try:
        with aws.patch() as fake:
            s3 = fake.client("s3")
            s3.create_bucket(Bucket=BUCKET)
            s3.put_object(Bucket=BUCKET, Key="k", Body=data)
            assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == data
            got = s3.get_object(Bucket=BUCKET, Key="k", Range="bytes=100-70000")["Body"].read()
            assert got == data[100:70001]
    finally:
        aws.stop()


def test_a_missing_object_is_still_an_error_document() -> None:
    with FakeAWS(imds=False) as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=BUCKET, Key="absent")
        assert err.value.response["Error"]["Code"] == "NoSuchKey"


# -- RangeBody ------------------------------------------------------------------------------------


def test_a_range_body_reads_as_chunks_or_hands_over_file_spans(tmp_path: Path) -> None:
    store = BlobStore(spill_threshold=10, blob_dir=str(tmp_path))
    blob = store.from_bytes(b"0123456789abcdef")
    body = blob.iter_range(3, 12, chunk=4)
    assert isinstance(body, RangeBody)
    assert list(body) == [b"3456", b"789a", b"bc"]
    body.close()
    body = blob.iter_range(3, 12)
    assert isinstance(body, RangeBody)
    pieces = body.pieces()
    span = next(pieces)
    assert isinstance(span, FileSpan) and (span.offset, span.length) == (3, 10)
    assert not span.file.closed and b"".join(span.chunks(4)) == b"3456789abc"
    with pytest.raises(RuntimeError):
        next(body)  # read once: as pieces or as chunks
    body.close()
    assert span.file.closed
    spans = blob.iter_range(0, 3).pieces()
    first = next(spans)
    assert list(spans) == [] and first.file.closed  # moving past a span closes its file
    small = BlobStore(spill_threshold=100).from_bytes(b"in memory")
    assert list(small.iter_range(3, 5)) == [b"mem"]  # a plain iterator: nothing to map


# -- the server itself ----------------------------------------------------------------------------


class _Spans:
    """A WSGI body of bytes and file spans, as RangeBody is."""

    def __init__(self, pieces: list[Any]) -> None:
        self._pieces = pieces
        self.closed = False

    def pieces(self) -> Any:
        return iter(self._pieces)

    def __iter__(self) -> Any:
        for piece in self._pieces:
            yield from ([piece] if isinstance(piece, bytes) else piece.chunks())

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_the_server_frames_bytes_and_file_spans(tmp_path: Path, with_length: bool) -> None:
    path = tmp_path / "f"
    content = pattern(300_000)
    path.write_bytes(content)
    with path.open("rb") as f:
        pieces = [b"head:", FileSpan(f, 1000, 200_000), b"", b":tail" * 20_000]
        expected = b"head:" + content[1000:201_000] + b":tail" * 20_000
        bodies: list[_Spans] = []

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            headers = [("Content-Type", "application/octet-stream")]
            if with_length:
                headers.append(("Content-Length", str(len(expected))))
            start_response("200 OK", headers)
            bodies.append(_Spans(pieces))
            return bodies[-1]

        with HttpServer(app) as server:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            for _ in range(2):  # the same kept-alive connection twice
                conn.request("GET", "/")
                response = conn.getresponse()
                assert response.status == 200
                assert response.getheader("Date") and response.getheader("Server") == "fakes3"
                assert (response.getheader("Transfer-Encoding") == "chunked") is not with_length
                assert response.read() == expected
            conn.close()
        assert len(bodies) == 2 and all(b.closed for b in bodies)


def test_a_header_value_that_is_not_a_string_is_refused() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", 2)])
        return [b"ok"]

    with HttpServer(app) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 500
        conn.close()


def _workers(server: HttpServer) -> list[threading.Thread]:
    assert server._server is not None
    pool = server._server.requests
    # A worker may serve before the spawning thread has recorded it: wait for the spawner (made
    # by the server's thread once it runs, and started under the pool's lock).
    deadline = time.monotonic() + 10
    while True:
        with pool._lock:  # type: ignore[attr-defined]
            spawner = pool._spawner  # type: ignore[attr-defined]
        if spawner is not None or time.monotonic() > deadline:
            break
        time.sleep(0.001)
    assert spawner is not None, "the server's thread never started its workers"
    spawner.join(10)
    assert not spawner.is_alive()
    return list(pool._threads)  # type: ignore[attr-defined]


def test_the_worker_pool_fills_in_the_background_and_stops_whole() -> None:
    release = threading.Event()
    inside = threading.Semaphore(0)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        inside.release()
        release.wait(10)
        start_response("200 OK", [("Content-Length", "0")])
        return []

    before = {t.ident for t in threading.enumerate()}
    server = HttpServer(app, threads=6).start()
    try:
        results: list[int] = []

        def call() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/")
            results.append(conn.getresponse().status)
            conn.close()

        callers = [threading.Thread(target=call) for _ in range(6)]
        for caller in callers:
            caller.start()
        for _ in range(6):  # all six are inside the app at once: six workers serve them
            assert inside.acquire(timeout=10)
        release.set()
        for caller in callers:
            caller.join(10)
        assert results == [200] * 6
        workers = _workers(server)
        assert len(workers) == 6
        assert all(w.daemon for w in workers)  # a process that never calls stop() still exits
    finally:
        release.set()
        server.stop()
    assert not any(w.is_alive() for w in workers)
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []


def test_a_server_stopped_at_once_after_starting_leaves_no_thread() -> None:
    before = {t.ident for t in threading.enumerate()}
    for _ in range(5):
        HttpServer(lambda environ, start_response: [], threads=8).start().stop()
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []


def test_a_restart_serves_again_on_the_same_port() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = HttpServer(app).start()
    port = server.port
    try:
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"ok"
            conn.close()
            server.stop()
            server.start()
            assert server.port == port
    finally:
        server.stop()


# -- start-up -------------------------------------------------------------------------------------


def test_the_dynamodb_model_loads_on_the_first_dynamodb_request() -> None:
    # A fresh interpreter: the models are cached per process.
    script = """
from functools import cache
from fakes3.protocol import service_models
from fakes3.server import FakeAWS
loaded = []
real = service_models.service_model.__wrapped__
service_models.service_model = cache(lambda name: loaded.append(name) or real(name))
import fakes3.protocol.json_http as json_http, fakes3.protocol.s3_http as s3_http
json_http.service_model = s3_http.service_model = service_models.service_model
with FakeAWS(imds=False) as aws:
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert loaded == ["s3"], loaded
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="lazy-table", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ddb.put_item(TableName="lazy-table", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    assert ddb.get_item(TableName="lazy-table", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    assert loaded == ["s3", "dynamodb"], loaded
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_service_models_match_botocores_own_loading() -> None:
    import botocore.loaders

    from fakes3.protocol.json_http import JsonService
    from fakes3.protocol.service_models import API_VERSIONS, _model_file, _parse, service_model
    from fakes3.server import FakeAWS

    loader = botocore.loaders.Loader()
    for name, version in API_VERSIONS.items():
        path = _model_file(name, version)
        assert path is not None
        assert _parse(path) == loader.load_data(f"{name}/{version}/service-2")
    # The target prefix and signing name the JSON services are given are the model's own.
    with FakeAWS(imds=False) as aws:
        services: list[JsonService] = aws.app.json_services
        for service in services:
            model = service_model(service.name)
            assert service.target_prefix == model.metadata["targetPrefix"]
            assert service.signing_name == model.signing_name


def _thread_app(served_by: list[int]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        served_by.append(threading.get_ident())
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    return app


def test_a_worker_serves_its_kept_alive_connection_while_it_lingers_and_stop_wakes_it() -> None:
    served_by: list[int] = []
    server = HttpServer(_thread_app(served_by), threads=3, linger=30).start()
    _workers(server)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for _ in range(5):
            conn.request("GET", "/")
            assert conn.getresponse().read() == b"ok"
        assert len(served_by) == 5 and len(set(served_by)) == 1  # one thread, not the selector's turns
    finally:
        started = time.monotonic()
        server.stop()  # the worker still lingers on the open connection: stop must not wait 30 s
        conn.close()
    assert time.monotonic() - started < 5


def test_more_connections_than_workers_take_turns_though_workers_linger() -> None:
    # Two workers, four connections, a 30 s linger: were both workers to linger on the first two
    # connections, the other two would get no answer before their 10 s timeout.
    served_by: list[int] = []
    server = HttpServer(_thread_app(served_by), threads=2, linger=30).start()
    _workers(server)
    conns = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(4)]
    try:
        for _ in range(3):
            for conn in conns:
                conn.request("GET", "/")
                assert conn.getresponse().read() == b"ok"
        assert len(served_by) == 12
    finally:
        for conn in conns:
            conn.close()
        server.stop()


def test_pipelined_requests_are_answered_in_order() -> None:
    served_by: list[int] = []
    with (HttpServer(_thread_app(served_by), linger=30) as server,
          socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock):
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while received.count(b"ok") < 2:
            data = sock.recv(65536)
            assert data, f"the server closed the connection after {received!r}"
            received += data
    assert received.count(b"HTTP/1.1 200 OK") == 2 and len(served_by) == 2
