"""Per-column statistics of one dataset, vectorized (numpy / pyarrow / pandas).

A column becomes a :class:`ColumnStats`: the numbers the Facets Overview proto
holds plus the non-uniformity shown in the lab. The in-memory path
(:func:`column_stats`) is exact and follows facets-overview's generator
(``BaseGenericFeatureStatisticsGenerator``) rule by rule; the out-of-core path
(:mod:`mlp.stats._dask`) fills the same class from partial aggregates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Kind = Literal["numeric", "string"]

#: Facets' FeatureNameStatistics.Type values (INT, FLOAT, STRING).
INT, FLOAT, STRING = 0, 1, 2

#: Equal-width histogram buckets and quantile buckets, as in facets-overview.
NUM_BUCKETS = 10
QUANTILE_POINTS = np.linspace(0.0, 1.0, NUM_BUCKETS + 1)

#: Levels kept in a categorical feature's rank histogram (facets keeps all of them;
#: a column of a million distinct strings would make a proto of a million buckets).
DEFAULT_TOP_K = 50


@dataclass
class ColumnStats:
    """Statistics of one column of one dataset.

    ``has_data`` is False when the column is absent or has no non-missing value;
    then only ``num_examples`` and ``missing`` mean anything.
    """

    kind: Kind
    ftype: int
    num_examples: int
    missing: int
    has_data: bool = False
    present: bool = True
    # numeric
    mean: float = math.nan
    std: float = math.nan
    min: float = math.nan
    median: float = math.nan
    max: float = math.nan
    zeros: int = 0
    hist_counts: list[int] = field(default_factory=list)
    hist_edges: list[float] = field(default_factory=list)
    neginf: int = 0
    posinf: int = 0
    quantiles: list[float] = field(default_factory=list)
    quantiles_exact: bool = True
    # string
    unique: int = 0
    avg_length: float = 0.0
    top: list[tuple[str, int]] = field(default_factory=list)
    #: every level's count (kept in memory for drift, never serialized)
    level_counts: pd.Series | None = None
    non_uniformity: float = math.nan

    @property
    def non_missing(self) -> int:
        """Number of non-missing values."""
        return self.num_examples - self.missing


def classify(dtype: Any) -> tuple[Kind, int]:
    """Map a pandas/numpy dtype to our kind and facets' feature type.

    Facets' rules (``DtypeToType``): floats are FLOAT; integers, booleans,
    datetimes and timedeltas are INT; everything else (object, strings,
    categories) is STRING.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return "string", STRING
    if pd.api.types.is_bool_dtype(dtype):
        return "numeric", INT
    if pd.api.types.is_float_dtype(dtype):
        return "numeric", FLOAT
    if (
        pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    ):
        return "numeric", INT
    return "string", STRING


def numeric_values(series: pd.Series) -> np.ndarray:
    """Return the non-missing values of a numeric-kind column as float64.

    Booleans become 0/1, datetimes and timedeltas their nanoseconds (UTC for
    time-zone aware datetimes), as facets does.
    """
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if isinstance(dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return _nanoseconds(series.astype("datetime64[ns]"))
    if pd.api.types.is_timedelta64_dtype(dtype):
        return _nanoseconds(series.astype("timedelta64[ns]"))
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return values[~np.isnan(values)]


def _nanoseconds(series: pd.Series) -> np.ndarray:
    """Non-missing datetimes/timedeltas (nanosecond unit) as float64 nanoseconds."""
    valid = series.notna().to_numpy()
    return series.to_numpy().view("int64")[valid].astype(np.float64)


def non_uniformity(counts: np.ndarray) -> float:
    """``1 - H(p) / ln(k)`` of bucket counts: 0 for uniform, 1 for one bucket holding all.

    ``k`` is the number of buckets; with fewer than two buckets the value is 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if len(counts) < 2 or total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    entropy = float(-(p * np.log(p)).sum())
    return max(0.0, 1.0 - entropy / math.log(len(counts)))


def fill_numeric(stats: ColumnStats, values: np.ndarray) -> None:
    """Fill numeric statistics from the non-missing values (may hold +-inf)."""
    if len(values) == 0:
        return
    stats.has_data = True
    with np.errstate(invalid="ignore", over="ignore"):
        stats.mean = float(np.mean(values))
        stats.std = float(np.std(values))
    stats.min = float(np.min(values))
    stats.max = float(np.max(values))
    stats.median = float(np.median(values))
    stats.zeros = int(len(values) - np.count_nonzero(values))
    finite_mask = np.isfinite(values)
    finite = values if finite_mask.all() else values[finite_mask]
    stats.posinf = int(np.count_nonzero(np.isposinf(values))) if len(finite) < len(values) else 0
    stats.neginf = len(values) - len(finite) - stats.posinf
    if len(finite):
        counts, edges = np.histogram(finite, bins=NUM_BUCKETS)
        stats.hist_counts = counts.tolist()
        stats.hist_edges = edges.tolist()
        stats.quantiles = np.quantile(finite, QUANTILE_POINTS).tolist()
    stats.non_uniformity = non_uniformity(np.asarray(stats.hist_counts))


def _top_levels(values: pa.Array, counts: np.ndarray, top_k: int) -> list[tuple[str, int]]:
    """Top ``top_k`` levels by count, ties broken by value descending (facets' order)."""
    table = pa.table({"v": values, "c": pa.array(counts)})
    if len(table) > top_k:
        # Only levels that can reach the top k need sorting.
        threshold = np.partition(counts, len(counts) - top_k)[len(counts) - top_k]
        table = table.filter(pc.greater_equal(table["c"], threshold))
    order = pc.sort_indices(table, sort_keys=[("c", "descending"), ("v", "descending")])
    table = table.take(order.slice(0, top_k))
    return list(zip(table["v"].to_pylist(), table["c"].to_pylist(), strict=True))


def fill_string(stats: ColumnStats, series: pd.Series, top_k: int) -> None:
    """Fill string statistics (unique, average length, top levels) of a column."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        vc = series.value_counts(sort=False)
        vc = vc[vc > 0]
        vc.index = vc.index.astype(str)
        level_values = pa.array(vc.index.to_numpy(dtype=object), type=pa.string())
        counts = vc.to_numpy(dtype=np.int64)
        lengths = pc.utf8_length(level_values).to_numpy(zero_copy_only=False)
        total_len = float((lengths * counts).sum())
    else:
        nonnull = series[series.notna()]
        try:
            arr = pa.array(nonnull.to_numpy(dtype=object), type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Mixed types (numbers among strings...): facets takes str() of each value.
            arr = pa.array(nonnull.astype(str).to_numpy(dtype=object), type=pa.string())
        # facets drops values whose text is "nan" along with the missing ones.
        is_nan_text = pc.equal(arr, "nan")
        if pc.any(is_nan_text).as_py():
            stats.missing += int(pc.sum(is_nan_text).as_py())
            arr = arr.filter(pc.invert(is_nan_text))
        if len(arr) == 0:
            return
        total_len = float(pc.sum(pc.utf8_length(arr)).as_py() or 0)
        vc_struct = pc.value_counts(arr)
        level_values = vc_struct.field("values")
        counts = vc_struct.field("counts").to_numpy().astype(np.int64)
    n = int(counts.sum())
    if n == 0:
        return
    stats.has_data = True
    stats.unique = len(counts)
    stats.avg_length = total_len / n
    stats.top = _top_levels(level_values, counts, top_k)
    stats.level_counts = pd.Series(counts, index=level_values.to_pandas(), dtype=np.int64)
    stats.non_uniformity = non_uniformity(counts)


def column_stats(series: pd.Series, top_k: int = DEFAULT_TOP_K) -> ColumnStats:
    """Compute the exact statistics of one in-memory column.

    Parameters
    ----------
    series
        The column.
    top_k
        Levels kept in a categorical feature's rank histogram.

    Returns
    -------
    ColumnStats
        Facets Overview statistics of the column.
    """
    kind, ftype = classify(series.dtype)
    n = len(series)
    if kind == "numeric":
        values = numeric_values(series)
        stats = ColumnStats(kind, ftype, n, missing=n - len(values))
        fill_numeric(stats, values)
    else:
        missing = int(series.isna().sum())
        stats = ColumnStats(kind, ftype, n, missing=missing)
        fill_string(stats, series, top_k)
    return stats


def absent(kind: Kind, ftype: int, num_examples: int) -> ColumnStats:
    """Statistics of a column that a dataset lacks: every row counts as missing."""
    return ColumnStats(kind, ftype, num_examples, missing=num_examples, present=False)
