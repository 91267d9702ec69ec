"""mlp.evaluate: metric values against scikit-learn, task inference, custom metrics, errors."""

import math

import numpy as np
import pytest
from sklearn import metrics as skm

import mlp
from mlp.errors import MLPError
from mlp.evaluation import evaluate, register_metric, unregister_metric

rng = np.random.default_rng(0)


def test_binary_metrics_match_sklearn():
    y = rng.integers(0, 2, 500)
    s = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    out = mlp.evaluate(y, s, threshold=0.6)
    pred = (s >= 0.6).astype(int)
    assert out["auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert out["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert out["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert out["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert out["log_loss"] == pytest.approx(skm.log_loss(y, s))


def test_binary_accepts_predict_proba_matrix():
    y = rng.integers(0, 2, 100)
    p1 = rng.random(100)
    out = evaluate(y, np.column_stack([1 - p1, p1]), task="binary")
    assert out["auc"] == pytest.approx(skm.roc_auc_score(y, p1))


def test_multiclass_metrics_match_sklearn():
    y = rng.integers(0, 3, 300)
    raw = rng.random((300, 3)) + np.eye(3)[y]
    proba = raw / raw.sum(axis=1, keepdims=True)
    out = evaluate(y, proba)
    pred = proba.argmax(axis=1)
    assert out["auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert out["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert out["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_regression_metrics_match_sklearn():
    y = rng.normal(size=200) * 5
    p = y + rng.normal(size=200)
    out = evaluate(y, p)
    assert set(out) == {"mse", "rmse", "mae", "r2"}
    assert out["mse"] == pytest.approx(skm.mean_squared_error(y, p))
    assert out["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)))
    assert out["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert out["r2"] == pytest.approx(skm.r2_score(y, p))


def test_custom_metric_registered_and_selected():
    @register_metric("top_half_rate", tasks="binary")
    def top_half_rate(y_true, y_score, _pred):
        return float(y_true[y_score >= np.median(y_score)].mean())

    try:
        y = np.array([0, 0, 1, 1])
        out = evaluate(y, np.array([0.1, 0.2, 0.8, 0.9]), metrics=["auc", "top_half_rate"])
        assert out == {"auc": 1.0, "top_half_rate": 1.0}
    finally:
        unregister_metric("top_half_rate")
    with pytest.raises(MLPError, match="no binary metric 'top_half_rate'"):
        evaluate(y, np.array([0.1, 0.2, 0.8, 0.9]), metrics=["top_half_rate"])


@pytest.mark.parametrize(
    ("y_true", "y_score", "kwargs", "message"),
    [
        ([0, 1, 1], [0.2, 0.4], {}, "3 rows but y_score has 2"),
        ([0, 1], [0.2, float("nan")], {}, "NaN"),
        ([0, 1], [0.2, 0.4], {"task": "ranking"}, "unknown task 'ranking'"),
        ([0, 1], [0.2, 0.4], {"threshold": 2.0}, "outside"),
        ([1, 1], [0.2, 0.4], {"task": "binary"}, "one class only"),
        ([0, 1, 2], [0.2, 0.4, 0.3], {"task": "multiclass"}, "n_classes"),
        ([], [], {}, "empty"),
    ],
)
def test_bad_inputs_name_the_problem(y_true, y_score, kwargs, message):
    with pytest.raises(MLPError, match=message):
        evaluate(np.array(y_true), np.array(y_score, dtype=float), **kwargs)


def test_import_mlp_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, mlp; print('sklearn' in sys.modules); "
        "mlp.evaluate([0, 1], [0.1, 0.9]); print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
