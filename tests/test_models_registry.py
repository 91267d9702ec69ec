"""Model registry on BentoML's store: round trip with metadata, namespaces, errors, build."""

import json
from importlib import metadata

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bentos import registry, serving
from mlp.errors import MLPError, NotFoundError


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("MLP_RUN_ID", "run-42")
    return tmp_path / "store"


@pytest.fixture(scope="module")
def data():
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="module")
def booster(data):
    x, y = data
    params = {"objective": "regression", "num_leaves": 7, "verbose": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=15)


def test_round_trip_with_metadata(store, data, booster, tmp_path):
    x, _y = data
    stats = tmp_path / "train.stats.json"
    stats.write_text(json.dumps({"rows": len(x)}))
    nb = tmp_path / "train.ipynb"
    nb.write_text('{"cells": []}')
    saved = registry.save(
        booster,
        "diabetes",
        metrics={"mse": 3000.5, "r2": 0.5, "bad": float("nan")},
        stats=str(stats),
        signature=x.head(3),
        task="regression",
        notebook=str(nb),
    )
    info = registry.show(saved["tag"])
    assert info["tag"].startswith("diabetes:")
    assert info["framework"] == "lightgbm"
    assert info["user"] == "alice"
    assert info["task"] == "regression"
    assert info["metrics"] == {"mse": 3000.5, "r2": 0.5}  # NaN dropped, not stored as junk
    assert info["hyperparameters"]["num_leaves"] == 7
    assert info["hyperparameters"]["num_iterations_trained"] == 15
    assert [c["name"] for c in info["schema"]["columns"]] == list(x.columns)
    assert {c["dtype"] for c in info["schema"]["columns"]} == {"float"}
    lin = info["lineage"]
    assert (lin["user"], lin["run_id"], lin["notebook"]) == ("alice", "run-42", str(nb))
    assert len(lin["notebook_sha256"]) == 64
    assert info["stats"]["file"] == "mlp_stats/train.stats.json"
    stats_path = registry.load_stats_file(info["tag"])
    assert json.loads(stats_path.read_text()) == {"rows": len(x)}
    # It is a real BentoML model, loadable with BentoML's own API.
    import bentoml

    with registry.activate("alice"):
        loaded = bentoml.lightgbm.load_model(info["tag"])
    np.testing.assert_allclose(loaded.predict(x.head(5)), booster.predict(x.head(5)))
    assert (store / "alice" / "models" / "diabetes").is_dir()


def test_sklearn_pipeline_list_compare_delete(store, data, booster):
    x, y = data
    a = registry.save(booster, "diabetes", metrics={"mse": 3000.0, "r2": 0.50})
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=2.0)).fit(x, y)
    b = registry.save(pipe, "diabetes", metrics={"mse": 2900.0, "r2": 0.52}, signature=x.head())
    assert b["framework"] == "sklearn"
    listed = registry.list_models()
    assert [m["tag"] for m in listed] == [b["tag"], a["tag"]]  # newest first
    assert registry.list_models("other") == []
    cmp = registry.compare(a["tag"], b["tag"])
    rows = {r["metric"]: r for r in cmp["metrics"]}
    assert rows["mse"]["diff"] == pytest.approx(-100.0)
    assert rows["r2"]["a"] == 0.50
    assert any(p["name"] == "num_leaves" for p in cmp["hyperparameters"])
    assert registry.show("diabetes")["tag"] == b["tag"]  # bare name = latest
    assert registry.delete(b["tag"]) == b["tag"]
    assert [m["tag"] for m in registry.list_models()] == [a["tag"]]


def test_namespaces_are_per_user(store, booster):
    registry.save(booster, "m1", user="alice")
    registry.save(booster, "m2", user="bob")
    assert [m["name"] for m in registry.list_models(user="alice")] == ["m1"]
    assert [m["name"] for m in registry.list_models(user="bob")] == ["m2"]
    assert {m["user"] for m in registry.list_models(all_users=True)} == {"alice", "bob"}
    with pytest.raises(NotFoundError, match="no model 'm2' in alice's registry"):
        registry.show("m2", user="alice")


@pytest.mark.parametrize("obj", [object(), {"a": 1}, np.zeros(3), "model"])
def test_save_non_model_is_refused(store, obj):
    with pytest.raises(MLPError, match=r"cannot save a .* as a model"):
        registry.save(obj, "x")


def test_save_unfitted_or_bad_name(store, booster):
    with pytest.raises(MLPError, match="not fitted"):
        registry.save(lgb.LGBMRegressor(), "x")
    with pytest.raises(MLPError, match="model name 'Bad Name' is invalid"):
        registry.save(booster, "Bad Name")
    with pytest.raises(MLPError, match=r"stats file .* does not exist"):
        registry.save(booster, "x", stats="/nonexistent/stats.json")
    assert registry.list_models() == []  # nothing half-saved


def test_unknown_model_lists_close_names(store, booster):
    saved = registry.save(booster, "churn-model")
    with pytest.raises(NotFoundError, match=r"close: .*churn-model"):
        registry.show("churn-modle")
    with pytest.raises(NotFoundError, match=rf"close: .*{saved['tag']}"):
        registry.show("churn-model:nosuchversion")
    with pytest.raises(NotFoundError, match="has no saved models"):
        registry.show("x", user="carol")


def test_build_bento_offline_and_deleted_model(store, data, booster):
    x, _ = data
    saved = registry.save(booster, "diabetes", signature=x.head())
    bento = serving.build(saved["tag"])
    assert bento["model"] == saved["tag"]
    assert bento["tag"] == f"diabetes-service:{saved['version']}"
    src = store / "alice" / "bentos" / "diabetes-service" / saved["version"] / "src"
    assert (src / "mlp_tabular_service.py").exists()
    assert json.loads((src / "mlp_model.json").read_text()) == {"tag": saved["tag"]}
    reqs = (src.parent / "env" / "python" / "requirements.txt").read_text()
    assert f"lightgbm=={lgb.__version__}" in reqs
    # The fast HTTP path travels with the bento (uvicorn only uses what is installed).
    for fast in ("orjson", "uvloop", "httptools"):
        assert f"{fast}=={metadata.version(fast)}" in reqs
    assert [b["tag"] for b in serving.list_bentos()] == [bento["tag"]]
    registry.delete(saved["tag"])
    assert serving.list_bentos() == []  # the bento referred to the deleted model
    with pytest.raises(NotFoundError, match=f"no model '{saved['tag']}'"):
        serving.build(saved["tag"])


def test_signature_schema_kinds():
    frame = pd.DataFrame(
        {"a": [1.0, np.nan], "b": [1, 2], "c": pd.Categorical(["x", "y"]), "d": [True, False]}
    )
    cols = registry.schema_from_sample(frame, nullable=["b"])["columns"]
    assert [(c["dtype"], c["nullable"]) for c in cols] == [
        ("float", True),
        ("int", True),
        ("category", False),
        ("bool", False),
    ]
    assert cols[2]["categories"] == ["x", "y"]
    arr = registry.schema_from_sample(np.zeros((2, 3)))
    assert arr["kind"] == "ndarray"
    assert [c["name"] for c in arr["columns"]] == ["f0", "f1", "f2"]
    with pytest.raises(MLPError, match="not in the signature sample"):
        registry.schema_from_sample(frame, nullable=["zz"])


def test_servers_and_service_share_one_store_root(tmp_path, monkeypatch):
    from hub_config.spawners import model_store_root

    monkeypatch.delenv("MLP_MODEL_STORE", raising=False)
    monkeypatch.setenv("MLP_DATA_DIR", str(tmp_path))
    # The spawner's value for user servers equals what the service (MLP_DATA_DIR) computes.
    assert model_store_root() == str(tmp_path / "bentoml")
    assert registry.store_root() == tmp_path / "bentoml"
    monkeypatch.setenv("MLP_MODEL_STORE", model_store_root())
    assert registry.store_root() == tmp_path / "bentoml"
    with pytest.raises(MLPError, match="cannot name a model namespace"):
        registry.user_home("../etc")
