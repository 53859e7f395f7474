"""The benchmark harness runs (a tiny workload, fakes3 in-process and the floor only: no moto
needed) and writes the JSON that `make bench` documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

S3 = ["s3.put_1k", "s3.get_1k", "s3.head_1k", "s3.delete_1k", "s3.put_1k_8t", "s3.get_1k_8t",
      "s3.list_1000", "s3.delete_objects_1000", "s3.put_8m", "s3.get_8m", "s3.multipart_3x5m"]
DYNAMODB = ["ddb.put_item", "ddb.get_item", "ddb.delete_item", "ddb.put_item_cond_fail", "ddb.query_100"]
FLOOR_NA = {"s3.get_8m", "s3.multipart_3x5m", "s3.list_1000", "s3.delete_objects_1000",
            "ddb.put_item_cond_fail", "ddb.query_100"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH"))
                                                      if p))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--targets", "fakes3,floor", "--rounds", "2",
         "--no-memory", "--no-chart", "--quiet", "--output", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    data["_stdout"] = proc.stdout
    data["_md"] = out.with_suffix(".md").read_text()
    return data


def test_the_json_has_the_documented_shape(bench):
    assert {"date", "machine", "config", "targets", "rounds", "summary", "goals", "table",
            "elapsed_s"} <= set(bench)
    assert bench["machine"]["cpu_count"] >= 1
    assert set(bench["targets"]) == {"fakes3", "floor"}
    assert [r["order"] for r in bench["rounds"]] == [["fakes3", "floor"], ["floor", "fakes3"]]  # interleaved
    for r in bench["rounds"]:
        for target in ("fakes3", "floor"):
            assert "error" not in r["results"][target], r["results"][target]
    workloads = bench["summary"]["workloads"]
    assert list(workloads) == ["s3.put_1k", "s3.get_1k", "s3.head_1k", "s3.delete_1k", "s3.put_1k_8t",
                               "s3.get_1k_8t", "s3.list_1000", "s3.delete_objects_1000", "s3.put_8m",
                               "s3.get_8m", "s3.multipart_3x5m", "ddb.put_item", "ddb.get_item",
                               "ddb.delete_item", "ddb.put_item_cond_fail", "ddb.query_100"]
    assert sorted(workloads) == sorted(S3 + DYNAMODB)


def test_targets_run_in_lock_step_one_workload_on_every_target_before_the_next(bench):
    for r in bench["rounds"]:
        runs = [r["results"][target]["workloads"] for target in r["order"]]
        # The workloads every target measured (the floor skips some), in the order they ran.
        names = [n for n in runs[0] if all("started" in w.get(n, {}) for w in runs)]
        assert len(names) >= 8
        for earlier, later in zip(names, names[1:], strict=False):
            assert max(w[earlier]["started"] for w in runs) < min(w[later]["started"] for w in runs)
        for name in names:  # and in the round's order of targets
            starts = [w[name]["started"] for w in runs]
            assert starts == sorted(starts), name


def test_every_workload_has_a_median_rate_and_cpu_per_request(bench):
    for name, entry in bench["summary"]["workloads"].items():
        assert entry["unit"] in ("ops/s", "pages/s", "keys/s", "MiB/s", "queries/s")
        fakes3 = entry["targets"]["fakes3"]
        assert fakes3["median"] > 0 and len(fakes3["samples"]) == 2, name
        assert fakes3["server_cpu_us_per_req"] is not None and fakes3["server_cpu_us_per_req"] >= 0, name
        floor = entry["targets"]["floor"]
        if name in FLOOR_NA:
            assert floor["median"] is None and floor["skipped"], name
        else:
            assert floor["median"] > 0, name
            assert entry["ratios"]["fakes3-server/floor"] is None  # fakes3 serve did not run
    assert bench["rounds"][0]["results"]["fakes3"]["workloads"]["s3.put_1k"]["requests"] >= 1


def test_start_up_and_goals(bench):
    startup = bench["summary"]["startup"]
    assert startup["fakes3"]["median_ms"] > 0 and startup["fakes3"]["warm_median_ms"] > 0
    assert startup["floor"]["median_ms"] > 0 and startup["floor"]["warm_median_ms"] is None
    goals = {g["goal"]: g for g in bench["goals"]}
    assert any("3x moto_server" in g for g in goals)
    # without moto and fakes3 serve the ratios cannot be judged; start-up can
    assert all(g["passed"] is None for g in goals.values() if g["workload"] != "startup")
    assert any(g["passed"] is not None for g in goals.values() if g["workload"] == "startup")


def test_the_table_is_printed_and_written(bench):
    assert "S3 PUT 1 KiB" in bench["_stdout"] and "goals" in bench["_stdout"]
    assert bench["table"]["head"][:4] == ["workload", "unit", "fakes3", "floor"]
    assert bench["_md"].count("\n| S3 ") >= 11


def test_the_chart(bench, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import report

    path = tmp_path / "chart.png"
    assert report.chart(bench["summary"], ["fakes3", "floor"], {}, path, "smoke") is None
    assert path.stat().st_size > 10_000


def test_ceilings_take_fakes3s_server_time_out_or_replace_it_with_the_floors(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ runs from a checkout; it is not installed
    from benchmarks.report import ceiling

    def result(seconds: float, server_cpu_s: float) -> dict:
        return {"workloads": {"s3.get_1k": {"rate": 100 / seconds, "requests": 100,
                                             "seconds": seconds, "server_cpu_s": server_cpu_s}}}

    # per request: fakes3 serve 1.6 ms of which 0.35 ms server CPU; moto 3.8 ms; floor 0.2 ms CPU
    rounds = [{"results": {"fakes3-server": result(0.160, 0.035), "moto-server": result(0.380, 0.25),
                           "floor": result(0.115, 0.020)}}]
    assert ceiling(rounds, "s3.get_1k", "fakes3-server", "moto-server") == round(3.8 / 1.25, 2)
    assert ceiling(rounds, "s3.get_1k", "fakes3-server", "moto-server", stack="floor") == round(3.8 / 1.45, 2)
    assert ceiling(rounds, "s3.list_1000", "fakes3-server", "moto-server") is None
