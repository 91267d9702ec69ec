"""``%mlp stats`` through a real InteractiveShell."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from mlp.stats import MIME_TYPE, StatsResult


@pytest.fixture(scope="module")
def shell():
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "mlp_magics")
    yield sh
    InteractiveShell.clear_instance()


@pytest.fixture
def frames(shell):
    rng = np.random.default_rng(0)
    train = pd.DataFrame(
        {"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500), "y": rng.integers(0, 2, 500)}
    )
    test = train.copy()
    test["x"] += 2
    shell.user_ns.update(train=train, test=test)
    return train, test


def test_stats_of_two_frames_with_names_target_and_drift(shell, frames):
    result = shell.run_line_magic("mlp", "stats train test --names tr,te --target y")
    assert isinstance(result, StatsResult)
    assert result.names == ["tr", "te"]
    assert result.features[0].name == "y"
    assert "drift te vs tr: 1 of 3 features with PSI >= 0.2 (x)" in repr(result)
    bundle = result._repr_mimebundle_()
    assert MIME_TYPE in bundle
    assert "y (target)" in bundle["text/html"]


def test_default_names_are_the_variable_names_and_sample_is_reported(shell, frames):
    result = shell.run_line_magic("mlp", "stats train test --sample 100 --threshold 50")
    assert result.names == ["train", "test"]
    assert result.num_examples == [100, 100]
    assert "sampled from 500" in repr(result)
    assert "0 of 3 features with PSI >= 50" in repr(result)


def test_paths_relative_to_cwd_and_save(shell, frames, tmp_path, monkeypatch, capsys):
    train, test = frames
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    train.to_parquet(tmp_path / "data" / "train.parquet")
    test.to_csv(tmp_path / "data" / "test.csv", index=False)
    result = shell.run_line_magic(
        "mlp", "stats data/train.parquet data/test.csv --save out/stats.json"
    )
    assert result.names == ["train", "test"]
    assert "saved statistics to out/stats.json" in capsys.readouterr().out
    doc = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert doc["format"] == "mlp-stats"
    assert [d["name"] for d in doc["payload"]["datasets"]] == ["train", "test"]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("stats", "the following arguments are required: DATASET"),
        ("stats nothing_here", "no variable or file named 'nothing_here'"),
        ("stats missing.parquet", "no such file: missing.parquet"),
        ("stats number", "dataset 'number' has type int: pass a pandas or Dask DataFrame"),
        ("stats train test --names a", "2 datasets but 1 names"),
        ("stats train --sample -5", "positive number of rows"),
        ("stats train --target nope", "--target 'nope' is not a column"),
        ("stats train --sample x", "invalid int value"),
    ],
)
def test_bad_input_is_a_usage_error(shell, frames, line, needle):
    shell.user_ns["number"] = 42
    with pytest.raises(UsageError, match=needle.replace("[", r"\[")):
        shell.run_line_magic("mlp", line)


def test_help_lists_stats(shell):
    text = str(shell.run_line_magic("mlp", "help"))
    assert "stats" in text
