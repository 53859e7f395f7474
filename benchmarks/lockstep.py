"""One round of every target in lock-step: each target's worker process (``benchmarks/worker.py
--gated``) stops before and after each measurement, and this coordinator lets one worker measure
at a time, workload by workload: PUT on every target, then GET on every target, and so on.

A noisy machine changes speed over seconds to minutes; running a whole target's workload (about
20 s) before the next one's let a slow spell land on one target only and skew its ratios. In
lock-step the same workload runs on every target within a few seconds, so a spell skews them
alike. Nothing else runs while a worker measures: the others wait at their gates, and their
untimed set-up (filling a bucket for LIST, say) runs only between measurements.

Workers start one at a time (each start-up is timed alone), and each keeps its target running
for the whole round. The gate protocol, on the worker's stdout and stdin: the worker prints
``@ready NAME`` and waits for a line; measures; prints ``@done NAME`` and waits for a line.
Every other line it prints is its log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.workloads import Config

ROOT = Path(__file__).resolve().parent.parent
GATE = "@"


class Worker:
    """A worker process for one target, driven through its gates."""

    def __init__(self, name: str, cfg: Config, work: Path, timeout: float, quiet: bool) -> None:
        self.name = name
        self.timeout = timeout
        self.output = work / f"{name}.json"
        self.lines: list[str] = []
        self.error: str | None = None
        self._events: queue.Queue[str | None] = queue.Queue()
        self._quiet = quiet
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-m", "benchmarks.worker", "--target", name, "--gated",
                   "--config", json.dumps(dataclasses.asdict(cfg)), "--output", str(self.output)]
        self.started = time.perf_counter()
        # Its own session: a timeout ends the worker and the server it started, and nothing else.
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.PIPE, text=True,
                                     start_new_session=True)
        threading.Thread(target=self._pump, daemon=True, name=f"bench-{name}-out").start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(GATE):
                self._events.put(line[1:].strip())
                continue
            self.lines.append(line)
            if not self._quiet:
                print(line, end="", flush=True)
        self._events.put(None)  # the worker has finished (or died)

    def next_gate(self) -> str | None:
        """The gate the worker stopped at next (None: it finished). A worker that does not get
        there within the timeout is killed."""
        if self.error is not None:
            return None
        try:
            return self._events.get(timeout=self.timeout)
        except queue.Empty:
            self.error = f"timed out after {self.timeout:.0f} s waiting for the worker"
            self.kill()
            return None

    def go(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: next_gate sees the end of its output

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def result(self) -> dict[str, Any]:
        try:
            self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.error = self.error or f"did not exit within {self.timeout:.0f} s"
            self.kill()
            self.proc.wait(timeout=30)
        if self.output.exists():
            result: dict[str, Any] = json.loads(self.output.read_text())
        else:
            result = {"target": self.name,
                      "error": f"the worker wrote no result (exit code {self.proc.returncode})",
                      "output_tail": "".join(self.lines)[-3000:]}
        if self.error is not None:
            result["error"] = self.error
        result["worker_seconds"] = round(time.perf_counter() - self.started, 2)
        return result


def run_round(order: list[str], cfg: Config, timeout: float, quiet: bool) -> dict[str, dict[str, Any]]:
    """Every target in ``order``, in lock-step; each target's result as ``worker.run`` gives it."""
    with tempfile.TemporaryDirectory(prefix="fakes3-bench-") as tmp:
        workers: list[Worker] = []
        waiting: dict[str, str | None] = {}  # target -> the gate it waits at (None: finished)
        try:
            for name in order:  # one start-up at a time: the others wait at their first gate
                worker = Worker(name, cfg, Path(tmp), timeout, quiet)
                workers.append(worker)
                waiting[name] = worker.next_gate()
            while any(gate is not None for gate in waiting.values()):
                # Each worker at a gate passes it in turn: at "ready" it measures while the others
                # wait; at "done" it goes on to its set-up for the next one, while others do too.
                for worker in workers:
                    gate = waiting[worker.name]
                    if gate is not None and gate.startswith("ready"):
                        worker.go()
                        waiting[worker.name] = worker.next_gate()
                for worker in workers:
                    gate = waiting[worker.name]
                    if gate is not None and not gate.startswith("ready"):
                        worker.go()
                for worker in workers:
                    gate = waiting[worker.name]
                    if gate is not None and not gate.startswith("ready"):
                        waiting[worker.name] = worker.next_gate()
            return {worker.name: worker.result() for worker in workers}
        finally:
            for worker in workers:
                if worker.proc.poll() is None:
                    worker.kill()
