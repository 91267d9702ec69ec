"""``%%mlp lightning``: train the cell's model as a separate (DDP) job with live progress."""

from __future__ import annotations

import argparse
import html
from typing import Any

import yaml

from mlp.compute import lightning
from mlp.compute.jobs import JobStore
from mlp.compute.resources import positive_int
from mlp.errors import MLPError
from mlp_magics.registry import MagicArgumentParser, subcommand

LOG_TAIL = 30


def _count(text: str) -> int:
    try:
        return positive_int(text, "the count")
    except MLPError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument("--devices", type=_count, default=1, help="processes (GPUs) per node")
    parser.add_argument("--num-nodes", type=_count, default=1, help="nodes (Kubernetes only)")
    parser.add_argument("--strategy", default="ddp", help="Lightning strategy when distributed")
    parser.add_argument("--accelerator", choices=lightning.ACCELERATORS, default="auto")
    parser.add_argument("--max-epochs", type=_count, default=1)
    parser.add_argument("--monitor", default=None, help="metric that picks the best checkpoint")
    parser.add_argument("--mode", choices=["min", "max"], default="min")
    parser.add_argument("--name", default="lightning", help="job name")
    parser.add_argument("--backend", choices=lightning.BACKENDS, default="local")
    parser.add_argument(
        "--render", action="store_true", help="kubernetes: show the objects, submit nothing"
    )


class _Progress:
    """ipywidgets progress bar plus one line of epoch, step, loss and metrics."""

    def __init__(self, job_id: str, max_epochs: int) -> None:
        import ipywidgets as w
        from IPython.display import display

        self.bar = w.IntProgress(value=0, min=0, max=max_epochs, description=f"job {job_id}")
        self.label = w.HTML("starting...")
        self.metrics: dict[str, float] = {}
        self.loss: float | None = None
        display(w.VBox([self.bar, self.label]))

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "start":
            self.bar.max = event["max_epochs"]
            self.label.value = f"training on {event['world_size']} process(es)"
            return
        if kind == "step" and event.get("loss") is not None:
            self.loss = event["loss"]
        if kind == "epoch":
            self.bar.value = event["epoch"] + 1
            self.metrics = event.get("metrics", {})
        parts = [f"epoch {event['epoch'] + 1}/{self.bar.max}", f"step {event['step']}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4g}")
        parts += [f"{k} {v:.4g}" for k, v in sorted(self.metrics.items())]
        self.label.value = html.escape(" · ".join(parts))

    def finish(self, status: str) -> None:
        self.bar.bar_style = "success" if status == "succeeded" else "danger"
        self.label.value = html.escape(f"{status}; " + self.label.value)


class RenderedObjects:
    """Kubernetes objects shown as YAML."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def __repr__(self) -> str:
        return yaml.safe_dump_all(self.objects, sort_keys=False)


@subcommand(
    "lightning",
    "train the cell's make_model()/make_datamodule() as a separate DDP job",
    _args,
    cell="cell",
)
def lightning_command(shell: Any, args: argparse.Namespace, cell: str | None) -> Any:
    """Launch the job, follow it live, put ``result`` in the namespace."""
    opts = lightning.LightningOptions(
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy=args.strategy,
        accelerator=args.accelerator,
        max_epochs=args.max_epochs,
        monitor=args.monitor,
        mode=args.mode,
    )
    if args.backend == "kubernetes":
        return _kubernetes(args, cell or "", opts)
    job = lightning.launch_local(cell or "", opts, name=args.name)
    progress = _Progress(job.id, args.max_epochs)
    try:
        record = job.wait(progress)
    except KeyboardInterrupt:
        job.cancel()
        progress.finish("cancelled")
        raise MLPError(f"interrupted: job {job.id} cancelled (every rank stopped)") from None
    progress.finish(record["status"])
    detail = record["detail"]
    if record["status"] != "succeeded":
        tail = JobStore().logs(job.id, tail=LOG_TAIL)
        print(f"--- last {LOG_TAIL} lines of job {job.id}'s log ---\n{tail}")
        error = detail.get("error", "see the log")
        where = f" in rank {detail['rank']}" if "rank" in detail else ""
        raise MLPError(f"lightning job {job.id} {record['status']}{where}: {error}")
    shell.user_ns["result"] = {
        "job_id": job.id,
        "status": record["status"],
        "best_checkpoint": detail["result"]["best_checkpoint"],
        "metrics": detail["result"]["metrics"],
        "world_size": detail["result"]["world_size"],
        "log": record["log_path"],
    }
    print(f"job {job.id} succeeded in {record['duration_s']}s; `result` holds its metrics")
    return None


def _kubernetes(args: argparse.Namespace, cell: str, opts: lightning.LightningOptions) -> Any:
    from mlp.compute import kube

    objects = lightning.render_kubernetes(cell, opts, name=args.name)
    if args.render:
        return RenderedObjects(objects)
    namespace = kube.submit(objects)
    JobStore().add(
        "lightning",
        args.name,
        backend="kubernetes",
        status="submitted",
        workers=opts.num_nodes,
        detail={"namespace": namespace, "job": objects[-1]["metadata"]["name"]},
    )
    return f"submitted Job {objects[-1]['metadata']['name']} in namespace {namespace}"
