"""``%mlp dask``: parsing and bad input in-process, lifetime in a real kernel (jupyter_client)."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.manager import KernelManager

from mlp.compute import dask_cluster
from mlp.compute.jobs import JobStore
from tests.conftest import wait_for


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USER_DIR", str(tmp_path / "mlp-user"))
    return tmp_path / "mlp-user"


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "mlp_magics")
    yield sh
    dask_cluster.down()
    InteractiveShell.clear_instance()


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("dask up --workers 0", "argument --workers: the count must be >= 1, got 0"),
        ("dask up --workers -1", "argument --workers: the count must be >= 1, got -1"),
        ("dask up --workers abc", "must be a whole number >= 1, got 'abc'"),
        ("dask up --threads-per-worker 0", "argument --threads-per-worker"),
        ("dask up --memory-limit 5XB", "memory limit '5XB' is not a size; use e.g. 4GiB"),
        ("dask up --backend yarn", "argument --backend: invalid choice: 'yarn'"),
        ("dask explode", "argument action: invalid choice: 'explode'"),
        ("dask scale", "usage: %mlp dask scale N"),
        ("dask scale 0", "workers must be >= 1, got 0"),
        ("dask down nope", "no Dask cluster named 'nope'"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(shell, user_dir, line, needle):
    with pytest.raises(UsageError, match=needle) as info:
        shell.run_line_magic("mlp", line)
    assert "Traceback" not in str(info.value)


def test_kubernetes_without_credentials_is_one_line(shell, user_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("mlp", "dask up --backend kubernetes --name k")
    assert str(info.value) == "no Kubernetes credentials (KUBECONFIG or in-cluster)"


def test_up_status_scale_reuse_down(shell, user_dir, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    view = shell.run_line_magic("mlp", "dask up --workers 1 --memory-limit 1GiB --as c1")
    client = shell.user_ns["c1"]
    assert client.submit(sum, [1, 2, 3]).result() == 6
    info = view.infos[0]
    assert info["workers"] == 1
    assert info["memory_bytes"] == 1024**3
    assert info["scheduler"].startswith("tcp://127.0.0.1:")
    assert info["dashboard"].startswith("/user/alice/proxy/")
    assert info["dashboard"].endswith("/status")
    assert "/user/alice/proxy/" in view._repr_html_()
    again = shell.run_line_magic("mlp", "dask up --as c2")
    assert shell.user_ns["c2"] is client  # same name: the same cluster and client
    assert again.infos[0]["scheduler"] == info["scheduler"]
    scaled = shell.run_line_magic("mlp", "dask scale 2")
    assert scaled.infos[0]["workers"] == 2
    assert "default [local] 2 workers" in repr(shell.run_line_magic("mlp", "dask status"))
    records = JobStore().list(kinds=["dask"])
    assert [(r.name, r.status, r.workers) for r in records] == [("default", "running", 2)]
    assert "stopped: default" in repr(shell.run_line_magic("mlp", "dask down"))
    assert JobStore().list(kinds=["dask"])[0].status == "stopped"
    assert "no Dask cluster" in repr(shell.run_line_magic("mlp", "dask status"))


# ------------------------------------------------------------------ lifetime in a real kernel


def _start_kernel(tmp_path):
    km = KernelManager(kernel_name="mlp-lightgbm-dask")
    env = {**os.environ, "MLP_USER_DIR": str(tmp_path / "mlp-user"), "CPU_LIMIT": "2"}
    km.start_kernel(env=env, cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=90)
    return km, kc


def _run(kc, code: str, timeout: float = 120) -> str:
    out: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("ERROR " + msg["content"]["evalue"])

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


def _dask_processes(kernel_pid: int) -> list[psutil.Process]:
    procs = psutil.Process(kernel_pid).children(recursive=True)
    assert procs, "the cluster started no worker process"
    return procs


def _all_gone(procs: list[psutil.Process]) -> bool:
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def _run_pid(km) -> int:
    return km.provisioner.process.pid


@pytest.mark.parametrize("how", ["kill -9", "restart"])
def test_cluster_dies_with_its_kernel(tmp_path, how, monkeypatch):
    km, kc = _start_kernel(tmp_path)
    try:
        out = _run(
            kc,
            "%mlp dask up --workers 2 --threads-per-worker 1 --memory-limit 1GiB\n"
            "print('sum', client.submit(sum, range(10)).result())",
        )
        assert "sum 45" in out
        kernel_pid = _run_pid(km)
        procs = _dask_processes(kernel_pid)
        assert len(procs) >= 2
        if how == "kill -9":
            os.kill(kernel_pid, signal.SIGKILL)
        else:
            km.restart_kernel(now=False)
        wait_for(lambda: _all_gone(procs), 30, f"dask processes to exit after {how}")
        if how == "restart":
            kc.wait_for_ready(timeout=90)
            assert "ok" in _run(kc, "print('ok')")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    # the record of the cluster says it stopped, seen from another process
    monkeypatch.setenv("MLP_USER_DIR", str(tmp_path / "mlp-user"))
    assert [r.status for r in JobStore().list(kinds=["dask"])] == ["stopped"]
