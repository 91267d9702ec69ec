"""``%mlp run``, ``%mlp pipeline``, ``%mlp schedule``, ``%mlp runs``, ``%mlp schedules``.

Thin front ends over the MLP service's pipelines API (through :class:`mlp.client.MLPClient`
with the server's token), so runs and schedules outlive this kernel and this server.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from IPython.display import display

from mlp.client import MLPClient
from mlp_magics.registry import MagicArgumentParser, subcommand
from pipelines_as_notebooks.present import (
    format_run,
    format_runs,
    format_schedules,
    parse_params,
    to_root_relative,
)

FINAL = {"succeeded", "failed", "cancelled", "timed_out", "skipped"}


class Text(str):
    """Plain text shown as-is."""

    def __repr__(self) -> str:
        return str(self)


def _wait(client: MLPClient, run: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll a run, updating one output line, until it is final."""
    handle = display(Text(format_run(run)), display_id=True)
    deadline = time.monotonic() + timeout
    while run["status"] not in FINAL and time.monotonic() < deadline:
        time.sleep(1.0)
        run = client.run(run["id"])
        if handle is not None:
            handle.update(Text(format_run(run)))
    return run


def _run_args(p: MagicArgumentParser) -> None:
    p.add_argument("notebook", help="notebook path (relative to the current directory)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="parameter")
    p.add_argument("--kernel", help="kernel name (default: the notebook's)")
    p.add_argument("--timeout", type=float, help="seconds before the run is stopped")
    p.add_argument("--retries", type=int, default=0, help="retries on failure")
    p.add_argument("--wait", action="store_true", help="wait and show progress until done")


@subcommand("run", "run a notebook with papermill in a fresh kernel: %mlp run NB -p k=v", _run_args)
def run_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> Text:
    """Queue a notebook run on the MLP service."""
    client = MLPClient.from_env()
    run = client.run_notebook(
        to_root_relative(args.notebook), parse_params(args.param), args.kernel, args.timeout,
        args.retries,
    )  # fmt: skip
    if args.wait:
        run = _wait(client, run, args.timeout or 3600)
    return Text(format_run(run))


def _pipeline_args(p: MagicArgumentParser) -> None:
    p.add_argument("action", choices=["run", "validate"])
    p.add_argument("path", help="pipeline.yaml (relative to the current directory)")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE")
    p.add_argument("--from", dest="from_node", help="run from this node (and its dependents)")
    p.add_argument("--only", dest="only_node", help="run only this node")
    p.add_argument("--wait", action="store_true", help="wait and show node states until done")


@subcommand(
    "pipeline", "run or validate a notebook pipeline: %mlp pipeline run FILE", _pipeline_args
)
def pipeline_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> Text:
    """Validate or run a pipeline."""
    client = MLPClient.from_env()
    path = to_root_relative(args.path)
    if args.action == "validate":
        result = client.validate_pipeline(path)
        return Text(f"{args.path}: valid, nodes in order: {', '.join(result['order'])}")
    run = client.run_pipeline(path, parse_params(args.param), args.from_node, args.only_node)
    if args.wait:
        run = _wait(client, client.run(run["id"]), 24 * 3600)
    return Text(format_run(run))


def _schedule_args(p: MagicArgumentParser) -> None:
    p.add_argument("target", help="notebook or pipeline.yaml")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help='cron expression, e.g. "0 2 * * *"')
    when.add_argument("--every", type=int, metavar="SECONDS", help="interval in seconds")
    p.add_argument("--tz", default="UTC", help="time zone of the cron expression")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE")
    p.add_argument("--name")
    p.add_argument("--kernel")
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--timeout", type=float)
    p.add_argument("--catch-up", action="store_true", help="after downtime run one missed fire")
    p.add_argument("--notify", metavar="URL", help="webhook called on failure")


@subcommand("schedule", 'schedule a notebook or pipeline: %mlp schedule NB --cron "0 2 * * *"',
            _schedule_args)  # fmt: skip
def schedule_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> Text:
    """Create a schedule on the MLP service (it fires while your server is stopped)."""
    client = MLPClient.from_env()
    body: dict[str, Any] = {
        "target": to_root_relative(args.target), "timezone": args.tz,
        "parameters": parse_params(args.param), "retries": args.retries,
        "missed_policy": "catch_up_once" if args.catch_up else "skip",
    }  # fmt: skip
    for key, value in (("cron", args.cron), ("interval_seconds", args.every), ("name", args.name),
                       ("kernel", args.kernel), ("timeout", args.timeout),
                       ("notify_url", args.notify)):  # fmt: skip
        if value is not None:
            body[key] = value
    s = client.create_schedule(**body)
    return Text(f"schedule {s['id']} ({s['name']}): next run at {s['next_fire']}")


def _runs_args(p: MagicArgumentParser) -> None:
    p.add_argument("run_id", nargs="?", help="show one run with its nodes")
    p.add_argument("--status", choices=sorted(FINAL | {"queued", "running"}))
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--cancel", action="store_true", help="cancel RUN_ID")
    p.add_argument("--log", action="store_true", help="show RUN_ID's log")


@subcommand("runs", "list your runs, or show/cancel/log one: %mlp runs [ID]", _runs_args)
def runs_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> Text:
    """List runs or act on one."""
    client = MLPClient.from_env()
    if args.run_id is None:
        return Text(format_runs(client.runs(args.limit, args.status)))
    if args.cancel:
        return Text(format_run(client.cancel_run(args.run_id)))
    if args.log:
        return Text(client.run_log(args.run_id) or "(no log yet)")
    return Text(format_run(client.run(args.run_id)))


def _schedules_args(p: MagicArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=["pause", "resume", "delete", "run"])
    p.add_argument("schedule_id", nargs="?")


@subcommand("schedules", "list schedules, or pause/resume/delete/run one", _schedules_args)
def schedules_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> Text:
    """List schedules or act on one."""
    client = MLPClient.from_env()
    if args.action is None:
        return Text(format_schedules(client.schedules()))
    if not args.schedule_id:
        from IPython.core.error import UsageError

        raise UsageError(f"%mlp schedules {args.action} needs a schedule id")
    if args.action == "delete":
        client.delete_schedule(args.schedule_id)
        return Text(f"schedule {args.schedule_id} deleted")
    if args.action == "run":
        return Text(format_run(client.run_schedule_now(args.schedule_id)))
    s = client.update_schedule(args.schedule_id, paused=args.action == "pause")
    return Text(f"schedule {s['id']} {'paused' if s['paused'] else 'active'}")
