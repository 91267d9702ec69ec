"""REST handlers of the MLP server extension."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

#: Message of the 403 sent when a token arrives in the URL query.
URL_TOKEN_REFUSED = "pass the token in the Authorization header, not the URL"  # noqa: S105 (not a secret)


def _collect_info() -> dict[str, Any]:
    """Call :func:`mlp.info.collect_info`, looked up at call time so tests can patch it."""
    from mlp import info

    return info.collect_info()


class MLPAPIHandler(APIHandler):
    """Base class of MLP API handlers.

    Refuses a token in the URL query (tokens in URLs leak into logs, proxies
    and browser history) before authentication runs, and turns
    :class:`mlp.errors.MLPError` into a JSON 4xx.
    """

    #: Resource name that jupyter_server's authorizer sees.
    auth_resource = "mlp"

    async def prepare(self) -> None:  # type: ignore[override]
        """Reject a URL token, then run jupyter_server's authentication."""
        if "token" in self.request.query_arguments:
            # No user is resolved for this request; set it so logging and
            # activity tracking do not try to.
            self.current_user = self._jupyter_current_user = None
            raise tornado.web.HTTPError(403, URL_TOKEN_REFUSED)
        await super().prepare()

    def write_mlp_error(self, exc: Exception) -> None:
        """Answer with ``exc``'s status code and ``{"message": str(exc)}``.

        Parameters
        ----------
        exc
            An :class:`mlp.errors.MLPError`; a status outside 4xx becomes 400.
        """
        status = getattr(exc, "status_code", 400)
        if not isinstance(status, int) or not 400 <= status < 500:
            status = 400
        self.log.info("mlp_jupyter_ext: %s: %s", type(exc).__name__, exc)
        self.set_status(status)
        self.finish(json.dumps({"message": str(exc)}))


class InfoHandler(MLPAPIHandler):
    """``GET {base_url}mlp/api/info``: the user's environment as JSON."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """Return :func:`mlp.info.collect_info` as JSON (computed in a worker thread)."""
        from mlp.errors import MLPError

        try:
            info = await asyncio.to_thread(_collect_info)
        except MLPError as exc:
            self.write_mlp_error(exc)
            return
        self.finish(json.dumps(info, default=str))


def setup_handlers(web_app: tornado.web.Application) -> None:
    """Add the MLP API routes to ``web_app``.

    Parameters
    ----------
    web_app
        The server's tornado application; its ``base_url`` setting prefixes the routes.
    """
    base_url = web_app.settings["base_url"]
    handlers: list[tuple[str, type[tornado.web.RequestHandler]]] = [
        (url_path_join(base_url, "mlp", "api", "info"), InfoHandler),
    ]
    web_app.add_handlers(".*$", handlers)
