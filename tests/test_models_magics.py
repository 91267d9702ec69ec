"""``%mlp evaluate`` and ``%mlp model`` through a real InteractiveShell."""

import lightgbm as lgb
import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "mlp_magics")
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x.columns = [c.replace(" ", "_") for c in x.columns]
    model = lgb.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1, n_jobs=1).fit(x, y)
    sh.user_ns.update(x=x, y=y, model=model, score=model.predict_proba(x)[:, 1])
    yield sh
    InteractiveShell.clear_instance()


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")


def test_evaluate_binary_table_plots_and_name(shell):
    report = shell.run_line_magic("mlp", "evaluate y score --threshold 0.4 --name m")
    y, s = shell.user_ns["y"], shell.user_ns["score"]
    assert shell.user_ns["m"]["auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert shell.user_ns["m"]["f1"] == pytest.approx(skm.f1_score(y, s >= 0.4))
    text = repr(report)
    assert "task: binary" in text
    assert "log_loss" in text
    page = report._repr_html_()
    assert "threshold 0.4" in page
    assert page.count("<svg") == 2
    assert "ROC" in page
    assert "Precision-recall" in page


def test_evaluate_regression_residuals_and_expressions(shell):
    report = shell.run_line_magic("mlp", "evaluate y*2.0 score*2.0+0.1 --task regression")
    assert set(report.metrics) == {"mse", "rmse", "mae", "r2"}
    assert "Residuals" in report._repr_html_()


def test_evaluate_multiclass_plots_per_class(shell):
    shell.user_ns["yc"] = np.array([0, 1, 2, 1, 0, 2])
    shell.user_ns["pc"] = np.eye(3)[[0, 1, 2, 0, 0, 2]] * 0.8 + 0.2 / 3
    report = shell.run_line_magic("mlp", "evaluate yc pc")
    assert report.curves["task"] == "multiclass"
    assert "class 2" in report._repr_html_()


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("evaluate y", "the following arguments are required: y_score"),
        ("evaluate y nosuchvar", "cannot evaluate 'nosuchvar': NameError"),
        ("evaluate y score --task ranking", "invalid choice: 'ranking'"),
        ("evaluate y score[:3]", "569 rows but y_score has 3"),
        ("evaluate y score --name 1x", "not a Python variable name"),
        ("model save x --name m", "cannot save a DataFrame as a model"),
        ("model save model", "the following arguments are required: --name"),
        ("model save model --name m --metrics x", "is a DataFrame, not a dict"),
        ("model show nosuch", "no model 'nosuch' in alice's registry"),
        ("model build nosuch", "no model 'nosuch'"),
        ("model stop 1", "no running model server '1'"),
        ("model serve model --workers 0", "--workers must be between 1 and"),
        ("model serve model --workers two", "argument --workers: invalid int value: 'two'"),
        ("model serve model --max-rows -5", "--max-rows must be at least 1"),
        ("model frobnicate", "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_a_usage_error(shell, line, needle):
    with pytest.raises(UsageError) as err:
        shell.run_line_magic("mlp", line)
    assert needle in str(err.value)


def test_model_save_list_show_compare_delete(shell, capsys, tmp_path):
    stats = tmp_path / "stats.json"
    stats.write_text("{}")
    shell.run_line_magic("mlp", "evaluate y score --name m1")
    shell.user_ns["m2"] = {"auc": 0.5}
    first = shell.run_line_magic(
        "mlp",
        f"model save model --name bc --metrics m1 --signature x.head() --stats {stats} "
        "--task binary",
    )
    second = shell.run_line_magic("mlp", "model save model --name bc --metrics m2")
    a, b = first.info["tag"], second.info["tag"]
    assert first.info["stats"]["file"] == "mlp_stats/stats.json"
    assert first.info["schema"]["columns"][0]["name"] == "mean_radius"
    listing = repr(shell.run_line_magic("mlp", "model list"))
    assert listing.index(b) < listing.index(a)
    assert "auc=" in listing
    shown = shell.run_line_magic("mlp", f"model show {a}")
    assert shown.info["task"] == "binary"
    assert "<table class='mlp-model'>" in shown._repr_html_()
    cmp = repr(shell.run_line_magic("mlp", f"model compare {a} {b}"))
    assert "auc" in cmp
    assert "b - a" in cmp
    capsys.readouterr()
    shell.run_line_magic("mlp", f"model delete {b}")
    assert f"deleted {b}" in capsys.readouterr().out
    assert b not in repr(shell.run_line_magic("mlp", "model list"))
    assert "no model servers running" in repr(shell.run_line_magic("mlp", "model servers"))
