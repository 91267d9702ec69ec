"""``%mlp model``: save, list, show, compare, delete, build, serve, stop, logs."""

from __future__ import annotations

import argparse
import html
import json
from typing import Any

from mlp.errors import MLPError
from mlp_magics.registry import MagicArgumentParser, subcommand

ACTIONS = "save|list|show|compare|delete|build|serve|servers|stop|logs"


class Table:
    """Rows of dicts shown as a text or HTML table."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str], empty: str) -> None:
        self.rows, self.columns, self.empty = rows, columns, empty

    def _cells(self, row: dict[str, Any]) -> list[str]:
        out = []
        for c in self.columns:
            v = row.get(c)
            if isinstance(v, float):
                v = f"{v:.6g}"
            elif isinstance(v, dict):
                v = ", ".join(
                    f"{k}={x:.4g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items()
                )
            out.append("" if v is None else str(v))
        return out

    def __repr__(self) -> str:
        if not self.rows:
            return self.empty
        cells = [self.columns] + [self._cells(r) for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        return "\n".join(
            "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            for row in cells
        )

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>{html.escape(self.empty)}</p>"
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in self._cells(r))
            + "</tr>"
            for r in self.rows
        )
        return f"<table class='mlp-models'><tr>{head}</tr>{body}</table>"


class Details:
    """One model's full description (JSON text; HTML key/value table)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info

    def __repr__(self) -> str:
        return json.dumps(self.info, indent=2, default=str)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left;vertical-align:top'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><pre style='margin:0'>"
            f"{html.escape(v if isinstance(v, str) else json.dumps(v, indent=1, default=str))}"
            "</pre></td></tr>"
            for k, v in self.info.items()
        )
        return f"<table class='mlp-model'>{rows}</table>"


def _args(parser: MagicArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar=ACTIONS)
    save = sub.add_parser("save", help="save a model into your registry")
    save.add_argument("obj", help="variable holding the model")
    save.add_argument("--name", required=True, help="model name, e.g. churn-lgbm")
    save.add_argument("--metrics", help="variable holding a metrics dict (%%mlp evaluate --name)")
    save.add_argument("--stats", help="training-data stats: a file path or a variable")
    save.add_argument("--signature", help="variable with a few rows of input (sets the schema)")
    save.add_argument(
        "--preprocess", help="function or fitted transformer applied before the model"
    )
    save.add_argument("--task", choices=("binary", "multiclass", "regression"))
    save.add_argument("--nullable", help="comma-separated columns that may be NaN online")
    lst = sub.add_parser("list", help="list model versions (newest first)")
    lst.add_argument("name", nargs="?", help="only this model")
    lst.add_argument("--all", action="store_true", help="every user's models (admins)")
    show = sub.add_parser("show", help="everything about one model version")
    show.add_argument("tag", help="NAME or NAME:VERSION")
    cmp = sub.add_parser("compare", help="two model versions' metrics side by side")
    cmp.add_argument("a")
    cmp.add_argument("b")
    delete = sub.add_parser("delete", help="delete a model version")
    delete.add_argument("tag", help="NAME:VERSION (a bare NAME deletes its latest version)")
    build = sub.add_parser("build", help="build a bento for a model, offline")
    build.add_argument("tag")
    serve = sub.add_parser("serve", help="serve a model in the background on 127.0.0.1")
    serve.add_argument("tag")
    serve.add_argument("--port", type=int, help="default: a free port")
    serve.add_argument("--max-rows", type=int, help="largest batch accepted (default 10000)")
    serve.add_argument("--workers", type=int, help="worker processes, one model each (default 1)")
    sub.add_parser("servers", help="list running model servers")
    stop = sub.add_parser("stop", help="stop a model server (port, pid or model tag)")
    stop.add_argument("target")
    logs = sub.add_parser("logs", help="last lines of a model server's log")
    logs.add_argument("target")
    logs.add_argument("-n", "--lines", type=int, default=40)


def _var(shell: Any, expr: str | None, what: str) -> Any:
    if expr is None:
        return None
    try:
        return shell.ev(expr)
    except Exception as exc:
        raise MLPError(f"cannot evaluate {what} {expr!r}: {type(exc).__name__}: {exc}") from None


def _stats(shell: Any, value: str | None) -> Any:
    if value is None:
        return None
    from pathlib import Path

    if Path(value).expanduser().is_file():
        return value
    return _var(shell, value, "--stats")


def _list_columns(rows: list[dict[str, Any]]) -> list[str]:
    cols = ["tag", "framework", "created", "metrics"]
    if len({r["user"] for r in rows}) > 1:
        cols.insert(1, "user")
    return cols


@subcommand("model", f"model registry and serving: {ACTIONS}", _args)
def model_command(shell: Any, args: argparse.Namespace, _cell: str | None) -> Any:
    """Dispatch ``%mlp model ACTION`` to :mod:`bentos.registry` / :mod:`bentos.serving`."""
    from bentos import registry, serving

    if args.action == "save":
        obj = _var(shell, args.obj, "model")
        metrics = _var(shell, args.metrics, "--metrics")
        if metrics is not None and not isinstance(metrics, dict):
            raise MLPError(f"--metrics {args.metrics} is a {type(metrics).__name__}, not a dict")
        info = registry.save(
            obj,
            args.name,
            metrics=metrics,
            stats=_stats(shell, args.stats),
            signature=_var(shell, args.signature, "--signature"),
            preprocess=_var(shell, args.preprocess, "--preprocess"),
            task=args.task,
            nullable=[c.strip() for c in args.nullable.split(",")] if args.nullable else None,
        )
        print(f"saved {info['tag']}")
        return Details(info)
    if args.action == "list":
        rows = registry.list_models(args.name, all_users=args.all)
        return Table(rows, _list_columns(rows), "no models yet: save one with %mlp model save")
    if args.action == "show":
        return Details(registry.show(args.tag))
    if args.action == "compare":
        result = registry.compare(args.a, args.b)
        rows = [
            {"metric": r["metric"], result["a"]: r["a"], result["b"]: r["b"], "b - a": r["diff"]}
            for r in result["metrics"]
        ]
        return Table(rows, ["metric", result["a"], result["b"], "b - a"], "no metrics recorded")
    if args.action == "delete":
        print(f"deleted {registry.delete(args.tag)}")
        return None
    if args.action == "build":
        bento = serving.build(args.tag)
        print(f"built bento {bento['tag']} for model {bento['model']}")
        return Details(bento)
    if args.action == "serve":
        entry = serving.serve(
            args.tag, port=args.port, workers=args.workers, max_rows=args.max_rows
        )
        print(f"serving {entry['model']} at {entry['url']} (stop: %mlp model stop {entry['port']})")
        return None
    if args.action == "servers":
        return Table(
            serving.list_servers(),
            ["model", "url", "pid", "workers", "started", "log"],
            "no model servers running",
        )
    if args.action == "stop":
        entry = serving.stop(args.target)
        print(f"stopped {entry['model']} on port {entry['port']}")
        return None
    print(serving.logs(args.target, lines=args.lines))
    return None
