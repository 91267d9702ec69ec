"""Inside a pipeline node: record outputs that dependent nodes receive as ``upstream``.

>>> import mlp.pipeline
>>> mlp.pipeline.output("auc", 0.93)   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

OUTPUTS_FILE = "outputs.json"


def run_dir() -> Path:
    """The current run's directory (``MLP_RUN_DIR``; the working directory outside a run)."""
    return Path(os.environ.get("MLP_RUN_DIR") or ".").resolve()


def output(name: str, value: Any) -> None:
    """Record ``value`` (JSON-serialisable) under ``name`` for dependent nodes.

    Raises
    ------
    TypeError
        If ``value`` cannot be stored as JSON.
    """
    path = run_dir() / OUTPUTS_FILE
    data = json.loads(path.read_text()) if path.exists() else {}
    try:
        json.dumps(value)
    except TypeError:
        raise TypeError(
            f"output {name!r} must be JSON-serialisable; write files into MLP_RUN_DIR instead"
        ) from None
    data[name] = value
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def outputs() -> dict[str, Any]:
    """Everything recorded so far in this run."""
    path = run_dir() / OUTPUTS_FILE
    return json.loads(path.read_text()) if path.exists() else {}
