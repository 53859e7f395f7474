"""``fakes3 serve --data-dir`` killed with SIGKILL: no partial object, and what was answered stays.

Each server is a child process this test starts; only that process is ever signalled, by its PID.
Waits are bounded: a server's "listening" line, and the size of the temporary file of a PUT whose
body is only partly sent (the one thing polled).
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1024 * 1024
STARTUP_TIMEOUT = 60.0
RECEIVE_TIMEOUT = 60.0


class Server:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}))

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)  # the child this test started, by its PID
        assert self.proc.wait(timeout=30) == -signal.SIGKILL


@contextmanager
def serve(data_dir: Path, *, via_env: bool = False) -> Iterator[Server]:
    """``fakes3 serve`` on a free port with ``--data-dir`` (or FAKES3_DATA_DIR)."""
    args = [sys.executable, "-m", "fakes3", "serve", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKES3_")}
    if via_env:
        env["FAKES3_DATA_DIR"] = str(data_dir)
    else:
        args += ["--data-dir", str(data_dir)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()],
                         daemon=True).start()
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            pytest.fail("fakes3 serve did not say it was listening")
        assert line.startswith("fakes3 listening on http://"), line
        yield Server(proc, int(line.rsplit(":", 1)[1]))
    finally:
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: a clean stop
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def temp_files(data_dir: Path) -> dict[str, int]:
    blobs = data_dir / "s3" / "blobs"
    out = {}
    for name in os.listdir(blobs) if blobs.exists() else ():
        if name.startswith("tmp-"):
            try:
                out[name] = (blobs / name).stat().st_size
            except FileNotFoundError:
                continue
    return out


def start_partial_put(server: Server, bucket: str, key: str, total: int, sent: bytes) -> socket.socket:
    """A presigned PUT announcing ``total`` bytes, of which only ``sent`` go out."""
    url = urlsplit(server.client().generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = (f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Length: {total}\r\n\r\n")
    sock.sendall(head.encode("ascii") + sent)
    return sock


def wait_for_temp_file(data_dir: Path, at_least: int) -> dict[str, int]:
    """Bounded polling of the blob directory until a temp file holds ``at_least`` bytes."""
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    while time.monotonic() < deadline:
        found = temp_files(data_dir)
        if any(size >= at_least for size in found.values()):
            return found
        time.sleep(0.01)
    pytest.fail(f"no temp file of {at_least} bytes appeared: {temp_files(data_dir)}")


def test_sigkill_in_the_middle_of_a_put_leaves_no_partial_object(tmp_path: Path) -> None:
    complete = os.urandom(3 * MIB + 1)
    with serve(tmp_path) as server:
        s3 = server.client()
        s3.create_bucket(Bucket="bkt")
        etag = s3.put_object(Bucket="bkt", Key="complete", Body=complete)["ETag"]
        total = 16 * MIB
        sock = start_partial_put(server, "bkt", "partial", total, os.urandom(6 * MIB))
        try:
            wait_for_temp_file(tmp_path, 2 * MIB)  # the body is streaming into its temp file
            server.kill()
        finally:
            sock.close()
    assert temp_files(tmp_path), "the kill left the half-written body behind"

    with serve(tmp_path, via_env=True) as server:
        s3 = server.client()
        with pytest.raises(ClientError) as missing:
            s3.head_object(Bucket="bkt", Key="partial")
        assert missing.value.response["Error"]["Code"] == "404"
        got = s3.get_object(Bucket="bkt", Key="complete")
        assert got["ETag"] == etag and got["Body"].read() == complete
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]] == ["complete"]
        assert temp_files(tmp_path) == {}  # removed at start-up


def test_sigkill_mid_put_keeps_the_previous_version_of_the_key(tmp_path: Path) -> None:
    with serve(tmp_path) as server:
        s3 = server.client()
        s3.create_bucket(Bucket="bkt")
        etag = s3.put_object(Bucket="bkt", Key="k", Body=b"old body")["ETag"]
        sock = start_partial_put(server, "bkt", "k", 8 * MIB, os.urandom(4 * MIB))
        try:
            wait_for_temp_file(tmp_path, 2 * MIB)
            server.kill()
        finally:
            sock.close()
    with serve(tmp_path) as server:
        got = server.client().get_object(Bucket="bkt", Key="k")
        assert got["ETag"] == etag and got["Body"].read() == b"old body"


def test_sigkill_after_a_put_was_answered_keeps_it(tmp_path: Path) -> None:
    bodies = {"small": b"tiny", "large": os.urandom(2 * MIB + 3)}
    with serve(tmp_path) as server:
        s3 = server.client()
        s3.create_bucket(Bucket="bkt")
        etags = {k: s3.put_object(Bucket="bkt", Key=k, Body=v)["ETag"] for k, v in bodies.items()}
        upload_id = s3.create_multipart_upload(Bucket="bkt", Key="mpu")["UploadId"]
        part = s3.upload_part(Bucket="bkt", Key="mpu", UploadId=upload_id, PartNumber=1, Body=b"p")
        server.kill()  # right after the answers: no clean shutdown
    with serve(tmp_path) as server:
        s3 = server.client()
        for key, body in bodies.items():
            got = s3.get_object(Bucket="bkt", Key=key)
            assert got["ETag"] == etags[key] and got["Body"].read() == body
        parts = s3.list_parts(Bucket="bkt", Key="mpu", UploadId=upload_id)["Parts"]
        assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, part["ETag"])]
        s3.complete_multipart_upload(Bucket="bkt", Key="mpu", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        assert s3.get_object(Bucket="bkt", Key="mpu")["Body"].read() == b"p"
