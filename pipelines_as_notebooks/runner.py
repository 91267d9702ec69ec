"""Execute one notebook with papermill in a fresh kernel (``python -m ...runner``).

The executor starts this module as a subprocess (its own process group) so that
cancel and timeout can kill the runner and its kernel together. It writes
``result.json`` into the run directory: status and, on failure, the cell and the
exception.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

RESULT_FILE = "result.json"


def execute(
    notebook: Path,
    output: Path,
    run_dir: Path,
    cwd: Path,
    parameters: dict[str, Any],
    kernel: str | None,
) -> dict[str, Any]:
    """Run ``notebook`` into ``output``; return the result record (never raises)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    os.environ["MLP_RUN_DIR"] = str(run_dir)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=kernel,
            cwd=str(cwd),
            progress_bar=False,
            log_output=True,
            request_save_on_cell_execute=True,
            start_timeout=120,
        )
    except PapermillExecutionError as exc:
        cell = _source_cell_number(output, exc.cell_index)
        return {
            "status": "failed",
            "error": f"cell {cell} (execution {exc.exec_count}): {exc.ename}: {exc.evalue}",
        }
    except Exception as exc:  # a dead kernel, a missing kernel spec, a bad notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"status": "failed", "error": f"{type(exc).__name__}: {first}"[:500]}
    return {"status": "succeeded", "error": None}


def _source_cell_number(output: Path, index: int) -> int:
    """1-based number of the failing cell in the user's notebook.

    papermill counts the cell it injects for the parameters; the user's notebook
    does not have it, so it is not counted.
    """
    try:
        cells = json.loads(output.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return index + 1
    injected = sum(
        1 for c in cells[:index] if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    )
    return index + 1 - injected


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, execute, write ``result.json``."""
    parser = argparse.ArgumentParser(prog="pipelines_as_notebooks.runner")
    parser.add_argument("--notebook", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--cwd", required=True, type=Path)
    parser.add_argument("--parameters", default="{}")
    parser.add_argument("--kernel", default=None)
    args = parser.parse_args(argv)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = execute(
            args.notebook,
            args.output,
            args.run_dir,
            args.cwd,
            json.loads(args.parameters),
            args.kernel,
        )
    except BaseException:  # keep a record whatever happens
        result = {"status": "failed", "error": traceback.format_exc().splitlines()[-1]}
    (args.run_dir / RESULT_FILE).write_text(json.dumps(result))
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
