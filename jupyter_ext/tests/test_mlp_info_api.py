"""Tests of ``GET {base_url}mlp/api/info``."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from jupyter_server.utils import url_path_join
from mlp_jupyter_ext.handlers import URL_TOKEN_REFUSED

import mlp.info
from mlp.errors import ForbiddenError, MLPError, NotFoundError


@pytest.fixture
def local_info(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make collect_info skip the MLP service call; return the threads it ran in."""
    real = mlp.info.collect_info
    threads: list[str] = []

    def collect_info(check_service: bool = True) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return real(check_service=False)

    monkeypatch.setattr(mlp.info, "collect_info", collect_info)
    return threads


async def test_info_authenticated(jp_fetch, monkeypatch, local_info):
    """An authenticated GET returns the environment of this server's user."""
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("MLP_PROFILE", "cpu-small")
    monkeypatch.setenv("MLP_PROFILE_NAME", "CPU small")

    response = await jp_fetch("mlp", "api", "info")

    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    info = json.loads(response.body)
    assert {"user", "profile", "cpu", "memory", "gpus", "versions"} <= info.keys()
    assert info["user"] == "alice"
    assert info["profile"] == {"slug": "cpu-small", "display_name": "CPU small"}
    assert set(info["versions"]) == set(mlp.info.PACKAGES)
    # collect_info does network I/O: it must not run on the event loop's thread.
    assert local_info
    assert local_info[0] != threading.main_thread().name


async def test_info_without_token_is_403(jp_base_url, http_server_client, local_info):
    """A request with no credentials is refused with 403 (not redirected to login)."""
    response = await http_server_client.fetch(
        url_path_join(jp_base_url, "mlp/api/info"), raise_error=False
    )

    assert response.code == 403
    assert not local_info


async def test_info_wrong_token_is_403(jp_fetch, local_info):
    """A wrong token in the Authorization header is refused."""
    response = await jp_fetch(
        "mlp", "api", "info", headers={"Authorization": "token wrong"}, raise_error=False
    )

    assert response.code == 403
    assert not local_info


@pytest.mark.parametrize("with_header", [False, True])
async def test_token_in_url_is_403(
    jp_base_url, http_server_client, server_token, local_info, with_header
):
    """A token in the URL query is refused, valid or not, with or without a header."""
    headers = {"Authorization": f"token {server_token}"} if with_header else {}
    response = await http_server_client.fetch(
        url_path_join(jp_base_url, "mlp/api/info") + f"?token={server_token}",
        headers=headers,
        raise_error=False,
    )

    assert response.code == 403
    assert json.loads(response.body)["message"] == URL_TOKEN_REFUSED
    assert "Set-Cookie" not in response.headers
    assert not local_info


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MLPError("bad request: fix it"), 400),
        (NotFoundError("no such profile"), 404),
        (ForbiddenError("not yours"), 403),
    ],
)
async def test_mlp_error_maps_to_4xx(jp_fetch, monkeypatch, error, status):
    """An MLPError from collect_info becomes its status code and a one-line JSON message."""

    def collect_info(check_service: bool = True) -> dict[str, Any]:
        raise error

    monkeypatch.setattr(mlp.info, "collect_info", collect_info)

    response = await jp_fetch("mlp", "api", "info", raise_error=False)

    assert response.code == status
    body = json.loads(response.body)
    assert body == {"message": str(error)}
    assert "traceback" not in body
