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
