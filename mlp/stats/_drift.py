"""Drift between a reference and a current dataset: PSI and the KS statistic.

PSI (population stability index) of proportions ``r_i`` (reference) and
``c_i`` (current) over the same bins is ``sum((c_i - r_i) * ln(c_i / r_i))``,
with each proportion clipped below at :data:`EPS` so that an empty bin counts
as a small one rather than an infinite jump.

- Numbers are binned on the reference's deciles (bins ``(-inf, q10]``,
  ``(q10, q20]``, ..., ``(q90, inf)``; duplicate edges merged); categories on
  their levels (the union of both datasets' levels).
- Missing values form one more bin when either dataset has any.
- KS is the two-sample Kolmogorov-Smirnov statistic of the non-missing numbers
  (:func:`scipy.stats.ks_2samp`); it is NaN for categories.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

#: Proportions are clipped below at this value before the logarithm.
EPS = 1e-4
#: Default drift flag: PSI at or above this value.
DEFAULT_THRESHOLD = 0.2
#: Number of reference-quantile bins for numbers.
DEFAULT_BINS = 10

DRIFT_COLUMNS = ["feature", "kind", "psi", "ks", "ks_pvalue", "drifted"]


def psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """PSI of two count vectors over the same bins.

    Parameters
    ----------
    ref_counts, cur_counts
        Counts per bin; same length.

    Returns
    -------
    float
        The PSI, NaN when either side has no values.
    """
    ref = np.asarray(ref_counts, dtype=np.float64)
    cur = np.asarray(cur_counts, dtype=np.float64)
    if ref.sum() <= 0 or cur.sum() <= 0:
        return math.nan
    r = np.clip(ref / ref.sum(), EPS, None)
    c = np.clip(cur / cur.sum(), EPS, None)
    return float(((c - r) * np.log(c / r)).sum())


def reference_edges(ref_finite: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior bin edges: the reference's quantiles ``1/bins ... (bins-1)/bins``, unique."""
    if len(ref_finite) == 0:
        return np.array([], dtype=np.float64)
    points = np.arange(1, bins) / bins
    return np.unique(np.quantile(ref_finite, points))


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in the right-closed bins that ``edges`` delimit (len(edges)+1 bins)."""
    idx = np.searchsorted(edges, values, side="left")
    return np.bincount(idx, minlength=len(edges) + 1)


def numeric_drift(
    ref: np.ndarray, cur: np.ndarray, ref_missing: int, cur_missing: int, bins: int = DEFAULT_BINS
) -> tuple[float, float, float]:
    """PSI, KS statistic and KS p-value of two numeric columns' non-missing values.

    Parameters
    ----------
    ref, cur
        Non-missing values (float64; may hold +-inf).
    ref_missing, cur_missing
        Missing counts; they form one more bin when either is non-zero.
    bins
        Number of reference-quantile bins.
    """
    edges = reference_edges(ref[np.isfinite(ref)], bins)
    rc, cc = binned_counts(ref, edges), binned_counts(cur, edges)
    if ref_missing or cur_missing:
        rc, cc = np.append(rc, ref_missing), np.append(cc, cur_missing)
    psi = psi_from_counts(rc, cc)
    if len(ref) == 0 or len(cur) == 0:
        return psi, math.nan, math.nan
    ks = scipy_stats.ks_2samp(ref, cur)
    return psi, float(ks.statistic), float(ks.pvalue)


def categorical_drift(
    ref_levels: pd.Series | None, cur_levels: pd.Series | None, ref_missing: int, cur_missing: int
) -> float:
    """PSI of two categorical columns from their level counts (index: level, value: count)."""
    ref_levels = ref_levels if ref_levels is not None else pd.Series(dtype=np.int64)
    cur_levels = cur_levels if cur_levels is not None else pd.Series(dtype=np.int64)
    both = pd.concat([ref_levels.rename("r"), cur_levels.rename("c")], axis=1).fillna(0)
    rc, cc = both["r"].to_numpy(), both["c"].to_numpy()
    if ref_missing or cur_missing:
        rc, cc = np.append(rc, ref_missing), np.append(cc, cur_missing)
    return psi_from_counts(rc, cc)


def drift_frame(rows: list[dict[str, object]], threshold: float) -> pd.DataFrame:
    """Build the drift DataFrame (one row per feature) and its ``drifted`` flag."""
    frame = pd.DataFrame(rows, columns=DRIFT_COLUMNS[:-1])
    frame["psi"] = frame["psi"].astype(np.float64)
    frame["ks"] = frame["ks"].astype(np.float64)
    frame["ks_pvalue"] = frame["ks_pvalue"].astype(np.float64)
    frame["drifted"] = frame["psi"].ge(threshold)
    return frame
