"""Real browser: the MLP panel's Compute section starts a Dask cluster, lists it and stops it.

Starts a single-user JupyterLab (lab extension and server extension from the venv) on a free
loopback port with a random token and its own MLP_USER_DIR, and drives headless chromium.
"""

from __future__ import annotations

import psutil
import pytest

from mlp.compute.jobs import JobStore
from tests.conftest import ARTIFACTS, single_user_lab, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    user_dir = tmp_path / "mlp-user"
    with single_user_lab(tmp_path, root, {"MLP_USER_DIR": str(user_dir)}) as (url, token, proc):
        yield url, token, user_dir, proc


def _dask_workers(pid: int) -> list[psutil.Process]:
    """The server's spawned Dask worker processes (not its lifetime resource tracker)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "multiprocessing.spawn" in cmd and "resource_tracker" not in cmd:
            found.append(child)
    return found


def test_start_list_and_stop_a_cluster_from_the_panel(lab, page, monkeypatch):
    ARTIFACTS.mkdir(exist_ok=True)
    url, token, user_dir, proc = lab
    page.goto(f"{url}/lab?token={token}")
    page.locator(".jp-LabShell").wait_for()
    page.locator("li[data-id='mlp-panel']").click()
    form = page.locator(".mlp-compute form.mlp-compute-form")
    form.wait_for()
    form.locator("input[name=workers]").fill("2")
    form.locator("input[name=memory]").fill("1GiB")
    form.locator("input[name=name]").fill("fromlab")
    form.locator("[data-mlp-action=start-dask]").click()
    row = page.locator(".mlp-compute-items tr", has_text="fromlab")
    row.wait_for(timeout=90_000)
    assert "running" in row.inner_text()
    assert row.locator("a", has_text="dashboard").count() == 1
    # the workers are real processes under the server
    workers = _dask_workers(proc.pid)
    assert len(workers) >= 2
    page.screenshot(path=str(ARTIFACTS / "browser-compute-section.png"))
    row.locator("[data-mlp-action=stop]").click()
    page.locator(".mlp-compute-items tr", has_text="stopped").wait_for(timeout=60_000)
    monkeypatch.setenv("MLP_USER_DIR", str(user_dir))
    assert [(r.name, r.status) for r in JobStore().list()] == [("fromlab", "stopped")]

    def gone():
        return all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in workers)

    wait_for(gone, 30, "the cluster's worker processes to exit")
