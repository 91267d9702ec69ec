"""Real browser: Debian chromium driven headless by Playwright through the whole first visit.

Log in on the hub's login page with the generated admin password, pick a profile
on the spawn page, land in JupyterLab, open the MLP panel and read user and profile.
"""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, Hub

pytestmark = pytest.mark.browser


def test_login_spawn_lab_panel(hub: Hub, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", hub.platform.admin_user)
    page.fill("input[name=password]", "not-the-password")
    page.click("input[type=submit], button[type=submit]")
    page.locator("text=Invalid username or password").wait_for(timeout=30_000)

    page.fill("input[name=username]", hub.platform.admin_user)
    page.fill("input[name=password]", hub.platform.admin_password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/hub/home**")

    page.goto(f"{hub.url}/hub/spawn")
    page.check("#profile-cpu-large")
    assert page.locator("#profile-gpu").count() == 0  # no GPU on this machine
    page.screenshot(path=str(ARTIFACTS / "browser-spawn-form.png"))
    page.click("form input[type=submit], form button[type=submit]")
    page.wait_for_url("**/user/admin/lab**", timeout=120_000)
    hub.remember()

    page.locator(".jp-LabShell").wait_for()
    tab = page.locator("#jp-left-stack").locator("..").locator("li[data-id='mlp-panel']")
    if tab.count() == 0:
        tab = page.locator("li[data-id='mlp-panel']")
    tab.click()
    user = page.locator(".mlp-env [data-mlp-field=user]")
    user.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.mlp-env [data-mlp-field=user]')"
        ".textContent.includes('admin')"
    )
    assert "admin" in user.inner_text()
    profile = page.locator(".mlp-env [data-mlp-field=profile]").inner_text()
    assert "CPU large" in profile
    assert "reachable" in page.locator(".mlp-env [data-mlp-field=service]").inner_text()
    # The "Jupyter news" prompt is turned off.
    assert (
        page.locator("text=Would you like to get notified about official Jupyter news").count() == 0
    )
    page.screenshot(path=str(ARTIFACTS / "browser-lab-mlp-panel.png"))

    # A notebook in an MLP kernel runs %mlp env as the logged-in user, in the chosen profile.
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "%mlp env", "outputs": [],
             "execution_count": None}
        ],
        "metadata": {
            "kernelspec": {"name": "mlp-lightgbm-dask", "language": "python",
                           "display_name": "Python 3 (MLP: LightGBM + Dask)"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    resp = page.request.put(
        f"{hub.url}/user/admin/api/contents/env.ipynb",
        data={"type": "notebook", "content": nb},
        headers={"X-XSRFToken": xsrf},
    )
    assert resp.status == 201, resp.text()
    page.goto(f"{hub.url}/user/admin/lab/tree/env.ipynb")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.locator("text=Python 3 (MLP: LightGBM + Dask)").first.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
        " ?.getAttribute('data-status') === 'idle'",
        timeout=90_000,
    )
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-OutputArea-output")
    output.wait_for(timeout=90_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook .jp-OutputArea-output')"
        " ?.textContent.includes('CPU large')",
        timeout=90_000,
    )
    text = output.inner_text()
    assert "admin" in text
    assert "CPU large" in text
    hub.remember()
    page.screenshot(path=str(ARTIFACTS / "browser-notebook-mlp-env.png"))
