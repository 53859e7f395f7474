"""The floor: an empty-200 WSGI app on the HTTP server fakes3 itself runs on (cheroot, via
``fakes3.http_server.HttpServer``, with ``fakes3 serve``'s 24 worker threads).

It reads and discards the request body (any server has to), then answers ``200 OK`` with
``Content-Length: 0`` and nothing else. Whatever a fake does on top of this costs more, so its
throughput against the same boto3 workload is the ceiling a fake on this stack can reach.

boto3 accepts an empty 200 for the operations the benchmark compares with the floor: PutObject
(1 KiB and 8 MiB), GetObject (an empty body), HeadObject, DeleteObject, and DynamoDB's PutItem,
GetItem and DeleteItem (no ``x-amz-crc32`` header: botocore skips the check). So the floor runs
the very same boto3 calls, and the comparison includes the client's own cost, as a user sees it;
raw HTTP requests would measure a floor no boto3 user can reach. Where an empty answer is not
comparable the benchmark reports n/a: an 8 MiB GET, a 1000-key LIST page, DeleteObjects and a
100-item Query have nothing to read back; a multipart upload needs an UploadId, and a conditional
write that must fail needs an error.

    python -m benchmarks.floor --port 0     # prints "floor listening on http://127.0.0.1:PORT"
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

READ = 1 << 16


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        left = int(length)
        while left > 0:
            data = stream.read(min(READ, left))
            if not data:
                break
            left -= len(data)
    elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        while stream.read(READ):
            pass
    start_response("200 OK", [("Content-Length", "0")])
    return ()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the empty-200 floor server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=24, help="worker threads [24, as fakes3 serve]")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from fakes3.http_server import HttpServer

    server = HttpServer(app, host=args.host, port=args.port, threads=args.threads, server_name="floor")
    try:
        server.start()
        print(f"floor listening on {server.url}", flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
