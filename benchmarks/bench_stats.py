"""Sample statistics: ``mlp.stats`` against facets-overview's generator, Dask path, payload size.

Three measurements, each in a fresh subprocess (so peak memory is its own):

1. ``--rows`` (default 1,000,000) rows x 20 columns (12 numeric, 8 string) in a
   pandas DataFrame: ``mlp.stats.stats(df)`` against facets-overview 1.1.1's
   ``GenericFeatureStatisticsGenerator`` fed plain numpy columns (its pandas path
   fails on this pandas). Wall time and peak extra RSS (sampled every 5 ms, minus
   the RSS before the call), compared with the DataFrame's own memory.
2. ``--dask-rows`` (default 10,000,000; the issue's goal names 50,000,000) rows x
   20 columns written as a multi-file parquet dataset, then ``mlp.stats.stats(path)``
   through Dask's threaded scheduler: wall time and peak RSS of the process.
3. Payload of 100 features x 2 datasets: bytes of the JSON mime payload and of
   the static HTML fallback.

Usage::

    .venv/bin/python benchmarks/bench_stats.py                 # as above
    .venv/bin/python benchmarks/bench_stats.py --quick         # 100k rows, 1M Dask rows
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bench_stats.json"

MAKE_FRAME = """
import numpy as np, pandas as pd
def make_frame(n, seed=0):
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(12):
        x = rng.normal(i, 1 + i, n) if i % 3 else rng.integers(0, 100, n).astype(float)
        if i % 4 == 1:
            x[rng.random(n) < 0.05] = np.nan
        cols[f"num{i}"] = x
    sizes = (3, 10, 50, 200, 1000, 5000, 20, 7)
    levels = [np.array([f"level_{j}" for j in range(k)], dtype=object) for k in sizes]
    for i, lv in enumerate(levels):
        s = lv[rng.integers(0, len(lv), n)]
        if i % 3 == 0:
            s = s.copy(); s[rng.random(n) < 0.02] = None
        cols[f"str{i}"] = s
    return pd.DataFrame(cols)
"""

PEAK = """
import threading, time, psutil
class Peak:
    def __init__(self):
        self.proc = psutil.Process(); self.base = self.proc.memory_info().rss; self.peak = self.base
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
    def _run(self):
        while not self._stop:
            self.peak = max(self.peak, self.proc.memory_info().rss); time.sleep(0.005)
    def stop(self):
        self._stop = True; self._t.join(); self.peak = max(self.peak, self.proc.memory_info().rss)
        return self.peak - self.base, self.peak
"""

IN_MEMORY = (
    MAKE_FRAME
    + PEAK
    + """
import gc, json, sys, time
import numpy as np
which, n = sys.argv[1], int(sys.argv[2])
df = make_frame(n)
df_bytes = int(df.memory_usage(deep=True).sum())
if which == "facets":
    from facets_overview import generic_feature_statistics_generator as g
    GenericFeatureStatisticsGenerator = g.GenericFeatureStatisticsGenerator
    columns = {c: df[c].to_numpy() for c in df}
import mlp.stats
gc.collect()
peak = Peak(); t0 = time.perf_counter()
if which == "ours":
    result = mlp.stats.stats(df)
else:
    gen = GenericFeatureStatisticsGenerator()
    with np.errstate(all="ignore"):
        entries = {c: gen.NdarrayToEntry(v) for c, v in columns.items()}
        result = gen.GetDatasetsProto([{"entries": entries, "size": n, "name": "data"}])
seconds = time.perf_counter() - t0
extra, _ = peak.stop()
print(json.dumps({"seconds": seconds, "peak_extra_bytes": extra, "df_bytes": df_bytes}))
"""
)

WRITE_PARQUET = (
    MAKE_FRAME
    + """
import sys, os
import pyarrow as pa, pyarrow.parquet as pq
folder, n, per_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(folder, exist_ok=True)
for i, start in enumerate(range(0, n, per_file)):
    df = make_frame(min(per_file, n - start), seed=i)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), f"{folder}/part-{i:04d}.parquet")
print("{}")
"""
)

DASK_RUN = (
    PEAK
    + """
import json, sys, time
import mlp.stats, dask.dataframe
peak = Peak(); t0 = time.perf_counter()
result = mlp.stats.stats(sys.argv[1])
seconds = time.perf_counter() - t0
_, rss = peak.stop()
print(json.dumps({"seconds": seconds, "peak_rss_bytes": rss,
                  "rows": result.proto.datasets[0].num_examples}))
"""
)

PAYLOAD = (
    MAKE_FRAME
    + """
import json
import numpy as np, pandas as pd
import mlp.stats
parts = [make_frame(20_000, seed=s) for s in range(5)]
a = pd.concat([p.add_suffix(f"_{i}") for i, p in enumerate(parts)], axis=1)
b = a.sample(frac=1.0, random_state=1).copy()
b[[c for c in b if c.startswith("num")][:10]] *= 1.5
result = mlp.stats.stats([a, b], ["train", "test"])
bundle = result._repr_mimebundle_()
print(json.dumps({"features": len(result.features), "datasets": 2,
                  "payload_bytes": len(json.dumps(bundle[mlp.stats.MIME_TYPE])),
                  "html_bytes": len(bundle["text/html"])}))
"""
)


def run(code: str, *args: str, timeout: float = 900) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dask-rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="100k rows; 1M Dask rows")
    parser.add_argument("--skip-facets", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.dask_rows = 100_000, 1_000_000

    results: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rows": args.rows,
        "dask_rows": args.dask_rows,
    }
    print(f"in memory: {args.rows:,} rows x 20 columns (12 numeric, 8 string)")
    ours = run(IN_MEMORY, "ours", str(args.rows))
    results["ours"] = ours
    if not args.skip_facets:
        facets = run(IN_MEMORY, "facets", str(args.rows), timeout=1800)
        results["facets"] = facets
        results["speedup"] = facets["seconds"] / ours["seconds"]

    folder = tempfile.mkdtemp(prefix="bench_stats_")
    try:
        t0 = time.perf_counter()
        per_file = 1_000_000
        run(WRITE_PARQUET, folder, str(args.dask_rows), str(per_file), timeout=1800)
        write_s = time.perf_counter() - t0
        on_disk = sum(p.stat().st_size for p in Path(folder).glob("*.parquet"))
        dask_res = run(DASK_RUN, folder, timeout=1800)
        dask_res.update(write_seconds=write_s, parquet_bytes=on_disk)
        results["dask"] = dask_res
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    results["payload"] = run(PAYLOAD)

    df_bytes = ours["df_bytes"]
    rows = [("measurement", "mlp.stats", "facets-overview", "ratio / goal")]
    if "facets" in results:
        f = results["facets"]
        rows.append(
            (
                f"{args.rows:,} x 20 wall time",
                f"{ours['seconds']:.2f} s",
                f"{f['seconds']:.1f} s",
                f"{results['speedup']:.0f}x faster (goal >= 20x)",
            )
        )
        rows.append(
            (
                f"{args.rows:,} x 20 peak extra RSS",
                mib(ours["peak_extra_bytes"]),
                mib(f["peak_extra_bytes"]),
                f"ours {ours['peak_extra_bytes'] / df_bytes:.2f}x the DataFrame's "
                f"{mib(df_bytes)} (goal <= 2x)",
            )
        )
    else:
        rows.append((f"{args.rows:,} x 20 wall time", f"{ours['seconds']:.2f} s", "-", "-"))
    d = results["dask"]
    rows.append(
        (
            f"{args.dask_rows:,} x 20 parquet via Dask",
            f"{d['seconds']:.1f} s, peak RSS {mib(d['peak_rss_bytes'])}",
            "-",
            f"goal <= 120 s and <= 3 GiB at 50M rows ({mib(d['parquet_bytes'])} on disk)",
        )
    )
    p = results["payload"]
    rows.append(
        (
            f"payload, {p['features']} features x 2 datasets",
            f"{p['payload_bytes'] / 1024:,.0f} KiB JSON, {p['html_bytes'] / 1024:,.0f} KiB HTML",
            "-",
            "goal <= 2 MB",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
