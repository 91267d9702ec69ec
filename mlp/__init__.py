"""MLP shared core: configuration, storage, the MLP service and its client."""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``mlp.evaluate`` (see :func:`mlp.evaluation.evaluate`), imported on first use."""
    # Lazy so that ``import mlp`` does not pull in scikit-learn.
    if name == "evaluate":
        from mlp.evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'mlp' has no attribute {name!r}")
