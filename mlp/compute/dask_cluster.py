"""Dask clusters owned by this kernel: ``%mlp dask up|status|scale|down``.

Locally a ``LocalCluster`` bound to 127.0.0.1 (scheduler in the kernel, workers
as child processes); on Kubernetes the dask-kubernetes operator's ``KubeCluster``
built from :func:`mlp.compute.kube.render_dask_cluster`.

Lifetime: clusters close at interpreter exit (kernel shutdown/restart). When the
kernel is killed outright, distributed's worker processes watch a pipe to their
parent and exit on their own (``AsyncProcess._immediate_exit_when_closed``); the
real-kernel tests check both.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from mlp.compute.jobs import JobRecord, JobStore
from mlp.compute.resources import ProfileResources, parse_memory, profile_resources
from mlp.errors import MLPError

BACKENDS = ("local", "kubernetes")


@dataclass
class ClusterHandle:
    """A cluster this kernel started, its client and its job record."""

    name: str
    backend: str
    cluster: Any
    client: Any
    record_id: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        """Whether the cluster or its client has gone away."""
        return getattr(self.cluster, "status", None) is not None and str(
            self.cluster.status.name
        ) in ("closed", "closing", "failed")

    def info(self) -> dict[str, Any]:
        """Workers, threads, memory and dashboard link of the cluster now."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"] if not self.closed else {}
        return {
            "name": self.name,
            "backend": self.backend,
            "id": self.record_id,
            "status": "closed" if self.closed else "running",
            "workers": len(workers),
            "threads": sum(w.get("nthreads", 0) for w in workers.values()),
            "memory_bytes": sum(w.get("memory_limit", 0) or 0 for w in workers.values()),
            "scheduler": getattr(self.cluster, "scheduler_address", None),
            "dashboard": dashboard_link(self.cluster),
        }


#: this kernel's clusters by name
CLUSTERS: dict[str, ClusterHandle] = {}


def dashboard_link(cluster: Any) -> str | None:
    """Dashboard URL that works behind the hub (jupyter-server-proxy) or directly."""
    port = None
    with contextlib.suppress(Exception):
        port = cluster.scheduler_info["services"]["dashboard"]
    if port is None:
        return getattr(cluster, "dashboard_link", None)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        return f"{prefix.rstrip('/')}/proxy/{port}/status"
    return f"http://127.0.0.1:{port}/status"


def default_options(res: ProfileResources | None = None) -> dict[str, Any]:
    """Workers = the profile's cores (1 thread each), memory split evenly between them."""
    res = res or profile_resources()
    workers = max(1, res.cpus)
    return {"workers": workers, "threads": 1, "memory_limit": res.memory_bytes // workers}


def up(
    name: str = "default",
    workers: int | None = None,
    threads: int | None = None,
    memory_limit: str | int | None = None,
    backend: str = "local",
    store: JobStore | None = None,
) -> ClusterHandle:
    """Start (or reuse, by name) a Dask cluster and a client connected to it.

    Parameters
    ----------
    name
        Cluster name; ``up`` with a running cluster's name returns it (scaled to
        ``workers`` when given).
    workers, threads, memory_limit
        Workers, threads per worker, memory per worker (``"4GiB"`` or bytes);
        defaults come from the profile (:func:`default_options`).
    backend
        ``"local"`` or ``"kubernetes"``.
    store
        Where the cluster's record goes (default: the user's job store).

    Raises
    ------
    MLPError
        Bad backend, sizes or counts; no Kubernetes credentials.
    """
    if backend not in BACKENDS:
        raise MLPError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    for label, value in (("workers", workers), ("threads per worker", threads)):
        if value is not None and value < 1:
            raise MLPError(f"{label} must be >= 1, got {value}")
    mem = parse_memory(memory_limit) if isinstance(memory_limit, str) else memory_limit
    existing = CLUSTERS.get(name)
    if existing is not None and not existing.closed:
        if workers is not None and workers != existing.info()["workers"]:
            scale(workers, name)
        return existing
    opts = default_options()
    opts.update(
        {
            k: v
            for k, v in {"workers": workers, "threads": threads, "memory_limit": mem}.items()
            if v is not None
        }
    )
    store = store or JobStore()
    if backend == "kubernetes":
        cluster = _kube_cluster(name, opts)
    else:
        from distributed import LocalCluster

        cluster = LocalCluster(
            name=name,
            n_workers=opts["workers"],
            threads_per_worker=opts["threads"],
            memory_limit=opts["memory_limit"],
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )
    from distributed import Client

    client = Client(cluster)
    rec = store.add(
        "dask",
        name,
        backend=backend,
        status="running",
        workers=opts["workers"],
        address=cluster.scheduler_address,
        dashboard=dashboard_link(cluster),
        detail={"threads": opts["threads"], "memory_limit": opts["memory_limit"]},
    )
    handle = ClusterHandle(name, backend, cluster, client, rec.id, opts)
    CLUSTERS[name] = handle
    return handle


def _kube_cluster(name: str, opts: dict[str, Any]) -> Any:
    from mlp.compute.kube import render_dask_cluster, require_credentials, validate_dask_cluster

    require_credentials()
    from dask_kubernetes.operator import KubeCluster

    spec = render_dask_cluster(
        name, workers=opts["workers"], threads=opts["threads"], memory=opts["memory_limit"]
    )
    validate_dask_cluster(spec)
    try:
        return KubeCluster(custom_cluster_spec=spec, shutdown_on_close=True, quiet=True)
    except Exception as exc:  # kr8s/kubernetes errors: one line, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MLPError(f"Kubernetes refused the Dask cluster: {first}") from None


def get(name: str | None = None) -> ClusterHandle:
    """Return this kernel's cluster ``name`` (or its most recent one).

    Raises
    ------
    MLPError
        No such cluster.
    """
    live = {n: h for n, h in CLUSTERS.items() if not h.closed}
    if name is None:
        if not live:
            raise MLPError("no Dask cluster in this kernel; start one with %mlp dask up")
        return list(live.values())[-1]
    if name not in live:
        known = ", ".join(live) or "none"
        raise MLPError(f"no Dask cluster named {name!r} in this kernel (running: {known})")
    return live[name]


def status() -> list[dict[str, Any]]:
    """Info on each cluster of this kernel that is still running."""
    return [h.info() for h in CLUSTERS.values() if not h.closed]


def scale(workers: int, name: str | None = None) -> ClusterHandle:
    """Scale a cluster to ``workers`` and wait until it has them (60 s at most)."""
    if workers < 1:
        raise MLPError(f"workers must be >= 1, got {workers}")
    handle = get(name)
    handle.cluster.scale(workers)
    handle.client.wait_for_workers(workers, timeout=60)
    if workers < len(handle.client.scheduler_info(n_workers=-1)["workers"]):
        # retiring workers is asynchronous; wait until the scheduler sees the new size
        import time

        deadline = time.monotonic() + 30
        while (
            len(handle.client.scheduler_info(n_workers=-1)["workers"]) > workers
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
    JobStore().update(handle.record_id, workers=workers)
    return handle


def down(name: str | None = None) -> list[str]:
    """Close one cluster (``name``) or, with no name, every cluster of this kernel."""
    targets = [get(name)] if name else [h for h in CLUSTERS.values() if not h.closed]
    store = JobStore()
    closed = []
    for handle in targets:
        _close(handle)
        with contextlib.suppress(MLPError):
            store.update(handle.record_id, status="stopped")
        CLUSTERS.pop(handle.name, None)
        closed.append(handle.name)
    return closed


def _close(handle: ClusterHandle) -> None:
    with contextlib.suppress(Exception):
        handle.client.close()
    with contextlib.suppress(Exception):
        handle.cluster.close()


def stop_remote(rec: JobRecord) -> None:
    """Stop a cluster owned by another kernel: ask its scheduler to shut down."""
    if rec.name in CLUSTERS and CLUSTERS[rec.name].record_id == rec.id:
        down(rec.name)
        return
    if not rec.address:
        raise MLPError(f"cluster {rec.id} has no scheduler address")
    from distributed import Client

    try:
        with Client(rec.address, timeout=5) as client:
            client.shutdown()
    except OSError as exc:
        raise MLPError(f"cannot reach the scheduler of cluster {rec.id}: {exc}") from None


@atexit.register
def _close_all() -> None:
    """Kernel shutdown or restart: close every cluster before the interpreter goes."""
    for handle in list(CLUSTERS.values()):
        _close(handle)
    if CLUSTERS:
        with contextlib.suppress(Exception):
            store = JobStore()
            for handle in CLUSTERS.values():
                store.update(handle.record_id, status="stopped")
    CLUSTERS.clear()
