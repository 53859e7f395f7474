"""Summaries of the rounds: medians, ratios, the goals the issue sets, the table, the chart."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks.targets import ORDER

SHORT = {"fakes3": "fakes3", "fakes3-nosock": "nosock", "fakes3-server": "f3-serve",
         "moto-server": "moto-srv", "moto": "moto-mock", "floor": "floor"}

# (name, numerator target, denominator target): ratios of throughput, per round, then the median
RATIOS = [
    ("fakes3-server/moto-server", "fakes3-server", "moto-server"),
    ("fakes3-server/floor", "fakes3-server", "floor"),
    ("fakes3-nosock/moto", "fakes3-nosock", "moto"),
    ("fakes3/moto-server", "fakes3", "moto-server"),
]
RATIO_HEAD = {"fakes3-server/moto-server": "serve/msrv", "fakes3-server/floor": "serve/floor",
              "fakes3-nosock/moto": "nosock/mock"}


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rounds: list[dict[str, Any]], workload_specs: list[Any], targets: list[str]) -> dict[str, Any]:
    """Medians over rounds of every figure, and the median of the per-round ratios."""
    workloads: dict[str, Any] = {}
    for spec in workload_specs:
        entry: dict[str, Any] = {"title": spec.title, "unit": spec.unit, "targets": {}, "ratios": {},
                                 "cpu_ratios": {}}
        for target in targets:
            samples = [r["results"].get(target, {}).get("workloads", {}).get(spec.name, {}) for r in rounds]
            rates = [s.get("rate") for s in samples if s.get("rate") is not None]
            cpu = [s.get("server_cpu_us_per_req") for s in samples if s.get("rate") is not None]
            client = [s.get("client_cpu_us_per_req") for s in samples if s.get("rate") is not None]
            errors = sorted({s["error"] for s in samples if s.get("error")})
            skipped = sorted({s["skipped"] for s in samples if s.get("skipped")})
            entry["targets"][target] = {
                "median": _round(median(rates)), "samples": rates,
                "server_cpu_us_per_req": _round(median(cpu)),
                "client_cpu_us_per_req": _round(median(client)),
                "capped": any(s.get("capped") for s in samples),
                **({"errors": errors} if errors else {}), **({"skipped": skipped[0]} if skipped else {}),
            }
        for name, num, den in RATIOS:
            per_round = []
            cpu_round = []
            for r in rounds:
                a = r["results"].get(num, {}).get("workloads", {}).get(spec.name, {})
                b = r["results"].get(den, {}).get("workloads", {}).get(spec.name, {})
                if a.get("rate") and b.get("rate"):
                    per_round.append(a["rate"] / b["rate"])
                    if a.get("server_cpu_us_per_req") and b.get("server_cpu_us_per_req"):
                        cpu_round.append(a["server_cpu_us_per_req"] / b["server_cpu_us_per_req"])
            entry["ratios"][name] = _round(median(per_round), 3)
            entry["cpu_ratios"][name] = _round(median(cpu_round), 3)
        workloads[spec.name] = entry
    startup: dict[str, Any] = {}
    for target in targets:
        cold = [r["results"].get(target, {}).get("startup_ms") for r in rounds]
        warm = [r["results"].get(target, {}).get("startup_warm_ms") for r in rounds]
        startup[target] = {"median_ms": _round(median([c for c in cold if c is not None])),
                           "samples_ms": [c for c in cold if c is not None],
                           "warm_median_ms": _round(median([w for w in warm if w is not None])),
                           "warm_samples_ms": [w for w in warm if w is not None]}
    return {"workloads": workloads, "startup": startup}


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _workload(result: dict[str, Any], target: str, workload: str) -> dict[str, Any]:
    w: dict[str, Any] = result["results"].get(target, {}).get("workloads", {}).get(workload, {})
    return w if w.get("rate") and w.get("requests") else {}


def ceiling(rounds: list[dict[str, Any]], workload: str, num: str, den: str,
            stack: str | None = None) -> float | None:
    """The throughput ratio ``num``/``den`` if ``num``'s server cost less: per round, den's time per
    request over num's with num's server CPU per request taken out (``stack=None``: a server that
    costs nothing) or replaced by ``stack``'s (the floor: an app that costs nothing on top of the
    same HTTP stack). For sequential requests (the server's time is on the critical path), it tells
    whether a goal can be reached by making the server faster, or whether the client's own cost
    rules it out."""
    values = []
    for r in rounds:
        a, b = _workload(r, num, workload), _workload(r, den, workload)
        floor = _workload(r, stack, workload) if stack else {}
        if not (a and b) or (stack and not floor):
            continue
        own = (a["seconds"] - a["server_cpu_s"]) / a["requests"]
        if floor:
            own += floor["server_cpu_s"] / floor["requests"]
        if own > 0:
            values.append((b["seconds"] / b["requests"]) / own)
    return _round(median(values), 2)


def goals(summary: dict[str, Any], rounds: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The targets the issue sets fakes3, each with its value and whether it holds."""
    w = summary["workloads"]
    out: list[dict[str, Any]] = []

    def ratio(goal: str, workload: str, name: str, threshold: float, *, cpu: bool = False) -> None:
        if workload not in w:
            return
        value = w[workload]["cpu_ratios" if cpu else "ratios"].get(name)
        passed = None if value is None else (value <= threshold if cpu else value >= threshold)
        item = {"goal": goal, "workload": workload, "ratio": name, "value": value,
                "threshold": threshold, "comparison": "<=" if cpu else ">=", "passed": passed}
        if not cpu and rounds:
            num, den = name.split("/")
            item["ceiling_if_server_free"] = ceiling(rounds, workload, num, den)
            if num == "fakes3-server":  # the floor is the empty app on fakes3 serve's HTTP stack
                item["ceiling_if_app_free"] = ceiling(rounds, workload, num, den, stack="floor")
        out.append(item)

    for op in ("put", "get", "head"):
        name = f"s3.{op}_1k"
        ratio(f"S3 1 KiB {op.upper()} >= 3x moto_server", name, "fakes3-server/moto-server", 3.0)
        ratio(f"S3 1 KiB {op.upper()} >= 0.8x the floor", name, "fakes3-server/floor", 0.8)
        ratio(f"S3 1 KiB {op.upper()}: server CPU per request <= 1.5x the floor's", name,
              "fakes3-server/floor", 1.5, cpu=True)
    ratio("S3 LIST of a 1000-key page >= 2x moto_server", "s3.list_1000", "fakes3-server/moto-server", 2.0)
    ratio("S3 8 MiB GET >= 2x moto_server MiB/s", "s3.get_8m", "fakes3-server/moto-server", 2.0)
    ratio("DynamoDB PutItem >= 3x moto_server", "ddb.put_item", "fakes3-server/moto-server", 3.0)
    ratio("DynamoDB GetItem >= 3x moto_server", "ddb.get_item", "fakes3-server/moto-server", 3.0)
    ratio("DynamoDB Query of 100 items >= 10x moto_server", "ddb.query_100", "fakes3-server/moto-server",
          10.0)
    for name in ("s3.put_1k", "s3.get_1k", "s3.head_1k", "s3.delete_1k", "ddb.put_item", "ddb.get_item",
                 "ddb.query_100"):
        if name in w:
            ratio(f"socketless {w[name]['title']} >= 1.5x moto mock_aws", name, "fakes3-nosock/moto", 1.5)
    start = summary["startup"].get("fakes3", {}).get("median_ms")
    out.append({"goal": "in-process start-up < 50 ms to the first request (new FakeAWS().start(), "
                "first request; modules imported)", "workload": "startup", "value": start,
                "threshold": 50.0, "comparison": "<", "passed": None if start is None else start < 50.0})
    warm = summary["startup"].get("fakes3", {}).get("warm_median_ms")
    out.append({"goal": "in-process start-up < 50 ms, a 2nd FakeAWS in the same process (a fixture per test)",
                "workload": "startup", "value": warm, "threshold": 50.0, "comparison": "<",
                "passed": None if warm is None else warm < 50.0})
    nosock = summary["startup"].get("fakes3-nosock", {}).get("median_ms")
    out.append({"goal": "socketless start-up < 50 ms to the first request (new FakeAWS().patch())",
                "workload": "startup", "value": nosock, "threshold": 50.0, "comparison": "<",
                "passed": None if nosock is None else nosock < 50.0})
    return out


def _fmt(value: float | None, width: int) -> str:
    if value is None:
        return f"{'-':>{width}}"
    if value >= 1000:
        return f"{value:>{width}.0f}"
    if value >= 100:
        return f"{value:>{width}.0f}"
    if value >= 10:
        return f"{value:>{width}.1f}"
    return f"{value:>{width}.2f}"


def table_rows(summary: dict[str, Any], targets: list[str], memory: dict[str, Any] | None) -> tuple[
        list[str], list[list[str]]]:
    ratio_names = [n for n in RATIO_HEAD if all(t in targets for t in n.split("/"))]
    head = ["workload", "unit", *[SHORT[t] for t in targets], *[RATIO_HEAD[n] for n in ratio_names],
            *[f"cpu {SHORT[t]}" for t in targets]]
    rows: list[list[str]] = []
    for entry in summary["workloads"].values():
        cells = [entry["title"], entry["unit"]]
        for t in targets:
            cells.append(_fmt(entry["targets"][t]["median"], 0).strip())
        for n in ratio_names:
            value = entry["ratios"].get(n)
            cells.append("-" if value is None else f"{value:.2f}x")
        for t in targets:
            cells.append(_fmt(entry["targets"][t]["server_cpu_us_per_req"], 0).strip())
        rows.append(cells)
    for key, title in (("median_ms", "start-up, first request"),
                       ("warm_median_ms", "start-up, 2nd instance")):
        cells = [title, "ms"]
        for t in targets:
            cells.append(_fmt(summary["startup"][t][key], 0).strip())
        cells += ["" for _ in ratio_names] + ["" for _ in targets]
        rows.append(cells)
    if memory:
        for label, value in memory_rows(memory):
            cells = [label, "MiB"]
            for t in targets:
                cells.append(value.get(t, "-"))
            cells += ["" for _ in ratio_names] + ["" for _ in targets]
            rows.append(cells)
    return head, rows


def memory_rows(memory: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """Rows from benchmarks/memory.py results, keyed by target name."""
    rows: dict[str, dict[str, str]] = {}
    for target, result in memory.items():
        if not isinstance(result, dict) or "phases" not in result:
            continue
        phases = result["phases"]
        base = result.get("baseline", {}).get("rss_mib")
        store = next((p for p in phases if p["phase"].startswith("store")), None)
        streamed = [p for p in phases if not p["phase"].startswith("store")]
        if store is not None:
            growth = f"+{store['rss_growth_mib']:.0f}"
            rows.setdefault("RSS growth after storing 400 MiB", {})[target] = growth
        if streamed:
            peak = max(p["peak_rss_mib"] for p in streamed)
            rows.setdefault("peak RSS, 1 GiB streamed PUT+GET", {})[target] = f"{peak:.0f}"
        if base is not None:
            rows.setdefault("RSS at rest (baseline)", {})[target] = f"{base:.0f}"
    return list(rows.items())


def render_text(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    lines = ["  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i]) for i, h in enumerate(head))]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(lines)


def render_markdown(head: list[str], rows: list[list[str]]) -> str:
    rule = "|" + "|".join(["---", "---"] + ["---:"] * (len(head) - 2)) + "|"
    lines = ["| " + " | ".join(head) + " |", rule]
    lines += ["| " + " | ".join(c or " " for c in r) + " |" for r in rows]
    return "\n".join(lines)


def render_goals(items: list[dict[str, Any]]) -> str:
    lines = []
    for g in items:
        verdict = {True: "HOLDS", False: "FAILS", None: "n/a  "}[g["passed"]]
        value = g["value"]
        startup = g["workload"] == "startup"
        shown = "-" if value is None else (f"{value:.1f} ms" if startup else f"{value:.2f}x")
        top, app_free = g.get("ceiling_if_server_free"), g.get("ceiling_if_app_free")
        lines.append(f"  {verdict}  {g['goal']}: {shown} (needs {g['comparison']} "
                     f"{g['threshold']:g}{' ms' if startup else 'x'}"
                     f"{f'; {app_free:.2f}x if the app cost nothing' if app_free else ''}"
                     f"{f'; {top:.2f}x if the server cost nothing' if top else ''})")
    return "\n".join(lines)


def chart(summary: dict[str, Any], targets: list[str], labels: dict[str, str], path: Path,
          title: str) -> str | None:
    """Small multiples: one bar chart per workload (and start-up), bars per target."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no chart"
    panels = [(e["title"], e["unit"], [e["targets"][t]["median"] for t in targets])
              for e in summary["workloads"].values()]
    panels.append(("start-up to first request (lower is better)", "ms",
                   [summary["startup"][t]["median_ms"] for t in targets]))
    cols = 4
    nrows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 2.6 * nrows + 0.8), squeeze=False)
    colors = {"fakes3": "#1f77b4", "fakes3-nosock": "#17becf", "fakes3-server": "#2ca02c",
              "moto-server": "#d62728", "moto": "#ff7f0e", "floor": "#7f7f7f"}
    for ax, (name, unit, values) in zip(axes.flat, panels, strict=False):
        xs = list(range(len(targets)))
        heights = [v or 0 for v in values]
        bars = ax.bar(xs, heights, color=[colors.get(t, "#999999") for t in targets])
        for bar, value in zip(bars, values, strict=True):
            ax.annotate("n/a" if value is None else _fmt(value, 0).strip(),
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
        ax.set_xticks(xs)
        ax.set_xticklabels([SHORT[t] for t in targets], fontsize=7, rotation=30)
        ax.tick_params(axis="y", labelsize=7)
        ax.margins(y=0.18)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors.get(t, "#999999")) for t in targets]
    fig.legend(handles, [labels.get(t, t) for t in targets], loc="lower center", ncol=len(targets),
               fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


__all__ = ["ORDER", "chart", "goals", "render_goals", "render_markdown", "render_text", "summarize",
           "table_rows"]
