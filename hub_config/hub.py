"""The JupyterHub configuration of MLP, as functions of one settings object.

``jupyterhub_config.py`` calls :func:`configure`; the local and Kubernetes
deployments share everything here except :func:`configure_spawner`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub_config.profiles import load_profiles

SERVICE_NAME = "mlp"
ADMIN_USER_DEFAULT = "admin"


@dataclass
class HubSettings:
    """Everything the hub config needs, read from the environment ``mlp up`` prepares."""

    data_dir: Path
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 10101
    hub_db_url: str = ""
    mlp_db_url: str = ""
    admin_user: str = ADMIN_USER_DEFAULT
    cull_timeout: int = 3600
    spawner: str = "local"
    image: str = "mlp/singleuser:latest"
    extra_service_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> HubSettings:
        """Read ``MLP_*`` variables (see ``mlp up``)."""
        from mlp.config import data_dir

        env = os.environ
        ddir = data_dir()
        return cls(
            data_dir=ddir,
            port=int(env.get("MLP_PORT", "8000")),
            hub_port=int(env.get("MLP_HUB_PORT", "8081")),
            proxy_api_port=int(env.get("MLP_PROXY_API_PORT", "8001")),
            service_port=int(env.get("MLP_SERVICE_PORT", "10101")),
            hub_db_url=env.get("MLP_HUB_DB_URL") or f"sqlite:///{ddir / 'jupyterhub.sqlite'}",
            mlp_db_url=env.get("MLP_DB_URL") or f"sqlite:///{ddir / 'mlp.sqlite'}",
            admin_user=env.get("MLP_ADMIN_USER", ADMIN_USER_DEFAULT),
            cull_timeout=int(env.get("MLP_CULL_TIMEOUT", "3600")),
            spawner=env.get("MLP_SPAWNER", "local"),
            image=env.get("MLP_IMAGE", "mlp/singleuser:latest"),
        )

    @property
    def service_url(self) -> str:
        """Where the MLP service listens (loopback, direct)."""
        return f"http://127.0.0.1:{self.service_port}"


def _node_bin(name: str) -> str:
    """A node tool installed locally by ``npm ci`` at the repository root."""
    root = Path(__file__).resolve().parent.parent
    local = root / "node_modules" / ".bin" / name
    return str(local) if local.exists() else name


def configure_common(c: Any, s: HubSettings) -> None:
    """Hub, proxy, authenticator, roles and managed services (shared by all deployments)."""
    from mlp.config import secret_file

    c.JupyterHub.bind_url = f"http://127.0.0.1:{s.port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = s.hub_port
    c.JupyterHub.db_url = s.hub_db_url
    c.JupyterHub.cookie_secret_file = str(s.data_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(s.data_dir / "jupyterhub.pid")
    c.JupyterHub.default_url = "/hub/home"
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True
    c.JupyterHub.log_datefmt = "%Y-%m-%d %H:%M:%S"

    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
    c.ConfigurableHTTPProxy.auth_token = secret_file(s.data_dir / "proxy_auth_token")
    c.ConfigurableHTTPProxy.command = [_node_bin("configurable-http-proxy")]
    c.ConfigurableHTTPProxy.pid_file = str(s.data_dir / "proxy.pid")
    c.ConfigurableHTTPProxy.should_start = True

    # Per-user passwords, hashed in the hub DB; sign-up needs admin approval.
    c.JupyterHub.authenticator_class = "hub_config.auth.MLPAuthenticator"
    c.Authenticator.admin_users = {s.admin_user}
    # NativeAuthenticator only lets approved users in, so every approved user is allowed.
    c.Authenticator.allow_all = True
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 60
    c.MLPAuthenticator.admin_password_file = str(s.data_dir / "admin_password")

    service_scope = f"access:services!service={SERVICE_NAME}"
    c.JupyterHub.load_roles = [
        {"name": "user", "scopes": ["self", service_scope]},
        {
            "name": "mlp-service",
            "services": [SERVICE_NAME],
            "scopes": ["read:users", "read:servers", "list:users"],
        },
        {
            "name": "idle-culler",
            "services": ["idle-culler"],
            "scopes": [
                "list:users",
                "read:users:activity",
                "read:servers",
                "delete:servers",
            ],
        },
    ]
    # The server's token may call the MLP service on its owner's behalf.
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", service_scope]

    service_env = {
        "MLP_DATA_DIR": str(s.data_dir),
        "MLP_DB_URL": s.mlp_db_url,
        "PYTHONUNBUFFERED": "1",
        **s.extra_service_env,
    }
    c.JupyterHub.services = [
        {
            "name": SERVICE_NAME,
            "display": True,
            "info": {"description": "MLP: schedules, pipeline runs and model releases"},
            "url": s.service_url,
            "command": [sys.executable, "-m", "mlp.service"],
            "environment": service_env,
            "oauth_no_confirm": True,
        },
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "hub_config.culler",
                f"--timeout={s.cull_timeout}",
                f"--cull-every={max(10, min(300, s.cull_timeout // 4))}",
            ],
        },
    ]


def configure_spawner(c: Any, s: HubSettings) -> None:
    """The only section that differs between local and Kubernetes deployments."""
    profiles = load_profiles()
    c.Spawner.default_url = "/lab"
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 180
    if s.spawner == "kubernetes":
        from hub_config.spawners import kubespawner_profile_list

        c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
        c.KubeSpawner.image = s.image
        # Run outputs live under .mlp/runs/ in the user's root: the lab must open them.
        c.KubeSpawner.args = ["--ContentsManager.allow_hidden=True"]
        c.KubeSpawner.profile_list = kubespawner_profile_list(profiles, s.image)
        # Through the chart's proxy-public Service, which routes /services/mlp/ to the hub pod.
        c.KubeSpawner.environment = {
            "MLP_SERVICE_URL": f"http://proxy-public/services/{SERVICE_NAME}/",
            "MLP_USER_ROOT": "/home/jovyan",
        }
        return
    c.JupyterHub.spawner_class = "hub_config.spawners.MLPLocalSpawner"
    c.MLPLocalSpawner.mlp_service_url = f"{s.service_url}/services/{SERVICE_NAME}/"
    c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
    # Run outputs live under .mlp/runs/ in the user's root: the lab must be able to open them.
    args = ["--ServerApp.shutdown_no_activity_timeout=0", "--ContentsManager.allow_hidden=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    c.Spawner.args = args


def configure(c: Any, s: HubSettings | None = None) -> HubSettings:
    """Apply the whole MLP hub configuration to the traitlets config ``c``."""
    s = s or HubSettings.from_env()
    configure_common(c, s)
    configure_spawner(c, s)
    return s


def describe(s: HubSettings) -> str:
    """One JSON line of the effective settings (for logs; no secrets)."""
    data = {k: str(v) for k, v in s.__dict__.items() if k not in {"hub_db_url", "mlp_db_url"}}
    return json.dumps(data, sort_keys=True)
