"""Pipelines through the real platform: REST on the MLP service, schedules that fire while
the user's server is stopped, %mlp run from a kernel, kill -9 of the service."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
import requests

from tests.conftest import Hub, auth, wait_for
from tests.kernels import execute, start_kernel
from tests.pipelines_helpers import write_notebook

pytestmark = pytest.mark.e2e


def api(hub: Hub, token: str, method: str, path: str, **kw):
    return requests.request(
        method, f"{hub.url}/services/mlp/api/{path}", headers=auth(token), timeout=30, **kw
    )


def answer(hub: Hub, token: str, path: str):
    """The JSON answer, or None while the service is down (the proxy answers 503)."""
    r = api(hub, token, "GET", path)
    return r.json() if r.status_code == 200 else None


def final_run(hub: Hub, token: str, run_id: str, timeout: float = 90) -> dict:
    def done():
        run = answer(hub, token, f"runs/{run_id}")
        final = {"succeeded", "failed", "cancelled", "timed_out"}
        return run if run and run["status"] in final else None

    return wait_for(done, timeout, f"run {run_id} to end", interval=0.5)


@pytest.fixture
def users(hub: Hub):
    admin = hub.admin_token()
    tokens = {}
    for name in ("alice", "bob"):
        pw = hub.add_user(admin, name)
        tokens[name] = hub.user_token(name, pw).json()["token"]
    root = hub.platform.data_dir / "users" / "alice"
    write_notebook(
        root / "job.ipynb", "x = 1",
        "open('result.txt', 'w').write(str(x * 2))",
    )  # fmt: skip
    write_notebook(root / "slow.ipynb", "s = 30", "import time\ntime.sleep(s)")
    return tokens, root


def test_schedule_fires_while_the_server_is_stopped(hub: Hub, users):
    tokens, root = users
    alice = tokens["alice"]
    model = requests.get(f"{hub.url}/hub/api/users/alice", headers=auth(alice), timeout=30).json()
    assert not model["servers"]  # no server: the service runs it alone
    body = {"target": "job.ipynb", "interval_seconds": 2, "parameters": {"x": 21}}
    r = api(hub, alice, "POST", "schedules", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]

    def a_run_succeeded():
        runs = api(hub, alice, "GET", "runs").json()["runs"]
        return [x for x in runs if x["schedule_id"] == sid and x["status"] == "succeeded"]

    runs = wait_for(a_run_succeeded, 90, "a scheduled run to succeed", interval=0.5)
    assert (root / "result.txt").read_text() == "42"
    assert runs[0]["output_path"].endswith("job.output.ipynb")
    assert (root / runs[0]["output_path"]).exists()
    assert api(hub, alice, "PATCH", f"schedules/{sid}", json={"paused": True}).json()["paused"]
    fire_times = [x["fire_time"] for x in api(hub, alice, "GET", "runs?limit=500").json()["runs"]]
    assert len(fire_times) == len(set(fire_times))  # one run per fire time

    # Bob sees none of it and can change none of it.
    bob = tokens["bob"]
    assert api(hub, bob, "GET", "runs").json()["runs"] == []
    assert api(hub, bob, "GET", f"runs/{runs[0]['id']}").status_code == 404
    assert api(hub, bob, "POST", f"runs/{runs[0]['id']}/cancel").status_code == 404
    assert api(hub, bob, "DELETE", f"schedules/{sid}").status_code == 404
    assert api(hub, bob, "GET", "schedules").json()["schedules"] == []
    assert api(hub, alice, "DELETE", f"schedules/{sid}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("POST", "schedules", {"target": "job.ipynb", "cron": "61 * * * *"}, 400, "invalid cron"),
        ("POST", "schedules", {"target": "job.ipynb", "cron": "0 2 * * *", "timezone": "X/Y"},
         400, "unknown time zone"),
        ("POST", "runs", {"notebook": "../bob/job.ipynb"}, 403, "outside your files"),
        ("POST", "runs", {"notebook": "/etc/passwd"}, 403, "outside your files"),
        ("POST", "runs", {"notebook": "job.ipynb", "kernel": "nope"}, 400, "unknown kernel"),
        ("POST", "runs", {"notebook": "job.ipynb", "bogus": 1}, 400, "bogus: unknown field"),
        ("POST", "runs", "{not json", 400, "not valid JSON"),
        ("POST", "pipelines/validate", {"path": "missing.yaml"}, 404, "no file"),
    ],
)  # fmt: skip
def test_bad_input_gets_4xx_with_reason(hub: Hub, users, method, path, body, status, needle):
    tokens, _root = users
    kw = {"data": body} if isinstance(body, str) else {"json": body}
    r = api(hub, tokens["alice"], method, path, **kw)
    assert r.status_code == status, r.text
    assert needle in r.json()["message"]


def test_mlp_run_from_a_kernel(hub: Hub, users):
    tokens, root = users
    alice = tokens["alice"]
    hub.spawn(alice, "alice", "cpu-small")
    kid = start_kernel(hub.url, "alice", alice, "mlp-lightgbm-dask")
    out = execute(hub.url, "alice", alice, kid, "%mlp run job.ipynb -p x=5 --wait", timeout=120)
    hub.remember()
    assert out["status"] == "ok", out
    assert "succeeded" in out["text"], out["text"]
    assert (root / "result.txt").read_text() == "10"
    listing = execute(hub.url, "alice", alice, kid, "%mlp runs")
    assert "job.ipynb" in listing["text"]
    bad = execute(hub.url, "alice", alice, kid, '%mlp schedule job.ipynb --cron "61 * * * *"')
    assert bad["status"] == "error"
    assert "invalid cron" in bad["error"]


def test_service_killed_mid_run_loses_and_duplicates_nothing(hub: Hub, users):
    tokens, _root = users
    alice = tokens["alice"]
    r = api(hub, alice, "POST", "runs",
            json={"notebook": "slow.ipynb", "parameters": {"s": 20}, "retries": 1})  # fmt: skip
    run_id = r.json()["id"]
    wait_for(
        lambda: api(hub, alice, "GET", f"runs/{run_id}").json()["status"] == "running",
        60, "the run to start",
    )  # fmt: skip
    service = next(p for p in hub.platform.descendants() if "mlp.service" in " ".join(p.cmdline()))
    os.kill(service.pid, signal.SIGKILL)
    psutil.wait_procs([service], timeout=10)
    # The hub restarts its managed service; the lost run is failed and retried, once.
    first = final_run(hub, alice, run_id, timeout=150)
    assert first["status"] == "failed"
    assert "service restart" in first["error"]

    def retried():
        runs = (answer(hub, alice, "runs") or {}).get("runs", [])
        return [x for x in runs if x["target"] == "slow.ipynb" and x["attempt"] == 2]

    retry = wait_for(retried, 60, "the retry to be queued")
    assert len(retry) == 1
    assert final_run(hub, alice, retry[0]["id"], timeout=120)["status"] == "succeeded"
    hub.remember()
