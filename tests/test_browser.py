"""Real browser: Debian chromium driven headless by Playwright through the whole first visit.

Log in on the hub's login page with the generated admin password, pick a profile
on the spawn page, land in JupyterLab, open the MLP panel and read user and profile.
"""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ARTIFACTS, Hub

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


def test_login_spawn_lab_panel(hub: Hub, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", hub.platform.admin_user)
    page.fill("input[name=password]", "not-the-password")
    page.click("input[type=submit], button[type=submit]")
    assert page.locator("text=Invalid username or password").is_visible()

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
