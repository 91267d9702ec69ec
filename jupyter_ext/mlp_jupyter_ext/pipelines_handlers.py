"""``{base_url}mlp/api/pipelines/...``: the lab's Pipelines section, proxied to the MLP service.

Every endpoint forwards to the MLP hub service through :class:`mlp.client.MLPClient` built from
the server's environment (``MLP_SERVICE_URL``, ``JUPYTERHUB_API_TOKEN``), so the service sees this
server's user and applies its own permissions. The browser never holds a hub token.

- ``GET    pipelines/runs[?limit=&status=]``: the user's runs, newest first;
- ``GET    pipelines/runs/<id>``: one run (pipeline runs with ``nodes`` and ``edges``);
- ``POST   pipelines/runs/<id>/cancel``, ``GET pipelines/runs/<id>/log``;
- ``GET    pipelines/schedules``, ``POST pipelines/schedules`` (the service's schedule body);
- ``PATCH  pipelines/schedules/<id>`` (e.g. ``{"paused": true}``);
- ``DELETE pipelines/schedules/<id>``;
- ``POST   pipelines/schedules/<id>/run``: run the schedule's target now.

A 4xx of the service is passed through with its message; an unreachable or failing service
answers 502, a server started outside the hub (no service configured) 503.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join

from mlp_jupyter_ext.handlers import MLPAPIHandler

_ID = "([0-9a-f]+)"


def _call_service(call: Callable[[Any], Any]) -> Any:
    """``call(client)`` with a client built from the environment (read per call), then closed."""
    from mlp.client import MLPClient

    client = MLPClient.from_env()
    try:
        return call(client)
    finally:
        client.close()


class PipelinesAPIHandler(MLPAPIHandler):
    """Base of the pipelines proxy handlers: run a client call in a thread, map its errors."""

    async def forward(self, call: Callable[[Any], Any], status: int = 200) -> None:
        """Answer with ``call(client)``'s JSON, or with the service's error.

        Parameters
        ----------
        call
            Receives an :class:`mlp.client.MLPClient`; runs in a worker thread because the
            client blocks.
        status
            HTTP status of a successful answer (204 sends no body).
        """
        from mlp.client import MLPServiceError
        from mlp.errors import ConfigError, MLPError

        try:
            result = await asyncio.to_thread(_call_service, call)
        except MLPError as exc:
            code = getattr(exc, "status_code", 400)
            if isinstance(exc, ConfigError):
                code = 503  # a server started outside the hub: no service to talk to
            elif not (isinstance(code, int) and 400 <= code < 500):
                # The service is down or broke: a gateway error, not the user's fault.
                code = 502 if isinstance(exc, MLPServiceError) else 400
            self.log.info("mlp_jupyter_ext pipelines: %s: %s", type(exc).__name__, exc)
            self.set_status(code)
            self.finish(json.dumps({"message": str(exc)}))
            return
        self.set_status(status)
        if status == 204:
            self.finish()
        else:
            self.finish(json.dumps(result, default=str))

    def json_body(self) -> dict[str, Any] | None:
        """The request body as a JSON object, or None after answering 400."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.set_status(400)
            self.finish(json.dumps({"message": "send a JSON object as the request body"}))
            return None
        return body


class RunsHandler(PipelinesAPIHandler):
    """``GET {base_url}mlp/api/pipelines/runs``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """List the user's latest runs (``?limit=`` up to 500, ``?status=``)."""
        limit_text = self.get_query_argument("limit", "50")
        if not limit_text.isdigit() or int(limit_text) < 1:
            self.set_status(400)
            self.finish(json.dumps({"message": f"limit must be a positive number: {limit_text}"}))
            return
        limit = min(int(limit_text), 500)
        status = self.get_query_argument("status", None) or None
        await self.forward(lambda c: {"runs": c.runs(limit=limit, status=status)})


class RunHandler(PipelinesAPIHandler):
    """``GET {base_url}mlp/api/pipelines/runs/<id>``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """One run; pipeline runs carry ``nodes`` and ``edges``."""
        await self.forward(lambda c: c.run(run_id))


class RunCancelHandler(PipelinesAPIHandler):
    """``POST {base_url}mlp/api/pipelines/runs/<id>/cancel``."""

    @tornado.web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        """Cancel a queued or running run."""
        await self.forward(lambda c: c.cancel_run(run_id))


class RunLogHandler(PipelinesAPIHandler):
    """``GET {base_url}mlp/api/pipelines/runs/<id>/log``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """The run's log text as ``{"log": ...}``."""
        await self.forward(lambda c: {"log": c.run_log(run_id)})


class SchedulesHandler(PipelinesAPIHandler):
    """``GET|POST {base_url}mlp/api/pipelines/schedules``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """List the user's schedules."""
        await self.forward(lambda c: {"schedules": c.schedules()})

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        """Create a schedule; the service validates the body (cron, time zone, target)."""
        body = self.json_body()
        if body is not None:
            # Sent as is (not as keyword arguments): the service refuses unknown fields.
            await self.forward(lambda c: c.request("POST", "api/schedules", json=body), 201)


class ScheduleHandler(PipelinesAPIHandler):
    """``PATCH|DELETE {base_url}mlp/api/pipelines/schedules/<id>``."""

    @tornado.web.authenticated
    @authorized
    async def patch(self, sid: str) -> None:
        """Pause/resume or change a schedule."""
        body = self.json_body()
        if body is not None:
            await self.forward(lambda c: c.request("PATCH", f"api/schedules/{sid}", json=body))

    @tornado.web.authenticated
    @authorized
    async def delete(self, sid: str) -> None:
        """Delete a schedule."""
        await self.forward(lambda c: c.delete_schedule(sid), 204)


class ScheduleRunNowHandler(PipelinesAPIHandler):
    """``POST {base_url}mlp/api/pipelines/schedules/<id>/run``."""

    @tornado.web.authenticated
    @authorized
    async def post(self, sid: str) -> None:
        """Run the schedule's target now; answers the new run."""
        await self.forward(lambda c: c.run_schedule_now(sid), 201)


def routes(base_url: str) -> list[tuple[str, type[tornado.web.RequestHandler]]]:
    """Routes of the Pipelines section.

    Parameters
    ----------
    base_url
        The server's base URL.

    Returns
    -------
    list
        ``(pattern, handler)`` pairs for ``web_app.add_handlers``.
    """
    api = url_path_join(base_url, "mlp", "api", "pipelines")
    return [
        (url_path_join(api, "runs"), RunsHandler),
        (url_path_join(api, "runs", _ID), RunHandler),
        (url_path_join(api, "runs", _ID, "cancel"), RunCancelHandler),
        (url_path_join(api, "runs", _ID, "log"), RunLogHandler),
        (url_path_join(api, "schedules"), SchedulesHandler),
        (url_path_join(api, "schedules", _ID), ScheduleHandler),
        (url_path_join(api, "schedules", _ID, "run"), ScheduleRunNowHandler),
    ]
