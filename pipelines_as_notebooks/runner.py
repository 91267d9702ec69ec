"""Execute one notebook with papermill in a fresh kernel (``python -m ...runner``).

The executor starts this module as a subprocess (its own process group) so that
cancel and timeout can kill the runner and its kernel together. It writes
``result.json`` into the run directory: status and, on failure, the cell and the
exception.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
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
    km: Any = None,
) -> dict[str, Any]:
    """Run ``notebook`` into ``output``; return the result record (never raises).

    ``km`` is an already started kernel manager (a pre-started kernel), else papermill
    starts a fresh kernel.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    os.environ["MLP_RUN_DIR"] = str(run_dir)
    extra: dict[str, Any] = {"km": km} if km is not None else {}
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
            **extra,
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


def _kill_children_on_term() -> None:
    """On SIGTERM take the kernel (in a session of its own) down with the runner."""

    def handler(_signum: int, _frame: object) -> None:
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        os._exit(143)

    signal.signal(signal.SIGTERM, handler)


def warm(kernel: str) -> int:
    """Pre-start a kernel, say READY, then run the one job read from stdin.

    The executor keeps a few of these waiting so that a short notebook does not pay
    for interpreter start-up, imports and a kernel start. Each one runs exactly one
    notebook, so runs stay isolated from each other.
    """
    import papermill  # noqa: F401 - imported now, before the job arrives
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernel)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        print("READY", flush=True)
        line = sys.stdin.readline()
        if not line.strip():
            return 0  # the pool was closed
        job = json.loads(line)
        run_dir = Path(job["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / "log.txt", "ab") as log:  # from now on, log like a cold run
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        env = {"MLP_RUN_DIR": job["run_dir"], **job.get("env", {})}
        setup = f"import os\nos.chdir({job['cwd']!r})\nos.environ.update({env!r})"
        reply = kc.execute_interactive(setup, silent=True, store_history=False, timeout=60)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("could not prepare the pre-started kernel")
        kc.stop_channels()
        result = execute(
            Path(job["notebook"]), Path(job["output"]), run_dir, Path(job["cwd"]),
            job.get("parameters", {}), kernel, km=km,
        )  # fmt: skip
        (run_dir / RESULT_FILE).write_text(json.dumps(result))
        return 0 if result["status"] == "succeeded" else 1
    finally:
        km.shutdown_kernel(now=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, execute, write ``result.json``."""
    _kill_children_on_term()
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--warm":
        return warm(sys.argv[2])
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
