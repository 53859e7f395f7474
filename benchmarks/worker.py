"""One target, one round, in a fresh process: start the target (timing the first successful
request), run the workload, time a second start-up (in-process targets), stop, write JSON.

A fresh process per round keeps the targets apart: moto's mock patches botocore process-wide,
an in-process fake's threads and memory do not outlive its round, and every in-process start-up
is measured the same way (modules imported, nothing else warmed).

    python -m benchmarks.worker --target fakes3 --output result.json [--config '{"objects": 20}']

With ``--gated`` it stops before and after each measurement until a line comes on stdin
(``benchmarks/lockstep.py`` drives the targets of a round so).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks.targets import TARGETS, Target
from benchmarks.workloads import Config, Gate, Runner, no_gate


def stdin_gate(event: str) -> None:
    """Say which gate this is (``@ready NAME``, ``@done NAME``), and wait to be let through."""
    print(f"@{event}", flush=True)
    if not sys.stdin.readline():
        raise SystemExit("the benchmark coordinator went away")


def run(name: str, cfg: Config, log: Any = print, gate: Gate = no_gate) -> dict[str, Any]:
    out: dict[str, Any] = {"target": name}
    with tempfile.TemporaryDirectory(prefix=f"fakes3-bench-{name}-") as work:
        target: Target = TARGETS[name](Path(work))
        try:
            t0 = time.perf_counter()
            target.prepare()
            out["prepare_s"] = round(time.perf_counter() - t0, 3)
            out["startup_ms"] = round(target.start() * 1000, 2)
            log(f"  {name}: first request {out['startup_ms']:.1f} ms after start")
            out["workloads"] = Runner(target, cfg, log, gate).run()
            gate("ready startup.warm")
            warm = target.warm_startup()
            gate("done startup.warm")
            if warm is not None:
                out["startup_warm_ms"] = round(warm * 1000, 2)
        except Exception as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
            out["traceback"] = traceback.format_exc()[-4000:]
            log(f"  {name}: ERROR {out['error']}")
        finally:
            try:
                target.stop()
            except Exception as exc:
                out.setdefault("error", f"stop failed: {type(exc).__name__}: {exc}")
        out["describe"] = target.describe()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run one benchmark target for one round")
    parser.add_argument("--target", required=True, choices=sorted(TARGETS))
    parser.add_argument("--config", default="{}", help="JSON: Config fields to override")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--gated", action="store_true",
                        help="stop before and after each measurement until a line comes on stdin")
    args = parser.parse_args(argv)
    cfg = Config(**json.loads(args.config))
    result = run(args.target, cfg, log=lambda line: print(line, flush=True),
                 gate=stdin_gate if args.gated else no_gate)
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
