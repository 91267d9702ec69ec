"""Real browser: ``%mlp stats`` output rendered by the lab extension; "Show distributions" on a CSV.

Starts a single-user JupyterLab (the lab extension and server extension from the venv) on a
free loopback port with a random token, and drives headless chromium through it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ARTIFACTS, single_user_lab, wait_for

pytestmark = pytest.mark.browser


CELL = """\
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
train = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000),
                      "color": rng.choice(["red", "green", "blue"], 2000)})
test = train.copy()
test["x"] = test["x"] + 1.5
%mlp stats train test
"""


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    rng = np.random.default_rng(1)
    pd.DataFrame({"amount": rng.exponential(10, 500), "kind": rng.choice(["a", "b"], 500)}).to_csv(
        root / "sales.csv", index=False
    )
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": CELL, "outputs": [],
             "execution_count": None}
        ],
        "metadata": {
            "kernelspec": {"name": "mlp-lightgbm-dask", "language": "python",
                           "display_name": "Python 3 (MLP: LightGBM + Dask)"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    (root / "stats.ipynb").write_text(json.dumps(nb))
    with single_user_lab(tmp_path, root) as (url, token, _proc):
        yield url, token, root


def test_stats_output_and_show_distributions(lab, page):
    ARTIFACTS.mkdir(exist_ok=True)
    url, token, _ = lab
    page.goto(f"{url}/lab/tree/stats.ipynb?token={token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
        " ?.getAttribute('data-status') === 'idle'",
        timeout=90_000,
    )
    view = page.locator(".jp-OutputArea .mlp-stats-view")
    # A run sent while the kernel's websocket is still connecting can be dropped: retry
    # until the cell has an output (up to three tries).
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        # JupyterLab sometimes asks for a kernel although the session already has one
        # (a race between the session and the kernel connection): keep the MLP kernel.
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and dialog.locator("select").count():
            dialog.locator("select").select_option(label="Python 3 (MLP: LightGBM + Dask)")
            dialog.locator(".jp-mod-accept").click()
            dialog.wait_for(state="detached")
        page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.locator(".jp-Notebook .jp-Cell").first.locator(
                ".jp-OutputArea-output"
            ).first.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            page.screenshot(path=str(ARTIFACTS / "browser-stats-retry.png"))
    view.wait_for(timeout=60_000)
    # Both tables, a histogram, the drift column and the one-line summary.
    assert view.locator("table.mlp-stats-table-numeric").count() == 1
    assert view.locator("table.mlp-stats-table-string").count() == 1
    assert view.locator("svg.mlp-stats-hist rect").count() > 0
    assert view.locator("svg.mlp-stats-top rect").count() > 0
    assert view.locator("th.mlp-stats-psi").first.inner_text() == "drift (PSI)"
    assert (
        "drift test vs train: 1 of 3 features"
        in view.locator(".mlp-stats-drift-summary").inner_text()
    )
    drifted = view.locator("td.mlp-stats-drifted")
    assert drifted.count() == 1
    assert drifted.locator("xpath=..").get_attribute("data-feature") == "x"

    # Sort by drift puts x first; the filter narrows the rows; a click expands a feature.
    view.locator("select.mlp-stats-sort").select_option("drift")
    first = view.locator("table.mlp-stats-table-numeric tbody tr.mlp-stats-row").first
    assert first.get_attribute("data-feature") == "x"
    view.locator("input.mlp-stats-filter").fill("y")
    features = view.locator("table.mlp-stats-table-numeric tbody tr.mlp-stats-row")
    wait_for(lambda: features.count() == 2, 10, "the filter")
    assert {features.nth(i).get_attribute("data-feature") for i in range(2)} == {"y"}
    view.locator("button.mlp-stats-expand").first.click()
    assert view.locator("tr.mlp-stats-expanded svg rect").count() > 0
    page.screenshot(path=str(ARTIFACTS / "browser-stats-output.png"))

    # "Show distributions" in the file browser's context menu on a CSV.
    page.locator(".jp-DirListing-item[title*='sales.csv']").first.click(button="right")
    page.locator(".lm-Menu-itemLabel:text-is('Show distributions')").click()
    panel = page.locator(".mlp-stats-panel .mlp-stats-view")
    panel.locator("table.mlp-stats-table-numeric").wait_for(timeout=60_000)
    assert "sales (500 rows)" in panel.locator(".mlp-stats-datasets").inner_text()
    assert panel.locator("tr[data-feature='amount']").count() == 1
    assert panel.locator("svg.mlp-stats-hist rect").count() > 0
    page.screenshot(path=str(ARTIFACTS / "browser-stats-show-distributions.png"))
