"""``fakes3 serve``: the endpoint for any language and any client.

Every ``serve`` option defaults from an environment variable (handy in a container); a flag on the
command line wins over its variable.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, NoReturn

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
AUTH_MODES = ("strict", "open")


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


def _auth_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in AUTH_MODES:
        raise ValueError(f"not one of {', '.join(AUTH_MODES)}: {text!r}")
    return mode


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("1", "true", "yes", "0", "false", "no"):
        raise ValueError(f"not a boolean (1/0, true/false, yes/no): {text!r}")
    return lowered in ("1", "true", "yes")


def _profile(text: str) -> str:
    from fakes3.faults.profiles import PROFILES

    name = text.strip()
    if name not in PROFILES:
        raise ValueError(f"not one of {', '.join(PROFILES)}: {text!r}")
    return name


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
    "auth": ("FAKES3_AUTH", _auth_mode, "strict"),
    "credentials_file": ("FAKES3_CREDENTIALS_FILE", _non_empty, None),
    "imds_port": ("FAKES3_IMDS_PORT", _port, None),
    "imds_v2_only": ("FAKES3_IMDS_V2_ONLY", _flag, False),
    "profile": ("FAKES3_PROFILE", _profile, "aws"),
    "faults_file": ("FAKES3_FAULTS", _non_empty, None),
    "control_token": ("FAKES3_CONTROL_TOKEN", _non_empty, None),
    "data_dir": ("FAKES3_DATA_DIR", _non_empty, None),
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
    serve.add_argument("--auth", type=_flag_type(_auth_mode), metavar="{" + ",".join(AUTH_MODES) + "}",
                       help="strict: verify every request's SigV4 signature against the known keys; "
                            "open: accept any key and signature [env FAKES3_AUTH; default strict]")
    serve.add_argument("--access-key", action="append", dest="access_keys", metavar="KEY",
                       type=_flag_type(_non_empty),
                       help="an access key of account 000000000000 besides test/test; give one "
                            "--secret-key per --access-key, in the same order; repeatable [env "
                            "FAKES3_CREDENTIALS: KEY:SECRET[:ACCOUNT_ID],... used when no "
                            "--access-key is given]")
    serve.add_argument("--secret-key", action="append", dest="secret_keys", metavar="SECRET",
                       type=_flag_type(_non_empty), help="the secret of the matching --access-key")
    serve.add_argument("--credentials-file", metavar="FILE", type=_flag_type(_non_empty),
                       help="more keys, as a JSON list of {\"access_key\", \"secret_key\", "
                            "\"account_id\"?, \"session_token\"?, \"expires\"?} "
                            "[env FAKES3_CREDENTIALS_FILE]")
    serve.add_argument("--imds-port", type=_flag_type(_port),
                       help="also serve EC2 instance metadata (IMDSv1/v2) and ECS container "
                            "credentials on this port, 0 for any free port; off when not given "
                            "[env FAKES3_IMDS_PORT]")
    serve.add_argument("--imds-v2-only", action="store_const", const=True,
                       help="refuse IMDSv1 (token-less) requests with 401 [env FAKES3_IMDS_V2_ONLY]")
    serve.add_argument("--profile", type=_flag_type(_profile),
                       help="a named bundle of faults: aws (none), aws-2019 (eventual consistency, "
                            "no conditional writes), s3-compatible-weak (conditions ignored, torn "
                            "PUTs, non-atomic conditional writes) [env FAKES3_PROFILE; default aws]")
    serve.add_argument("--faults", dest="faults_file", metavar="FILE", type=_flag_type(_non_empty),
                       help="fault rules to install at start-up: a JSON rule or list of rules, as "
                            "POST /_fakes3/faults takes [env FAKES3_FAULTS]")
    serve.add_argument("--control-token", type=_flag_type(_non_empty), metavar="TOKEN",
                       help="lets non-loopback clients use /_fakes3/ with the header "
                            "X-Fakes3-Control-Token: TOKEN [env FAKES3_CONTROL_TOKEN]")
    serve.add_argument("--data-dir", metavar="DIR", type=_flag_type(_non_empty),
                       help="keep S3 buckets, objects, versions and multipart uploads in progress, "
                            "and DynamoDB tables and items, in DIR across restarts (crash-safe; one "
                            "server per DIR); without it everything is in memory "
                            "[env FAKES3_DATA_DIR]")
    return parser, serve


def _credentials(args: argparse.Namespace, serve: _Parser) -> list[Any]:
    """Keys from --access-key/--secret-key (or FAKES3_CREDENTIALS) and --credentials-file."""
    from fakes3.auth import Credential, credentials_from_json, credentials_from_text

    keys, secrets = args.access_keys or [], args.secret_keys or []
    if len(keys) != len(secrets):
        serve.error(f"{len(keys)} --access-key but {len(secrets)} --secret-key: give them in pairs")
    try:
        creds = [Credential(key, secret) for key, secret in zip(keys, secrets, strict=True)]
    except ValueError as exc:
        serve.error(f"--access-key: {exc}")
    if not keys and os.environ.get("FAKES3_CREDENTIALS", "").strip():
        try:
            creds = credentials_from_text(os.environ["FAKES3_CREDENTIALS"])
        except ValueError as exc:
            serve.error(f"environment variable FAKES3_CREDENTIALS: {exc}")
    if args.credentials_file:
        try:
            with open(args.credentials_file, encoding="utf-8") as f:
                creds += credentials_from_json(f.read())
        except OSError as exc:
            serve.error(f"--credentials-file {args.credentials_file}: {exc.strerror or exc}")
        except ValueError as exc:
            serve.error(f"--credentials-file {args.credentials_file}: {exc}")
    return creds


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
    args.credentials = _credentials(args, serve)
    return args


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before the worker threads start.

    Each worker thread otherwise gets its own arena, which keeps freed 1 MiB body buffers for
    reuse: a server that has streamed a few GiB through 24 threads would hold tens of MiB it no
    longer uses (see benchmarks/README.md). Only ``fakes3 serve`` does this: it changes the
    allocator of the whole process, which an in-process FakeAWS must not do to its host.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


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
    from fakes3.s3.persistence import DataDirError
    from fakes3.server import FakeAWS

    options: dict[str, Any] = {"auth": args.auth, "credentials": args.credentials,
                               "imds": args.imds_port is not None, "imds_port": args.imds_port or 0,
                               "imds_v2_only": args.imds_v2_only, "profile": args.profile,
                               "control_token": args.control_token}
    if args.data_dir is not None:
        options["data_dir"] = args.data_dir
    limit_malloc_arenas()
    try:
        aws = FakeAWS(host=args.host, port=args.port, region=args.region,
                      virtual_host_domains=args.domains, **options)
    except ValueError as exc:  # conflicting keys
        print(f"fakes3: {exc}", file=sys.stderr)
        return 2
    except DataDirError as exc:
        print(f"fakes3: --data-dir: {exc}", file=sys.stderr)  # the message names the dir
        return 2
    if args.faults_file:
        try:
            with open(args.faults_file, encoding="utf-8") as f:
                aws.faults.add_json(json.load(f))
        except (OSError, ValueError) as exc:
            print(f"fakes3: --faults {args.faults_file}: {exc}", file=sys.stderr)
            return 2
    if args.auth == "open":
        print("fakes3: WARNING: --auth open: any access key and signature is accepted; requests "
              "are not authenticated", file=sys.stderr, flush=True)
    try:
        try:
            aws.start()
        except OSError as exc:
            reason = " ".join(str(exc.strerror or exc).split())
            print(f"fakes3: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
            return 1
        print(f"fakes3 listening on http://{args.host}:{aws.port}", flush=True)
        if aws.metadata_http is not None:
            ecs = " ".join(f"{k}={v}" for k, v in aws.ecs_env.items())
            print(f"fakes3 instance metadata on http://{args.host}:{aws.metadata_http.port} "
                  f"(ECS: {ecs})", file=sys.stderr, flush=True)
        aws.serve_forever()
    except KeyboardInterrupt:
        pass  # a signal may land anywhere in here, even before serve_forever() owns the cleanup
    finally:
        aws.stop()  # idempotent; cheroot's worker threads would otherwise keep the process alive
    return 0
