"""Real browser: the MLP panel's Compute section starts a Dask cluster, lists it and stops it.

Starts a single-user JupyterLab (lab extension and server extension from the venv) on a free
loopback port with a random token and its own MLP_USER_DIR, and drives headless chromium.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests

from mlp.compute.jobs import JobStore
from mlp.up import free_port
from tests.conftest import ARTIFACTS, wait_for

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    user_dir = tmp_path / "mlp-user"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "MLP_USER_DIR": str(user_dir),
    }
    cmd = [
        str(Path(sys.executable).with_name("jupyter")),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--allow-root",
    ]
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            r = requests.get(
                f"{url}/api/status", headers={"Authorization": f"token {token}"}, timeout=2
            )
        except requests.ConnectionError:
            return False
        return r.status_code == 200

    try:
        wait_for(ready, 90, "jupyter lab to answer")
        yield url, token, user_dir, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()
        browser.close()


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
