"""Run the MLP service as a JupyterHub-managed service: ``python -m mlp.service``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from urllib.parse import urlparse

from tornado.ioloop import PeriodicCallback

from mlp.service.app import database_url, hub_token_resolver, make_app
from mlp.service.db import session_factory

log = logging.getLogger("mlp.service")


def _guarded(tick: Callable[[], None]) -> Callable[[], None]:
    """Log a failing tick instead of killing the loop (the next tick retries)."""

    def run() -> None:
        try:
            tick()
        except Exception:
            log.exception("pipelines loop tick failed")

    return run


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
    # The schedule loop and run executor live here, so they outlive users' servers.
    from pipelines_as_notebooks.service_routes import engine_for

    engine = engine_for(sessions)
    loop_task = PeriodicCallback(_guarded(engine.tick), 500)
    loop_task.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    loop_task.stop()
    engine.shutdown()
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
