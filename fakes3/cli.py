"""``fakes3 serve``: the endpoint for any language and any client."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fakes3", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve S3 on one port until interrupted")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    serve.add_argument("--port", type=int, default=4566, help="port to bind (default 4566)")
    serve.add_argument("--region", default="us-east-1", help="the region (default us-east-1)")
    serve.add_argument("--virtual-host-domain", action="append", dest="domains",
                       metavar="DOMAIN",
                       help="base domain for virtual-host-style addressing, e.g. localhost "
                            "(bucket.localhost:PORT); repeatable; default: localhost")
    serve.add_argument("--log-level", default="WARNING",
                       choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from fakes3.server import FakeAWS

    aws = FakeAWS(host=args.host, port=args.port, region=args.region,
                  virtual_host_domains=args.domains or ["localhost"])
    try:
        aws.start()
    except OSError as exc:
        print(f"fakes3: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    print(f"fakes3 listening on http://{args.host}:{aws.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        aws.serve_forever()
    return 0
