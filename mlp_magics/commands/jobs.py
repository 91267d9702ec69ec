"""``%mlp jobs``, ``%mlp jobs logs ID``, ``%mlp jobs cancel ID``: this user's jobs and clusters."""

from __future__ import annotations

import argparse
import datetime as dt
import html
from typing import Any

from mlp.compute.jobs import JobStore
from mlp.errors import MLPError
from mlp_magics.registry import MagicArgumentParser, subcommand

COLUMNS = ("id", "kind", "name", "backend", "status", "started", "duration")


class JobTable:
    """The user's jobs as a text and an HTML table."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def _cells(self, row: dict[str, Any]) -> list[str]:
        started = dt.datetime.fromtimestamp(row["started"]).strftime("%Y-%m-%d %H:%M:%S")
        return [
            row["id"],
            row["kind"],
            row["name"],
            row["backend"],
            row["status"],
            started,
            f"{row['duration_s']:.1f}s",
        ]

    def __repr__(self) -> str:
        if not self.rows:
            return "no jobs yet (%mlp dask up, %%mlp lightning and %mlp tune start them)"
        table = [list(COLUMNS)] + [self._cells(r) for r in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in table
        )

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(r)) + "</tr>"
            for r in self.rows
        )
        return f"<table class='mlp-jobs'><tr>{head}</tr>{body}</table>"


class LogText(str):
    """Log text shown as is."""

    def __repr__(self) -> str:
        return str(self)


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["list", "logs", "cancel"], default="list")
    parser.add_argument("id", nargs="?", help="job id (from %mlp jobs)")
    parser.add_argument("--tail", type=int, default=None, help="logs: only the last N lines")


@subcommand("jobs", "list your jobs and clusters; show a job's log; cancel a job", _args)
def jobs_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    """List, show logs of, or cancel jobs from the user's job store."""
    store = JobStore()
    if args.action == "list":
        return JobTable([r.to_dict() for r in store.list()])
    if not args.id:
        raise MLPError(f"usage: %mlp jobs {args.action} ID  (%mlp jobs lists the ids)")
    if args.action == "logs":
        return LogText(store.logs(args.id, tail=args.tail) or f"job {args.id} has no log yet")
    rec = store.cancel(args.id)
    return LogText(f"job {rec.id} {rec.status}")
