"""``{base_url}mlp/api/compute``: the user's Dask clusters and jobs for the lab's Compute section.

- ``GET  compute``: clusters and jobs of the user (every kernel's, from the job store);
- ``POST compute/dask`` ``{"workers", "threads", "memory", "name"}``: start a Dask cluster
  owned by this server (it stops with the server; notebooks connect to its scheduler);
- ``POST compute/<id>/stop``: stop a cluster or cancel a job (every rank).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from mlp_jupyter_ext.handlers import MLPAPIHandler


def _list() -> dict[str, Any]:
    from mlp.compute.jobs import JobStore

    return {"items": [r.to_dict() | {"address": r.address} for r in JobStore().list()]}


def _start(body: dict[str, Any]) -> dict[str, Any]:
    from mlp.compute import dask_cluster
    from mlp.compute.resources import positive_int

    workers = body.get("workers")
    threads = body.get("threads")
    handle = dask_cluster.up(
        name=str(body.get("name") or "lab"),
        workers=positive_int(str(workers), "workers") if workers not in (None, "") else None,
        threads=positive_int(str(threads), "threads") if threads not in (None, "") else None,
        memory_limit=str(body["memory"]) if body.get("memory") else None,
    )
    return handle.info()


def _stop(job_id: str) -> dict[str, Any]:
    from mlp.compute.jobs import JobStore

    return JobStore().cancel(job_id).to_dict()


class ComputeHandler(MLPAPIHandler):
    """``GET {base_url}mlp/api/compute``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """List the user's clusters and jobs, newest first."""
        self.finish(json.dumps(await asyncio.to_thread(_list), default=str))


class DaskStartHandler(MLPAPIHandler):
    """``POST {base_url}mlp/api/compute/dask``."""

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        """Start (or reuse, by name) a Dask cluster owned by this server."""
        from mlp.errors import MLPError

        try:
            body = json.loads(self.request.body or b"{}")
            if not isinstance(body, dict):
                raise MLPError("send a JSON object: {workers, threads, memory, name}")
            info = await asyncio.to_thread(_start, body)
        except ValueError:
            self.write_mlp_error(MLPError("the body is not JSON"))
            return
        except MLPError as exc:
            self.write_mlp_error(exc)
            return
        self.set_status(201)
        self.finish(json.dumps(info, default=str))


class StopHandler(MLPAPIHandler):
    """``POST {base_url}mlp/api/compute/<id>/stop``."""

    @tornado.web.authenticated
    @authorized
    async def post(self, job_id: str) -> None:
        """Stop a cluster or cancel a job."""
        from mlp.errors import MLPError

        try:
            record = await asyncio.to_thread(_stop, job_id)
        except MLPError as exc:
            self.write_mlp_error(exc)
            return
        self.finish(json.dumps(record, default=str))
