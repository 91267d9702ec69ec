"""Run the MLP service as a JupyterHub-managed service: ``python -m mlp.service``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from urllib.parse import urlparse

from mlp.service.app import database_url, hub_token_resolver, make_app
from mlp.service.db import session_factory

log = logging.getLogger("mlp.service")


async def serve() -> None:
    """Listen on ``JUPYTERHUB_SERVICE_URL`` until SIGTERM/SIGINT."""
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/mlp/")
    sessions = session_factory(database_url())
    app = make_app(hub_token_resolver(), sessions, prefix)
    # On Kubernetes the URL names the hub Service; the pod binds all interfaces instead.
    bind = os.environ.get("MLP_SERVICE_BIND") or url.hostname or "127.0.0.1"
    server = app.listen(url.port or 80, address=bind, xheaders=True)
    log.info("MLP service listening on %s%s", url.geturl().rstrip("/"), prefix)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    log.info("MLP service stopped")


def main() -> None:
    """Entry point."""
    logging.basicConfig(
        level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s"
    )
    asyncio.run(serve())


if __name__ == "__main__":
    main()
