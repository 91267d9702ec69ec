"""``mlp pipeline ...``: the CLI twin of the pipelines magics (same service API)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from mlp.client import MLPClient
from pipelines_as_notebooks.present import (
    format_run,
    format_runs,
    format_schedules,
    parse_params,
    to_root_relative,
    user_root,
)

FINAL = {"succeeded", "failed", "cancelled", "timed_out", "skipped"}


def _wait(client: MLPClient, run: dict[str, Any]) -> dict[str, Any]:
    last = ""
    while run["status"] not in FINAL:
        time.sleep(1.0)
        run = client.run(run["id"])
        line = f"{run['status']} {run['progress']['done']}/{run['progress']['total']}"
        if line != last:
            print(line, flush=True)
            last = line
    return run


def cmd(args: argparse.Namespace) -> int:
    """Dispatch ``mlp pipeline ACTION``; exit 1 when a waited-for run did not succeed."""
    from pipelines_as_notebooks.spec import load_pipeline

    if args.action == "validate":
        pipeline = load_pipeline(Path(args.target), user_root())
        print(f"{args.target}: valid, nodes in order: {', '.join(pipeline.order())}")
        return 0
    client = MLPClient.from_env()
    run: dict[str, Any] | None = None
    if args.action == "run":
        target = to_root_relative(args.target)
        params = parse_params(args.param)
        if target.endswith((".yaml", ".yml")):
            run = client.run_pipeline(target, params, args.from_node, args.only_node)
        else:
            run = client.run_notebook(target, params, args.kernel, args.timeout, args.retries)
        if args.wait:
            run = _wait(client, client.run(run["id"]))
        print(format_run(run))
        return 0 if not args.wait or run["status"] in ("succeeded", "skipped") else 1
    if args.action == "schedule":
        body: dict[str, Any] = {
            "target": to_root_relative(args.target), "timezone": args.tz,
            "parameters": parse_params(args.param),
        }  # fmt: skip
        if args.cron:
            body["cron"] = args.cron
        if args.every:
            body["interval_seconds"] = args.every
        s = client.create_schedule(**body)
        print(f"schedule {s['id']} ({s['name']}): next run at {s['next_fire']}")
        return 0
    if args.action == "runs":
        print(format_runs(client.runs(args.limit)))
        return 0
    if args.action == "schedules":
        print(format_schedules(client.schedules()))
        return 0
    if args.action == "logs":
        print(client.run_log(args.target), end="")
        return 0
    if args.action == "cancel":
        print(format_run(client.cancel_run(args.target)))
        return 0
    raise AssertionError(args.action)


def add_parser(sub: Any) -> None:
    """Add ``mlp pipeline`` to the ``mlp`` command's subparsers."""
    p = sub.add_parser("pipeline", help="run, validate and schedule notebooks and pipelines")
    p.add_argument(
        "action", choices=["run", "validate", "schedule", "runs", "schedules", "logs", "cancel"]
    )
    p.add_argument("target", nargs="?", default="", help="notebook, pipeline.yaml or run id")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE")
    p.add_argument("--from", dest="from_node")
    p.add_argument("--only", dest="only_node")
    p.add_argument("--kernel")
    p.add_argument("--timeout", type=float)
    p.add_argument("--retries", type=int, default=0)
    p.add_argument(
        "--wait", action="store_true", help="wait until the run ends (exit 1 if it failed)"
    )
    p.add_argument("--cron")
    p.add_argument("--every", type=int, metavar="SECONDS")
    p.add_argument("--tz", default="UTC")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd)
