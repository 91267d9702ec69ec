"""Model evaluation: metrics from scikit-learn plus a registry of custom metrics.

``mlp.evaluate(y_true, y_score)`` is the public entry point (re-exported lazily by
:mod:`mlp`). This module is named ``evaluation`` rather than ``evaluate`` so that
``mlp.evaluate`` stays the function even after the module has been imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mlp.errors import MLPError

TASKS = ("binary", "multiclass", "regression")

#: metric(y_true, y_score, y_pred) -> float; y_pred is None for regression.
MetricFn = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], float]

#: task -> metric name -> function. Built-ins are registered below; users add theirs
#: with :func:`register_metric`.
METRICS: dict[str, dict[str, MetricFn]] = {task: {} for task in TASKS}


def register_metric(
    name: str, tasks: tuple[str, ...] | str = TASKS
) -> Callable[[MetricFn], MetricFn]:
    """Register a custom metric for one or more tasks (decorator).

    Parameters
    ----------
    name
        Key of the metric in the result of :func:`evaluate`.
    tasks
        ``"binary"``, ``"multiclass"``, ``"regression"`` or a tuple of them.

    Examples
    --------
    >>> @register_metric("top_decile_rate", tasks="binary")
    ... def top_decile_rate(y_true, y_score, y_pred):
    ...     top = y_score >= np.quantile(y_score, 0.9)
    ...     return float(y_true[top].mean())
    """
    wanted = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    unknown = [t for t in wanted if t not in TASKS]
    if unknown:
        raise MLPError(f"unknown task {unknown[0]!r}; use one of {', '.join(TASKS)}")

    def add(fn: MetricFn) -> MetricFn:
        for task in wanted:
            METRICS[task][name] = fn
        return fn

    return add


def unregister_metric(name: str) -> None:
    """Remove a metric from every task (no error if it is not registered)."""
    for table in METRICS.values():
        table.pop(name, None)


def _sk() -> Any:
    # scikit-learn is imported on first use so that ``import mlp`` stays light.
    import sklearn.metrics as skm

    return skm


def _binary_builtin() -> None:
    reg = register_metric
    reg("auc", "binary")(lambda t, s, p: _sk().roc_auc_score(t, s))
    reg("f1", "binary")(lambda t, s, p: _sk().f1_score(t, p, zero_division=0))
    reg("precision", "binary")(lambda t, s, p: _sk().precision_score(t, p, zero_division=0))
    reg("recall", "binary")(lambda t, s, p: _sk().recall_score(t, p, zero_division=0))
    reg("accuracy", "binary")(lambda t, s, p: _sk().accuracy_score(t, p))
    reg("log_loss", "binary")(lambda t, s, p: _sk().log_loss(t, np.clip(s, 1e-15, 1 - 1e-15)))


def _multiclass_builtin() -> None:
    reg = register_metric
    labels = lambda s: np.arange(s.shape[1])  # noqa: E731 - tiny helper
    reg("auc", "multiclass")(
        lambda t, s, p: _sk().roc_auc_score(t, s, multi_class="ovr", labels=labels(s))
    )
    reg("f1", "multiclass")(lambda t, s, p: _sk().f1_score(t, p, average="macro", zero_division=0))
    reg("precision", "multiclass")(
        lambda t, s, p: _sk().precision_score(t, p, average="macro", zero_division=0)
    )
    reg("recall", "multiclass")(
        lambda t, s, p: _sk().recall_score(t, p, average="macro", zero_division=0)
    )
    reg("accuracy", "multiclass")(lambda t, s, p: _sk().accuracy_score(t, p))
    reg("log_loss", "multiclass")(lambda t, s, p: _sk().log_loss(t, s, labels=labels(s)))


def _regression_builtin() -> None:
    reg = register_metric
    reg("mse", "regression")(lambda t, s, p: _sk().mean_squared_error(t, s))
    reg("rmse", "regression")(lambda t, s, p: math.sqrt(_sk().mean_squared_error(t, s)))
    reg("mae", "regression")(lambda t, s, p: _sk().mean_absolute_error(t, s))
    reg("r2", "regression")(lambda t, s, p: _sk().r2_score(t, s))


_binary_builtin()
_multiclass_builtin()
_regression_builtin()


def infer_task(y_true: Any, y_score: Any) -> str:
    """Guess the task: 2-D scores are multiclass, 0/1 labels with scores in [0, 1] binary.

    Parameters
    ----------
    y_true, y_score
        Labels (or targets) and model scores.
    """
    t, s = np.asarray(y_true), np.asarray(y_score)
    if s.ndim == 2 and s.shape[1] > 1:
        return "multiclass"
    values = np.unique(t)
    if (
        values.size <= 2
        and np.isin(values, (0, 1)).all()
        and np.nanmin(s) >= 0
        and np.nanmax(s) <= 1
    ):
        return "binary"
    return "regression"


def _arrays(y_true: Any, y_score: Any, task: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true)
    s = np.asarray(y_score, dtype=float)
    if t.ndim != 1:
        t = t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 else t
    if task != "multiclass" and s.ndim == 2 and s.shape[1] == 1:
        s = s.reshape(-1)
    if task == "binary" and s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]  # predict_proba output: keep the positive class
    if t.ndim != 1:
        raise MLPError(f"y_true must be one-dimensional, got shape {t.shape}")
    if len(t) != len(s):
        raise MLPError(f"y_true has {len(t)} rows but y_score has {len(s)}; pass matching arrays")
    if len(t) == 0:
        raise MLPError("y_true is empty; pass at least one row")
    if np.isnan(s).any():
        raise MLPError(f"y_score has {int(np.isnan(s).sum())} NaN value(s); drop or fill them")
    if task == "multiclass" and s.ndim != 2:
        raise MLPError("multiclass needs y_score of shape (n, n_classes), e.g. predict_proba")
    if task != "multiclass" and s.ndim != 1:
        raise MLPError(f"{task} needs one score per row, got y_score of shape {s.shape}")
    return t, s


def evaluate(
    y_true: Any,
    y_score: Any,
    task: str | None = None,
    threshold: float = 0.5,
    metrics: list[str] | None = None,
) -> dict[str, float]:
    """Evaluate predictions; return ``{metric: value}``.

    Parameters
    ----------
    y_true
        True labels (binary: 0/1, multiclass: 0..k-1) or regression targets.
    y_score
        Scores: probability of class 1 (binary), an ``(n, k)`` probability matrix
        (multiclass) or predictions (regression).
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``; inferred when None.
    threshold
        Binary decision threshold for F1, precision, recall and accuracy.
    metrics
        Names to compute (default: every metric registered for the task).

    Returns
    -------
    dict
        Metric name to float, in registration order.

    Raises
    ------
    MLPError
        On mismatched lengths, NaN scores, an unknown task or metric name.
    """
    if np.size(y_true) == 0:
        raise MLPError("y_true is empty; pass at least one row")
    task = task or infer_task(y_true, y_score)
    if task not in TASKS:
        raise MLPError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    if not 0.0 <= threshold <= 1.0:
        raise MLPError(f"threshold {threshold} is outside [0, 1]")
    t, s = _arrays(y_true, y_score, task)
    table = METRICS[task]
    names = list(table) if metrics is None else list(metrics)
    missing = [n for n in names if n not in table]
    if missing:
        raise MLPError(
            f"no {task} metric {missing[0]!r}; registered: {', '.join(table)} "
            "(add one with mlp.evaluation.register_metric)"
        )
    if task != "regression" and np.unique(t).size < 2:
        raise MLPError(f"cannot compute {task} metrics: y_true holds one class only")
    pred: np.ndarray | None = None
    if task == "binary":
        pred = (s >= threshold).astype(int)
    elif task == "multiclass":
        pred = s.argmax(axis=1)
    out: dict[str, float] = {}
    for name in names:
        try:
            out[name] = float(table[name](t, s, pred))
        except ValueError as exc:  # e.g. AUC when y_true holds one class only
            raise MLPError(f"cannot compute {name}: {exc}") from None
    return out


def curves(y_true: Any, y_score: Any, task: str | None = None) -> dict[str, Any]:
    """Points of the plots shown by ``%mlp evaluate``.

    Returns
    -------
    dict
        Binary: ``roc`` (fpr, tpr) and ``pr`` (recall, precision); multiclass: the
        same for each class one-vs-rest under ``per_class``; regression:
        ``residuals`` (prediction, residual).
    """
    task = task or infer_task(y_true, y_score)
    t, s = _arrays(y_true, y_score, task)
    skm = _sk()

    def binary(tb: np.ndarray, sb: np.ndarray) -> dict[str, Any]:
        if np.unique(tb).size < 2:
            return {}
        fpr, tpr, _ = skm.roc_curve(tb, sb)
        prec, rec, _ = skm.precision_recall_curve(tb, sb)
        return {"roc": (fpr.tolist(), tpr.tolist()), "pr": (rec.tolist(), prec.tolist())}

    if task == "binary":
        return {"task": task, **binary(t, s)}
    if task == "multiclass":
        return {
            "task": task,
            "per_class": {str(k): binary((t == k).astype(int), s[:, k]) for k in range(s.shape[1])},
        }
    return {"task": task, "residuals": (s.tolist(), (t - s).tolist())}
