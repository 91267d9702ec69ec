"""Serving saved models with ``bentoml serve``: end to end, bad input, readiness, Lightning.

Servers run on free 127.0.0.1 ports and are stopped by the fixtures.
"""

import io
import json
import pickle
import sys
import time
from pathlib import Path

import bentoml
import cloudpickle
import lightgbm as lgb
import numpy as np
import psutil
import pyarrow as pa
import pytest
import requests
import torch
from sklearn.datasets import load_diabetes

from bentos import registry, serving
from tests.conftest import wait_for

MAX_ROWS = 300


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MLP_MODEL_STORE", str(tmp_path_factory.mktemp("store")))
    mp.setenv("JUPYTERHUB_USER", "alice")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def data():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def booster(data):
    x, y = data
    params = {"objective": "regression", "num_leaves": 7, "verbose": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=15)


@pytest.fixture(scope="module")
def server(store, data, booster):
    x, _ = data
    saved = registry.save(booster, "diabetes", signature=x.head(), nullable=["bmi"])
    entry = serving.serve(saved["tag"], env={"MLP_MAX_ROWS": str(MAX_ROWS)})
    yield entry
    serving.stop(entry["port"])


def post(server, body, content_type="application/json"):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return requests.post(
        server["url"] + "/predict", data=body, headers={"Content-Type": content_type}, timeout=10
    )


def arrow(table):
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def test_records_columns_and_arrow_agree_with_booster(server, data, booster):
    x, _ = data
    rows = x.iloc[:200]
    expected = booster.predict(rows)
    r1 = post(server, {"records": rows.to_dict("records")})
    r2 = post(server, {"columns": rows.to_dict("list")})
    r3 = post(
        server,
        arrow(pa.Table.from_pandas(rows, preserve_index=False)),
        "application/vnd.apache.arrow.stream",
    )
    assert (r1.status_code, r2.status_code, r3.status_code) == (200, 200, 200)
    np.testing.assert_allclose(r1.json()["predictions"], expected)
    np.testing.assert_allclose(r2.json()["predictions"], expected)
    got = pa.ipc.open_stream(r3.content).read_all().column("prediction").to_numpy()
    np.testing.assert_allclose(got, expected)
    assert {p.split(";")[0] for p in r1.headers["Server-Timing"].split(", ")} == {
        "receive",
        "parse",
        "validate",
        "predict",
        "serialize",
    }


def test_sync_http_client_and_probes(server, data, booster):
    x, _ = data
    client = bentoml.SyncHTTPClient(server["url"], server_ready_timeout=30)
    try:
        assert client.is_ready()
        got = client.predict_records(records=x.head(2).to_dict("records"))
        np.testing.assert_allclose(got, booster.predict(x.head(2)))
        with pytest.raises(bentoml.exceptions.BentoMLException, match="missing column"):
            client.predict_records(records=[{"age": 1.0}])
    finally:
        client.close()
        client._temp_dir.cleanup()  # bentoml 1.4.39's close() leaves its temp dir behind
    typed = requests.post(
        server["url"] + "/predict_records", json={"records": [{"age": 1}]}, timeout=5
    )
    assert typed.status_code == 422
    assert "missing column(s): sex" in typed.text
    typed = requests.post(server["url"] + "/predict_records", data=b"{", timeout=5)
    assert 400 <= typed.status_code < 500
    assert requests.get(server["url"] + "/livez", timeout=5).status_code == 200
    assert requests.get(server["url"] + "/readyz", timeout=5).status_code == 200
    schema = requests.get(server["url"] + "/schema", timeout=5).json()
    assert schema["model"] == server["model"]
    assert [c["name"] for c in schema["columns"]] == list(x.columns)


def _record(x, **changes):
    rec = x.iloc[0].to_dict()
    rec.update(changes)
    return rec


BAD = [
    # (id, body builder, content type, status, message fragment)
    (
        "missing column",
        lambda x: {"records": [{k: v for k, v in _record(x).items() if k != "age"}]},
        None,
        422,
        "missing column(s): age",
    ),
    (
        "unknown column",
        lambda x: {"records": [_record(x, color=1.0)]},
        None,
        422,
        "unknown column(s): color",
    ),
    (
        "unknown in later record",
        lambda x: {"records": [_record(x), _record(x, color=1.0)]},
        None,
        422,
        "record 1 has unknown column(s): color",
    ),
    (
        "missing in later record",
        lambda x: {"records": [_record(x), {k: v for k, v in _record(x).items() if k != "s1"}]},
        None,
        422,
        "record 1 is missing column 's1'",
    ),
    (
        "string for float",
        lambda x: {"records": [_record(x, age="old")]},
        None,
        422,
        "column 'age': expected float, got str 'old'",
    ),
    (
        "bool for float",
        lambda x: {"columns": {**x.head(2).to_dict("list"), "age": [True, False]}},
        None,
        422,
        "column 'age': expected float, got booleans",
    ),
    (
        # numpy alone would turn this true into 1.0: the fast path must not take it
        "one bool among floats",
        lambda x: {"columns": {**x.head(2).to_dict("list"), "age": [0.03, True]}},
        None,
        422,
        "column 'age': expected float, got bool True",
    ),
    (
        # the NaN token that Python's json.dumps writes (orjson refuses it: json parses it)
        "NaN token where forbidden",
        lambda x: json.dumps({"records": [_record(x, s1=float("nan"))]}).encode(),
        None,
        422,
        "column 's1' does not allow NaN/null",
    ),
    (
        "list as a value",
        lambda x: {"records": [_record(x, age=[0.03])]},
        None,
        422,
        "column 'age': expected one float value per row, got lists or objects",
    ),
    (
        "nested list in a column",
        lambda x: {"columns": {**x.head(1).to_dict("list"), "age": [[0.03, 0.04]]}},
        None,
        422,
        "column 'age': expected one float value per row",
    ),
    (
        "ragged nesting in a column",
        lambda x: {"columns": {**x.head(2).to_dict("list"), "age": [[0.03, 0.04], 0.05]}},
        None,
        422,
        "column 'age': expected one float value per row",
    ),
    (
        "null where forbidden",
        lambda x: {"records": [_record(x, s1=None)]},
        None,
        422,
        "column 's1' does not allow NaN/null",
    ),
    (
        "NaN where forbidden (arrow)",
        lambda x: arrow(
            pa.Table.from_pandas(x.head(3).assign(s2=[1.0, np.nan, 2.0]), preserve_index=False)
        ),
        "arrow",
        422,
        "column 's2' does not allow NaN/null (rows [1])",
    ),
    (
        "too many rows",
        lambda x: {"columns": x.iloc[: MAX_ROWS + 1].to_dict("list")},
        None,
        413,
        f"{MAX_ROWS + 1} rows is more than the maximum of {MAX_ROWS}",
    ),
    ("no rows", lambda x: {"records": []}, None, 422, "no rows"),
    ("malformed JSON", lambda x: b'{"records": [{"age": 1,', None, 400, "malformed JSON"),
    ("wrong shape", lambda x: {"rows": []}, None, 400, 'expected {"records"'),
    (
        "record not an object",
        lambda x: {"records": [[1, 2, 3]]},
        None,
        422,
        "each record must be an object",
    ),
    (
        "ragged columns",
        lambda x: {"columns": {**x.head(2).to_dict("list"), "age": [1.0]}},
        None,
        422,
        "different lengths",
    ),
    (
        "column not a list",
        lambda x: {"columns": {**x.head(2).to_dict("list"), "age": 3}},
        None,
        422,
        "column 'age' must be a list",
    ),
    (
        "pickle payload",
        lambda x: pickle.dumps(x.head(2)),
        "application/vnd.bentoml+pickle",
        415,
        "unsupported Content-Type",
    ),
    (
        "python pickle",
        lambda x: pickle.dumps(x.head(2)),
        "application/python-pickle",
        415,
        "unsupported Content-Type",
    ),
    (
        "octet-stream",
        lambda x: pickle.dumps(x.head(2)),
        "application/octet-stream",
        415,
        "unsupported Content-Type",
    ),
    (
        "not arrow",
        lambda x: b"PK\x03\x04 not arrow at all",
        "arrow",
        400,
        "not an Arrow IPC stream",
    ),
    (
        "arrow string column",
        lambda x: arrow(
            pa.Table.from_pandas(x.head(2).assign(sex=["m", "f"]), preserve_index=False)
        ),
        "arrow",
        422,
        "column 'sex': expected float, got str",
    ),
]


@pytest.mark.parametrize(
    ("build", "ctype", "status", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_input_is_4xx_naming_the_problem(server, data, build, ctype, status, message):
    x, _ = data
    ctype = (
        "application/vnd.apache.arrow.stream" if ctype == "arrow" else ctype or "application/json"
    )
    resp = post(server, build(x), ctype)
    assert resp.status_code == status, resp.text
    assert message in resp.json().get("error", resp.text)


def test_json_fast_path_agrees_with_the_checked_path(server, data, booster):
    """Integer columns, a NaN token in a nullable column and a column named "true"."""
    x, _ = data
    rows = x.iloc[:5].copy()
    rows["bmi"] = [np.nan, 0.01, np.nan, 0.02, 0.0]
    body = json.dumps({"columns": rows.to_dict("list")}).encode()  # writes NaN tokens
    got = post(server, body)
    assert got.status_code == 200, got.text
    np.testing.assert_allclose(got.json()["predictions"], booster.predict(rows), rtol=1e-9)
    ints = x.iloc[:3].copy()
    ints["age"] = [0, 1, 0]  # JSON integers in a float column
    got = post(server, {"columns": ints.to_dict("list")})
    assert got.status_code == 200, got.text
    np.testing.assert_allclose(got.json()["predictions"], booster.predict(ints), rtol=1e-9)


def test_server_survives_bad_input_and_counts_it(server, data, booster):
    x, _ = data
    for _ in range(3):
        post(server, b"{nope", "application/json")
    assert requests.get(server["url"] + "/livez", timeout=5).status_code == 200
    ok = post(server, {"records": x.head(1).to_dict("records")})
    assert ok.status_code == 200
    metrics = requests.get(server["url"] + "/metrics", timeout=5).text
    assert 'mlp_predict_errors_total{status="400"}' in metrics
    assert "mlp_predict_stage_seconds_bucket" in metrics
    # Nullable column: null accepted (LightGBM handles missing values).
    assert post(server, {"records": [_record(x, bmi=None)]}).status_code == 200


class SlowZeroBmi:
    """Preprocessing that sets ``bmi`` to 0 and takes ``seconds`` to unpickle (load)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __setstate__(self, state):
        time.sleep(state["seconds"])
        self.__dict__.update(state)

    def __call__(self, frame):
        return frame.assign(bmi=0.0)


def test_readyz_is_503_until_the_model_is_loaded(store, data, booster):
    x, _ = data
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        saved = registry.save(booster, "slow", signature=x.head(), preprocess=SlowZeroBmi(4))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    entry = serving.serve(saved["tag"], wait=0)
    try:

        def probe():
            try:
                return requests.get(entry["url"] + "/livez", timeout=2).status_code == 200
            # The arbiter binds the port before the worker runs: a busy machine can
            # accept the connection and answer only seconds later.
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_for(probe, 60, "the server to answer /livez")
        assert requests.get(entry["url"] + "/readyz", timeout=5).status_code == 503
        early = post(entry, {"records": x.head(1).to_dict("records")})
        assert early.status_code == 503
        assert "model is loading" in early.json()["error"]
        wait_for(
            lambda: requests.get(entry["url"] + "/readyz", timeout=5).status_code == 200,
            60,
            "/readyz to turn 200",
        )
        got = post(entry, {"records": x.head(3).to_dict("records")}).json()["predictions"]
        np.testing.assert_allclose(got, booster.predict(x.head(3).assign(bmi=0.0)))
    finally:
        serving.stop(entry["port"])


def test_lightning_template_serves_exported_torch_model(store, data):
    x, _ = data
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    saved = registry.save(net, "torchnet", signature=x.head(4), task="regression")
    assert saved["framework"] == "torch"
    entry = serving.serve(saved["tag"])
    try:
        assert saved["tag"] in [s["model"] for s in serving.list_servers()]
        rows = x.head(50)
        got = post(entry, {"columns": rows.to_dict("list")})
        assert got.status_code == 200, got.text
        with torch.no_grad():
            want = net(torch.tensor(rows.to_numpy(), dtype=torch.float32)).numpy().reshape(-1)
        np.testing.assert_allclose(got.json()["predictions"], want, rtol=1e-5, atol=1e-5)
        assert post(entry, {"records": [_record(x, age="x")]}).status_code == 422
    finally:
        serving.stop(entry["port"])
    assert saved["tag"] not in [s["model"] for s in serving.list_servers()]
    assert "Starting production HTTP BentoServer" in serving.logs(saved["tag"])


def test_serving_errors(store, data, booster):
    with pytest.raises(Exception, match="no model 'nosuch'"):
        serving.serve("nosuch")
    with pytest.raises(Exception, match="no running model server"):
        serving.stop(1)
    with pytest.raises(Exception, match="--workers must be between 1 and"):
        serving.serve("nosuch", workers=0)
    with pytest.raises(Exception, match="--max-rows must be at least 1"):
        serving.serve("nosuch", max_rows=0)


def test_two_workers_share_the_port_and_both_answer(store, data, booster):
    """``workers=2``: two processes with a model each accept on the one port."""
    x, _ = data
    saved = registry.save(booster, "twoworkers", signature=x.head())
    entry = serving.serve(saved["tag"], workers=2)
    try:
        # serve() returned: both workers have loaded, not only the one that got /readyz.
        assert len(list(Path(entry["ready_dir"]).iterdir())) == 2
        root = psutil.Process(entry["pid"])
        workers = [
            p
            for p in root.children(recursive=True)
            if "_bentoml_impl.worker" in " ".join(p.cmdline())
        ]
        assert len(workers) == 2, [p.cmdline() for p in root.children(recursive=True)]
        before = {p.pid: sum(p.cpu_times()[:2]) for p in workers}
        # Separate connections are spread over the workers by the kernel's accept.
        body = {"columns": x.iloc[:200].to_dict("list")}
        for _ in range(60):
            assert post(entry, body).status_code == 200
        busy = [p.pid for p in workers if sum(p.cpu_times()[:2]) - before[p.pid] > 0.01]
        assert len(busy) == 2, "only one worker answered 60 requests on new connections"
    finally:
        serving.stop(entry["port"])
    assert not any(p.is_running() for p in workers)
