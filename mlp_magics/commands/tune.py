"""``%mlp tune OBJECTIVE --trials N``: Optuna trials on this kernel's Dask cluster."""

from __future__ import annotations

import argparse
import html
from typing import Any

from mlp.compute import dask_cluster, tune
from mlp.compute.resources import positive_int
from mlp.errors import MLPError
from mlp_magics.registry import MagicArgumentParser, subcommand


def _count(text: str) -> int:
    try:
        return positive_int(text, "the count")
    except MLPError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument("objective", help="name of a function objective(trial) -> float")
    parser.add_argument("--trials", type=_count, required=True)
    parser.add_argument("--direction", choices=tune.DIRECTIONS, default="minimize")
    parser.add_argument("--timeout", type=_seconds, default=None, help="seconds")
    parser.add_argument("--sequential", action="store_true", help="ignore the Dask cluster")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed")
    parser.add_argument("--as", dest="var", default="study", help="variable for the study")


class TrialTable:
    """Live HTML table of trials and the best so far."""

    def __init__(self, direction: str) -> None:
        from IPython.display import display

        self.direction = direction
        self.rows: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.handle = display(self, display_id=True)

    def update(self, study: Any) -> None:
        """Refresh the rows and the best trial from ``study`` and redraw."""
        self.rows = tune.trials_table(study)
        done = [r for r in self.rows if r["state"] == "COMPLETE"]
        if done:
            pick = min if self.direction == "minimize" else max
            self.best = pick(done, key=lambda r: r["value"])
        if self.handle is not None:
            self.handle.update(self)

    def __repr__(self) -> str:
        best = (
            f"best #{self.best['number']}: {self.best['value']:.6g} {self.best['params']}"
            if self.best
            else "no finished trial yet"
        )
        return f"{len(self.rows)} trials; {best}"

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{r['number']}</td><td>{r['state']}</td>"
            f"<td>{_fmt(r['value'])}</td>"
            f"<td>{html.escape(str(r['params']))}</td></tr>"
            for r in self.rows[-20:]
        )
        return (
            f"<p>{html.escape(repr(self))}</p><table class='mlp-tune'>"
            f"<tr><th>#</th><th>state</th><th>value</th><th>params</th></tr>{body}</table>"
        )


@subcommand("tune", "hyperparameter search with Optuna, parallel on the Dask cluster", _args)
def tune_command(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    """Run the study and put it in the namespace (``study`` or ``--as``)."""
    objective = shell.user_ns.get(args.objective)
    if not callable(objective):
        raise MLPError(
            f"no function {args.objective!r} in the namespace; define "
            f"def {args.objective}(trial): ... returning a number"
        )
    if not args.var.isidentifier():
        raise MLPError(f"--as {args.var!r} is not a Python variable name")
    client = None
    if not args.sequential and dask_cluster.status():
        client = dask_cluster.get().client
    table = TrialTable(args.direction)
    study = tune.run_study(
        objective,
        trials=args.trials,
        direction=args.direction,
        timeout=args.timeout,
        client=client,
        on_update=table.update,
        seed=args.seed,
    )
    table.update(study)
    shell.user_ns[args.var] = study
    where = "on the Dask cluster" if client is not None else "sequentially"
    print(f"{len(study.trials)} trials {where}; study in `{args.var}`")
    return None


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
