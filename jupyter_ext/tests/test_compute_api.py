"""Tests of ``{base_url}mlp/api/compute`` (the lab's Compute section)."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from mlp.compute import dask_cluster


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_USER_DIR", str(tmp_path / "mlp-user"))
    yield
    dask_cluster.down()


async def _error(jp_fetch, *path, body=None):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*path, method="POST", body=json.dumps(body or {}))
    return info.value.code, json.loads(info.value.response.body)["message"]


async def test_start_list_and_stop_a_cluster_from_the_form(jp_fetch):
    listed = json.loads((await jp_fetch("mlp", "api", "compute")).body)
    assert listed == {"items": []}
    response = await jp_fetch(
        "mlp",
        "api",
        "compute",
        "dask",
        method="POST",
        body=json.dumps({"workers": 1, "threads": 1, "memory": "1GiB", "name": "form"}),
    )
    assert response.code == 201
    info = json.loads(response.body)
    assert (info["workers"], info["memory_bytes"]) == (1, 1024**3)
    items = json.loads((await jp_fetch("mlp", "api", "compute")).body)["items"]
    assert [(i["kind"], i["name"], i["status"]) for i in items] == [("dask", "form", "running")]
    assert items[0]["address"].startswith("tcp://127.0.0.1:")
    stopped = await jp_fetch(
        "mlp", "api", "compute", items[0]["id"], "stop", method="POST", body=""
    )
    assert json.loads(stopped.body)["status"] == "stopped"
    assert dask_cluster.status() == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"workers": 0}, "workers must be >= 1"),
        ({"workers": "abc"}, "whole number"),
        ({"memory": "5XB"}, "is not a size"),
    ],
)
async def test_bad_form_input_is_a_400(jp_fetch, body, needle):
    code, message = await _error(jp_fetch, "mlp", "api", "compute", "dask", body=body)
    assert code == 400
    assert needle in message


async def test_stopping_an_unknown_job_is_a_404(jp_fetch):
    code, message = await _error(jp_fetch, "mlp", "api", "compute", "abc123", "stop")
    assert code == 404
    assert "no job 'abc123'" in message


async def test_token_in_url_is_refused(jp_fetch, server_token):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("mlp", "api", "compute", params={"token": server_token})
    assert info.value.code == 403
