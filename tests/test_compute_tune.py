"""``%mlp tune`` and ``%mlp objectives``: Optuna on Dask finds a known optimum; bad input."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from mlp.compute import dask_cluster
from mlp.compute.jobs import JobStore


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USER_DIR", str(tmp_path / "mlp-user"))


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "mlp_magics")
    sh.run_cell(
        "def quadratic(trial):\n"
        "    x = trial.suggest_float('x', -5, 5)\n"
        "    y = trial.suggest_float('y', -5, 5)\n"
        "    return (x - 2) ** 2 + (y + 1) ** 2\n"
    )
    yield sh
    dask_cluster.down()
    InteractiveShell.clear_instance()


def test_tune_on_dask_finds_the_optimum_of_a_known_function(shell, capsys):
    shell.run_line_magic("mlp", "dask up --workers 2 --memory-limit 1GiB")
    shell.run_line_magic("mlp", "tune quadratic --trials 40 --seed 3")
    study = shell.user_ns["study"]
    assert len(study.trials) == 40
    assert study.best_value < 0.5
    assert abs(study.best_params["x"] - 2) < 0.7
    assert abs(study.best_params["y"] + 1) < 0.7
    assert "40 trials on the Dask cluster" in capsys.readouterr().out
    # trials ran in the worker processes, not in the kernel
    workers = set(shell.user_ns["client"].scheduler_info(n_workers=-1)["workers"])
    assert workers
    rec = JobStore().list(kinds=["tune"])[0]
    assert rec.status == "succeeded"
    assert rec.to_dict()["detail"]["parallel"] is True
    dask_cluster.down()


def test_tune_sequential_maximize_with_as(shell):
    shell.run_cell("def neg(trial):\n    return -quadratic(trial)\n")
    shell.run_line_magic("mlp", "tune neg --trials 12 --direction maximize --sequential --as s2")
    study = shell.user_ns["s2"]
    assert len(study.trials) == 12
    assert study.direction.name == "MAXIMIZE"
    assert study.best_value == max(t.value for t in study.trials)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("tune missing --trials 3", "no function 'missing' in the namespace"),
        ("tune quadratic", "the following arguments are required: --trials"),
        ("tune quadratic --trials 0", "the count must be >= 1"),
        ("tune quadratic --trials x", "must be a whole number"),
        ("tune quadratic --trials 2 --direction up", "invalid choice: 'up'"),
        ("tune quadratic --trials 2 --timeout -1", "must be > 0 seconds"),
    ],
)
def test_bad_input(shell, line, needle):
    with pytest.raises(UsageError, match=needle):
        shell.run_line_magic("mlp", line)


def test_objectives_lists_the_registry(shell):
    text = repr(shell.run_line_magic("mlp", "objectives"))
    assert "focal(gamma=2.0, alpha=None)  [lightgbm, torch]" in text
    assert "weighted_logloss(pos_weight=1.0, neg_weight=1.0)" in text
    assert 'mlp.objectives.get("focal", gamma=2)' in text
