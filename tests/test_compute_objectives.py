"""Objectives registry: gradients/hessians against finite differences, LightGBM and torch use."""

from importlib import metadata

import lightgbm as lgb
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

import mlp.objectives
from mlp.errors import MLPError
from mlp.objectives import ObjectiveSpec

CASES = [
    ("focal", {"gamma": 2.0}),
    ("focal", {"gamma": 0.5, "alpha": 0.25}),
    ("focal", {"gamma": 0.0}),
    ("weighted_logloss", {"pos_weight": 3.0, "neg_weight": 0.5}),
]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_grad_and_hess_match_finite_differences(name, params):
    obj = mlp.objectives.get(name, **params)
    rng = np.random.default_rng(0)
    z = rng.uniform(-4, 4, 200)
    y = rng.integers(0, 2, 200).astype(float)
    h = 1e-5
    grad, hess = obj.grad_hess(y, z)
    num_grad = (obj.loss(y, z + h) - obj.loss(y, z - h)) / (2 * h)
    g_plus, _ = obj.grad_hess(y, z + h)
    g_minus, _ = obj.grad_hess(y, z - h)
    num_hess = (g_plus - g_minus) / (2 * h)
    np.testing.assert_allclose(grad, num_grad, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hess, num_hess, rtol=1e-4, atol=1e-6)
    # second difference of the loss itself, independent of grad_hess
    num_hess2 = (obj.loss(y, z + 1e-4) - 2 * obj.loss(y, z) + obj.loss(y, z - 1e-4)) / 1e-8
    np.testing.assert_allclose(hess, num_hess2, rtol=1e-3, atol=1e-4)


def test_focal_with_gamma_zero_is_log_loss():
    z = np.linspace(-3, 3, 13)
    y = (z > 0.5).astype(float)
    grad, hess = mlp.objectives.get("focal", gamma=0).grad_hess(y, z)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(grad, p - y, atol=1e-12)
    np.testing.assert_allclose(hess, p * (1 - p), atol=1e-12)


def _data():
    X, y = make_classification(
        n_samples=4000, n_features=10, weights=[0.9, 0.1], random_state=1, n_informative=5
    )
    return X[:3000], y[:3000], X[3000:], y[3000:]


@pytest.mark.parametrize(("name", "params"), CASES[:1] + CASES[3:])
def test_lightgbm_trains_with_the_objective_both_apis(name, params):
    X, y, Xv, yv = _data()
    obj = mlp.objectives.get(name, **params)
    booster = lgb.train(
        {"objective": obj, "verbosity": -1, "num_threads": 1},
        lgb.Dataset(X, y),
        num_boost_round=50,
        valid_sets=[lgb.Dataset(Xv, yv)],
        feval=obj.metric,
    )
    auc = roc_auc_score(yv, obj.predict_proba(booster.predict(Xv, raw_score=True)))
    assert auc > 0.85
    clf = lgb.LGBMClassifier(objective=obj, n_estimators=50, verbosity=-1, n_jobs=1).fit(X, y)
    assert roc_auc_score(yv, clf.predict(Xv, raw_score=True)) > 0.85


def test_torch_losses_match_numpy_twins():
    rng = np.random.default_rng(2)
    z = rng.normal(size=64)
    y = rng.integers(0, 2, 64).astype(float)
    for name, params in CASES:
        loss = mlp.objectives.get(name, framework="torch", **params)
        assert isinstance(loss, torch.nn.Module)
        expected = mlp.objectives.get(name, **params).loss(y, z).mean()
        got = loss(torch.tensor(z), torch.tensor(y)).item()
        assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: mlp.objectives.get("nope"), "unknown objective 'nope'; known: focal"),
        (lambda: mlp.objectives.get("focal", beta=1), "it takes \\(gamma=2.0, alpha=None\\)"),
        (lambda: mlp.objectives.get("focal", gamma=-1), "gamma must be >= 0"),
        (lambda: mlp.objectives.get("focal", alpha=2), "alpha must be between 0 and 1"),
        (lambda: mlp.objectives.get("weighted_logloss", pos_weight=0), "must be > 0"),
        (lambda: mlp.objectives.get("focal", framework="jax"), "has no 'jax' version"),
    ],
)
def test_bad_objective_requests_are_one_line_errors(call, needle):
    with pytest.raises(MLPError, match=needle):
        call()


class _Squared(mlp.objectives.BinaryObjective):
    name = "squared"

    def loss(self, y, z):
        return 0.5 * (z - y) ** 2

    def grad_hess(self, y, z):
        return z - y, np.ones_like(z)


SPEC = ObjectiveSpec("squared", "squared error on raw scores", {"lightgbm": _Squared})


def test_entry_points_extend_the_registry(monkeypatch):
    ep = metadata.EntryPoint("squared", f"{__name__}:SPEC", mlp.objectives.ENTRY_POINT_GROUP)
    real = metadata.entry_points

    def fake_entry_points(**kw):
        if kw.get("group") == mlp.objectives.ENTRY_POINT_GROUP:
            return metadata.EntryPoints([ep])
        return real(**kw)

    monkeypatch.setattr(metadata, "entry_points", fake_entry_points)
    assert "squared" in mlp.objectives.available()
    obj = mlp.objectives.get("squared")
    assert isinstance(obj, _Squared)
    assert mlp.objectives.available()["squared"].source == f"{__name__}:SPEC"
