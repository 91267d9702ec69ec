"""Pipelines: validation with file and line, DAG runs, upstream outputs, skip-unchanged."""

from __future__ import annotations

import pytest

from mlp.service.db import session_factory
from pipelines_as_notebooks.engine import Engine
from pipelines_as_notebooks.spec import PipelineError, load_pipeline
from tests.pipelines_helpers import drive, write_notebook

PIPELINE = """\
name: demo
concurrency: 2
nodes:
  features:
    notebook: features.ipynb
    parameters: {rows: 100}
    inputs: [data/raw.csv]
  train:
    notebook: train.ipynb
    needs: [features]
    parameters: {lr: 0.1}
  report:
    notebook: report.ipynb
    needs: [features]
"""


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USERS_DIR", str(tmp_path / "users"))
    path = tmp_path / "users" / "alice"
    (path / "data").mkdir(parents=True)
    (path / "data" / "raw.csv").write_text("a,b\n1,2\n")
    write_notebook(
        path / "features.ipynb",
        "rows = 10",
        "import mlp.pipeline\nmlp.pipeline.output('rows', rows * 2)",
    )
    write_notebook(
        path / "train.ipynb",
        "lr = 0.01\nupstream = {}",
        "import mlp.pipeline\n"
        "mlp.pipeline.output('score', upstream['features']['outputs']['rows'] * lr)",
    )
    write_notebook(
        path / "report.ipynb",
        "upstream = {}",
        "assert upstream['features']['outputs']['rows'] == 200",
    )
    (path / "pipeline.yaml").write_text(PIPELINE)
    return path


@pytest.fixture
def engine(tmp_path, root):
    eng = Engine(session_factory(f"sqlite:///{tmp_path / 'mlp.sqlite'}"))
    yield eng
    eng.shutdown()


def nodes_by_name(run):
    return {n["node"]: n for n in run["nodes"] if n["kind"] == "node"}


def test_dag_runs_passes_outputs_and_skips_unchanged(engine, root):
    first = drive(engine, "alice", engine.submit_pipeline("alice", "pipeline.yaml")["id"], 120)
    assert first["status"] == "succeeded", first
    nodes = nodes_by_name(first)
    assert {n["status"] for n in nodes.values()} == {"succeeded"}
    assert nodes["train"]["outputs"] == {"score": pytest.approx(20.0)}
    assert nodes["features"]["reason"] == "first run"
    assert sorted(map(tuple, first["edges"])) == [("features", "report"), ("features", "train")]

    second = drive(engine, "alice", engine.submit_pipeline("alice", "pipeline.yaml")["id"], 60)
    assert second["status"] == "succeeded"
    assert {n["status"] for n in nodes_by_name(second).values()} == {"skipped"}
    assert nodes_by_name(second)["train"]["reason"].startswith("unchanged: reuses run")
    assert second["reason"] == "0 node(s) ran, 3 skipped"

    # Change a parameter of train only: features and report are reused, train re-runs.
    (root / "pipeline.yaml").write_text(PIPELINE.replace("lr: 0.1", "lr: 0.5"))
    third = nodes_by_name(
        drive(engine, "alice", engine.submit_pipeline("alice", "pipeline.yaml")["id"], 60)
    )
    assert third["features"]["status"] == "skipped"
    assert third["report"]["status"] == "skipped"
    assert third["train"]["status"] == "succeeded"
    assert third["train"]["reason"] == "parameter lr changed"
    assert third["train"]["outputs"] == {"score": pytest.approx(100.0)}

    # Change a declared input: features re-runs, and its dependents say why.
    (root / "data" / "raw.csv").write_text("a,b\n1,3\n")
    fourth = nodes_by_name(
        drive(engine, "alice", engine.submit_pipeline("alice", "pipeline.yaml")["id"], 120)
    )
    assert fourth["features"]["reason"] == "input data/raw.csv changed"
    assert fourth["train"]["reason"] == "upstream features re-ran"


def test_failure_stops_dependents_and_keeps_completed_outputs(engine, root):
    write_notebook(root / "features.ipynb", "rows = 10", "raise RuntimeError('no data')")
    run = drive(engine, "alice", engine.submit_pipeline("alice", "pipeline.yaml")["id"], 60)
    assert run["status"] == "failed"
    assert "node features failed" in run["error"]
    nodes = nodes_by_name(run)
    assert nodes["train"]["status"] == "cancelled"
    assert nodes["train"]["error"] == "upstream features failed"


def test_run_only_one_node_reuses_upstream(engine, root):
    drive(engine, "alice", engine.submit_pipeline("alice", "pipeline.yaml")["id"], 120)
    only = drive(
        engine, "alice",
        engine.submit_pipeline("alice", "pipeline.yaml", only_node="train")["id"], 60,
    )  # fmt: skip
    nodes = nodes_by_name(only)
    assert nodes["train"]["status"] == "succeeded"  # forced to run
    assert nodes["features"]["status"] == "skipped"
    assert nodes["features"]["reason"].startswith("not selected: reuses run")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nnodes:\n  a: {notebook: features.ipynb\n", "pipeline.yaml:4: malformed YAML"),
        (
            "name: x\nnodes:\n  a:\n    notebook: features.ipynb\n    needs: [b]\n"
            "  b:\n    notebook: train.ipynb\n    needs: [a]\n",
            "cycle:",
        ),
        (
            "name: x\nnodes:\n  a:\n    notebook: features.ipynb\n    needs: [zzz]\n",
            "pipeline.yaml:5: node 'a' needs unknown node 'zzz'",
        ),
        ("name: x\nnodes:\n  a:\n    notebook: gone.ipynb\n", "pipeline.yaml:4: no file"),
        (
            "name: x\nnodes:\n  a:\n    notebook: features.ipynb\n    parameters:\n"
            "      rows: many\n",
            "pipeline.yaml:6: parameter 'rows' of node 'a' must be int",
        ),
        ("name: x\nnodes:\n  a:\n    notebok: features.ipynb\n", "pipeline.yaml:4:"),
        ("name: x\nnodes:\n  a:\n    notebook: ../../x.ipynb\n", "outside your files"),
    ],
)
def test_validation_names_file_and_line(root, text, needle):
    (root / "pipeline.yaml").write_text(text)
    with pytest.raises(PipelineError) as err:
        load_pipeline(root / "pipeline.yaml", root)
    assert needle in str(err.value)


def test_unknown_node_for_run_from(engine, root):
    from mlp.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no node 'nope'"):
        engine.submit_pipeline("alice", "pipeline.yaml", from_node="nope")
