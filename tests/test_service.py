"""MLP service API through a real HTTP server on loopback, with tokens resolved by a table.

The hub's token check itself is exercised end to end in test_e2e_hub.py; here the
resolver is a dict so each rule of the service can be checked alone.
"""

import json
import socket

import pytest
from sqlalchemy import inspect
from tornado.httpclient import AsyncHTTPClient

from mlp.service.app import make_app
from mlp.service.db import alembic_config, make_engine, session_factory
from tests.conftest import resolve_token as resolve


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'mlp.sqlite'}"


@pytest.fixture
async def base_url(db_url):
    app = make_app(resolve, session_factory(db_url), "/services/mlp/")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = app.listen(port, address="127.0.0.1")
    yield f"http://127.0.0.1:{port}/services/mlp/"
    server.stop()


async def call(url, token=None, headers=None):
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = f"token {token}"
    resp = await AsyncHTTPClient().fetch(url, headers=hdrs, raise_error=False)
    return resp.code, json.loads(resp.body or b"{}")


async def test_health_and_me(base_url):
    code, body = await call(base_url + "api/health", "tok-alice")
    assert code == 200
    assert body["status"] == "ok"
    code, body = await call(base_url + "api/me", "tok-alice")
    assert code == 200
    assert body["name"] == "alice"
    assert body["admin"] is False
    assert body["requests"] == 2  # health counted too


async def test_bearer_header_accepted(base_url):
    code, body = await call(base_url + "api/me", headers={"Authorization": "Bearer tok-bob"})
    assert (code, body["name"]) == (200, "bob")


@pytest.mark.parametrize("path", ["api/health", "api/me", "api/users", "api/users/alice", "x"])
async def test_every_endpoint_refuses_without_token(base_url, path):
    code, body = await call(base_url + path)
    assert code == 403
    assert "token" in body["message"]


async def test_invalid_token_refused(base_url):
    code, body = await call(base_url + "api/me", "not-a-token")
    assert code == 403
    assert "invalid" in body["message"]


async def test_token_in_url_refused_even_if_valid(base_url):
    code, body = await call(base_url + "api/me?token=tok-alice")
    assert code == 403
    assert "Authorization header" in body["message"]
    code, _ = await call(base_url + "api/me?token=tok-alice", "tok-alice")
    assert code == 403


async def test_users_see_only_their_own_record(base_url):
    await call(base_url + "api/me", "tok-alice")
    await call(base_url + "api/me", "tok-bob")
    code, body = await call(base_url + "api/users/alice", "tok-alice")
    assert (code, body["name"]) == (200, "alice")
    code, body = await call(base_url + "api/users/alice", "tok-bob")
    assert code == 404
    assert "alice" in body["message"]
    code, _ = await call(base_url + "api/users", "tok-bob")
    assert code == 403


async def test_admin_sees_all(base_url):
    await call(base_url + "api/me", "tok-alice")
    code, body = await call(base_url + "api/users", "tok-admin")
    assert code == 200
    assert {u["name"] for u in body["users"]} == {"alice", "root"}
    code, body = await call(base_url + "api/users/alice", "tok-admin")
    assert (code, body["name"]) == (200, "alice")
    code, body = await call(base_url + "api/users/nobody", "tok-admin")
    assert code == 404


async def test_unknown_path_is_404_json(base_url):
    code, body = await call(base_url + "api/nothing", "tok-alice")
    assert code == 404
    assert "no endpoint" in body["message"]


def test_migrations_upgrade_downgrade_upgrade(db_url):
    from alembic import command

    session_factory(db_url)
    engine = make_engine(db_url)
    assert "mlp_users" in inspect(engine).get_table_names()
    command.downgrade(alembic_config(db_url), "base")
    assert "mlp_users" not in inspect(engine).get_table_names()
    command.upgrade(alembic_config(db_url), "heads")
    assert "mlp_users" in inspect(engine).get_table_names()
    engine.dispose()


def test_committed_openapi_document_is_current():
    from pathlib import Path

    from mlp.service.openapi import build

    committed = json.loads((Path(__file__).parent.parent / "docs" / "openapi.json").read_text())
    assert committed == build(), "run: python -m mlp.service.openapi > docs/openapi.json"
    assert set(committed["paths"]) >= {"/api/runs", "/api/schedules", "/api/me"}
