"""Where fakes3's server time goes on a 1 KiB PUT and GET, without the client in the way.

boto3 builds and signs one PutObject and one GetObject (through the socketless path, which also
creates the bucket and the object); then those exact requests are replayed straight into the WSGI
app (``FakeAWS().app``) ``--requests`` times each: a new environ per request, the body read, the
response iterated, as fakes3's HTTP server would. That is fakes3's whole server-side cost except
cheroot's HTTP parsing and socket I/O (which the floor measures). The same replay into the floor's
empty app gives the cost of the harness itself.

It prints microseconds per request and the top functions by own time and by inclusive time
(cProfile, or pyinstrument's call tree with ``--pyinstrument``).

    .venv/bin/python -m benchmarks.profile_hot_path [--requests 3000] [--op put,get] [--pyinstrument]

For the server process as a whole (cheroot included), sample ``fakes3 serve`` with py-spy while
the benchmark's client runs, e.g. ``py-spy record --format raw -o put.txt --pid PID``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

BUCKET = "profile-bucket"
BODY = b"x" * 1024


def capture(op: str) -> tuple[Any, Any]:
    """A FakeAWS, and one signed request for ``op`` as boto3 sends it."""
    from fakes3.server import FakeAWS

    aws = FakeAWS(imds=False)
    captured: list[Any] = []
    with aws.patch() as fake:
        s3 = fake.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="k", Body=BODY)

        def keep(request: Any, **_: Any) -> None:
            captured.append(request)

        s3.meta.events.register("before-send", keep)
        if op in ("putitem", "getitem", "query"):
            ddb = fake.client("dynamodb")
            ddb.create_table(TableName="profile", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "N"}])
            for i in range(100):
                ddb.put_item(TableName="profile", Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                                        "data": {"S": "x" * 100}})
            ddb.meta.events.register("before-send", keep)
            if op == "putitem":
                ddb.put_item(TableName="profile", Item={"pk": {"S": "p"}, "sk": {"N": "1"},
                                                        "data": {"S": "x" * 100}})
            elif op == "getitem":
                ddb.get_item(TableName="profile", Key={"pk": {"S": "p"}, "sk": {"N": "1"}})
            else:
                ddb.query(TableName="profile", KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}})
        elif op == "put":
            s3.put_object(Bucket=BUCKET, Key="k", Body=BODY)
        elif op == "get":
            s3.get_object(Bucket=BUCKET, Key="k")["Body"].read()
        elif op == "head":
            s3.head_object(Bucket=BUCKET, Key="k")
        else:
            raise SystemExit(f"unknown op {op!r}: put, get, head, putitem, getitem or query")
    return aws, captured[-1]


def replayer(app: Callable[..., Any], request: Any) -> Callable[[], None]:
    from fakes3.inprocess import build_environ

    url = urlsplit(request.url)
    body = request.body
    if hasattr(body, "read"):
        body.seek(0)
        body = body.read()
    request.body = bytes(body or b"")

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if not status.startswith("2"):
            raise RuntimeError(f"replayed request answered {status}")

    def once() -> None:
        environ = build_environ(request, url, 50000)
        result = app(environ, start_response)
        for _ in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()

    return once


def per_request(once: Callable[[], None], n: int) -> float:
    for _ in range(min(200, n)):
        once()
    t0 = time.perf_counter()
    for _ in range(n):
        once()
    return (time.perf_counter() - t0) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--op", default="put,get",
                        help="comma-separated: put, get, head (S3 1 KiB), putitem, getitem, query "
                             "(DynamoDB, 100 items) [put,get]")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--pyinstrument", action="store_true", help="print pyinstrument's call tree too")
    args = parser.parse_args(argv)
    from benchmarks.floor import app as floor_app

    for op in [o.strip() for o in args.op.split(",") if o.strip()]:
        aws, request = capture(op)
        try:
            once = replayer(aws.app, request)
            floor = replayer(floor_app, request)
            us = per_request(once, args.requests)
            us_floor = per_request(floor, args.requests)
            print(f"\n=== {op}: {us:.1f} µs per request in the WSGI app "
                  f"(the empty app: {us_floor:.1f} µs; python {sys.version.split()[0]})")
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                once()
            profiler.disable()
            for key, title in (("tottime", "own time"), ("cumulative", "inclusive time")):
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key)
                stats.print_stats(args.top)
                print(f"--- top {args.top} by {title} (cProfile, {args.requests} requests) ---")
                lines = out.getvalue().splitlines()
                start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
                print("\n".join(lines[start:start + args.top + 1]))
            if args.pyinstrument:
                try:
                    from pyinstrument import Profiler
                except ImportError:
                    print("pyinstrument is not installed (pip install -e '.[bench]')")
                else:
                    tree = Profiler(interval=0.0002)
                    tree.start()
                    for _ in range(args.requests):
                        once()
                    tree.stop()
                    print(tree.output_text(unicode=True, color=False, show_all=False))
        finally:
            aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
