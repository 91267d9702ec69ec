"""``%mlp stats``: Facets Overview statistics of DataFrames or files, with drift."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from mlp.stats import DEFAULT_THRESHOLD, StatsResult, stats
from mlp_magics.registry import MagicArgumentParser, subcommand


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument(
        "datasets",
        nargs="+",
        metavar="DATASET",
        help="a DataFrame variable (pandas or Dask) or a .csv/.parquet path relative to the cwd",
    )
    parser.add_argument("--names", help="comma-separated dataset names (default: as written)")
    parser.add_argument(
        "--sample", type=int, metavar="N", help="use at most N random rows per dataset"
    )
    parser.add_argument("--target", metavar="COL", help="the label column: listed first")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"flag drift at PSI >= this value (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--save", metavar="PATH", help="write the statistics (.json, or .pb for the bare proto)"
    )


def resolve(shell: Any, token: str) -> Any:
    """A variable of the user's namespace, else a file path relative to the cwd."""
    namespace = getattr(shell, "user_ns", {}) or {}
    if token in namespace:
        return namespace[token]
    path = Path(token).expanduser()
    looks_like_path = os.sep in token or path.suffix != ""
    if path.exists() or looks_like_path:
        return str(path)  # missing files give a one-line error from mlp.stats
    raise UsageError(f"no variable or file named {token!r}: pass a DataFrame variable or a path")


def default_names(tokens: list[str]) -> list[str]:
    """Names as written: variable names, or file names without their suffix when distinct."""
    names = [Path(t).stem if ("." in t or os.sep in t) else t for t in tokens]
    return names if len(set(names)) == len(names) else list(tokens)


@subcommand(
    "stats",
    "Facets Overview statistics of DataFrames or .csv/.parquet files, with drift",
    _args,
)
def stats_command(shell: Any, args: argparse.Namespace, _cell: str | None) -> StatsResult:
    """Compute, optionally save, and return the statistics (they display themselves)."""
    objects = [resolve(shell, token) for token in args.datasets]
    if args.names:
        names = [n.strip() for n in args.names.split(",")]
    else:
        names = default_names(args.datasets)
    result = stats(objects, names, sample=args.sample, target=args.target, threshold=args.threshold)
    if args.save:
        saved = result.save(args.save)
        print(f"saved statistics to {saved}")
    return result
