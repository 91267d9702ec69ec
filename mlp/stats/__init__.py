"""Sample statistics: Facets Overview statistics of datasets and drift between them.

The statistics are facets-overview's ``DatasetFeatureStatisticsList`` proto,
computed with vectorized numpy/pyarrow/pandas (in memory, exact) or Dask (out of
core, for Dask DataFrames and parquet/CSV paths). See ``docs/stats.md``.

>>> result = stats([train, test], names=["train", "test"])   # doctest: +SKIP
>>> result.proto          # DatasetFeatureStatisticsList
>>> result.to_frame()     # one row per (feature, dataset)
>>> drift(train, test)    # PSI / KS per feature
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mlp.stats._columns import DEFAULT_TOP_K
from mlp.stats._drift import DEFAULT_BINS, DEFAULT_THRESHOLD, EPS
from mlp.stats._engine import compute, pandas_drift
from mlp.stats._result import MIME_TYPE, StatsFile, StatsResult, load
from mlp.stats._sources import StatsInputError, to_dataset

__all__ = [
    "DEFAULT_THRESHOLD",
    "EPS",
    "MIME_TYPE",
    "StatsFile",
    "StatsInputError",
    "StatsResult",
    "drift",
    "load",
    "stats",
]


def stats(
    datasets: Any,
    names: Sequence[str] | None = None,
    *,
    sample: int | None = None,
    target: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    top_k: int = DEFAULT_TOP_K,
    seed: int = 0,
) -> StatsResult:
    """Compute Facets Overview statistics of one or more named datasets.

    Parameters
    ----------
    datasets
        A dataset or a list of them: pandas DataFrames (exact, in memory), Dask
        DataFrames or paths of .csv/.parquet files or parquet folders (out of core).
    names
        One name per dataset (default ``data`` or ``data1, data2, ...``).
    sample
        Compute on at most this many rows per dataset (random, seeded); the
        output says which datasets were sampled. Default: all rows.
    target
        Name of the label column: listed first and marked.
    threshold
        Drift flag: PSI at or above this value (default 0.2).
    top_k
        Levels kept per categorical feature.
    seed
        Random seed of the sampling.

    Returns
    -------
    StatsResult
        ``.proto`` (the Facets proto), ``.to_frame()``, ``.drift`` (per dataset
        after the first, against the first), ``.save(path)``; displays itself in
        JupyterLab.

    Raises
    ------
    mlp.errors.MLPError
        A dataset is not a table, a file is missing or unreadable, names clash.
    """
    items = list(datasets) if isinstance(datasets, list | tuple) else [datasets]
    return compute(
        items, names, sample=sample, target=target, threshold=threshold, top_k=top_k, seed=seed
    )


def drift(
    ref: Any, cur: Any, threshold: float = DEFAULT_THRESHOLD, bins: int = DEFAULT_BINS
) -> pd.DataFrame:
    """Per-feature drift of ``cur`` against ``ref``: PSI, KS statistic and the flag.

    Numbers are binned on ``ref``'s quantiles (``bins`` bins), categories on their
    levels; missing values form one more bin. KS is NaN for categories.

    Parameters
    ----------
    ref, cur
        pandas DataFrames (exact), or Dask DataFrames / paths (approximate, see
        ``docs/stats.md``).
    threshold
        ``drifted`` is ``psi >= threshold``.
    bins
        Number of reference-quantile bins for numbers (pandas inputs).

    Returns
    -------
    pandas.DataFrame
        Columns ``feature, kind, psi, ks, ks_pvalue, drifted``; one row per feature
        of either frame.
    """
    if threshold <= 0:
        raise StatsInputError(f"the drift threshold must be positive, got {threshold}")
    a, b = to_dataset(ref, "ref"), to_dataset(cur, "cur")
    if not a.is_dask and not b.is_dask:
        return pandas_drift(a.frame, b.frame, threshold, bins)
    result = compute([ref, cur], ["ref", "cur"], threshold=threshold)
    return result.drift["cur"]
