"""The six-steps example pipeline runs end to end, then re-runs with every node skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlp.service.db import session_factory
from pipelines_as_notebooks.engine import Engine
from tests.pipelines_helpers import drive

EXAMPLE = Path(__file__).resolve().parent.parent / "pipelines_as_notebooks/examples/six_steps"


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USERS_DIR", str(tmp_path / "users"))
    monkeypatch.setenv("MLP_MODEL_STORE", str(tmp_path / "bentoml"))
    shutil.copytree(EXAMPLE, tmp_path / "users" / "alice" / "six_steps")
    eng = Engine(session_factory(f"sqlite:///{tmp_path / 'mlp.sqlite'}"))
    yield eng
    eng.shutdown()


def test_six_steps_end_to_end(engine):
    run = drive(
        engine, "alice", engine.submit_pipeline("alice", "six_steps/pipeline.yaml")["id"], 180
    )
    assert run["status"] == "succeeded", run
    nodes = {n["node"]: n for n in run["nodes"]}
    assert nodes["features"]["outputs"]["rows"] == {"train": 426, "test": 143}
    assert nodes["evaluate"]["outputs"]["auc"] > 0.95
    assert nodes["evaluate"]["outputs"]["f1"] > 0.9
    assert nodes["package"]["outputs"]["model"].startswith("six-steps:")
    assert nodes["serve"]["outputs"]["served_rows"] == 20
    again = drive(
        engine, "alice", engine.submit_pipeline("alice", "six_steps/pipeline.yaml")["id"], 60
    )
    assert {n["status"] for n in again["nodes"]} == {"skipped"}
