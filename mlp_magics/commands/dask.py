"""``%mlp dask up|status|scale|down``: a Dask cluster tied to this kernel."""

from __future__ import annotations

import argparse
import html
from typing import Any

from dask.utils import format_bytes

from mlp.compute import dask_cluster
from mlp.compute.resources import parse_memory, positive_int
from mlp.errors import MLPError
from mlp_magics.registry import MagicArgumentParser, subcommand


def _count(text: str) -> int:
    try:
        return positive_int(text, "the count")
    except MLPError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _memory(text: str) -> str:
    try:
        parse_memory(text)
    except MLPError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


class ClusterView:
    """Rich display of one or more clusters (text and HTML)."""

    def __init__(self, infos: list[dict[str, Any]], note: str = "") -> None:
        self.infos = infos
        self.note = note

    def __repr__(self) -> str:
        if not self.infos:
            return self.note or "no Dask cluster in this kernel; start one with %mlp dask up"
        lines = [self.note] if self.note else []
        for i in self.infos:
            lines.append(
                f"{i['name']} [{i['backend']}] {i['workers']} workers, {i['threads']} threads, "
                f"{format_bytes(i['memory_bytes'])}; scheduler {i['scheduler']}; "
                f"dashboard {i['dashboard']}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.infos:
            return f"<p>{html.escape(repr(self))}</p>"
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    i["name"],
                    i["backend"],
                    i["workers"],
                    i["threads"],
                    format_bytes(i["memory_bytes"]),
                )
            )
            + f"<td><a href='{html.escape(i['dashboard'] or '')}' target='_blank'>"
            f"{html.escape(i['dashboard'] or '')}</a></td></tr>"
            for i in self.infos
        )
        head = "".join(
            f"<th>{h}</th>"
            for h in ("name", "backend", "workers", "threads", "memory", "dashboard")
        )
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return f"{note}<table class='mlp-dask'><tr>{head}</tr>{rows}</table>"


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument("action", choices=["up", "status", "scale", "down"])
    parser.add_argument("value", nargs="?", help="scale: worker count; down: cluster name")
    parser.add_argument("--workers", type=_count, help="workers (default: the profile's cores)")
    parser.add_argument("--threads-per-worker", type=_count, help="threads per worker (1)")
    parser.add_argument("--memory-limit", type=_memory, help="memory per worker, e.g. 4GiB")
    parser.add_argument("--name", default=None, help="cluster name (default: default)")
    parser.add_argument("--as", dest="var", default="client", help="variable for the Client")
    parser.add_argument("--backend", choices=dask_cluster.BACKENDS, default="local")


@subcommand("dask", "start, show, scale or stop a Dask cluster tied to this kernel", _args)
def dask_command(shell: Any, args: argparse.Namespace, _cell: str | None) -> ClusterView:
    """Dispatch ``up``/``status``/``scale``/``down`` to :mod:`mlp.compute.dask_cluster`."""
    if args.action == "up":
        if args.value:
            raise MLPError(f"%mlp dask up takes no positional value ({args.value!r}); use --name")
        handle = dask_cluster.up(
            name=args.name or "default",
            workers=args.workers,
            threads=args.threads_per_worker,
            memory_limit=args.memory_limit,
            backend=args.backend,
        )
        if not args.var.isidentifier():
            raise MLPError(f"--as {args.var!r} is not a Python variable name")
        shell.user_ns[args.var] = handle.client
        return ClusterView([handle.info()], f"Client in `{args.var}`")
    if args.action == "status":
        return ClusterView(dask_cluster.status())
    if args.action == "scale":
        if args.value is None:
            raise MLPError("usage: %mlp dask scale N [--name NAME]")
        handle = dask_cluster.scale(positive_int(args.value, "workers"), args.name)
        return ClusterView([handle.info()])
    names = dask_cluster.down(args.value or args.name)
    return ClusterView([], f"stopped: {', '.join(names)}" if names else "no cluster to stop")
