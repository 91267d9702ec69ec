"""Tests of ``GET {base_url}mlp/api/stats?path=...`` (the file browser's "Show distributions")."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from jupyter_server.utils import url_path_join
from tornado.httpclient import HTTPClientError

MIME_KEYS = {"version", "datasets", "features", "summary", "threshold", "target"}


@pytest.fixture
def data_files(jp_root_dir):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    (jp_root_dir / "data").mkdir()
    df.to_csv(jp_root_dir / "data" / "train.csv", index=False)
    df.to_parquet(jp_root_dir / "data" / "train.parquet")
    return df


async def fetch_error(jp_fetch, path):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlp", "api", "stats", params={"path": path})
    return info.value.code, json.loads(info.value.response.body)["message"]


async def test_stats_of_a_csv_file(jp_fetch, data_files):
    response = await jp_fetch("mlp", "api", "stats", params={"path": "data/train.csv"})
    assert response.code == 200
    payload = json.loads(response.body)
    assert set(payload) == MIME_KEYS
    assert payload["datasets"] == [{"name": "train", "num_examples": 200, "sampled_from": None}]
    x = next(f for f in payload["features"] if f["name"] == "x")
    assert x["stats"][0]["mean"] == pytest.approx(data_files["x"].mean(), rel=1e-6)
    assert sum(x["stats"][0]["counts"]) == 200


async def test_stats_of_a_parquet_file_with_sample(jp_fetch, data_files):
    response = await jp_fetch(
        "mlp", "api", "stats", params={"path": "data/train.parquet", "sample": "50"}
    )
    payload = json.loads(response.body)
    assert payload["datasets"][0]["sampled_from"] == 200


@pytest.mark.parametrize(
    ("path", "code", "needle"),
    [
        ("", 400, "give the file as ?path="),
        ("../etc/passwd", 403, "without '..'"),
        ("data/../../secret.csv", 403, "without '..'"),
        ("/etc/passwd", 403, "inside the server's root"),
        ("data/nope.csv", 404, "no such file: data/nope.csv"),
        ("data", 404, "no such file"),
    ],
)
async def test_bad_paths_are_refused(jp_fetch, data_files, path, code, needle):
    got_code, message = await fetch_error(jp_fetch, path)
    assert (got_code, needle in message) == (code, True), message


async def test_symlink_out_of_the_root_is_refused(jp_fetch, jp_root_dir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.csv"
    outside.write_text("a\n1\n")
    (jp_root_dir / "link.csv").symlink_to(outside)
    code, message = await fetch_error(jp_fetch, "link.csv")
    assert code == 403
    assert "outside the server's root" in message


async def test_unreadable_and_unsupported_files(jp_fetch, jp_root_dir, data_files):
    (jp_root_dir / "bad.parquet").write_bytes(b"not parquet at all")
    code, message = await fetch_error(jp_fetch, "bad.parquet")
    assert code == 400
    assert "cannot read" in message
    (jp_root_dir / "notes.txt").write_text("hello")
    code, message = await fetch_error(jp_fetch, "notes.txt")
    assert code == 400
    assert ".csv, .tsv or .parquet" in message
    code, message = await fetch_error(jp_fetch, "data/train.csv&sample=x")
    assert code == 404  # the whole string is the path


async def test_bad_sample_is_400(jp_fetch, data_files):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlp", "api", "stats", params={"path": "data/train.csv", "sample": "-1"})
    assert info.value.code == 400


async def test_stats_requires_authentication(jp_base_url, http_server_client, data_files):
    url = url_path_join(jp_base_url, "mlp/api/stats") + "?path=data/train.csv"
    response = await http_server_client.fetch(url, raise_error=False)
    assert response.code == 403


async def test_stats_refuses_token_in_url(
    jp_base_url, http_server_client, server_token, data_files
):
    url = url_path_join(jp_base_url, "mlp/api/stats") + f"?path=data/train.csv&token={server_token}"
    response = await http_server_client.fetch(url, raise_error=False)
    assert response.code == 403
