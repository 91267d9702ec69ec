"""Out-of-core statistics with Dask: partial aggregates per partition, merged in a tree.

Two passes over each dataset, each holding only a few partitions in memory:

1. counts, missing, zeros, min/max, mean and variance (Chan's parallel
   update, exact up to rounding), a 101-point quantile sketch per numeric
   column and the level counts of each categorical column;
2. the equal-width histograms (exact: the edges come from the global min/max
   of pass 1, as ``np.histogram(values, 10)`` would choose them), the drift
   bins on the reference's deciles and a 1,000-bin grid for the KS statistic.

Approximate, by design: median and quantiles (merged sketches), the drift bin
edges that derive from them, and KS (evaluated at the grid's edges). See
``docs/stats.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlp.stats._columns import (
    NUM_BUCKETS,
    QUANTILE_POINTS,
    ColumnStats,
    Kind,
    _top_levels,
    absent,
    classify,
    non_uniformity,
    numeric_values,
)
from mlp.stats._drift import (
    DEFAULT_BINS,
    binned_counts,
    categorical_drift,
    drift_frame,
    psi_from_counts,
)
from mlp.stats._sources import Dataset, StatsInputError

SKETCH = np.linspace(0.0, 1.0, 101)
KS_GRID = 1000
#: Whole-number columns with at most this range get exact quantiles (a count per value).
EXACT_INT_RANGE = 100_000


@dataclass
class NumPart:
    """Mergeable aggregate of a numeric column."""

    n: int = 0
    missing: int = 0
    zeros: int = 0
    finite: int = 0
    posinf: int = 0
    neginf: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    sketch: np.ndarray | None = None  # values at SKETCH probabilities (finite values)
    integral: bool = True  # every finite value is a whole number


@dataclass
class StrPart:
    """Mergeable aggregate of a categorical column."""

    n: int = 0
    missing: int = 0
    total_len: int = 0
    levels: pd.Series = field(default_factory=lambda: pd.Series(dtype=np.int64))


def _merge_sketch(a: np.ndarray | None, na: int, b: np.ndarray | None, nb: int) -> Any:
    """Merge two quantile sketches through their interpolated CDFs."""
    if a is None or na == 0:
        return b
    if b is None or nb == 0:
        return a
    grid = np.union1d(a, b)
    cdf = (na * np.interp(grid, a, SKETCH) + nb * np.interp(grid, b, SKETCH)) / (na + nb)
    # Inverse CDF at the sketch probabilities; cdf is non-decreasing.
    return np.interp(SKETCH, cdf, grid)


def _as_kind(series: pd.Series, kind: Kind) -> pd.Series:
    from mlp.stats._engine import _coerce

    return _coerce(series, kind)


def _num_partial(series: pd.Series) -> NumPart:
    values = numeric_values(_as_kind(series, "numeric"))
    part = NumPart(n=len(series), missing=len(series) - len(values))
    if len(values) == 0:
        return part
    finite = values[np.isfinite(values)]
    part.zeros = int(len(values) - np.count_nonzero(values))
    part.posinf = int(np.count_nonzero(np.isposinf(values)))
    part.neginf = len(values) - len(finite) - part.posinf
    part.finite = len(finite)
    if len(finite):
        part.mean = float(finite.mean())
        part.m2 = float(((finite - part.mean) ** 2).sum())
        part.min, part.max = float(finite.min()), float(finite.max())
        part.sketch = np.quantile(finite, SKETCH)
        part.integral = bool(np.all(np.floor(finite) == finite))
    return part


def _merge_num(a: NumPart, b: NumPart) -> NumPart:
    n = a.finite + b.finite
    out = NumPart(
        n=a.n + b.n,
        missing=a.missing + b.missing,
        zeros=a.zeros + b.zeros,
        finite=n,
        posinf=a.posinf + b.posinf,
        neginf=a.neginf + b.neginf,
        min=min(a.min, b.min),
        max=max(a.max, b.max),
        integral=a.integral and b.integral,
    )
    if n:
        delta = b.mean - a.mean
        out.mean = a.mean + delta * b.finite / n
        out.m2 = a.m2 + b.m2 + delta * delta * a.finite * b.finite / n
    out.sketch = _merge_sketch(a.sketch, a.finite, b.sketch, b.finite)
    return out


def _str_partial(series: pd.Series) -> StrPart:
    series = _as_kind(series, "string")
    nonnull = series[series.notna()]
    if isinstance(nonnull.dtype, pd.CategoricalDtype | pd.StringDtype):
        levels = nonnull.value_counts(sort=False)  # Arrow-backed strings count in C++
    else:
        try:
            arr = pa.array(nonnull.to_numpy(dtype=object), type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: str() of each, as facets
            arr = pa.array(nonnull.astype(str).to_numpy(dtype=object), type=pa.string())
        vc = pc.value_counts(arr)
        levels = pd.Series(
            vc.field("counts").to_numpy(), index=vc.field("values").to_pandas(), dtype=np.int64
        )
    levels = levels[levels > 0]
    levels.index = levels.index.astype(str)
    lengths = pd.Series(levels.index, dtype=object).str.len().to_numpy()
    return StrPart(
        n=len(series),
        missing=len(series) - len(nonnull),
        total_len=int((lengths * levels.to_numpy()).sum()),
        levels=levels.astype(np.int64),
    )


def _merge_str(a: StrPart, b: StrPart) -> StrPart:
    return StrPart(
        n=a.n + b.n,
        missing=a.missing + b.missing,
        total_len=a.total_len + b.total_len,
        levels=a.levels.add(b.levels, fill_value=0).astype(np.int64),
    )


def _partials(frame: pd.DataFrame, kinds: dict[str, Kind]) -> dict[str, Any]:
    return {
        col: _num_partial(frame[col]) if kind == "numeric" else _str_partial(frame[col])
        for col, kind in kinds.items()
    }


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {
        col: _merge_num(pa_, b[col]) if isinstance(pa_, NumPart) else _merge_str(pa_, b[col])
        for col, pa_ in a.items()
    }


def _hist_partials(frame: pd.DataFrame, plans: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """Counts of each numeric column in each of its bin plans (``name -> edges``)."""
    out: dict[str, Any] = {}
    for col, plan in plans.items():
        values = numeric_values(_as_kind(frame[col], "numeric"))
        finite = values[np.isfinite(values)]
        counts: dict[str, np.ndarray] = {}
        for name, edges in plan.items():
            if name == "hist":
                counts[name] = np.histogram(finite, bins=edges)[0]
            elif name == "ints":  # edges = [min, max] of a whole-number column
                offsets = (finite - edges[0]).astype(np.int64)
                counts[name] = np.bincount(offsets, minlength=int(edges[1] - edges[0]) + 1)
            else:  # right-closed bins on interior edges; infinities land at the ends
                counts[name] = binned_counts(values, edges)
        out[col] = counts
    return out


def _merge_hist(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {col: {k: v + b[col][k] for k, v in plan.items()} for col, plan in a.items()}


def _tree(parts: list[Any], merge: Any) -> Any:
    """Pairwise tree reduction of delayed partials (bounded memory, parallel)."""
    merge_d = dask.delayed(merge, pure=True)
    while len(parts) > 1:
        parts = [
            merge_d(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


def _compute(*objs: Any) -> Any:
    try:
        return dask.compute(*objs)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise StatsInputError(f"cannot read the data: {exc}".splitlines()[0]) from None


def _exact_quantiles(counts: np.ndarray, lo: float, probs: np.ndarray) -> np.ndarray:
    """Quantiles (numpy's linear interpolation) of whole numbers given a count per value."""
    cum = np.cumsum(counts)
    pos = (cum[-1] - 1) * probs
    below, above = np.floor(pos), np.ceil(pos)
    # value of the k-th smallest element (0-based): first value whose cumulative count > k
    v_below = np.searchsorted(cum, below, side="right") + lo
    v_above = np.searchsorted(cum, above, side="right") + lo
    return v_below + (pos - below) * (v_above - v_below)


def _fill_numeric(
    stats: ColumnStats, part: NumPart, passes: dict[str, np.ndarray], edges: np.ndarray
) -> None:
    hist = passes["hist"]
    nonmissing = part.finite + part.posinf + part.neginf
    if nonmissing == 0:
        return
    stats.has_data = True
    stats.zeros, stats.posinf, stats.neginf = part.zeros, part.posinf, part.neginf
    if part.posinf and part.neginf:
        stats.mean = stats.std = math.nan
    elif part.posinf or part.neginf:
        stats.mean, stats.std = (math.inf if part.posinf else -math.inf), math.nan
    else:
        stats.mean, stats.std = part.mean, math.sqrt(part.m2 / part.finite)
    stats.min = -math.inf if part.neginf else (part.min if part.finite else math.inf)
    stats.max = math.inf if part.posinf else (part.max if part.finite else -math.inf)
    if part.sketch is not None:
        quantiles = np.interp(QUANTILE_POINTS, SKETCH, part.sketch)
        quantiles[0], quantiles[-1] = part.min, part.max
        stats.quantiles_exact = False
        if "ints" in passes:
            quantiles = _exact_quantiles(passes["ints"], part.min, QUANTILE_POINTS)
            stats.quantiles_exact = True
        stats.quantiles = quantiles.tolist()
        # Median of all non-missing values: infinities shift the rank.
        rank = (nonmissing - 1) / 2 - part.neginf
        if rank < 0 or rank > part.finite - 1:
            stats.median = -math.inf if rank < 0 else math.inf
        elif "ints" in passes:
            prob = np.array([rank / max(part.finite - 1, 1)])
            stats.median = float(_exact_quantiles(passes["ints"], part.min, prob)[0])
        else:
            stats.median = float(np.interp(rank / max(part.finite - 1, 1), SKETCH, part.sketch))
    stats.hist_counts = [int(c) for c in hist]
    stats.hist_edges = [float(e) for e in edges]
    stats.non_uniformity = non_uniformity(hist)


def _ks_from_grid(a: np.ndarray, b: np.ndarray) -> float:
    if a.sum() == 0 or b.sum() == 0:
        return math.nan
    return float(np.abs(np.cumsum(a) / a.sum() - np.cumsum(b) / b.sum()).max())


def dask_compute(
    datasets: list[Dataset], sample: int | None, threshold: float, top_k: int, seed: int
) -> tuple[list[Any], list[int], dict[str, pd.DataFrame]]:
    """Statistics and drift of datasets through Dask (pandas ones become one partition)."""
    import dask.dataframe as dd

    from mlp.stats._engine import Feature, feature_order

    frames = []
    for d in datasets:
        frame = d.frame if d.is_dask else dd.from_pandas(d.frame, npartitions=1)
        frame = frame.rename(columns={c: str(c) for c in frame.columns})
        if sample is not None:
            (total,) = _compute(frame.shape[0])
            if total > sample:
                d.sampled_from = int(total)
                frame = frame.sample(frac=min(1.0, sample / total), random_state=seed)
        frames.append(frame)

    order = feature_order([list(f.columns) for f in frames])
    kinds: dict[str, tuple[Kind, int]] = {}
    for col in order:
        first = next(f for f in frames if col in f.columns)
        kinds[col] = classify(first.dtypes[col])
    # A column of another kind than the reference's is compared as the reference's kind.
    prepared = []
    for f in frames:
        cols = {c: kinds[c][0] for c in f.columns}
        prepared.append((f, cols))

    # Pass 1
    roots = []
    for f, cols in prepared:
        parts = [dask.delayed(_partials, pure=True)(p, cols) for p in f.to_delayed()]
        roots.append(_tree(parts, _merge) if parts else {})
    pass1: list[dict[str, Any]] = list(_compute(*roots))

    # Pass 2 plans: histogram edges, drift edges on the reference's deciles, KS grid.
    ref = pass1[0]
    plans: list[dict[str, dict[str, np.ndarray]]] = []
    for i, (_, cols) in enumerate(prepared):
        plan: dict[str, dict[str, np.ndarray]] = {}
        for col, kind in cols.items():
            if kind != "numeric":
                continue
            part = pass1[i][col]
            lo, hi = (part.min, part.max) if part.finite else (0.0, 1.0)
            plan[col] = {"hist": np.histogram_bin_edges(np.array([lo, hi]), NUM_BUCKETS)}
            if part.finite and part.integral and hi - lo <= EXACT_INT_RANGE:
                plan[col]["ints"] = np.array([lo, hi])
            rpart = ref.get(col)
            if len(datasets) > 1 and isinstance(rpart, NumPart):
                if rpart.sketch is not None:
                    points = np.arange(1, DEFAULT_BINS) / DEFAULT_BINS
                    plan[col]["psi"] = np.unique(np.interp(points, SKETCH, rpart.sketch))
                else:
                    plan[col]["psi"] = np.array([], dtype=np.float64)
                ends = [p[col] for p in pass1 if isinstance(p.get(col), NumPart) and p[col].finite]
                glo = min((p.min for p in ends), default=0.0)
                ghi = max((p.max for p in ends), default=1.0)
                plan[col]["ks"] = np.linspace(glo, ghi, KS_GRID + 1)[1:-1]
        plans.append(plan)
    roots = []
    for (f, _), plan in zip(prepared, plans, strict=True):
        parts = [dask.delayed(_hist_partials, pure=True)(p, plan) for p in f.to_delayed()]
        roots.append(_tree(parts, _merge_hist) if parts and plan else {})
    pass2: list[dict[str, Any]] = list(_compute(*roots))

    num_examples = []
    for i in range(len(frames)):
        sizes = [p.n for p in pass1[i].values()]
        num_examples.append(sizes[0] if sizes else int(_compute(frames[i].shape[0])[0]))

    features = []
    for col in order:
        kind, ftype = kinds[col]
        per = []
        for i in range(len(frames)):
            part = pass1[i].get(col)
            if part is None:
                per.append(absent(kind, ftype, num_examples[i]))
                continue
            cs = ColumnStats(kind, ftype, num_examples[i], missing=part.missing)
            if isinstance(part, NumPart):
                _fill_numeric(cs, part, pass2[i][col], plans[i][col]["hist"])
            elif part.n - part.missing > 0:
                cs.has_data = True
                counts = part.levels.to_numpy(dtype=np.int64)
                cs.unique = len(counts)
                cs.avg_length = part.total_len / counts.sum()
                cs.top = _top_levels(
                    pa.array(part.levels.index.to_numpy(dtype=object), type=pa.string()),
                    counts,
                    top_k,
                )
                cs.level_counts = part.levels
                cs.non_uniformity = non_uniformity(counts)
            per.append(cs)
        features.append(Feature(col, kind, ftype, per))

    drift: dict[str, pd.DataFrame] = {}
    for i in range(1, len(frames)):
        rows: list[dict[str, object]] = []
        for f in features:
            r, c = f.stats[0], f.stats[i]
            if f.kind == "numeric" and r.present and c.present:
                rh, ch = pass2[0][f.name], pass2[i][f.name]
                rc, cc = rh["psi"], ch["psi"]
                if r.missing or c.missing:
                    rc, cc = np.append(rc, r.missing), np.append(cc, c.missing)
                psi, ks = psi_from_counts(rc, cc), _ks_from_grid(rh["ks"], ch["ks"])
            elif f.kind == "numeric":
                # One side lacks the column: all of its rows count as missing.
                psi = psi_from_counts(
                    np.array([r.non_missing, r.missing]), np.array([c.non_missing, c.missing])
                )
                ks = math.nan
            else:
                psi = categorical_drift(r.level_counts, c.level_counts, r.missing, c.missing)
                ks = math.nan
            rows.append(
                {"feature": f.name, "kind": f.kind, "psi": psi, "ks": ks, "ks_pvalue": math.nan}
            )
        drift[datasets[i].name] = drift_frame(rows, threshold)
    return features, num_examples, drift
