"""fakes3 side by side with moto and the floor: throughput, server CPU per request, start-up, memory.

Targets (see ``benchmarks/targets.py``): fakes3 in-process (``FakeAWS``), fakes3 socketless
(``FakeAWS().patch()``), ``fakes3 serve``, ``moto_server``, moto's ``mock_aws``, and the floor (an
empty-200 WSGI app on cheroot, fakes3's HTTP stack). The same boto3 workload
(``benchmarks/workloads.py``) runs against each on 127.0.0.1, each target in a fresh worker
process per round. Within a round the targets run in lock-step (``benchmarks/lockstep.py``): one
workload on every target, one target at a time, then the next workload; rounds rotate the
targets' order by one, so a noisy machine skews them alike. The table quotes medians over rounds,
and ratios are the median of the per-round ratios. Then ``benchmarks/memory.py`` measures
the servers' resident memory while storing 400 MiB and streaming 1 GiB.

    .venv/bin/python -m benchmarks                 # or: make bench  (installs the bench extra)
    .venv/bin/python -m benchmarks --quick --targets fakes3,floor --rounds 1 --no-memory

Writes benchmarks/results/bench.json, bench.md (the table) and bench.png (the chart). Exit status:
0 when every target ran (whether or not fakes3 meets its goals: see "goals" in the JSON, or
``--check-goals``), 2 when a target failed in every round or nothing could run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import lockstep, report
from benchmarks.targets import ORDER, TARGETS, available
from benchmarks.workloads import Config, workloads

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
MEMORY_SECONDS = {"fakes3-server": 60.0, "moto-server": 60.0}  # what to keep back for each


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    versions: dict[str, str] = {}
    from importlib import metadata

    for package in ("fakes3", "boto3", "botocore", "cheroot", "moto", "werkzeug", "urllib3"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu_count": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions,
            "loadavg_at_start": [round(x, 2) for x in load] if load else None}


def run_memory(target: str, timeout: float, output: Path, quiet: bool) -> dict[str, Any]:
    server = {"fakes3-server": "fakes3", "moto-server": "moto"}[target]
    command = [sys.executable, "-m", "benchmarks.memory", "--server", server, "--output", str(output),
               "--timeout", str(int(max(60, timeout - 30)))]
    if server == "moto":
        command.append("--no-multipart")  # moto's multipart phase alone takes ~30 s
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    t0 = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          start_new_session=True, check=False)
    if not quiet:
        print(proc.stdout, end="")
        if proc.returncode == 2:
            print(proc.stderr[-2000:], end="")
    try:
        result: dict[str, Any] = json.loads(output.read_text())
    except (OSError, ValueError):
        result = {"error": f"no results (exit code {proc.returncode}): {proc.stderr[-1000:]}"}
    result["exit_code"] = proc.returncode
    result["benchmark_seconds"] = round(time.perf_counter() - t0, 1)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default=",".join(ORDER),
                        help=f"comma-separated, from {', '.join(ORDER)} [all]")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every target [5]")
    parser.add_argument("--quick", action="store_true", help="a tiny workload (seconds per target)")
    parser.add_argument("--time-limit", type=float, help="seconds per workload, at most [1]")
    parser.add_argument("--budget", type=float, default=540.0,
                        help="seconds for the whole run: later rounds are dropped to fit [540]")
    parser.add_argument("--worker-timeout", type=float, default=240.0,
                        help="seconds a worker may take for one step (its start-up, one workload, "
                             "or the set-up before it) before it is killed [240]")
    parser.add_argument("--memory", default="fakes3-server,moto-server",
                        help="servers to run benchmarks/memory.py against [fakes3-server,moto-server]")
    parser.add_argument("--no-memory", action="store_true", help="skip benchmarks/memory.py")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "bench.json", help="[results/bench.json]")
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    parser.add_argument("--check-goals", action="store_true", help="exit 1 if a goal fails")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    cfg = Config.quick() if args.quick else Config()
    if args.time_limit is not None:
        cfg.time_limit = args.time_limit
    wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in TARGETS]
    if unknown:
        print(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(ORDER)}", file=sys.stderr)
        return 2
    missing = {t: why for t in wanted if (why := available(t))}
    targets = [t for t in ORDER if t in wanted and t not in missing]
    for t, why in missing.items():
        print(f"skipping {t}: {why}", file=sys.stderr)
    if not targets:
        return 2
    memory_targets = [] if args.no_memory else [t.strip() for t in args.memory.split(",")
                                                 if t.strip() in MEMORY_SECONDS and not available(t.strip())]
    reserve = sum(MEMORY_SECONDS[t] for t in memory_targets)
    out: dict[str, Any] = {
        "benchmark": "throughput",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {**dataclasses.asdict(cfg), "rounds": args.rounds, "budget_s": args.budget},
        "targets": {},
        "skipped_targets": missing,
        "notes": [],
    }
    rounds: list[dict[str, Any]] = []
    for r in range(args.rounds):
        elapsed = time.perf_counter() - started
        if rounds:
            per_round = elapsed / len(rounds)
            if elapsed + per_round + reserve > args.budget:
                note = (f"stopped after {len(rounds)} round(s): another (~{per_round:.0f} s) would pass "
                        f"the {args.budget:.0f} s budget")
                out["notes"].append(note)
                print(note, flush=True)
                break
        shift = r % len(targets)
        order = targets[shift:] + targets[:shift]
        if not args.quiet:
            print(f"round {r + 1}/{args.rounds}: {', '.join(order)}", flush=True)
        t0 = time.perf_counter()
        results = lockstep.run_round(order, cfg, args.worker_timeout, args.quiet)
        rounds.append({"round": r + 1, "order": order, "seconds": round(time.perf_counter() - t0, 1),
                       "results": results})
        for name, result in results.items():
            out["targets"].setdefault(name, result.get("describe", {}))
    out["rounds"] = rounds
    summary = report.summarize(rounds, workloads(cfg), targets)
    out["summary"] = summary
    out["goals"] = report.goals(summary, rounds)

    memory: dict[str, Any] = {}
    for target in memory_targets:
        left = args.budget - (time.perf_counter() - started)
        if left < MEMORY_SECONDS[target] * 0.75:
            out["notes"].append(f"memory benchmark of {target} skipped: {left:.0f} s left of the budget")
            continue
        if not args.quiet:
            print(f"memory: {target}", flush=True)
        name = "memory.json" if target == "fakes3-server" else f"memory-{target}.json"
        memory[target] = run_memory(target, min(left, 600), args.output.parent / name, args.quiet)
    out["memory"] = {t: _memory_summary(m) for t, m in memory.items()}
    out["elapsed_s"] = round(time.perf_counter() - started, 1)
    if hasattr(os, "getloadavg"):
        out["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]

    labels = {t: TARGETS[t].label for t in targets}
    head, rows = report.table_rows(summary, targets, memory)
    text = report.render_text(head, rows)
    when = out["date"].replace("T", " ")
    mach = out["machine"]
    load = mach.get("loadavg_at_start")
    title = (f"fakes3 benchmark {when} — {mach['cpu_count']} CPU {mach['cpu']}, Python {mach['python']}"
             f"{f', load {load[0]:.1f}' if load else ''}; medians of {len(rounds)} round(s)")
    out["table"] = {"head": head, "rows": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    legend = "  ".join(f"{report.SHORT[t]} = {labels[t]}" for t in targets)
    methods = "\n".join(f"  {report.SHORT[t]}: {out['targets'].get(t, {}).get('cpu_method') or '?'}"
                        for t in targets)
    explain = ("rates: higher is better; ratios: median of per-round ratios of throughput; "
               "cpu: server CPU µs per request, measured as:\n" + methods)
    markdown = "\n\n".join([f"**{title}**", legend, report.render_markdown(head, rows),
                             "```\n" + explain + "\n```",
                            "Goals:\n\n```\n" + report.render_goals(out["goals"]) + "\n```"])
    args.output.with_suffix(".md").write_text(markdown + "\n")
    if not args.no_chart:
        problem = report.chart(summary, targets, labels, args.output.with_suffix(".png"), title)
        if problem:
            out["notes"].append(problem)
        else:
            out["chart"] = str(args.output.with_suffix(".png"))
    args.output.write_text(json.dumps(out, indent=1) + "\n")

    print()
    print(title)
    print(legend)
    print(text)
    print(explain)
    print("\ngoals (fakes3 serve against moto_server and the floor; socketless against mock_aws):")
    print(report.render_goals(out["goals"]))
    for note in out["notes"]:
        print(f"note: {note}")
    errors = {name: sorted({r["results"][name].get("error", "") for r in rounds
                            if name in r["results"]} - {""}) for name in targets}
    for name, errs in errors.items():
        for err in errs:
            print(f"error: {name}: {err}")
    print(f"\nresults: {args.output} (+ .md{'' if args.no_chart else ', .png'}); {out['elapsed_s']:.0f} s")
    failed_everywhere = [n for n in targets if rounds and all("error" in r["results"].get(n, {"error": 1})
                                                              for r in rounds)]
    if failed_everywhere or not rounds:
        return 2
    if args.check_goals and any(g["passed"] is False for g in out["goals"]):
        return 1
    return 0


def _memory_summary(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("date", "baseline", "phases", "claims", "cleanup", "passed", "error", "exit_code",
            "benchmark_seconds", "peak_method")
    return {k: result[k] for k in keep if k in result}


if __name__ == "__main__":
    sys.exit(main())
