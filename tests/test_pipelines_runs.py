"""Notebook runs: papermill in a fresh kernel, recorded in SQL, confined to the user's root."""

from __future__ import annotations

import json
import os
import time

import psutil
import pytest

from mlp.errors import ForbiddenError, MLPError, NotFoundError
from mlp.service.db import session_factory
from pipelines_as_notebooks.engine import Engine
from tests.pipelines_helpers import KERNEL, drive, write_notebook


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USERS_DIR", str(tmp_path / "users"))
    path = tmp_path / "users" / "alice"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def engine(tmp_path, root):
    eng = Engine(session_factory(f"sqlite:///{tmp_path / 'mlp.sqlite'}"))
    yield eng
    eng.shutdown()


def test_run_succeeds_with_parameters_progress_and_output(engine, root):
    write_notebook(
        root / "nb" / "hello.ipynb",
        "n = 1",
        "import os, json\nresult = n * 21",
        "open('answer.json', 'w').write(json.dumps({'result': result}))\n"
        "import mlp.pipeline\nmlp.pipeline.output('result', result)",
    )
    run = engine.submit_notebook("alice", "nb/hello.ipynb", {"n": 2}, kernel=KERNEL)
    assert run["status"] == "queued"
    assert run["notebook_hash"]
    done = drive(engine, "alice", run["id"])
    assert done["status"] == "succeeded", done
    assert json.loads((root / "nb" / "answer.json").read_text()) == {"result": 42}
    assert done["outputs"] == {"result": 42}
    assert done["progress"]["done"] == done["progress"]["total"] >= 3
    output = root / done["output_path"]
    assert output.exists()
    assert "injected-parameters" in output.read_text()
    assert done["duration"] > 0


def test_failing_cell_is_named(engine, root):
    write_notebook(root / "bad.ipynb", "x = 1", "y = 2", "raise ValueError('broken data')")
    # Counted in the user's notebook: the injected parameters cell does not count.
    for params in ({}, {"x": 5}):
        submitted = engine.submit_notebook("alice", "bad.ipynb", params, kernel=KERNEL)
        run = drive(engine, "alice", submitted["id"])
        assert run["status"] == "failed"
        assert run["error"].startswith("cell 3 "), run["error"]
        assert "ValueError: broken data" in run["error"]


def test_timeout_kills_runner_and_kernel(engine, root):
    write_notebook(root / "slow.ipynb", "s = 120", "import time\ntime.sleep(s)")
    run = engine.submit_notebook("alice", "slow.ipynb", kernel=KERNEL, timeout=4)
    done = drive(engine, "alice", run["id"])
    assert done["status"] == "timed_out"
    assert "timed out after 4 s" in done["error"]
    left = [
        p for p in psutil.process_iter(["cmdline"])
        if str(root) in " ".join(p.info["cmdline"] or []) and p.status() != psutil.STATUS_ZOMBIE
    ]  # fmt: skip
    assert not left


def test_cancel_and_cancel_twice(engine, root):
    write_notebook(root / "slow.ipynb", "s = 120", "import time\ntime.sleep(s)")
    run = engine.submit_notebook("alice", "slow.ipynb", kernel=KERNEL)
    deadline = time.monotonic() + 60
    while engine.get_run("alice", False, run["id"])["status"] != "running":
        engine.tick()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    cancelled = engine.cancel("alice", False, run["id"])
    assert cancelled["status"] == "cancelled"
    assert not engine.executor.running()
    with pytest.raises(MLPError, match="already cancelled"):
        engine.cancel("alice", False, run["id"])


def test_kernel_killed_fails_the_run_quickly(engine, root):
    write_notebook(
        root / "k.ipynb", "s = 120", "import os\nopen('kernel.pid','w').write(str(os.getpid()))",
        "import time\ntime.sleep(s)",
    )  # fmt: skip
    run = engine.submit_notebook("alice", "k.ipynb", kernel=KERNEL)
    deadline = time.monotonic() + 60
    while not (root / "kernel.pid").exists():
        engine.tick()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(0.5)
    os.kill(int((root / "kernel.pid").read_text()), 9)
    killed_at = time.monotonic()
    done = drive(engine, "alice", run["id"], timeout=30)
    assert done["status"] == "failed"
    assert time.monotonic() - killed_at < 10
    assert "Dead" in done["error"] or "died" in done["error"].lower()


@pytest.mark.parametrize("path", ["../bob/x.ipynb", "/etc/passwd", "link/secret.ipynb"])
def test_paths_outside_the_root_are_refused(engine, root, tmp_path, path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write_notebook(outside / "secret.ipynb", "a = 1")
    (root / "link").symlink_to(outside)
    with pytest.raises(ForbiddenError, match="outside your files"):
        engine.submit_notebook("alice", path)


def test_missing_notebook_and_unknown_kernel(engine, root):
    with pytest.raises(NotFoundError, match=r"no file 'nope\.ipynb'"):
        engine.submit_notebook("alice", "nope.ipynb")
    write_notebook(root / "a.ipynb", "a = 1")
    with pytest.raises(MLPError, match="unknown kernel 'nokernel'"):
        engine.submit_notebook("alice", "a.ipynb", kernel="nokernel")


def test_users_see_only_their_runs(engine, root):
    write_notebook(root / "a.ipynb", "a = 1")
    run = engine.submit_notebook("alice", "a.ipynb", kernel=KERNEL)
    with pytest.raises(NotFoundError):
        engine.get_run("bob", False, run["id"])
    with pytest.raises(NotFoundError):
        engine.cancel("bob", False, run["id"])
    assert engine.list_runs("bob", False) == []
    assert engine.get_run("root", True, run["id"])["owner"] == "alice"
    assert [r["id"] for r in engine.list_runs("alice", False)] == [run["id"]]
