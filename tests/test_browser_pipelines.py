"""Real browser: the MLP panel's Pipelines section behind the hub, with the real MLP service.

Log in as admin and spawn; through the panel create schedules, "run now" them, see a notebook
run succeed and open its output notebook in a tab, see a failing run raise a JupyterLab
notification, unfold a pipeline run into its DAG with node states, pause and delete a schedule.
"""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, Hub
from tests.pipelines_helpers import write_notebook

pytestmark = pytest.mark.browser


PIPELINE = """\
name: demo
nodes:
  prepare:
    notebook: prepare.ipynb
  train:
    notebook: train.ipynb
    needs: [prepare]
  report:
    notebook: report.ipynb
    needs: [prepare]
"""


def add_schedule(page, target: str, kind: str, when: str) -> str:
    """Fill the panel's form; return the id of the schedule row that appears."""
    section = page.locator(".mlp-pipelines")
    before = set(section.locator("[data-mlp-schedule]").evaluate_all(
        "rows => rows.map(r => r.dataset.mlpSchedule)"
    ))  # fmt: skip
    form = section.locator(".mlp-pipelines-form")
    form.locator("input[name=target]").fill(target)
    form.locator("select[name=kind]").select_option(kind)
    form.locator("input[name=when]").fill(when)
    form.locator("input[name=timezone]").fill("Asia/Shanghai")
    form.locator("[data-mlp-action=create-schedule]").click()
    row = section.locator("[data-mlp-schedule]", has_text=target)
    row.wait_for()
    sid = row.get_attribute("data-mlp-schedule")
    assert sid
    assert sid not in before
    return sid


def run_now(page, sid: str) -> str:
    """Click "Run now" on a schedule; return the id of the run row that appears."""
    section = page.locator(".mlp-pipelines")
    before = set(section.locator("[data-mlp-run]").evaluate_all(
        "rows => rows.map(r => r.dataset.mlpRun)"
    ))  # fmt: skip
    section.locator(f"[data-mlp-schedule='{sid}'] [data-mlp-action=run-now]").click()
    page.wait_for_function(
        "before => [...document.querySelectorAll('.mlp-pipelines [data-mlp-run]')]"
        ".some(r => !before.includes(r.dataset.mlpRun))",
        arg=list(before),
    )
    ids = section.locator("[data-mlp-run]").evaluate_all("rows => rows.map(r => r.dataset.mlpRun)")
    (new,) = [i for i in ids if i not in before]
    return str(new)


def wait_status(page, run_id: str, status: str, timeout: float = 120_000) -> None:
    page.locator(f".mlp-pipelines [data-mlp-run='{run_id}'][data-status='{status}']").wait_for(
        timeout=timeout
    )


def test_pipelines_section(hub: Hub, page):
    ARTIFACTS.mkdir(exist_ok=True)
    root = hub.platform.data_dir / "users" / "admin"
    write_notebook(root / "job.ipynb", "x = 1", "import time\ntime.sleep(5)", "print(x * 2)")
    write_notebook(root / "broken.ipynb", "x = 1", "raise KeyError('no column named price')")
    write_notebook(root / "prepare.ipynb", "rows = 10", "rows * 2")
    write_notebook(root / "train.ipynb", "upstream = {}", "len(upstream)")
    write_notebook(root / "report.ipynb", "upstream = {}", "len(upstream)")
    (root / "pipeline.yaml").write_text(PIPELINE)

    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", hub.platform.admin_user)
    page.fill("input[name=password]", hub.platform.admin_password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/hub/home**")
    page.goto(f"{hub.url}/hub/spawn")
    page.click("form input[type=submit], form button[type=submit]")
    page.wait_for_url("**/user/admin/lab**", timeout=120_000)
    hub.remember()
    page.locator(".jp-LabShell").wait_for()
    page.locator("li[data-id='mlp-panel']").click()
    section = page.locator(".mlp-pipelines")
    section.wait_for()
    section.locator("text=No schedules yet.").wait_for()

    # A notebook on an interval: run it now, it succeeds, a click opens its output notebook.
    sid = add_schedule(page, "job.ipynb", "interval", "3600")
    row = section.locator(f"[data-mlp-schedule='{sid}']")
    assert section.locator("input[name=target]").input_value() == ""  # the form is reset
    assert "every 3600 s (Asia/Shanghai)" in row.inner_text()
    assert row.get_attribute("data-paused") == "false"
    job_run = run_now(page, sid)
    run_row = section.locator(f"[data-mlp-run='{job_run}']")
    assert "job.ipynb" in run_row.inner_text()
    # While it runs (cell 2 sleeps 5 s) the row says which cell it is on.
    run_row.locator(".mlp-run-progress", has_text="of 3").wait_for(timeout=120_000)
    assert run_row.get_attribute("data-status") == "running"
    assert run_row.locator("[data-mlp-action=cancel]").count() == 1
    wait_status(page, job_run, "succeeded")
    assert run_row.locator(".mlp-run-status.mlp-status-succeeded").inner_text() == "succeeded"
    assert run_row.locator(".mlp-run-duration").inner_text().endswith(" s")
    page.screenshot(path=str(ARTIFACTS / "browser-pipelines-run-succeeded.png"))
    run_row.click()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="job.output.ipynb")
    tab.wait_for()
    output = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output", has_text="2")
    output.first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "browser-pipelines-output-open.png"))

    # A failing notebook: the run fails and the lab notifies, naming the cell.
    bad = add_schedule(page, "broken.ipynb", "cron", "0 2 * * *")
    assert (
        "0 2 * * * (Asia/Shanghai)" in section.locator(f"[data-mlp-schedule='{bad}']").inner_text()
    )
    bad_run = run_now(page, bad)
    wait_status(page, bad_run, "failed")
    toast = page.locator(".jp-Notification-Toast-error", has_text=bad_run[:8])
    toast.wait_for(timeout=15_000)
    assert "broken.ipynb failed" in toast.inner_text()
    assert "KeyError" in toast.inner_text()

    # A pipeline: its run unfolds into a DAG whose nodes end up ran (succeeded).
    pipe = add_schedule(page, "pipeline.yaml", "interval", "86400")
    pipe_run = run_now(page, pipe)
    section.locator(f"[data-mlp-run='{pipe_run}']").click()
    dag = section.locator(f"[data-mlp-dag='{pipe_run}']")
    dag.wait_for()
    wait_status(page, pipe_run, "succeeded", timeout=180_000)
    for name in ("prepare", "train", "report"):
        node = dag.locator(f"[data-mlp-node='{name}']")
        page.wait_for_function(
            "([run, name]) => document.querySelector("
            "`[data-mlp-dag='${run}'] [data-mlp-node='${name}']`)?.dataset.status === 'succeeded'",
            arg=[pipe_run, name],
        )
        assert node.locator(".mlp-dag-state").text_content() == "ran"
    # prepare is left of its dependents (one layer per level of the DAG).
    x = {
        n: dag.locator(f"[data-mlp-node='{n}']").bounding_box()["x"]
        for n in ("prepare", "train", "report")
    }
    assert x["prepare"] < x["train"] == x["report"]
    assert dag.locator(".mlp-dag-edge").count() == 2
    dag.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "browser-pipelines-dag.png"))

    # Pause, then delete.
    row.locator("[data-mlp-action=pause]").click()
    section.locator(f"[data-mlp-schedule='{sid}'][data-paused='true']").wait_for()
    assert "paused" in section.locator(f"[data-mlp-schedule='{sid}']").inner_text()
    section.locator(f"[data-mlp-schedule='{sid}'] [data-mlp-action=delete]").click()
    section.locator(f"[data-mlp-schedule='{sid}']").wait_for(state="detached")
    hub.remember()
