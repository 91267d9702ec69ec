"""Compute Facets Overview statistics for several named datasets at once."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from facets_overview.feature_statistics_pb2 import (
    DatasetFeatureStatisticsList,
    Histogram,
)

from mlp.errors import MLPError
from mlp.stats._columns import (
    DEFAULT_TOP_K,
    FLOAT,
    INT,
    NUM_BUCKETS,
    ColumnStats,
    Kind,
    absent,
    classify,
    column_stats,
    numeric_values,
)
from mlp.stats._drift import (
    DEFAULT_BINS,
    DEFAULT_THRESHOLD,
    categorical_drift,
    drift_frame,
    numeric_drift,
)
from mlp.stats._sources import Dataset, StatsInputError, to_dataset


@dataclass
class Feature:
    """One feature across all datasets (``stats[i]`` belongs to dataset ``i``)."""

    name: str
    kind: Kind
    ftype: int
    stats: list[ColumnStats]


def _coerce(series: pd.Series, kind: Kind) -> pd.Series:
    """Make a column of another kind than the first dataset's comparable.

    A text column where the reference has numbers is parsed as numbers
    (unparseable values become missing); a numeric column where the reference
    has text becomes text.
    """
    if classify(series.dtype)[0] == kind:
        return series
    if kind == "numeric":
        return pd.to_numeric(series.astype(object), errors="coerce")
    return series.astype(object).where(series.notna(), None).astype(str).where(series.notna())


def feature_order(columns: Sequence[Sequence[str]]) -> list[str]:
    """Union of column names: the first dataset's order, then new names as they appear."""
    seen: dict[str, None] = {}
    for cols in columns:
        for col in cols:
            seen.setdefault(str(col), None)
    return list(seen)


def _check_columns(name: str, columns: Sequence[Any]) -> None:
    names = [str(c) for c in columns]
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise StatsInputError(f"dataset {name!r} has duplicate column names: {', '.join(dup)}")


def pandas_features(datasets: list[Dataset], top_k: int) -> list[Feature]:
    """Exact statistics of in-memory datasets, feature by feature."""
    frames: list[pd.DataFrame] = [d.frame for d in datasets]
    for d in datasets:
        _check_columns(d.name, list(d.frame.columns))
    renamed = [f.set_axis([str(c) for c in f.columns], axis=1) for f in frames]
    features = []
    for col in feature_order([list(f.columns) for f in renamed]):
        first = next(f[col] for f in renamed if col in f.columns)
        kind, ftype = classify(first.dtype)
        per = []
        for frame in renamed:
            if col not in frame.columns:
                per.append(absent(kind, ftype, len(frame)))
                continue
            per.append(column_stats(_coerce(frame[col], kind), top_k))
        features.append(Feature(col, kind, ftype, per))
    return features


def pandas_drift(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    threshold: float = DEFAULT_THRESHOLD,
    bins: int = DEFAULT_BINS,
) -> pd.DataFrame:
    """Exact PSI/KS per feature of two in-memory DataFrames (see :func:`mlp.stats.drift`)."""
    ref = ref.set_axis([str(c) for c in ref.columns], axis=1)
    cur = cur.set_axis([str(c) for c in cur.columns], axis=1)
    rows: list[dict[str, object]] = []
    for col in feature_order([list(ref.columns), list(cur.columns)]):
        base = ref[col] if col in ref.columns else cur[col]
        kind, _ = classify(base.dtype)
        r = _coerce(ref[col], kind) if col in ref.columns else pd.Series([], dtype=base.dtype)
        c = _coerce(cur[col], kind) if col in cur.columns else pd.Series([], dtype=base.dtype)
        # A column that one side lacks is all-missing there.
        r_extra = 0 if col in ref.columns else len(ref)
        c_extra = 0 if col in cur.columns else len(cur)
        if kind == "numeric":
            rv, cv = numeric_values(r), numeric_values(c)
            psi, ks, p = numeric_drift(
                rv, cv, len(r) - len(rv) + r_extra, len(c) - len(cv) + c_extra, bins
            )
        else:
            rs, cs = column_stats(r), column_stats(c)
            psi = categorical_drift(
                rs.level_counts, cs.level_counts, rs.missing + r_extra, cs.missing + c_extra
            )
            ks = p = math.nan
        rows.append({"feature": col, "kind": kind, "psi": psi, "ks": ks, "ks_pvalue": p})
    return drift_frame(rows, threshold)


# ------------------------------------------------------------------------------ proto


def _quantiles_hist(hist: Histogram, quantiles: list[float], count: int) -> None:
    """Facets' ``_PopulateQuantilesHistogram``: ten buckets of count/10 each."""
    if not quantiles or count == 0:
        return
    hist.type = Histogram.QUANTILES
    per = float(count) / NUM_BUCKETS
    for low, high in itertools.pairwise(quantiles):
        hist.buckets.add(low_value=low, high_value=high, sample_count=per)


def build_proto(
    names: list[str], num_examples: list[int], features: list[Feature]
) -> DatasetFeatureStatisticsList:
    """Assemble facets' ``DatasetFeatureStatisticsList`` the way its generator does.

    Parameters
    ----------
    names, num_examples
        Per dataset: its name and row count.
    features
        The features in display order.
    """
    out = DatasetFeatureStatisticsList()
    for name, n in zip(names, num_examples, strict=True):
        out.datasets.add(name=name, num_examples=n)
    for feature in features:
        for j, cs in enumerate(feature.stats):
            feat = out.datasets[j].features.add(type=feature.ftype, name=feature.name)
            if feature.ftype in (INT, FLOAT):
                fs = feat.num_stats
                if cs.has_data:
                    fs.std_dev, fs.mean = cs.std, cs.mean
                    fs.min, fs.max, fs.median = cs.min, cs.max, cs.median
                    fs.num_zeros = cs.zeros
                    hist = fs.histograms.add()
                    hist.type = Histogram.STANDARD
                    last = len(cs.hist_counts) - 1
                    for i, count in enumerate(cs.hist_counts):
                        bucket = hist.buckets.add(
                            low_value=cs.hist_edges[i],
                            high_value=cs.hist_edges[i + 1],
                            sample_count=count,
                        )
                        # Infinities go to the outer buckets, as facets does.
                        if i == 0 and cs.neginf:
                            bucket.low_value = -math.inf
                            bucket.sample_count += cs.neginf
                        elif i == last and cs.posinf:
                            bucket.high_value = math.inf
                            bucket.sample_count += cs.posinf
                    finite = cs.non_missing - cs.neginf - cs.posinf
                    _quantiles_hist(fs.histograms.add(), cs.quantiles, finite)
            else:
                ss = feat.string_stats
                if cs.has_data:
                    ss.avg_length = cs.avg_length
                    ss.unique = cs.unique
                    for rank, (label, count) in enumerate(cs.top):
                        ss.rank_histogram.buckets.add(
                            low_rank=rank, high_rank=rank, sample_count=count, label=label
                        )
                        if rank < 2:
                            ss.top_values.add(value=label, frequency=count)
            common = (
                feat.num_stats.common_stats
                if feature.ftype in (INT, FLOAT)
                else feat.string_stats.common_stats
            )
            if cs.has_data:
                common.num_missing = cs.missing
                common.num_non_missing = cs.non_missing
                common.min_num_values = common.max_num_values = 1
                common.avg_num_values = 1.0
                ones = [1.0] * (NUM_BUCKETS + 1)
                _quantiles_hist(common.num_values_histogram, ones, cs.non_missing)
            else:
                common.num_non_missing = 0
                common.num_missing = cs.num_examples
    return out


# ------------------------------------------------------------------------------ entry


def compute(
    datasets: Sequence[Any],
    names: Sequence[str] | None = None,
    sample: int | None = None,
    target: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    top_k: int = DEFAULT_TOP_K,
    seed: int = 0,
) -> Any:
    """Compute statistics (and drift against the first dataset); see :func:`mlp.stats.stats`."""
    from mlp.stats._result import StatsResult

    if not datasets:
        raise MLPError("give at least one dataset")
    if names is None:
        names = ["data"] if len(datasets) == 1 else [f"data{i + 1}" for i in range(len(datasets))]
    names = [str(n) for n in names]
    if len(names) != len(datasets):
        raise MLPError(f"{len(datasets)} datasets but {len(names)} names: give one name each")
    if len(set(names)) != len(names):
        raise MLPError(f"dataset names must differ: {', '.join(names)}")
    if sample is not None and sample <= 0:
        raise MLPError(f"--sample must be a positive number of rows, got {sample}")
    if threshold <= 0 or not math.isfinite(threshold):
        raise MLPError(f"the drift threshold must be a positive number, got {threshold}")
    wrapped = [to_dataset(obj, name) for obj, name in zip(datasets, names, strict=True)]
    for d in wrapped:
        _check_columns(d.name, list(d.frame.columns))

    if any(d.is_dask for d in wrapped):
        from mlp.stats._dask import dask_compute

        features, num_examples, drift = dask_compute(wrapped, sample, threshold, top_k, seed)
    else:
        for d in wrapped:
            if sample is not None and len(d.frame) > sample:
                d.sampled_from = len(d.frame)
                d.frame = d.frame.sample(n=sample, random_state=seed)
        features = pandas_features(wrapped, top_k)
        num_examples = [len(d.frame) for d in wrapped]
        drift = {d.name: pandas_drift(wrapped[0].frame, d.frame, threshold) for d in wrapped[1:]}
    if target is not None:
        target = str(target)
        if target not in {f.name for f in features}:
            raise MLPError(f"--target {target!r} is not a column of any dataset")
        features.sort(key=lambda f: f.name != target)  # stable: target first
    proto = build_proto(names, num_examples, features)
    for feature in features:
        for cs in feature.stats:
            if not np.isfinite(cs.non_uniformity):
                cs.non_uniformity = 0.0
    return StatsResult(
        proto=proto,
        features=features,
        names=list(names),
        num_examples=num_examples,
        sampled_from=[d.sampled_from for d in wrapped],
        drift=drift,
        target=target,
        threshold=threshold,
    )
