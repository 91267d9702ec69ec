"""``mlp model ...``: the CLI twin of ``%mlp model``."""

import json

import lightgbm as lgb
import numpy as np
import pytest

from bentos import registry
from mlp.cli import main


@pytest.fixture
def saved(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    rng = np.random.default_rng(0)
    x, y = rng.random((200, 3)), rng.random(200)
    booster = lgb.train({"verbose": -1, "num_threads": 1}, lgb.Dataset(x, y), 5)
    a = registry.save(booster, "reg", metrics={"mse": 1.0}, signature=x[:3])
    b = registry.save(booster, "reg", metrics={"mse": 0.5}, user="bob")
    return a["tag"], b["tag"]


def test_list_show_compare_build_delete(saved, capsys):
    a, b = saved
    assert main(["model", "list"]) == 0
    out = capsys.readouterr().out
    assert a in out
    assert b not in out  # bob's namespace
    assert main(["model", "list", "--all", "--json"]) == 0
    assert {m["user"] for m in json.loads(capsys.readouterr().out)} == {"alice", "bob"}
    assert main(["model", "show", a]) == 0
    assert json.loads(capsys.readouterr().out)["schema"]["columns"][2]["name"] == "f2"
    assert main(["model", "--user", "bob", "show", "reg"]) == 0
    assert json.loads(capsys.readouterr().out)["tag"] == b
    assert main(["model", "build", a]) == 0
    assert f"for model {a}" in capsys.readouterr().out
    assert main(["model", "delete", a]) == 0
    assert main(["model", "show", a]) == 2
    assert f"no model '{a}'" in capsys.readouterr().err
    assert main(["model", "stop", "1"]) == 2
    assert "no running model server" in capsys.readouterr().err
