"""``%%mlp lightning`` and ``%mlp jobs``: real 2-rank DDP jobs on CPU, failure, cancel, lifetime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from mlp.compute import lightning
from mlp.compute.jobs import JobStore, group_members
from tests.conftest import wait_for

CELL = (Path(__file__).parent / "compute_cell.py").read_text()
FAIL_IN_RANK_1 = CELL.replace(
    "        xb, yb = batch\n        loss =",
    "        if self.global_rank == 1:\n"
    "            raise RuntimeError('boom in rank 1')\n"
    "        xb, yb = batch\n        loss =",
    1,
)
SLOW = CELL.replace(
    "        xb, yb = batch\n        loss =",
    "        import time\n        time.sleep(0.2)\n        xb, yb = batch\n        loss =",
    1,
)


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USER_DIR", str(tmp_path / "mlp-user"))
    monkeypatch.setenv("CPU_LIMIT", "2")
    monkeypatch.delenv("MLP_GPUS", raising=False)
    return tmp_path / "mlp-user"


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "mlp_magics")
    yield sh
    InteractiveShell.clear_instance()


def test_two_rank_ddp_job_completes_with_metrics(shell, capsys, user_dir):
    shell.run_cell_magic("mlp", "lightning --devices 2 --accelerator cpu --max-epochs 2", CELL)
    result = shell.user_ns["result"]
    assert result["status"] == "succeeded"
    assert result["world_size"] == 2
    assert result["metrics"]["val_loss"] < 1.0
    assert Path(result["best_checkpoint"]).is_file()
    job_id = result["job_id"]
    events = [
        json.loads(line)
        for line in (user_dir / "jobs" / job_id / "progress.jsonl").read_text().splitlines()
    ]
    assert {e["event"] for e in events} == {"start", "step", "epoch"}
    assert "succeeded" in capsys.readouterr().out
    # listed, with logs, and visible from another process of the same user
    table = repr(shell.run_line_magic("mlp", "jobs"))
    assert job_id in table
    assert "succeeded" in table
    assert "max_epochs=2" in repr(shell.run_line_magic("mlp", f"jobs logs {job_id}"))
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlp.compute.jobs import JobStore; "
            "print([(r.id, r.status) for r in JobStore().list()])",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    assert f"('{job_id}', 'succeeded')" in other.stdout
    with pytest.raises(UsageError, match=f"job {job_id} already finished \\(succeeded\\)"):
        shell.run_line_magic("mlp", f"jobs cancel {job_id}")


def test_failure_in_rank_1_only_fails_the_job_with_the_log_tail(shell, capsys):
    with pytest.raises(UsageError, match="failed in rank 1: RuntimeError: boom in rank 1") as info:
        shell.run_cell_magic("mlp", "lightning --devices 2 --accelerator cpu", FAIL_IN_RANK_1)
    assert "\n" not in str(info.value)
    out = capsys.readouterr().out
    assert "last 30 lines" in out
    assert "RuntimeError" in out
    job = JobStore().list()[0]
    assert job.status == "failed"
    assert not group_members(job.pgid)
    assert shell.run_cell("1 + 1").result == 2  # the kernel is fine


def test_cancel_kills_every_rank(shell):
    job = lightning.launch_local(
        SLOW, lightning.LightningOptions(devices=2, accelerator="cpu", max_epochs=100)
    )
    try:
        wait_for(lambda: any(e["event"] == "step" for e in job.events()), 90, "a training step")
        ranks = group_members(job.local.popen.pid)
        assert len(ranks) >= 2  # rank 0 and the rank it launched
        assert "cancelled" in repr(shell.run_line_magic("mlp", f"jobs cancel {job.id}"))
        wait_for(lambda: not group_members(job.local.popen.pid), 30, "every rank to exit")
        assert JobStore().get(job.id).status == "cancelled"
    finally:
        job.local.popen.kill()
        job.local.popen.wait()


def test_jobs_die_with_the_process_that_launched_them(tmp_path):
    code = (
        "import sys, time\n"
        "from mlp.compute import lightning\n"
        f"cell = open({str(tmp_path / 'cell.py')!r}).read()\n"
        "job = lightning.launch_local(cell, lightning.LightningOptions("
        "devices=2, accelerator='cpu', max_epochs=100))\n"
        "print(job.local.popen.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    (tmp_path / "cell.py").write_text(SLOW)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pgid = int(parent.stdout.readline())
        wait_for(lambda: len(group_members(pgid)) >= 2, 90, "both ranks to start")
        ranks = group_members(pgid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()

        def gone():
            return all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in ranks)

        wait_for(gone, 30, "every rank to exit after its launcher was killed")
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


@pytest.mark.parametrize(
    ("line", "cell", "needle"),
    [
        ("lightning", "def make_datamodule():\n    pass\n", "missing: make_model"),
        ("lightning", "def make_model(:\n", "syntax error at line 1"),
        ("lightning --devices 0", CELL, "argument --devices: the count must be >= 1"),
        ("lightning --max-epochs abc", CELL, "must be a whole number"),
        ("lightning --accelerator tpu", CELL, "invalid choice: 'tpu'"),
        ("lightning --backend slurm", CELL, "invalid choice: 'slurm'"),
        ("lightning --num-nodes 2", CELL, "--num-nodes > 1 needs --backend kubernetes"),
        ("jobs cancel nope", None, "no job 'nope'"),
        ("jobs logs", None, "usage: %mlp jobs logs ID"),
    ],
)
def test_bad_input(shell, line, cell, needle):
    def run():
        if cell is None:
            return shell.run_line_magic("mlp", line)
        return shell.run_cell_magic("mlp", line, cell)

    with pytest.raises(UsageError, match=needle.replace("(", r"\(")):
        run()
    assert not JobStore().list(kinds=["lightning"])  # nothing was launched


def test_kubernetes_without_credentials_is_one_line(shell, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nothing"))
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("mlp", "lightning --backend kubernetes --num-nodes 2", CELL)
    assert str(info.value) == "no Kubernetes credentials (KUBECONFIG or in-cluster)"


def test_accelerator_auto_follows_the_profile(monkeypatch):
    monkeypatch.setenv("MLP_GPUS", "1")
    assert lightning.LightningOptions().resolved().accelerator == "gpu"
    monkeypatch.setenv("MLP_GPUS", "0")
    assert lightning.LightningOptions().resolved().accelerator == "cpu"
