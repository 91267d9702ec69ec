"""Fixtures for the MLP server extension tests (pytest-jupyter's in-process server)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

# pytest-jupyter registers no entry point: load its server fixtures (jp_fetch, ...) here.
# This conftest sits on a path given to pytest (testpaths), so pytest_plugins is allowed.
pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest_asyncio.fixture
async def jp_asyncio_loop() -> AsyncIterator[asyncio.AbstractEventLoop]:
    """Run pytest-jupyter's server on the loop that pytest-asyncio runs the test on.

    The repository runs pytest-asyncio in auto mode, which takes over async tests; with
    pytest-jupyter's own loop the server and the test would sit on different loops.
    """
    yield asyncio.get_running_loop()


@pytest.fixture
def server_token() -> str:
    """Return a random token that the test server accepts."""
    return secrets.token_hex(16)


@pytest.fixture
def jp_server_config(server_token: str) -> dict:
    """Configure a server that loads the extension and requires authentication."""
    return {
        "ServerApp": {
            # jupyter_server_terminals (which pytest-jupyter adds unless named) has a websocket
            # handler without an auth decorator: with allow_unauthenticated_access=False its
            # JupyterServerAuthWarning would be an error under filterwarnings=error.
            "jpserver_extensions": {"mlp_jupyter_ext": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
        },
        "IdentityProvider": {"token": server_token},
    }
