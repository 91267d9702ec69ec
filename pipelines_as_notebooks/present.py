"""Text shared by the pipelines front ends (``%mlp run``, ``mlp pipeline``): parsing and tables."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from mlp.errors import MLPError


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["lr=0.1", "name=x"]`` -> ``{"lr": 0.1, "name": "x"}`` (values read as YAML scalars).

    Raises
    ------
    MLPError
        For an item without ``=``.
    """
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise MLPError(f"parameter {item!r} is not KEY=VALUE (e.g. -p lr=0.1)")
        try:
            params[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            params[key.strip()] = raw
    return params


def user_root() -> Path:
    """The root of the current user's files (their server's root directory)."""
    return Path(os.environ.get("MLP_USER_ROOT") or os.environ.get("HOME") or ".").resolve()


def to_root_relative(path: str) -> str:
    """A path typed in a notebook or terminal, made relative to the user's root."""
    full = Path(path).expanduser()
    full = full if full.is_absolute() else Path.cwd() / full
    root = user_root()
    try:
        return str(full.resolve().relative_to(root))
    except ValueError:
        raise MLPError(f"{path!r} is outside your files ({root})") from None


def _duration(run: dict[str, Any]) -> str:
    return f"{run['duration']:.1f}s" if run.get("duration") is not None else ""


def format_runs(runs: list[dict[str, Any]]) -> str:
    """A table of runs, newest first."""
    if not runs:
        return "no runs"
    rows = [("ID", "KIND", "STATUS", "TARGET", "PROGRESS", "STARTED", "DURATION")]
    for r in runs:
        prog = r.get("progress") or {}
        progress = f"{prog.get('done', 0)}/{prog.get('total', 0)}" if prog.get("total") else ""
        rows.append(
            (r["id"], r["kind"], r["status"], r["target"], progress,
             (r.get("started") or "")[:19], _duration(r))
        )  # fmt: skip
    return _table(rows)


def format_run(run: dict[str, Any]) -> str:
    """One run, with its nodes and why each ran or was skipped."""
    lines = [
        f"run {run['id']} ({run['kind']} {run['target']}): {run['status']}"
        + (f" in {_duration(run)}" if run.get("duration") is not None else "")
    ]
    if run.get("error"):
        lines.append(f"  error: {run['error']}")
    if run.get("output_path"):
        lines.append(f"  output: {run['output_path']}")
    nodes = [n for n in run.get("nodes", []) if n.get("kind") == "node"]
    if nodes:
        rows = [("NODE", "STATUS", "DURATION", "WHY")]
        rows += [
            (n["node"], n["status"], _duration(n), n.get("reason") or n.get("error") or "")
            for n in nodes
        ]
        lines += ["  " + line for line in _table(rows).splitlines()]
    return "\n".join(lines)


def format_schedules(schedules: list[dict[str, Any]]) -> str:
    """A table of schedules."""
    if not schedules:
        return "no schedules"
    rows = [("ID", "NAME", "TARGET", "WHEN", "TZ", "NEXT", "STATE")]
    for s in schedules:
        when = s["cron"] or f"every {s['interval_seconds']}s"
        rows.append(
            (s["id"], s["name"], s["target"], when, s["timezone"], (s.get("next_fire") or "")[:19],
             "paused" if s["paused"] else "active")
        )  # fmt: skip
    return _table(rows)


def _table(rows: Sequence[Sequence[Any]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )
