"""Helpers for the pipelines tests: notebooks on disk and an engine driven tick by tick."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat

from pipelines_as_notebooks.engine import Engine
from pipelines_as_notebooks.store import FINAL

KERNEL = "mlp-lightgbm-dask"


def write_notebook(path: Path, params: str, *cells: str) -> Path:
    """A notebook with a tagged parameters cell followed by ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    pcell = nbformat.v4.new_code_cell(params)
    pcell.metadata["tags"] = ["parameters"]
    nb.cells = [pcell, *[nbformat.v4.new_code_cell(c) for c in cells]]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def drive(
    engine: Engine, user: str, run_id: str, timeout: float = 90, interval: float = 0.2
) -> dict[str, Any]:
    """Tick the engine until run ``run_id`` is final; return its record."""
    deadline = time.monotonic() + timeout
    while True:
        engine.tick()
        run = engine.get_run(user, False, run_id)
        if run["status"] in FINAL:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} not final after {timeout}s: {run}")
        time.sleep(interval)
