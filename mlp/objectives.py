"""Named training objectives for LightGBM and losses for PyTorch Lightning.

``mlp.objectives.get("focal", gamma=2)`` returns an object usable as a LightGBM
objective (``lgb.train(params={"objective": obj})``, ``LGBMClassifier(objective=obj)``
and ``lightgbm.dask.DaskLGBMClassifier(objective=obj)``), and
``get("focal", framework="torch", gamma=2)`` the matching ``torch.nn.Module`` loss.

Third-party packages add objectives with an entry point in the group
``mlp.objectives`` whose target is an :class:`ObjectiveSpec` (or a callable that
returns one)::

    [options.entry_points]
    mlp.objectives =
        my_loss = my_package.losses:SPEC
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from mlp.errors import MLPError

ENTRY_POINT_GROUP = "mlp.objectives"
FRAMEWORKS = ("lightgbm", "torch")
#: Hessians below this are clipped when LightGBM calls an objective: focal loss is
#: not convex for confidently wrong predictions, and boosting needs positive curvature.
MIN_HESSIAN = 1e-6


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


class BinaryObjective:
    """A binary-classification objective on raw scores (logits) for LightGBM.

    Subclasses implement :meth:`loss` and :meth:`grad_hess` (exact derivatives
    with respect to the raw score). Calling the object follows both LightGBM
    conventions: ``obj(preds, dataset)`` (``lgb.train``) and ``obj(y_true, y_pred)``
    (scikit-learn and Dask estimators).
    """

    name = "binary"

    def loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Per-sample loss for labels ``y`` in {0, 1} and raw scores ``z``."""
        raise NotImplementedError

    def grad_hess(self, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and second derivative of :meth:`loss` with respect to ``z``."""
        raise NotImplementedError

    def __call__(self, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """LightGBM entry point: ``(preds, Dataset)`` or ``(y_true, y_pred)``."""
        if hasattr(b, "get_label"):  # lgb.train passes (preds, Dataset)
            z, y, weight = np.asarray(a, dtype=float), b.get_label(), b.get_weight()
        else:
            y, z, weight = a, np.asarray(b, dtype=float), None
        grad, hess = self.grad_hess(np.asarray(y, dtype=float), z)
        hess = np.maximum(hess, MIN_HESSIAN)
        if weight is not None:
            grad, hess = grad * weight, hess * weight
        return grad, hess

    def metric(self, preds: np.ndarray, data: Any) -> tuple[str, float, bool]:
        """LightGBM ``feval``: mean loss on a validation ``Dataset`` (lower is better)."""
        return self.name, float(np.mean(self.loss(data.get_label(), np.asarray(preds)))), False

    @staticmethod
    def predict_proba(raw_score: np.ndarray) -> np.ndarray:
        """Turn raw scores (``predict(X, raw_score=True)``) into probabilities of class 1."""
        return _sigmoid(np.asarray(raw_score, dtype=float))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class FocalLoss(BinaryObjective):
    """Binary focal loss (Lin et al. 2017) on raw scores.

    ``L = -a*y*(1-p)**gamma*log(p) - (1-a)*(1-y)*p**gamma*log(1-p)``, ``p = sigmoid(z)``;
    ``alpha=None`` weighs both classes 1. ``gamma=0`` is the log loss.
    """

    name = "focal"

    def __init__(self, gamma: float = 2.0, alpha: float | None = None) -> None:
        if gamma < 0:
            raise MLPError(f"focal: gamma must be >= 0, got {gamma}")
        if alpha is not None and not 0 < alpha < 1:
            raise MLPError(f"focal: alpha must be between 0 and 1, got {alpha}")
        self.gamma = float(gamma)
        self.alpha = alpha

    def _weights(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.alpha is None:
            return y, 1 - y
        return self.alpha * y, (1 - self.alpha) * (1 - y)

    def loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Per-sample focal loss."""
        g = self.gamma
        p = np.clip(_sigmoid(z), 1e-15, 1 - 1e-15)
        w1, w0 = self._weights(y)
        return -w1 * (1 - p) ** g * np.log(p) - w0 * p**g * np.log(1 - p)

    def grad_hess(self, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact gradient and hessian of :meth:`loss` with respect to ``z``."""
        g = self.gamma
        p = np.clip(_sigmoid(z), 1e-15, 1 - 1e-15)
        q = 1 - p
        log_p, log_q = np.log(p), np.log(q)
        # positive term f1(z) = -(1-p)^g log p;  negative term f0(z) = f1(-z) with p <-> q
        grad1 = q**g * (g * p * log_p - q)
        grad0 = p**g * (p - g * q * log_q)
        dgrad1_dp = -g * q ** (g - 1) * (g * p * log_p - q) + q**g * (g * log_p + g + 1)
        dgrad0_dq = -g * p ** (g - 1) * (g * q * log_q - p) + p**g * (g * log_q + g + 1)
        hess1 = dgrad1_dp * p * q
        hess0 = dgrad0_dq * p * q
        w1, w0 = self._weights(y)
        return w1 * grad1 + w0 * grad0, w1 * hess1 + w0 * hess0


class WeightedLogLoss(BinaryObjective):
    """Log loss with class weights: ``-w_pos*y*log(p) - w_neg*(1-y)*log(1-p)``."""

    name = "weighted_logloss"

    def __init__(self, pos_weight: float = 1.0, neg_weight: float = 1.0) -> None:
        if pos_weight <= 0 or neg_weight <= 0:
            raise MLPError("weighted_logloss: pos_weight and neg_weight must be > 0")
        self.pos_weight = float(pos_weight)
        self.neg_weight = float(neg_weight)

    def loss(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Per-sample weighted log loss."""
        p = np.clip(_sigmoid(z), 1e-15, 1 - 1e-15)
        return -self.pos_weight * y * np.log(p) - self.neg_weight * (1 - y) * np.log(1 - p)

    def grad_hess(self, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact gradient and hessian of :meth:`loss` with respect to ``z``."""
        p = _sigmoid(z)
        w = self.pos_weight * y + self.neg_weight * (1 - y)
        return self.pos_weight * y * (p - 1) + self.neg_weight * (1 - y) * p, w * p * (1 - p)


def _torch_focal(gamma: float = 2.0, alpha: float | None = None) -> Any:
    from mlp.torch_losses import BinaryFocalLoss

    FocalLoss(gamma, alpha)  # same validation as the LightGBM twin
    return BinaryFocalLoss(gamma=gamma, alpha=alpha)


def _torch_weighted(pos_weight: float = 1.0, neg_weight: float = 1.0) -> Any:
    from mlp.torch_losses import WeightedBCEWithLogits

    WeightedLogLoss(pos_weight, neg_weight)
    return WeightedBCEWithLogits(pos_weight=pos_weight, neg_weight=neg_weight)


@dataclass(frozen=True)
class ObjectiveSpec:
    """A named objective: one factory per framework it supports.

    Attributes
    ----------
    name
        Registry name, e.g. ``"focal"``.
    description
        One line shown by ``%mlp objectives``.
    factories
        ``framework -> callable(**params)`` returning the objective; frameworks are
        ``"lightgbm"`` (a LightGBM objective callable) and ``"torch"`` (an ``nn.Module``).
    source
        ``"builtin"`` or the entry point that provided it.
    """

    name: str
    description: str
    factories: dict[str, Callable[..., Any]] = field(default_factory=dict)
    source: str = "builtin"

    def params(self) -> str:
        """The parameters of the first factory, as ``name=default`` text."""
        factory = next(iter(self.factories.values()))
        return ", ".join(
            f"{p.name}={p.default!r}" if p.default is not p.empty else p.name
            for p in inspect.signature(factory).parameters.values()
        )


BUILTIN: dict[str, ObjectiveSpec] = {
    "focal": ObjectiveSpec(
        "focal",
        "binary focal loss: down-weights easy examples (imbalanced data)",
        {"lightgbm": FocalLoss, "torch": _torch_focal},
    ),
    "weighted_logloss": ObjectiveSpec(
        "weighted_logloss",
        "binary log loss with separate weights for positives and negatives",
        {"lightgbm": WeightedLogLoss, "torch": _torch_weighted},
    ),
}


def _entry_point_specs() -> dict[str, ObjectiveSpec]:
    found: dict[str, ObjectiveSpec] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        target = ep.load()
        spec = target if isinstance(target, ObjectiveSpec) else target()
        if not isinstance(spec, ObjectiveSpec):
            raise MLPError(f"entry point {ep.value} in {ENTRY_POINT_GROUP} is not an ObjectiveSpec")
        found[ep.name] = ObjectiveSpec(
            ep.name, spec.description, dict(spec.factories), source=ep.value
        )
    return found


def available() -> dict[str, ObjectiveSpec]:
    """All objectives: built-in ones, then those from entry points (which may override)."""
    return {**BUILTIN, **_entry_point_specs()}


def get(name: str, framework: str = "lightgbm", **params: Any) -> Any:
    """Build the objective ``name`` for ``framework`` with ``params``.

    Parameters
    ----------
    name
        Registry name (``%mlp objectives`` lists them).
    framework
        ``"lightgbm"`` (default) or ``"torch"``.
    **params
        The objective's parameters, e.g. ``gamma=2``.

    Raises
    ------
    MLPError
        Unknown name or framework, or parameters the objective does not take.
    """
    specs = available()
    spec = specs.get(name)
    if spec is None:
        raise MLPError(f"unknown objective {name!r}; known: {', '.join(sorted(specs))}")
    factory = spec.factories.get(framework)
    if factory is None:
        raise MLPError(
            f"objective {name!r} has no {framework!r} version; it has: {', '.join(spec.factories)}"
        )
    try:
        inspect.signature(factory).bind(**params)
    except TypeError as exc:
        raise MLPError(f"objective {name!r}: {exc}; it takes ({spec.params()})") from None
    return factory(**params)
