"""Model registry through the MLP service: per-user namespaces, denials, admin view.

The service runs on a loopback port in this process with tokens resolved by a table
(the hub's own token check is covered by test_e2e_hub.py).
"""

import socket

import lightgbm as lgb
import numpy as np
import pytest

from bentos import registry
from mlp.client import MLPClient, MLPServiceError
from mlp.service.app import make_app
from mlp.service.db import session_factory
from tests.conftest import resolve_token as resolve


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_MODEL_STORE", str(tmp_path / "store"))
    rng = np.random.default_rng(0)
    x, y = rng.random((100, 2)), rng.random(100)
    booster = lgb.train({"verbose": -1, "num_threads": 1}, lgb.Dataset(x, y), 3)
    a1 = registry.save(booster, "price", metrics={"mse": 2.0}, user="alice")["tag"]
    a2 = registry.save(booster, "price", metrics={"mse": 1.5}, user="alice")["tag"]
    b1 = registry.save(booster, "secret", metrics={"mse": 9.0}, user="bob")["tag"]
    return a1, a2, b1


@pytest.fixture
async def url(tmp_path, models):
    app = make_app(
        resolve, session_factory(f"sqlite:///{tmp_path / 'mlp.sqlite'}"), "/services/mlp/"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = app.listen(port, address="127.0.0.1")
    yield f"http://127.0.0.1:{port}/services/mlp/"
    server.stop()
    await server.close_all_connections()  # the clients' keep-alive connections


CLIENTS = []


def client(url, token):
    c = MLPClient(url, token)
    CLIENTS.append(c)
    return c


@pytest.fixture(autouse=True)
def close_clients():
    yield
    while CLIENTS:
        CLIENTS.pop()._http.close()


async def call(fn, *args):
    # MLPClient is synchronous: run it off the event loop that serves the app.
    import asyncio

    return await asyncio.to_thread(fn, *args)


async def test_owner_lists_shows_compares_deletes(url, models):
    a1, a2, _b1 = models
    alice = client(url, "tok-alice")
    listed = await call(alice.list_models)
    assert [m["tag"] for m in listed] == [a2, a1]
    shown = await call(alice.show_model, "alice", a1)
    assert (shown["metrics"], shown["lineage"]["user"]) == ({"mse": 2.0}, "alice")
    cmp = await call(alice.compare_models, "alice", a1, a2)
    assert cmp["metrics"][0]["diff"] == pytest.approx(-0.5)
    assert await call(alice.delete_model, "alice", a1) == {"deleted": a1}
    assert [m["tag"] for m in await call(alice.list_models)] == [a2]


async def test_other_users_models_are_404(url, models):
    a1, _a2, b1 = models
    bob = client(url, "tok-bob")
    assert [m["tag"] for m in await call(bob.list_models)] == [b1]
    for fn, args in [
        (bob.show_model, ("alice", a1)),
        (bob.delete_model, ("alice", a1)),
        (bob.compare_models, ("alice", a1, a1)),
        (bob.list_models, (None, "alice")),
    ]:
        with pytest.raises(MLPServiceError) as err:
            await call(fn, *args)
        assert err.value.status_code == 404
        assert "alice" in str(err.value)
    # Nothing was deleted by the refused call.
    assert a1 in [m["tag"] for m in registry.list_models(user="alice")]


async def test_admin_sees_and_manages_all(url, models):
    a1, a2, b1 = models
    admin = client(url, "tok-admin")
    listed = await call(admin.list_models)
    assert {(m["user"], m["tag"]) for m in listed} == {("alice", a1), ("alice", a2), ("bob", b1)}
    assert (await call(admin.show_model, "bob", b1))["metrics"] == {"mse": 9.0}
    assert await call(admin.delete_model, "bob", b1) == {"deleted": b1}


async def test_unknown_model_and_bad_requests(url, models):
    alice = client(url, "tok-alice")
    with pytest.raises(MLPServiceError) as err:
        await call(alice.show_model, "alice", "prise")
    assert err.value.status_code == 404
    assert "close: price" in str(err.value)
    with pytest.raises(MLPServiceError) as err:
        await call(alice.delete_model, "alice", "price")
    assert err.value.status_code == 400
    assert "NAME:VERSION" in str(err.value)
    with pytest.raises(MLPServiceError) as err:
        await call(alice.request, "GET", "api/models/alice/compare")
    assert err.value.status_code == 400


async def test_models_need_a_token(url, models):
    with pytest.raises(MLPServiceError) as err:
        await call(client(url, "nope").list_models)
    assert err.value.status_code == 403
