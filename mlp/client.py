"""Client of the MLP service, used the same way by the server extension and by kernels.

Inside a user's server the environment provides everything: ``MLP_SERVICE_URL``
(set by the spawner) and ``JUPYTERHUB_API_TOKEN`` (the server's hub token).
"""

from __future__ import annotations

import os
from typing import Any

import requests

from mlp.errors import ConfigError, MLPError


class MLPServiceError(MLPError):
    """The MLP service refused a request or could not be reached."""

    def __init__(self, message: str, status_code: int = 502) -> None:
        super().__init__(message)
        self.status_code = status_code


class MLPClient:
    """Talk to the MLP service with a JupyterHub token.

    Parameters
    ----------
    url
        Base URL of the service, e.g. ``http://127.0.0.1:8000/services/mlp/``.
    token
        JupyterHub API token sent in the ``Authorization`` header.
    timeout
        Seconds per request.
    """

    def __init__(self, url: str | None, token: str | None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/") + "/" if url else None
        self.token = token
        self.timeout = timeout
        self._http = requests.Session()

    @classmethod
    def from_env(cls) -> MLPClient:
        """Build a client from ``MLP_SERVICE_URL`` and ``JUPYTERHUB_API_TOKEN``."""
        return cls(os.environ.get("MLP_SERVICE_URL"), os.environ.get("JUPYTERHUB_API_TOKEN"))

    def close(self) -> None:
        """Close the pooled HTTP connections (a short-lived client should, when done)."""
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return the decoded JSON body.

        Raises
        ------
        ConfigError
            If no service URL or token is configured.
        MLPServiceError
            On a connection failure or a non-2xx answer (its message included).
        """
        if not self.url:
            raise ConfigError("MLP_SERVICE_URL is not set; start the server from the MLP hub")
        if not self.token:
            raise ConfigError("JUPYTERHUB_API_TOKEN is not set; start the server from the MLP hub")
        headers = {"Authorization": f"token {self.token}", **kwargs.pop("headers", {})}
        try:
            resp = self._http.request(
                method, self.url + path.lstrip("/"), headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise MLPServiceError(f"MLP service at {self.url} unreachable: {exc}") from None
        if resp.status_code >= 400:
            try:
                message = resp.json().get("message", resp.text)
            except ValueError:
                message = resp.text[:200]
            raise MLPServiceError(f"MLP service: {message}", status_code=resp.status_code)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def health(self) -> dict[str, Any]:
        """``GET api/health``."""
        return self.request("GET", "api/health")

    def me(self) -> dict[str, Any]:
        """``GET api/me``: the caller as the service sees them."""
        return self.request("GET", "api/me")

    def reachability(self) -> dict[str, Any]:
        """Whether the service answers ``api/health`` for this token (never raises)."""
        try:
            self.health()
        except MLPError as exc:
            return {"reachable": False, "url": self.url, "error": str(exc)}
        return {"reachable": True, "url": self.url, "error": None}

    # pipelines ---------------------------------------------------------------

    def run_notebook(
        self,
        notebook: str,
        parameters: dict[str, Any] | None = None,
        kernel: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
    ) -> dict[str, Any]:
        """Queue a run of ``notebook`` (relative to your root)."""
        body = {
            "notebook": notebook,
            "parameters": parameters or {},
            "kernel": kernel,
            "timeout": timeout,
            "retries": retries,
        }
        return self.request("POST", "api/runs", json=body)

    def run_pipeline(
        self,
        path: str,
        parameters: dict[str, Any] | None = None,
        from_node: str | None = None,
        only_node: str | None = None,
    ) -> dict[str, Any]:
        """Queue a pipeline run."""
        body = {
            "path": path,
            "parameters": parameters or {},
            "from_node": from_node,
            "only_node": only_node,
        }
        return self.request("POST", "api/pipelines/runs", json=body)

    def validate_pipeline(self, path: str) -> dict[str, Any]:
        """Validate a pipeline file; raises with file and line."""
        return self.request("POST", "api/pipelines/validate", json={"path": path})

    def runs(self, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
        """Your latest runs."""
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        return self.request("GET", "api/runs", params=params)["runs"]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run with its nodes."""
        return self.request("GET", f"api/runs/{run_id}")

    def cancel_run(self, run_id: str) -> dict[str, Any]:
        """Cancel a run."""
        return self.request("POST", f"api/runs/{run_id}/cancel")

    def run_log(self, run_id: str) -> str:
        """A run's log text."""
        return self.request("GET", f"api/runs/{run_id}/log")["log"]

    def schedules(self) -> list[dict[str, Any]]:
        """Your schedules."""
        return self.request("GET", "api/schedules")["schedules"]

    def create_schedule(self, **body: Any) -> dict[str, Any]:
        """Create a schedule (see ``ScheduleRequest`` for the fields)."""
        return self.request("POST", "api/schedules", json=body)

    def update_schedule(self, schedule_id: str, **changes: Any) -> dict[str, Any]:
        """Pause/resume or change a schedule."""
        return self.request("PATCH", f"api/schedules/{schedule_id}", json=changes)

    def delete_schedule(self, schedule_id: str) -> None:
        """Delete a schedule."""
        self.request("DELETE", f"api/schedules/{schedule_id}")

    def run_schedule_now(self, schedule_id: str) -> dict[str, Any]:
        """Run a schedule's target now."""
        return self.request("POST", f"api/schedules/{schedule_id}/run")

    # models ------------------------------------------------------------------

    def list_models(self, name: str | None = None, user: str | None = None) -> list[Any]:
        """``GET api/models``: your model versions (admins: everyone's)."""
        params = {k: v for k, v in {"name": name, "user": user}.items() if v}
        return list(self.request("GET", "api/models", params=params)["models"])

    def show_model(self, user: str, tag: str) -> dict[str, Any]:
        """``GET api/models/{user}/{tag}``."""
        return dict(self.request("GET", f"api/models/{user}/{tag}"))

    def compare_models(self, user: str, a: str, b: str) -> dict[str, Any]:
        """``GET api/models/{user}/compare?a=&b=``."""
        return dict(self.request("GET", f"api/models/{user}/compare", params={"a": a, "b": b}))

    def delete_model(self, user: str, tag: str) -> dict[str, Any]:
        """``DELETE api/models/{user}/{name:version}``."""
        return dict(self.request("DELETE", f"api/models/{user}/{tag}"))
