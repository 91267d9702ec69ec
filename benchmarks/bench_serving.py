"""Serving latency: MLP's bento (JSON and Arrow) vs a plain BentoML service vs booster.predict.

One run, all cases on the same model and machine:

* 200-row batches at 200 req/s and 1-row requests at 500 req/s, open loop (requests
  are sent on schedule whether or not earlier ones have answered), for ``--duration``
  seconds each, from a separate load-generator process on loopback
  (``benchmarks/loadgen.py``: latency counted from each request's due time);
* MLP's service (``bentos/templates/mlp_tabular_service.py``) with JSON columns and
  with Arrow IPC bodies, and a plain BentoML service written as BentoML's docs show
  (``@bentoml.api`` taking an ``np.ndarray``), both with ``--workers`` workers;
* raw ``booster.predict`` of the same batches in-process (the limit);
* where the time goes in MLP's service, from its ``Server-Timing`` header.

Prints a table and writes ``benchmarks/results/bench_serving.json``.

    .venv/bin/python benchmarks/bench_serving.py [--duration 30] [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "bench_serving.json"
LOADGEN = ROOT / "benchmarks" / "loadgen.py"
N_FEATURES = 20

PLAIN_SERVICE = """
import bentoml
import numpy as np

MODEL_TAG = "{tag}"


@bentoml.service(workers={workers})
class Plain:
    bento_model = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self):
        self.model = bentoml.lightgbm.load_model(self.bento_model)

    @bentoml.api
    def predict(self, input_data: np.ndarray) -> np.ndarray:
        return self.model.predict(input_data, num_threads=1)
"""


# ---------------------------------------------------------------------- load generator


def run_load(
    url: str,
    path: str,
    ctype: str,
    bodies: list[bytes],
    rate: float,
    duration: float,
    closed: int = 0,
) -> dict:
    """Run the load generator in its own process and summarise what it measured."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = {
            "url": url, "path": path, "content_type": ctype, "rate": rate, "duration": duration,
            "bodies": [b.hex() for b in bodies], "out": str(Path(tmp) / "out.json"),
            "closed": closed,
        }  # fmt: skip
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(json.dumps(spec))
        subprocess.run(
            [sys.executable, str(LOADGEN), str(spec_file)],
            check=True,
            timeout=duration + 90,
        )
        out = json.loads(Path(spec["out"]).read_text())
    lat = np.array([r[0] for r in out["results"]]) * 1000
    ok = [r for r in out["results"] if r[1] == 200]
    stages: dict[str, list[float]] = {}
    for r in ok:
        for part in r[2].split(", ") if r[2] else []:
            name, _, dur = part.partition(";dur=")
            stages.setdefault(name, []).append(float(dur))
    return {
        "requests": out["sent"],
        "ok_rps": round(len(ok) / out["elapsed"], 1),
        "errors": len(out["results"]) - len(ok),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2),
        "max_ms": round(float(lat.max()), 2),
        "server_stages_ms": {k: round(statistics.fmean(v), 3) for k, v in stages.items()},
        "connections": out["connections"],
        "send_lag_ms": out["send_lag_ms"],
    }


# ---------------------------------------------------------------------- cases


def arrow_bytes(frame) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def closed_loop(url: str, path: str, ctype: str, bodies: list[bytes], n: int) -> dict:
    """One request at a time (no queueing): the service's own latency on this machine."""
    r = run_load(url, path, ctype, bodies, rate=0, duration=0, closed=n)
    return {"p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"], "server_stages_ms": r["server_stages_ms"]}


def raw_predict(booster, batches: list, repeats: int) -> dict:
    """``booster.predict`` latency in-process, no HTTP."""
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        booster.predict(batches[i % len(batches)], num_threads=1)
        times.append((time.perf_counter() - t) * 1000)
    arr = np.array(times)
    return {
        "requests": repeats,
        "errors": 0,
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p99_ms": round(float(np.percentile(arr, 99)), 3),
        "max_ms": round(float(arr.max()), 3),
    }


def start_plain(tag: str, home: Path, workers: int) -> tuple[subprocess.Popen, str]:
    from bentos.serving import _free_port
    from mlp.process import die_with_parent

    svc_dir = Path(tempfile.mkdtemp(prefix="plain-bento-"))
    (svc_dir / "plain_service.py").write_text(
        textwrap.dedent(PLAIN_SERVICE.format(tag=tag, workers=workers))
    )
    port = _free_port()
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}
    log = open(svc_dir / "log.txt", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "bentoml", "serve", "plain_service:Plain", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=svc_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=die_with_parent,
    )  # fmt: skip
    import requests

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    raise RuntimeError(f"plain service did not start; see {svc_dir / 'log.txt'}")


def stop_plain(proc: subprocess.Popen) -> None:
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per HTTP case")
    parser.add_argument("--quick", action="store_true", help="3 s per case (smoke run)")
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes of both services (default 2)"
    )
    args = parser.parse_args()
    duration = 3.0 if args.quick else args.duration

    import lightgbm as lgb
    import pandas as pd
    from sklearn.datasets import make_classification

    store = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    os.environ["MLP_MODEL_STORE"] = str(store)
    from bentos import registry, serving

    x, y = make_classification(n_samples=20_000, n_features=N_FEATURES, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(N_FEATURES)])
    model = lgb.LGBMClassifier(n_estimators=100, num_leaves=31, n_jobs=1, verbose=-1)
    model.fit(frame, y)
    saved = registry.save(model, "bench", signature=frame.head(), user="bench")
    booster = model.booster_

    rng = np.random.default_rng(0)
    cases = {"batch200": (200, 200.0), "row1": (1, 500.0)}
    results: dict[str, dict] = {}
    ours = serving.serve(saved["tag"], user="bench", workers=args.workers)
    plain_proc, plain_url = start_plain(saved["tag"], registry.user_home("bench"), args.workers)
    try:
        for case, (rows, rate) in cases.items():
            batches = [frame.iloc[rng.integers(0, len(frame), rows)] for _ in range(16)]
            json_bodies = [json.dumps({"columns": b.to_dict("list")}).encode() for b in batches]
            arrow_bodies = [arrow_bytes(b) for b in batches]
            plain_bodies = [
                json.dumps({"input_data": b.to_numpy().tolist()}).encode() for b in batches
            ]
            res = results[case] = {}
            seq = results.setdefault("closed_loop", {})
            for name, url, ctype, bodies in [
                ("mlp_json", ours["url"], "application/json", json_bodies),
                ("mlp_arrow", ours["url"], "application/vnd.apache.arrow.stream", arrow_bodies),
                ("plain_bentoml_json", plain_url, "application/json", plain_bodies),
            ]:
                seq[f"{case}/{name}"] = closed_loop(url, "/predict", ctype, bodies, 300)
            res["mlp_json"] = run_load(
                ours["url"], "/predict", "application/json", json_bodies, rate, duration
            )
            res["mlp_arrow"] = run_load(
                ours["url"],
                "/predict",
                "application/vnd.apache.arrow.stream",
                arrow_bodies,
                rate,
                duration,
            )
            res["plain_bentoml_json"] = run_load(
                plain_url, "/predict", "application/json", plain_bodies, rate, duration
            )
            res["booster_predict"] = raw_predict(booster, [b.to_numpy() for b in batches], 2000)
    finally:
        serving.stop(ours["port"], "bench")
        stop_plain(plain_proc)

    closed = results.pop("closed_loop")
    for res in results.values():
        peer = res["plain_bentoml_json"]["p99_ms"]
        for name in ("mlp_json", "mlp_arrow"):
            res[name]["p99_vs_plain"] = round(res[name]["p99_ms"] / peer, 2)
    report = {
        "duration_s_per_case": duration,
        "model": "LGBMClassifier 100 trees x 31 leaves, 20 features",
        "machine": f"{os.cpu_count()} cores",
        "workers_per_service": args.workers,
        "load_generator": "benchmarks/loadgen.py (open loop, keep-alive, httptools, uvloop)",
        "results": results,
        "closed_loop": closed,
    }
    out = RESULTS if args.workers == 2 else RESULTS.with_name(f"bench_serving_w{args.workers}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    header = (
        f"{'case':9} {'service':20} {'ok rps':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'p99/plain':>9}"
    )
    print(header)
    print("-" * len(header))
    for case, res in results.items():
        for name, r in res.items():
            print(
                f"{case:9} {name:20} {r.get('ok_rps', ''):>6} {r['p50_ms']:>8} "
                f"{r['p99_ms']:>8} {r['errors']:>6} {r.get('p99_vs_plain', ''):>9}"
            )
    print("\nClosed loop (one request at a time, 300 each): p50 / p99 ms")
    for key, r in closed.items():
        print(f"  {key:30} {r['p50_ms']:>7} {r['p99_ms']:>7}")
    print("\nMLP service, mean server-side ms per stage (Server-Timing):")
    for case, res in results.items():
        for name in ("mlp_json", "mlp_arrow"):
            print(f"  {case:9} {name:10} {res[name]['server_stages_ms']}")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
