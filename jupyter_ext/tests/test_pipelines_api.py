"""Tests of ``{base_url}mlp/api/pipelines/...``: the lab's proxy to the MLP service.

The MLP service is the real one (:func:`mlp.service.app.make_app` with the pipelines routes,
on SQLite, on a loopback port); only its token check is a table, as in ``tests/test_service.py``
(the hub's check is exercised end to end by the browser test).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.utils import url_path_join
from mlp_jupyter_ext.handlers import URL_TOKEN_REFUSED

from mlp.service.app import make_app
from mlp.service.db import session_factory
from pipelines_as_notebooks.engine import Engine
from pipelines_as_notebooks.service_routes import engine_for
from pipelines_as_notebooks.store import FINAL

USERS = {
    "tok-alice": {"name": "alice", "admin": False, "kind": "user", "scopes": ["self"]},
    "tok-bob": {"name": "bob", "admin": False, "kind": "user", "scopes": ["self"]},
}


async def resolve(token: str) -> dict[str, Any] | None:
    return USERS.get(token)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


@pytest.fixture
async def service(tmp_path, monkeypatch) -> AsyncIterator[Engine]:
    """The MLP service on loopback; this server talks to it as alice. Yields its engine."""
    monkeypatch.setenv("MLP_USERS_DIR", str(tmp_path / "users"))
    monkeypatch.setenv("MLP_KERNEL_POOL", "0")  # no pre-started kernel left behind
    write_notebook(tmp_path / "users" / "alice" / "job.ipynb", "x = 1", "print(x + 1)")
    sessions = session_factory(f"sqlite:///{tmp_path / 'mlp.sqlite'}")
    port = free_port()
    server = make_app(resolve, sessions, "/services/mlp/").listen(port, address="127.0.0.1")
    monkeypatch.setenv("MLP_SERVICE_URL", f"http://127.0.0.1:{port}/services/mlp/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-alice")
    engine = engine_for(sessions)
    try:
        yield engine
    finally:
        server.stop()
        await server.close_all_connections()
        engine.shutdown()
        engine.executor.close()


async def call(jp_fetch, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    """``method`` on ``mlp/api/pipelines/<path>``; returns (status, decoded JSON or None)."""
    if body is not None:
        kw["body"] = body if isinstance(body, str) else json.dumps(body)
    elif method in ("POST", "PATCH"):
        kw["body"] = ""
    if method == "DELETE":
        kw["allow_nonstandard_methods"] = True
    r = await jp_fetch("mlp", "api", "pipelines", *path.split("/"), method=method,
                       raise_error=False, **kw)  # fmt: skip
    return r.code, json.loads(r.body) if r.body else None


def drive(engine: Engine, run_id: str, timeout: float = 90) -> None:
    """Tick the service's engine (its loop is not started here) until the run is final."""
    deadline = time.monotonic() + timeout
    while engine.get_run("alice", False, run_id)["status"] not in FINAL:
        assert time.monotonic() < deadline, f"run {run_id} not final after {timeout}s"
        engine.tick()
        time.sleep(0.2)


async def test_schedule_lifecycle_and_run_through_the_proxy(jp_fetch, service):
    """Create, pause, resume a schedule; run it now; the run succeeds with an output notebook;
    cancel a queued run; delete the schedule."""
    code, sched = await call(
        jp_fetch, "POST", "schedules",
        {"target": "job.ipynb", "interval_seconds": 3600, "timezone": "Europe/Paris"},
    )  # fmt: skip
    assert code == 201, sched
    assert (sched["owner"], sched["target"], sched["interval_seconds"]) == (
        "alice",
        "job.ipynb",
        3600,
    )
    assert sched["timezone"] == "Europe/Paris"
    assert sched["next_fire"]
    sid = sched["id"]

    code, body = await call(jp_fetch, "GET", "schedules")
    assert code == 200
    assert [s["id"] for s in body["schedules"]] == [sid]
    code, body = await call(jp_fetch, "PATCH", f"schedules/{sid}", {"paused": True})
    assert code == 200
    assert body["paused"] is True
    code, body = await call(jp_fetch, "PATCH", f"schedules/{sid}", {"paused": False})
    assert code == 200
    assert body["paused"] is False

    code, run = await call(jp_fetch, "POST", f"schedules/{sid}/run")
    assert code == 201, run
    assert run["status"] == "queued"
    assert run["schedule_id"] == sid
    code, body = await call(jp_fetch, "GET", "runs")
    assert code == 200
    assert [r["id"] for r in body["runs"]] == [run["id"]]

    await asyncio.to_thread(drive, service, run["id"])
    code, done = await call(jp_fetch, "GET", f"runs/{run['id']}")
    assert code == 200
    assert done["status"] == "succeeded", done
    assert done["output_path"]
    assert done["output_path"].endswith(".ipynb")
    assert done["progress"]["total"] == 2
    assert done["duration"] > 0
    code, body = await call(jp_fetch, "GET", f"runs/{run['id']}/log")
    assert code == 200
    assert isinstance(body["log"], str)

    code, second = await call(jp_fetch, "POST", f"schedules/{sid}/run")
    assert code == 201
    code, cancelled = await call(jp_fetch, "POST", f"runs/{second['id']}/cancel")
    assert code == 200
    assert cancelled["status"] == "cancelled"
    # Cancelling again: the service's 400 and reason come through.
    code, body = await call(jp_fetch, "POST", f"runs/{second['id']}/cancel")
    assert code == 400
    assert "already cancelled" in body["message"]

    code, body = await call(jp_fetch, "DELETE", f"schedules/{sid}")
    assert code == 204
    assert body is None
    code, body = await call(jp_fetch, "GET", "schedules")
    assert body["schedules"] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("POST", "schedules", {"target": "job.ipynb", "cron": "61 * * * *"}, 400, "invalid cron"),
        ("POST", "schedules", {"target": "job.ipynb", "cron": "0 2 * * *", "timezone": "X/Y"},
         400, "unknown time zone"),
        ("POST", "schedules", {"target": "job.ipynb"}, 400, "exactly one of cron or interval"),
        ("POST", "schedules", {"target": "../bob/job.ipynb", "interval_seconds": 60}, 403,
         "outside your files"),
        ("POST", "schedules", {"target": "nope.ipynb", "interval_seconds": 60}, 404, "nope.ipynb"),
        ("POST", "schedules", {"target": "job.ipynb", "interval_seconds": 60, "bogus": 1}, 400,
         "bogus: unknown field"),
        ("POST", "schedules", "{not json", 400, "JSON object"),
        ("POST", "schedules", "[1, 2]", 400, "JSON object"),
        ("PATCH", "schedules/abc123", {"paused": True}, 404, "abc123"),
        ("DELETE", "schedules/abc123", None, 404, "abc123"),
        ("POST", "schedules/abc123/run", None, 404, "abc123"),
        ("GET", "runs/abc123", None, 404, "abc123"),
        ("POST", "runs/abc123/cancel", None, 404, "abc123"),
        ("GET", "runs?limit=-3", None, 400, "limit must be a positive number"),
    ],
)  # fmt: skip
async def test_service_errors_pass_through_as_4xx(jp_fetch, service, method, path, body, status,
                                                  needle):  # fmt: skip
    params = None
    if "?" in path:
        path, query = path.split("?")
        params = dict([query.split("=")])
    kw = {"params": params} if params else {}
    code, answer = await call(jp_fetch, method, path, body, **kw)
    assert code == status, answer
    assert needle in answer["message"]


async def test_other_users_runs_are_invisible(jp_fetch, service, monkeypatch):
    """The proxy talks as this server's user: bob's server sees none of alice's schedules."""
    code, sched = await call(jp_fetch, "POST", "schedules",
                             {"target": "job.ipynb", "interval_seconds": 60})  # fmt: skip
    assert code == 201
    code, run = await call(jp_fetch, "POST", f"schedules/{sched['id']}/run")
    assert code == 201
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-bob")
    assert (await call(jp_fetch, "GET", "schedules"))[1] == {"schedules": []}
    assert (await call(jp_fetch, "GET", "runs"))[1] == {"runs": []}
    assert (await call(jp_fetch, "GET", f"runs/{run['id']}"))[0] == 404
    assert (await call(jp_fetch, "POST", f"runs/{run['id']}/cancel"))[0] == 404
    assert (await call(jp_fetch, "DELETE", f"schedules/{sched['id']}"))[0] == 404


ENDPOINTS = [
    ("GET", "runs"),
    ("GET", "runs/abc"),
    ("POST", "runs/abc/cancel"),
    ("GET", "runs/abc/log"),
    ("GET", "schedules"),
    ("POST", "schedules"),
    ("PATCH", "schedules/abc"),
    ("DELETE", "schedules/abc"),
    ("POST", "schedules/abc/run"),
]


def _fetch_kw(method: str) -> dict[str, Any]:
    kw: dict[str, Any] = {"method": method, "raise_error": False}
    if method in ("POST", "PATCH"):
        kw["body"] = "{}"
    if method == "DELETE":
        kw["allow_nonstandard_methods"] = True
    return kw


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_without_credentials_is_403(jp_base_url, http_server_client, service, method,
                                          path):  # fmt: skip
    """No token: 403 (not a redirect to login), and nothing reaches the service."""
    r = await http_server_client.fetch(
        url_path_join(jp_base_url, "mlp/api/pipelines", path), **_fetch_kw(method)
    )
    assert r.code == 403
    assert service.list_schedules("alice", False) == []


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_token_in_url_is_403(jp_base_url, http_server_client, server_token, service, method,
                                   path):  # fmt: skip
    """A valid token in the URL query is refused, even with a valid header."""
    r = await http_server_client.fetch(
        url_path_join(jp_base_url, "mlp/api/pipelines", path) + f"?token={server_token}",
        headers={"Authorization": f"token {server_token}"},
        **_fetch_kw(method),
    )
    assert r.code == 403
    assert URL_TOKEN_REFUSED in r.body.decode()


async def test_wrong_token_is_403(jp_fetch, service):
    code, _ = await call(jp_fetch, "GET", "runs", headers={"Authorization": "token wrong"})
    assert code == 403


async def test_unreachable_service_is_502(jp_fetch, monkeypatch):
    monkeypatch.setenv("MLP_SERVICE_URL", f"http://127.0.0.1:{free_port()}/services/mlp/")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-alice")
    code, body = await call(jp_fetch, "GET", "schedules")
    assert code == 502
    assert "unreachable" in body["message"]


async def test_service_token_refused_is_403(jp_fetch, service, monkeypatch):
    """The service refuses this server's hub token: its 403 comes through."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "tok-nobody")
    code, body = await call(jp_fetch, "GET", "runs")
    assert code == 403, body
    assert body["message"].startswith("MLP service:")


async def test_server_outside_the_hub_is_503(jp_fetch, monkeypatch):
    monkeypatch.delenv("MLP_SERVICE_URL", raising=False)
    code, body = await call(jp_fetch, "GET", "runs")
    assert code == 503
    assert "MLP_SERVICE_URL is not set" in body["message"]
