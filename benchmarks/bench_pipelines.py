"""Pipelines benchmarks (issue 4), each a ratio or a bound measured in one run.

1. 10 trivial notebooks in sequence: MLP's engine (pre-started kernels) vs the
   ``papermill`` CLI in a loop. Goal: per-notebook time <= 0.5x papermill's.
2. Unchanged pipeline re-run: every node skipped. Goal: whole run <= 1 s.
3. Scheduler: N schedules firing every minute for M minutes with a no-op executor.
   Goal: p99 lateness of run creation <= 1 s, 0 duplicates, 0 missing.
4. A 10-node DAG of width 3 on 2 cores: wall time vs the sum of node times.

    .venv/bin/python benchmarks/bench_pipelines.py [--schedules 1000 --minutes 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from mlp.service.db import session_factory, utcnow  # noqa: E402
from pipelines_as_notebooks.engine import Engine  # noqa: E402
from pipelines_as_notebooks.executors import Executor, Outcome, RunSpec  # noqa: E402
from pipelines_as_notebooks.store import Run  # noqa: E402
from tests.pipelines_helpers import KERNEL, drive, write_notebook  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def bench_sequence(tmp: Path, n: int) -> dict:
    root = tmp / "users" / "bench"
    nb = write_notebook(root / "trivial.ipynb", "x = 1", "y = x + 1")
    # papermill CLI: a new process and a new kernel per notebook, as users script it today.
    pm = []
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("papermill")), str(nb), str(tmp / f"pm{i}.ipynb"),
             "-p", "x", str(i), "-k", KERNEL, "--no-progress-bar"],
            check=True, capture_output=True,
        )  # fmt: skip
        pm.append(time.perf_counter() - t0)
    engine = Engine(session_factory(f"sqlite:///{tmp / 'seq.sqlite'}"))
    engine.executor.pool.fill(KERNEL)  # the service keeps kernels warm between runs
    time.sleep(3)
    ours = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            run = engine.submit_notebook("bench", "trivial.ipynb", {"x": i}, kernel=KERNEL)
            done = drive(engine, "bench", run["id"], 300, interval=0.02)
            assert done["status"] == "succeeded", done
            ours.append(time.perf_counter() - t0)
            time.sleep(1.5)  # a gap between runs, as between scheduled runs: the pool refills
    finally:
        engine.shutdown()
    return {
        "n": n,
        "papermill_mean_s": statistics.mean(pm),
        "ours_mean_s": statistics.mean(ours),
        "ratio": statistics.mean(ours) / statistics.mean(pm),
        "goal": "<= 0.5",
    }


PIPE = """name: wide
concurrency: {conc}
nodes:
{nodes}
"""


def make_dag(root: Path, width: int, depth: int) -> Path:
    """Layers of ``width`` nodes; each node needs every node of the previous layer."""
    lines = []
    count = 0
    prev: list[str] = []
    while count < 10:
        layer = []
        for _ in range(min(width, 10 - count)):
            name = f"n{count}"
            write_notebook(root / f"{name}.ipynb", "d = 0.5", "import time\ntime.sleep(d)")
            needs = f"\n    needs: [{', '.join(prev)}]" if prev else ""
            lines.append(f"  {name}:\n    notebook: {name}.ipynb{needs}")
            layer.append(name)
            count += 1
        prev = layer
    path = root / "pipeline.yaml"
    path.write_text(PIPE.format(conc=width, nodes="\n".join(lines)))
    return path


def bench_dag(tmp: Path) -> dict:
    root = tmp / "users" / "bench"
    make_dag(root, width=3, depth=4)
    engine = Engine(session_factory(f"sqlite:///{tmp / 'dag.sqlite'}"), max_running=3)
    try:
        t0 = time.perf_counter()
        run = drive(
            engine, "bench", engine.submit_pipeline("bench", "pipeline.yaml")["id"], 300, 0.02
        )
        wall = time.perf_counter() - t0
        assert run["status"] == "succeeded", run
        node_sum = sum(n["duration"] or 0 for n in run["nodes"])
        t1 = time.perf_counter()
        again = drive(
            engine, "bench", engine.submit_pipeline("bench", "pipeline.yaml")["id"], 300, 0.02
        )
        rerun = time.perf_counter() - t1
        assert {n["status"] for n in again["nodes"]} == {"skipped"}
    finally:
        engine.shutdown()
    return {
        "dag_wall_s": wall,
        "dag_sum_of_nodes_s": node_sum,
        "dag_parallel_speedup": node_sum / wall,
        "unchanged_rerun_s": rerun,
        "unchanged_goal": "<= 1 s",
    }


class NoopExecutor(Executor):
    """Finishes every run at once: measures the scheduler alone."""

    name = "noop"

    def __init__(self) -> None:
        self.ids: list[str] = []

    def start(self, spec: RunSpec) -> int | None:
        self.ids.append(spec.run_id)
        return None

    def poll(self, run_id: str) -> Outcome | None:
        self.ids.remove(run_id)
        return Outcome("succeeded")

    def cancel(self, run_id: str) -> None:
        if run_id in self.ids:
            self.ids.remove(run_id)

    def running(self) -> list[str]:
        return list(self.ids)


def bench_scheduler(tmp: Path, schedules: int, minutes: int) -> dict:
    root = tmp / "users" / "bench"
    write_notebook(root / "noop.ipynb", "x = 1")
    engine = Engine(
        session_factory(f"sqlite:///{tmp / 'sched.sqlite'}"), NoopExecutor(), max_running=10**6
    )
    for i in range(schedules):
        engine.create_schedule(
            "bench", {"target": "noop.ipynb", "cron": "* * * * *", "name": f"s{i}"}
        )
    start = utcnow()
    first = (start + timedelta(minutes=1)).replace(second=0, microsecond=0)
    end = first + timedelta(minutes=minutes - 1, seconds=30)
    while utcnow() < end:
        t0 = time.monotonic()
        engine.tick()
        time.sleep(max(0.0, 0.5 - (time.monotonic() - t0)))
    with engine.sessions() as db:
        rows = db.execute(select(Run.schedule_id, Run.fire_time, Run.created)).all()
        dup = db.scalar(
            select(func.count()).select_from(
                select(Run.schedule_id, Run.fire_time)
                .group_by(Run.schedule_id, Run.fire_time)
                .having(func.count() > 1)
                .subquery()
            )
        )
    late = sorted(
        (c.replace(tzinfo=UTC) - f.replace(tzinfo=UTC)).total_seconds() for _, f, c in rows
    )
    expected = schedules * minutes
    return {
        "schedules": schedules,
        "minutes": minutes,
        "runs_created": len(rows),
        "expected": expected,
        "missing": expected - len(rows),
        "duplicates": dup,
        "lateness_p50_s": late[len(late) // 2] if late else None,
        "lateness_p99_s": late[int(len(late) * 0.99) - 1] if late else None,
        "goal": "p99 <= 1 s, 0 duplicates, 0 missing",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notebooks", type=int, default=10)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 notebooks, 100 schedules, 2 min")
    parser.add_argument("--scheduler-only", action="store_true", help="only the scheduler part")
    args = parser.parse_args()
    if args.quick:
        args.notebooks, args.schedules, args.minutes = 3, 100, 2
    tmp = Path(tempfile.mkdtemp(prefix="mlp-bench-pipelines-"))
    os.environ["MLP_USERS_DIR"] = str(tmp / "users")
    try:
        if args.scheduler_only:
            sched = bench_scheduler(tmp, args.schedules, args.minutes)
            print(json.dumps(sched, indent=2))
            return
        seq = bench_sequence(tmp, args.notebooks)
        dag = bench_dag(tmp)
        sched = bench_scheduler(tmp, args.schedules, args.minutes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("per-notebook time, ours (pre-started kernels)", f"{seq['ours_mean_s']:.2f} s", ""),
        ("per-notebook time, papermill CLI loop", f"{seq['papermill_mean_s']:.2f} s", ""),
        ("ratio ours / papermill", f"{seq['ratio']:.2f}x", "<= 0.5x"),
        ("unchanged pipeline re-run (10 nodes skipped)", f"{dag['unchanged_rerun_s']:.2f} s",
         "<= 1 s"),
        ("10-node DAG, width 3: wall", f"{dag['dag_wall_s']:.1f} s", ""),
        ("10-node DAG: sum of node times", f"{dag['dag_sum_of_nodes_s']:.1f} s", ""),
        ("10-node DAG: sum / wall", f"{dag['dag_parallel_speedup']:.2f}x", ""),
        (f"scheduler: {sched['schedules']} schedules x {sched['minutes']} min, runs",
         f"{sched['runs_created']} / {sched['expected']}", "0 missing"),
        ("scheduler: duplicates", str(sched["duplicates"]), "0"),
        ("scheduler: lateness p50 / p99",
         f"{sched['lateness_p50_s']:.3f} / {sched['lateness_p99_s']:.3f} s", "p99 <= 1 s"),
    ]  # fmt: skip
    print("| measure | value | goal |\n|---|---:|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_pipelines.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "sequence": seq, "dag": dag, "scheduler": sched,
            },
            indent=2,
        )
    )  # fmt: skip
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
