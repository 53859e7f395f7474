"""``fakes3 serve``: the endpoint for any language and any client.

Every ``serve`` option defaults from an environment variable (handy in a container); a flag on the
command line wins over its variable.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, NoReturn

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class _Parser(argparse.ArgumentParser):
    """Reports a usage error in one line (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port out of range 0-65535: {port}")
    return port


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"not one of {', '.join(LOG_LEVELS)}: {text!r}")
    return level


def _domains(text: str) -> list[str]:
    domains = [d.strip() for d in text.split(",") if d.strip()]
    if not domains:
        raise ValueError(f"no domain in {text!r}")
    return domains


# dest -> (environment variable, parser of its text, default)
_ENV: dict[str, tuple[str, Callable[[str], Any], Any]] = {
    "host": ("FAKES3_HOST", _non_empty, "127.0.0.1"),
    "port": ("FAKES3_PORT", _port, 4566),
    "region": ("FAKES3_REGION", _non_empty, "us-east-1"),
    "domains": ("FAKES3_VIRTUAL_HOST_DOMAINS", _domains, ["localhost"]),
    "log_level": ("FAKES3_LOG_LEVEL", _log_level, "WARNING"),
}


def _flag_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wraps a parser so argparse reports its ValueError message, not just 'invalid value'."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__.lstrip("_")
    return convert


def _parsers() -> tuple[_Parser, _Parser]:
    """The ``fakes3`` parser and its ``serve`` subparser."""
    parser = _Parser(prog="fakes3", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve: _Parser = commands.add_parser(
        "serve", help="serve S3 on one port until interrupted (SIGINT or SIGTERM: exit 0)",
        description="Serve S3 on one port until SIGINT or SIGTERM (then exit 0). Each option "
                    "defaults from the environment variable named in its help; a flag wins.")
    serve.add_argument("--host", type=_flag_type(_non_empty),
                       help="address to bind [env FAKES3_HOST; default 127.0.0.1; "
                            "0.0.0.0 in the container image]")
    serve.add_argument("--port", type=_flag_type(_port),
                       help="port to bind, 0 for any free port [env FAKES3_PORT; default 4566]")
    serve.add_argument("--region", type=_flag_type(_non_empty),
                       help="the region [env FAKES3_REGION; default us-east-1]")
    serve.add_argument("--virtual-host-domain", action="append", dest="domains", metavar="DOMAIN",
                       type=_flag_type(_non_empty),
                       help="base domain for virtual-host-style addressing, e.g. localhost "
                            "(bucket.localhost:PORT); repeatable [env FAKES3_VIRTUAL_HOST_DOMAINS, "
                            "comma-separated; default localhost]")
    serve.add_argument("--log-level", type=_flag_type(_log_level), metavar="{" + ",".join(LOG_LEVELS) + "}",
                       help="logging threshold, to stderr [env FAKES3_LOG_LEVEL; default WARNING]")
    return parser, serve


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser, serve = _parsers()
    args = parser.parse_args(argv)
    for dest, (variable, parse, default) in _ENV.items():
        if getattr(args, dest) is not None:
            continue  # the flag wins
        text = os.environ.get(variable, "")
        if not text:
            setattr(args, dest, default)
            continue
        try:
            setattr(args, dest, parse(text))
        except ValueError as exc:
            serve.error(f"environment variable {variable}: {exc}")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # The first SIGINT or SIGTERM stops the server cleanly; a second one ends the process at once.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Explicit for both: a shell's background job inherits SIGINT ignored, and SIGTERM's default
    # would skip the cleanup. Either one means "stop, exit 0".
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    from fakes3.server import FakeAWS

    aws = FakeAWS(host=args.host, port=args.port, region=args.region, virtual_host_domains=args.domains)
    try:
        try:
            aws.start()
        except OSError as exc:
            reason = " ".join(str(exc.strerror or exc).split())
            print(f"fakes3: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
            return 1
        print(f"fakes3 listening on http://{args.host}:{aws.port}", flush=True)
        aws.serve_forever()
    except KeyboardInterrupt:
        pass  # a signal may land anywhere in here, even before serve_forever() owns the cleanup
    finally:
        aws.stop()  # idempotent; cheroot's worker threads would otherwise keep the process alive
    return 0
