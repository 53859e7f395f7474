"""The targets the throughput benchmark runs the same boto3 workload against, and how each one's
server CPU time is measured.

    fakes3           FakeAWS() in the benchmark's process, over loopback HTTP (cheroot threads)
    fakes3-nosock    FakeAWS().patch(): the socketless path, same process, no HTTP
    fakes3-server    `fakes3 serve`, a separate process
    moto-server      moto's standalone server (`moto_server`), a separate process
    moto             moto's mock_aws() in the benchmark's process, no HTTP
    floor            an empty-200 WSGI app on fakes3's HTTP stack, a separate process

Server CPU time, by kind of target:

* a separate process: its CPU clock (``clock_gettime`` on the process CPU-time clock of its PID,
  nanoseconds; falling back to utime+stime of /proc/PID/stat, 10 ms ticks). Every thread of the
  server process counts, and nothing else does.
* ``fakes3``: the server runs on cheroot's threads inside the benchmark process, so its CPU is the
  process's CPU time (``time.process_time``) minus the CPU time of the client's own threads (each
  measures ``time.thread_time``).
* ``fakes3-nosock`` and ``moto``: the server code runs in the client's thread, so it is the
  ``time.thread_time`` spent inside the code that stands in for the server: fakes3's
  ``fakes3.inprocess.call_app`` (build the WSGI environ, run the app, wrap the response) and moto's
  ``BotocoreStubber.__call__`` (its before-send handler: parse, dispatch, build the response).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class TargetError(Exception):
    """A target could not be started or used."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_config(pool: int = 16) -> Any:
    from botocore.config import Config

    # No retries: a failed request must show, not be hidden (and timed) as a retry.
    return Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=pool,
                  connect_timeout=10, read_timeout=120)


def make_client(service: str, endpoint_url: str | None) -> Any:
    import boto3

    options: dict[str, Any] = {"region_name": REGION, "aws_access_key_id": ACCESS_KEY,
                               "aws_secret_access_key": SECRET_KEY, "config": client_config()}
    if endpoint_url is not None:
        options["endpoint_url"] = endpoint_url
    return boto3.session.Session().client(service, **options)


def wait_first_request(probe: Callable[[], Any], deadline: float, proc: subprocess.Popen[bytes] | None = None,
                       interval: float = 0.002) -> None:
    """Call ``probe`` until it succeeds (the target's first successful request)."""
    last: Exception | None = None
    while time.perf_counter() < deadline:
        try:
            probe()
            return
        except Exception as exc:
            last = exc
        if proc is not None and proc.poll() is not None:
            raise TargetError(f"the server exited with code {proc.returncode} before answering")
        time.sleep(interval)
    raise TargetError(f"no successful request before the deadline; last error: {last}")


# -- CPU clocks -----------------------------------------------------------------------------------


def process_cpu_clock(pid: int) -> int | None:
    """The clock id of another process's CPU-time clock (Linux: MAKE_PROCESS_CPUCLOCK(pid, SCHED)),
    if the kernel lets us read it."""
    clock = ((~pid) << 3) | 2
    try:
        time.clock_gettime_ns(clock)
    except (OSError, OverflowError, AttributeError):
        return None
    return clock


def proc_stat_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class ProcessCpu:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.clock = process_cpu_clock(pid)
        self.method = ("CPU-time clock of the server process (clock_gettime, ns)" if self.clock is not None
                       else "utime+stime of /proc/PID/stat (10 ms ticks)")

    def __call__(self) -> float:
        if self.clock is not None:
            return time.clock_gettime_ns(self.clock) / 1e9
        return proc_stat_cpu(self.pid)


class ThreadCpuCounter:
    """CPU time (``time.thread_time``) spent inside a wrapped function, summed over threads."""

    def __init__(self) -> None:
        self.total = 0.0
        self._lock = threading.Lock()

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                spent = time.thread_time() - t0
                with self._lock:
                    self.total += spent
        timed.__wrapped__ = func  # type: ignore[attr-defined]
        return timed

    def __call__(self) -> float:
        return self.total


class ClientThreads:
    """The CPU time of the benchmark's own client threads (each adds its ``thread_time``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self.total += seconds


CLIENT_THREADS = ClientThreads()


# -- the targets ----------------------------------------------------------------------------------


class Target:
    name = ""
    label = ""
    kind = "process"  # or "in-process"
    services = ("s3", "dynamodb")
    verifies = True  # its responses carry real data (the floor's do not)
    unsupported: frozenset[str] = frozenset()
    cpu_method = ""
    endpoint_url: str | None = None

    def __init__(self, work: Path) -> None:
        self.work = work
        self.server_cpu: Callable[[], float] = lambda: 0.0
        self.clients: dict[str, Any] = {}
        self.startup: dict[str, float] = {}

    def prepare(self) -> None:
        """Imports and client set-up, before the start-up clock runs."""

    def start(self) -> float:
        """Start the target; return seconds until its first successful request."""
        raise NotImplementedError

    def warm_startup(self) -> float | None:
        """In-process targets: start-up of a second instance in the same process."""
        return None

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = make_client(service, self.endpoint_url)
        return self.clients[service]

    def stop(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "cpu_method": self.cpu_method,
                "endpoint_url": self.endpoint_url}


class FakesInProcess(Target):
    name = "fakes3"
    label = "fakes3 (FakeAWS)"
    kind = "in-process"
    cpu_method = ("process CPU time minus the client threads' thread_time: the server runs on "
                  "cheroot worker threads in the client's process (they share its GIL)")

    def prepare(self) -> None:
        from fakes3.server import FakeAWS

        self._cls = FakeAWS
        self.aws: Any = None
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.client("s3")
        self.client("dynamodb")

    def start(self) -> float:
        t0 = time.perf_counter()
        self.aws = self._cls(port=self.port)
        self.aws.start()
        wait_first_request(self.clients["s3"].list_buckets, t0 + 30)
        seconds = time.perf_counter() - t0
        self.server_cpu = lambda: time.process_time() - CLIENT_THREADS.total
        return seconds

    def warm_startup(self) -> float:
        port = free_port()
        probe = make_client("s3", f"http://127.0.0.1:{port}")
        t0 = time.perf_counter()
        aws = self._cls(port=port)
        aws.start()
        try:
            wait_first_request(probe.list_buckets, t0 + 30)
            return time.perf_counter() - t0
        finally:
            aws.stop()

    def stop(self) -> None:
        if self.aws is not None:
            self.aws.stop()
            self.aws = None


class FakesSocketless(Target):
    name = "fakes3-nosock"
    label = "fakes3 patch() (no socket)"
    kind = "in-process"
    cpu_method = ("thread_time inside fakes3.inprocess.call_app (environ, app, response), in the "
                  "client's own thread")

    def prepare(self) -> None:
        import fakes3.inprocess as inprocess
        from fakes3.server import FakeAWS

        self._cls = FakeAWS
        self.counter = ThreadCpuCounter()
        inprocess.call_app = self.counter.wrap(inprocess.call_app)
        self.server_cpu = self.counter
        self.endpoint_url = "http://bench.fakes3.invalid"
        self.patch: Any = None
        self.aws: Any = None
        self.client("s3")
        self.client("dynamodb")

    def start(self) -> float:
        t0 = time.perf_counter()
        self.aws = self._cls()
        self.patch = self.aws.patch(self.endpoint_url).start()
        wait_first_request(self.clients["s3"].list_buckets, t0 + 30)
        return time.perf_counter() - t0

    def warm_startup(self) -> float:
        url = "http://bench-warm.fakes3.invalid"
        probe = make_client("s3", url)
        t0 = time.perf_counter()
        aws = self._cls()
        with aws.patch(url):
            wait_first_request(probe.list_buckets, t0 + 30)
            seconds = time.perf_counter() - t0
        aws.stop()
        return seconds

    def stop(self) -> None:
        if self.patch is not None:
            self.patch.stop()
            self.patch = None
        if self.aws is not None:
            self.aws.stop()
            self.aws = None


class MotoInProcess(Target):
    name = "moto"
    label = "moto mock_aws"
    kind = "in-process"
    cpu_method = "thread_time inside moto's BotocoreStubber.__call__ (its before-send handler)"

    def prepare(self) -> None:
        import moto
        from moto.core.botocore_stubber import BotocoreStubber

        self._mock_aws = moto.mock_aws
        self.counter = ThreadCpuCounter()
        BotocoreStubber.__call__ = self.counter.wrap(BotocoreStubber.__call__)  # type: ignore[method-assign]
        self.server_cpu = self.counter
        self.mock: Any = None
        # After importing moto: its stubber is in botocore's BUILTIN_HANDLERS for new sessions.
        self.client("s3")
        self.client("dynamodb")

    def start(self) -> float:
        t0 = time.perf_counter()
        self.mock = self._mock_aws()
        self.mock.start()
        wait_first_request(self.clients["s3"].list_buckets, t0 + 30)
        return time.perf_counter() - t0

    def warm_startup(self) -> float:
        # mock_aws is process-global: a second one means stop, start again, first request.
        assert self.mock is not None
        self.mock.stop()
        t0 = time.perf_counter()
        self.mock = self._mock_aws()
        self.mock.start()
        wait_first_request(self.clients["s3"].list_buckets, t0 + 30)
        return time.perf_counter() - t0

    def stop(self) -> None:
        if self.mock is not None:
            self.mock.stop()
            self.mock = None


class ServerProcess(Target):
    """A server in a child process on 127.0.0.1 and a port chosen beforehand."""

    kind = "process"

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def prepare(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.work / f"{self.name}.log"
        self.client("s3")
        self.client("dynamodb")

    def start(self) -> float:
        command = self.command(self.port)
        with open(self.log_path, "wb") as log:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env())
        try:
            wait_first_request(self.clients["s3"].list_buckets, t0 + 60, self.proc)
        except TargetError as exc:
            raise TargetError(f"{self.name}: {exc}; log: {self.log_tail()}") from None
        seconds = time.perf_counter() - t0
        cpu = ProcessCpu(self.proc.pid)
        self.server_cpu = cpu
        self.cpu_method = cpu.method
        return seconds

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _script(name: str, module: str) -> list[str]:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", module]


class FakesServer(ServerProcess):
    name = "fakes3-server"
    label = "fakes3 serve"

    def command(self, port: int) -> list[str]:
        return [*_script("fakes3", "fakes3"), "serve", "--host", "127.0.0.1", "--port", str(port)]

    def env(self) -> dict[str, str]:
        tmp = self.work / "fakes3-tmp"
        tmp.mkdir(exist_ok=True)
        return dict(os.environ, FAKES3_LOG_LEVEL="WARNING", TMPDIR=str(tmp))


class MotoServer(ServerProcess):
    name = "moto-server"
    label = "moto_server"

    def prepare(self) -> None:
        import importlib.util

        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
            raise TargetError("moto[server] is not installed (pip install -e '.[bench]')")
        super().prepare()

    def command(self, port: int) -> list[str]:
        return [*_script("moto_server", "moto.server"), "-H", "127.0.0.1", "-p", str(port)]


class Floor(ServerProcess):
    name = "floor"
    label = "floor (empty 200, cheroot)"
    verifies = False
    # Nothing to read back (8 MiB GET, LIST pages, DeleteObjects results, Query items) or nothing to
    # refuse (a multipart upload needs an UploadId, a failing condition needs an error): n/a.
    unsupported = frozenset({"s3.get_8m", "s3.multipart_3x5m", "s3.list_1000", "s3.delete_objects_1000",
                             "ddb.put_item_cond_fail", "ddb.query_100"})

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "benchmarks.floor", "--host", "127.0.0.1", "--port", str(port)]

    def env(self) -> dict[str, str]:
        root = str(Path(__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH", "")
        return dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{path}" if path else root)


TARGETS: dict[str, type[Target]] = {cls.name: cls for cls in (
    FakesInProcess, FakesSocketless, FakesServer, MotoServer, MotoInProcess, Floor)}
ORDER = list(TARGETS)


def needs_moto(name: str) -> bool:
    return name in ("moto", "moto-server")


def available(name: str) -> str | None:
    """None if the target can run here, else why not."""
    import importlib.util

    if needs_moto(name) and importlib.util.find_spec("moto") is None:
        return "moto is not installed (pip install -e '.[bench]')"
    if name == "moto-server" and importlib.util.find_spec("flask") is None:
        return "moto[server] is not installed (pip install -e '.[bench]')"
    return None
