"""REST handlers of the MLP server extension."""

from __future__ import annotations

import asyncio
import json
import os
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


def resolve_in_root(root_dir: str, path: str) -> str:
    """Resolve ``path`` (relative to the server's root) to a real path inside the root.

    Parameters
    ----------
    root_dir
        The server's root directory.
    path
        The path the client sent, relative to the root (API paths use ``/``).

    Returns
    -------
    str
        The real path of the file.

    Raises
    ------
    mlp.errors.MLPError
        400 when no path is given; 403 when it is absolute, holds ``..`` or leads
        (through a symlink) outside the root; 404 when there is no such file.
    """
    from mlp.errors import ForbiddenError, MLPError, NotFoundError

    if not path or not path.strip():
        raise MLPError("give the file as ?path=DIR/FILE.csv, relative to the server's root")
    parts = path.replace("\\", "/").split("/")
    if os.path.isabs(path) or path.startswith("/") or ".." in parts:
        raise ForbiddenError(f"{path}: give a path inside the server's root, without '..'")
    root = os.path.realpath(root_dir)
    full = os.path.realpath(os.path.join(root, *parts))
    if os.path.commonpath([root, full]) != root:
        raise ForbiddenError(f"{path} leads outside the server's root directory")
    if not os.path.isfile(full):
        raise NotFoundError(f"no such file: {path}")
    return full


def _compute_stats(full_path: str, name: str, sample: int | None) -> dict[str, Any]:
    """Statistics payload of one file (runs in a worker thread)."""
    import mlp.stats

    return mlp.stats.stats(full_path, [name], sample=sample).payload()


class StatsHandler(MLPAPIHandler):
    """``GET {base_url}mlp/api/stats?path=P[&sample=N]``: statistics of a file under the root.

    Answers the ``application/vnd.mlp.stats+json`` payload of :mod:`mlp.stats`.
    """

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """Compute the statistics of ``path`` (a .csv/.parquet file) in a worker thread."""
        from mlp.errors import MLPError

        try:
            path = self.get_query_argument("path", "")
            sample_text = self.get_query_argument("sample", "")
            if sample_text and not sample_text.isdigit():
                raise MLPError(f"sample must be a positive number of rows, got {sample_text!r}")
            sample = int(sample_text) if sample_text else None
            root = self.settings.get("server_root_dir") or self.contents_manager.root_dir
            full = resolve_in_root(root, path)
            name = os.path.splitext(os.path.basename(full))[0]
            payload = await asyncio.to_thread(_compute_stats, full, name, sample)
        except MLPError as exc:
            self.write_mlp_error(exc)
            return
        self.finish(json.dumps(payload, allow_nan=False))


def compute_routes(base_url: str) -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """Routes of the Compute section (``mlp_jupyter_ext.compute_handlers``)."""
    from mlp_jupyter_ext import compute_handlers as c

    api = url_path_join(base_url, "mlp", "api", "compute")
    return [
        (api, c.ComputeHandler),
        (url_path_join(api, "dask"), c.DaskStartHandler),
        (url_path_join(api, "([0-9a-f]+)", "stop"), c.StopHandler),
    ]


def pipelines_routes(base_url: str) -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """Routes of the Pipelines section (``mlp_jupyter_ext.pipelines_handlers``)."""
    from mlp_jupyter_ext import pipelines_handlers

    return pipelines_handlers.routes(base_url)


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
        (url_path_join(base_url, "mlp", "api", "stats"), StatsHandler),
        *compute_routes(base_url),
        *pipelines_routes(base_url),
    ]
    web_app.add_handlers(".*$", handlers)
