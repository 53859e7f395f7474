"""Measure ``fakes3 serve``'s resident memory, to back the "bounded memory" requirement.

Two claims are checked:

1. storing 400 MiB of objects (100 x 4 MiB) raises the server's RSS by less than 64 MiB;
2. a 1 GiB streamed PUT and a 1 GiB streamed GET each keep the server's peak RSS under 150 MiB
   (and a 1 GiB multipart upload too, when the server implements multipart uploads).

The server runs as a subprocess (``fakes3 serve --port 0``) with its own TMPDIR, so its blob files
are easy to count and to check for after it stops. Its memory is read from /proc/PID/status:
VmRSS now, VmHWM for the peak (reset before each phase by writing "5" to /proc/PID/clear_refs),
and a 20 ms VmRSS sampler in case clear_refs is not permitted. Linux only.

Run from the repository root::

    .venv/bin/python -m benchmarks.memory          # or: make bench-memory

It prints a table, writes benchmarks/results/memory.json, and exits 1 if a claim fails (2 if the
benchmark could not run: no /proc, not enough disk, the server did not start, timeout, ...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MiB = 1 << 20
STORE_LIMIT_MIB = 64  # claim 1: RSS growth after storing the objects
PEAK_LIMIT_MIB = 150  # claim 2: peak RSS during a streamed 1 GiB PUT or GET
SAMPLE_INTERVAL = 0.020
BUCKET = "fakes3-bench-memory"
RESULTS = Path(__file__).resolve().parent / "results" / "memory.json"


class BenchError(Exception):
    """The benchmark could not run (as opposed to a claim failing): exit 2."""


# -- the server process ---------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """Memory figures of /proc/PID/status, in bytes (Threads: a count)."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[name] = int(value.split()[0]) * 1024
            elif name == "Threads":
                out[name] = int(value)
    return out


class Server:
    """``fakes3 serve`` on 127.0.0.1 and a free port, with TMPDIR pointing at ``tmp_dir``."""

    name = "fakes3 server"

    def __init__(self, tmp_dir: Path, log_path: Path) -> None:
        self.tmp_dir = tmp_dir
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.command: list[str] = []

    @staticmethod
    def _command() -> list[str]:
        script = shutil.which("fakes3", path=str(Path(sys.executable).parent))
        return [script] if script else [sys.executable, "-m", "fakes3"]

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ, TMPDIR=str(self.tmp_dir), FAKES3_LOG_LEVEL="WARNING")
        self.command = [*self._command(), "serve", "--host", "127.0.0.1", "--port", "0"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=log,
                                         stdin=subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        line = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise BenchError(f"the server did not start within {timeout:.0f} s; see {self.log_path}")
                byte = os.read(self.proc.stdout.fileno(), 1)
                if not byte:
                    raise BenchError(f"the server exited at start (code {self.proc.wait(5)}): "
                                     f"{self.log_path.read_text(errors='replace').strip()[-2000:]}")
                line += byte
        match = re.search(rb"listening on (http://\S+)", line)
        if match is None:
            raise BenchError(f"unexpected first line from the server: {line!r}")
        self.endpoint = match.group(1).decode()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def status(self) -> dict[str, int]:
        return proc_status(self.pid)

    def blob_files(self) -> list[Path]:
        return [p for p in self.tmp_dir.rglob("*") if p.is_file()]

    def terminate(self) -> None:
        """SIGTERM this server (the watchdog's way to end whatever request is in flight)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    def stop(self) -> dict[str, Any]:
        """SIGTERM (the server's clean shutdown), then SIGKILL if it hangs; this PID only."""
        if self.proc is None:
            return {"stopped": False}
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
            clean = True
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(timeout=10)
            clean = False
        if proc.stdout is not None:
            proc.stdout.close()
        return {"stopped": True, "exit_code": code, "exited_on_sigterm": clean}


class MotoServer(Server):
    """moto's standalone server (``moto_server``), for comparison: same phases, same meters.

    It prints nothing machine-readable when ready, so it gets a free port chosen beforehand and is
    polled until it answers. The claims are fakes3's; for moto the figures are what matter."""

    name = "moto_server"

    @staticmethod
    def _command() -> list[str]:
        script = shutil.which("moto_server", path=str(Path(sys.executable).parent))
        return [script] if script else [sys.executable, "-m", "moto.server"]

    def start(self, timeout: float = 30.0) -> None:
        import socket
        import urllib.request

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = dict(os.environ, TMPDIR=str(self.tmp_dir))
        self.command = [*self._command(), "-H", "127.0.0.1", "-p", str(port)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         env=env)
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"moto_server exited at start (code {self.proc.returncode}): "
                                 f"{self.log_path.read_text(errors='replace').strip()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/reset", data=b"", timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        raise BenchError(f"moto_server did not answer within {timeout:.0f} s; see {self.log_path}")


SERVERS: dict[str, type[Server]] = {"fakes3": Server, "moto": MotoServer}


class PeakMeter:
    """The server's peak RSS since the last ``reset``: VmHWM (after clear_refs) and a sampler."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.hwm_resettable = self._clear_refs()
        self._lock = threading.Lock()
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    @property
    def method(self) -> str:
        sampled = f"VmRSS sampled every {SAMPLE_INTERVAL * 1000:.0f} ms"
        return f"max(VmHWM after clear_refs, {sampled})" if self.hwm_resettable else sampled

    def _clear_refs(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
            return True
        except OSError:
            return False

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            try:
                rss = proc_status(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return  # the process is gone
            with self._lock:
                self._peak = max(self._peak, rss)

    def reset(self) -> None:
        if self.hwm_resettable:
            self.hwm_resettable = self._clear_refs()
        with self._lock:
            self._peak = proc_status(self.pid)["VmRSS"]

    def peak(self) -> int:
        now = proc_status(self.pid)
        with self._lock:
            self._peak = max(self._peak, now["VmRSS"])
            sampled = self._peak
        return max(sampled, now["VmHWM"]) if self.hwm_resettable else sampled

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


# -- generated bodies -----------------------------------------------------------------------------

_BLOCK = os.urandom(MiB)
_DOUBLE = _BLOCK + _BLOCK


class GeneratedBody(io.RawIOBase):
    """``size`` bytes made up on the fly (never held whole); seekable, so botocore can checksum it
    and rewind. Different seeds give different bodies."""

    def __init__(self, size: int, seed: int = 0) -> None:
        super().__init__()
        self.size = size
        self._offset = (seed * 7919) % MiB
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def __len__(self) -> int:
        return self.size

    def read(self, size: int | None = -1) -> bytes:
        left = self.size - self._pos
        if left <= 0:
            return b""
        n = left if size is None or size < 0 or size > left else size
        parts = []
        while n > 0:
            start = (self._pos + self._offset) % MiB
            piece = _DOUBLE[start : start + min(n, MiB)]
            parts.append(piece)
            self._pos += len(piece)
            n -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# -- the benchmark --------------------------------------------------------------------------------


def mib(n: int) -> float:
    return round(n / MiB, 1)


def make_client(endpoint: str, request_timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=10, read_timeout=request_timeout,
                    retries={"max_attempts": 1, "mode": "standard"},  # a retried 1 GiB PUT would blur
                    s3={"addressing_style": "path"})
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test", config=config)


def stream_get(s3: Any, key: str) -> tuple[int, str]:
    """GET ``key`` in 1 MiB chunks to /dev/null; returns (bytes, md5 hex)."""
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    md5 = hashlib.md5()
    total = 0
    with open(os.devnull, "wb") as sink:
        for chunk in body.iter_chunks(MiB):
            md5.update(chunk)
            sink.write(chunk)
            total += len(chunk)
    return total, md5.hexdigest()


def multipart_supported(s3: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key="probe/multipart")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NotImplemented", "MethodNotAllowed"):
            return False
        raise
    s3.abort_multipart_upload(Bucket=BUCKET, Key="probe/multipart", UploadId=upload["UploadId"])
    return True


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class Run:
    def __init__(self, server: Server, meter: PeakMeter, baseline: int) -> None:
        self.server = server
        self.meter = meter
        self.baseline = baseline
        self.phases: list[dict[str, Any]] = []

    def phase(self, name: str, nbytes: int, action: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        print(f"  {name} ({mib(nbytes):.0f} MiB) ...", flush=True)
        self.meter.reset()
        t0 = time.perf_counter()
        extra = action() or {}
        seconds = time.perf_counter() - t0
        peak = self.meter.peak()
        time.sleep(0.5)  # let freed memory settle before reading the resting RSS
        status = self.server.status()
        result = {
            "phase": name,
            "bytes": nbytes,
            "seconds": round(seconds, 3),
            "mib_per_s": round(nbytes / MiB / seconds, 1) if seconds > 0 else None,
            "peak_rss_mib": mib(peak),
            "rss_after_mib": mib(status["VmRSS"]),
            "rss_anon_after_mib": mib(status.get("RssAnon", 0)),
            "rss_growth_mib": mib(status["VmRSS"] - self.baseline),
            "threads_after": status.get("Threads"),
            **extra,
        }
        self.phases.append(result)
        return result


def benchmark(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    s3 = make_client(server.endpoint, args.request_timeout)
    store_bytes = args.objects * args.object_mib * MiB
    big = args.big_mib * MiB

    # Warm up every code path the phases use (imports, the spill-to-file path, cheroot's threads).
    s3.create_bucket(Bucket=BUCKET)
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"warm/{i}", Body=b"x" * 1024)
        s3.head_object(Bucket=BUCKET, Key=f"warm/{i}")
        s3.get_object(Bucket=BUCKET, Key=f"warm/{i}")["Body"].read()
    s3.put_object(Bucket=BUCKET, Key="warm/spilled", Body=GeneratedBody(2 * MiB, seed=99))
    stream_get(s3, "warm/spilled")
    s3.list_objects_v2(Bucket=BUCKET)
    s3.delete_object(Bucket=BUCKET, Key="warm/spilled")
    time.sleep(1.0)
    meter = PeakMeter(server.pid)
    try:
        base = server.status()
        print(f"  baseline RSS {mib(base['VmRSS'])} MiB (peak method: {meter.method})", flush=True)
        run = Run(server, meter, base["VmRSS"])

        def store() -> dict[str, Any]:
            for i in range(args.objects):
                s3.put_object(Bucket=BUCKET, Key=f"store/{i:04d}",
                              Body=GeneratedBody(args.object_mib * MiB, seed=i))
            files = server.blob_files()
            return {"objects": args.objects, "blob_files": len(files),
                    "blob_files_mib": mib(sum(f.stat().st_size for f in files))}

        stored = run.phase(f"store {args.objects} x {args.object_mib} MiB", store_bytes, store)

        etags: dict[str, str] = {}

        def put_big() -> dict[str, Any]:
            etags["big/put"] = s3.put_object(Bucket=BUCKET, Key="big/put",
                                             Body=GeneratedBody(big, seed=12345))["ETag"].strip('"')
            return {}

        def get_of(key: str) -> Callable[[], dict[str, Any]]:
            def get() -> dict[str, Any]:
                size, digest = stream_get(s3, key)
                if size != big:
                    raise BenchError(f"GET {key} returned {size} bytes, expected {big}")
                single = "-" not in etags[key]
                if single and digest != etags[key]:
                    raise BenchError(f"GET {key}: MD5 {digest} does not match the ETag {etags[key]}")
                return {"md5_verified": single}
            return get

        streamed = [run.phase("PUT 1 object (put_object, streamed)", big, put_big),
                    run.phase("GET it (1 MiB chunks)", big, get_of("big/put"))]
        s3.delete_object(Bucket=BUCKET, Key="big/put")

        multipart: dict[str, Any] = {"supported": multipart_supported(s3)}
        need = 2 * big + 256 * MiB  # the parts, plus the object if completing copies them
        if not multipart["supported"]:
            print("  multipart uploads are not implemented by this server: upload_fileobj skipped")
        elif args.no_multipart:
            multipart["skipped"] = "--no-multipart"
        elif free_bytes(server.tmp_dir) < need:
            multipart["skipped"] = (f"not enough disk under {server.tmp_dir}: "
                                    f"{mib(free_bytes(server.tmp_dir))} MiB free, {mib(need)} needed")
            print(f"  multipart skipped: {multipart['skipped']}")
        else:
            from boto3.s3.transfer import TransferConfig

            # boto3's defaults (8 MiB parts, 10 threads) unless told otherwise: what users get.
            config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=args.part_mib * MiB,
                                    max_concurrency=args.concurrency, use_threads=True)

            def upload() -> dict[str, Any]:
                s3.upload_fileobj(GeneratedBody(big, seed=54321), BUCKET, "big/multipart", Config=config)
                etags["big/multipart"] = s3.head_object(Bucket=BUCKET, Key="big/multipart")["ETag"].strip('"')
                return {"part_mib": args.part_mib, "concurrency": args.concurrency}

            streamed.append(run.phase("PUT 1 object (upload_fileobj, multipart)", big, upload))
            streamed.append(run.phase("GET it (1 MiB chunks)", big, get_of("big/multipart")))
            s3.delete_object(Bucket=BUCKET, Key="big/multipart")

        claims = {
            "store_growth": {
                "claim": f"storing {mib(store_bytes):.0f} MiB raises RSS by < {STORE_LIMIT_MIB} MiB",
                "value_mib": stored["rss_growth_mib"], "limit_mib": STORE_LIMIT_MIB,
                "passed": stored["rss_growth_mib"] < STORE_LIMIT_MIB,
            },
            "streamed_peak": {
                "claim": f"a streamed {mib(big):.0f} MiB PUT and GET keep peak RSS < {PEAK_LIMIT_MIB} MiB",
                "value_mib": max(p["peak_rss_mib"] for p in streamed), "limit_mib": PEAK_LIMIT_MIB,
                "passed": all(p["peak_rss_mib"] < PEAK_LIMIT_MIB for p in streamed),
            },
        }
        return {
            "baseline": {"rss_mib": mib(base["VmRSS"]), "rss_anon_mib": mib(base.get("RssAnon", 0)),
                         "rss_file_mib": mib(base.get("RssFile", 0)), "threads": base.get("Threads")},
            "peak_method": meter.method,
            "phases": run.phases,
            "multipart": multipart,
            "claims": claims,
        }
    finally:
        meter.close()


def print_table(result: dict[str, Any]) -> None:
    print()
    name = result.get("server", {}).get("name", "fakes3 server")
    print(f"{name} memory — baseline RSS {result['baseline']['rss_mib']} MiB; "
          f"peak = {result['peak_method']}")
    header = f"{'phase':<42} {'MiB':>6} {'s':>7} {'MiB/s':>7} {'peak RSS':>9} {'RSS after':>10} {'growth':>7}"
    print(header)
    print("-" * len(header))
    for p in result["phases"]:
        rate = "-" if p["mib_per_s"] is None else f"{p['mib_per_s']:.0f}"
        print(f"{p['phase']:<42} {p['bytes'] / MiB:>6.0f} {p['seconds']:>7.2f} {rate:>7} "
              f"{p['peak_rss_mib']:>9.1f} {p['rss_after_mib']:>10.1f} {p['rss_growth_mib']:>+7.1f}")
    print()
    for claim in result["claims"].values():
        verdict = "PASS" if claim["passed"] else "FAIL"
        print(f"  {verdict}  {claim['claim']}: {claim['value_mib']} MiB (limit {claim['limit_mib']} MiB)")
    cleanup = result.get("cleanup", {})
    if cleanup:
        verdict = "PASS" if cleanup.get("passed") else "FAIL"
        print(f"  {verdict}  blob files removed when the server stopped on SIGTERM: "
              f"{cleanup.get('files_left')} left, exit code {cleanup.get('exit_code')}")


def machine() -> dict[str, Any]:
    libc, libc_version = platform.libc_ver()
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "implementation": platform.python_implementation(),
            "libc": f"{libc} {libc_version}".strip(),
            # glibc's allocator settings change the figures a lot (see benchmarks/README.md)
            "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}}


class Watchdog:
    """Bounds the whole run from a thread (an exception raised into the main thread from a signal
    handler would be swallowed by botocore): at ``seconds`` it stops the server, which makes the
    request in flight fail at once; if the main thread is still stuck ``grace`` seconds later, it
    kills the server and ends this process."""

    def __init__(self, seconds: float, server: Server, work: Path, grace: float = 60) -> None:
        self.seconds = seconds
        self.fired = threading.Event()
        self._done = threading.Event()
        self._server = server
        self._work = work
        self._grace = grace
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _run(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.fired.set()
        print(f"\nmemory benchmark: overall timeout ({self.seconds:.0f} s): stopping the server",
              file=sys.stderr, flush=True)
        self._server.terminate()
        if self._done.wait(self._grace):
            return
        proc = self._server.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        shutil.rmtree(self._work, ignore_errors=True)
        os._exit(2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100, help="objects to store [100]")
    parser.add_argument("--object-mib", type=int, default=4, help="size of each stored object [4]")
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the streamed object [1024]")
    parser.add_argument("--timeout", type=float, default=600, help="overall timeout, seconds [600]")
    parser.add_argument("--request-timeout", type=float, default=120,
                        help="socket read timeout of each request, seconds [120]")
    parser.add_argument("--no-multipart", action="store_true", help="skip the upload_fileobj phase")
    parser.add_argument("--part-mib", type=int, default=8, help="upload_fileobj part size [8, boto3's]")
    parser.add_argument("--concurrency", type=int, default=10,
                        help="upload_fileobj threads [10, boto3's]")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results [{RESULTS}]")
    parser.add_argument("--server", choices=sorted(SERVERS), default="fakes3",
                        help="fakes3 serve, or moto_server for comparison [fakes3]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("memory benchmark: needs Linux /proc to read the server's RSS", file=sys.stderr)
        return 2
    tmp_root = Path(tempfile.gettempdir())
    need = (args.objects * args.object_mib + args.big_mib) * MiB + 256 * MiB
    free = free_bytes(tmp_root)
    if free < need:
        print(f"memory benchmark: not enough disk under {tmp_root}: {mib(free)} MiB free, "
              f"{mib(need)} MiB needed (the server spills object bodies to files there; "
              "set TMPDIR to a roomier place)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="fakes3-bench-memory-"))
    server = SERVERS[args.server](work / "tmp", work / "server.log")
    server.tmp_dir.mkdir()
    report: dict[str, Any] = {
        "benchmark": "memory",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {"objects": args.objects, "object_mib": args.object_mib, "big_mib": args.big_mib,
                   "part_mib": args.part_mib, "concurrency": args.concurrency,
                   "store_limit_mib": STORE_LIMIT_MIB, "peak_limit_mib": PEAK_LIMIT_MIB,
                   "tmp_dir": str(tmp_root), "disk_free_mib": mib(free)},
    }
    error: str | None = None
    watchdog = Watchdog(args.timeout, server, work)
    try:
        with watchdog:
            server.start()
            report["server"] = {"name": server.name, "command": " ".join(server.command), "pid": server.pid,
                                "endpoint": server.endpoint}
            print(f"{server.name} pid {server.pid} at {server.endpoint}", flush=True)
            report.update(benchmark(args, server))
    except BenchError as exc:
        error = str(exc)
    except Exception as exc:  # a failed request: report it, still stop the server and clean up
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if watchdog.fired.is_set():
            error = f"timed out after {args.timeout:.0f} s (--timeout); last error: {error}"
        stop = server.stop()
        if stop.get("stopped"):
            left = [str(p) for p in server.blob_files()]
            report["cleanup"] = {**stop, "files_left": len(left), "paths_left": left[:20],
                                 "passed": not left and stop.get("exited_on_sigterm", False)}
        log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        if log.strip():
            report["server_log_tail"] = log[-4000:]
        shutil.rmtree(work, ignore_errors=True)

    if error is not None:
        report["error"] = error
    passed = error is None and all(c["passed"] for c in report.get("claims", {}).values()) \
        and report.get("cleanup", {}).get("passed", False)
    report["passed"] = passed
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    if "phases" in report:
        print_table(report)
    if error is not None:
        print(f"\nmemory benchmark could not finish: {error}", file=sys.stderr)
        if report.get("server_log_tail"):
            print(report["server_log_tail"], file=sys.stderr)
    print(f"\nresults: {args.output}")
    if error is not None:
        return 2
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
