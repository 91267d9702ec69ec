"""``mlp up``: run the whole local platform in the foreground until Ctrl-C.

Starts JupyterHub (which starts the proxy, the MLP service and the idle
culler) in its own session, prints the URL and the admin credential, and on
SIGINT/SIGTERM stops the hub and then every process it left behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil
import requests

from hub_config import CONFIG_FILE
from hub_config.hub import ADMIN_USER_DEFAULT, _node_bin
from hub_config.profiles import load_profiles
from mlp.config import data_dir, public_port
from mlp.errors import ConfigError, MLPError
from mlp.process import die_with_parent


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """An unused loopback port chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_password(ddir: Path) -> str:
    """The initial admin password, generated once into ``admin_password`` (0600)."""
    path = ddir / "admin_password"
    if path.exists():
        os.chmod(path, 0o600)
        return path.read_text().strip()
    value = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


@dataclass
class Platform:
    """A running hub and the processes under it."""

    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    admin_user: str
    admin_password: str
    env: dict[str, str] = field(default_factory=dict)

    def descendants(self) -> list[psutil.Process]:
        """Every live process started under the hub, however deep."""
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the hub gracefully, then kill whatever it left behind."""
        tracked = {p.pid: p for p in self.descendants()}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for proc in list(tracked.values()):
            with contextlib.suppress(psutil.NoSuchProcess):
                tracked.update({c.pid: c for c in proc.children(recursive=True)})
        alive = [p for p in tracked.values() if p.is_running()]
        for p in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.terminate()
        _gone, alive = psutil.wait_procs(alive, timeout=10)
        for p in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        psutil.wait_procs(alive, timeout=10)


def prepare_env(port: int, ddir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the hub: the ports chosen now and where state lives."""
    env = dict(base if base is not None else os.environ)
    env.update(
        {
            "MLP_DATA_DIR": str(ddir),
            "MLP_PORT": str(port),
            "MLP_HUB_PORT": env.get("MLP_HUB_PORT") or str(free_port()),
            "MLP_PROXY_API_PORT": env.get("MLP_PROXY_API_PORT") or str(free_port()),
            "MLP_SERVICE_PORT": env.get("MLP_SERVICE_PORT") or str(free_port()),
            "MLP_ADMIN_USER": env.get("MLP_ADMIN_USER", ADMIN_USER_DEFAULT),
            "BENTOML_DO_NOT_TRACK": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
    return env


def preflight(port: int) -> None:
    """Refuse to start when something would fail half-way.

    Raises
    ------
    ConfigError
        Port taken, invalid profiles, or configurable-http-proxy missing.
    """
    if not port_is_free(port):
        raise ConfigError(
            f"port {port} is in use; stop what uses it or set MLP_PORT to a free port"
        )
    load_profiles()
    chp = _node_bin("configurable-http-proxy")
    if not (Path(chp).exists() or shutil.which(chp)):
        raise ConfigError(
            "configurable-http-proxy not found; run `make up` (it runs `npm ci`) or install Node.js"
        )


def start(
    log: IO[bytes] | None = None, env: dict[str, str] | None = None, ready_timeout: float = 120.0
) -> Platform:
    """Start the platform and wait until the hub answers.

    Parameters
    ----------
    log
        Where the hub's output goes (None: inherit this process's stdout/stderr).
    env
        Base environment (default ``os.environ``).
    ready_timeout
        Seconds to wait for ``/hub/health``.
    """
    base = dict(env if env is not None else os.environ)
    ddir = Path(base["MLP_DATA_DIR"]).resolve() if base.get("MLP_DATA_DIR") else data_dir()
    ddir.mkdir(parents=True, exist_ok=True, mode=0o700)
    old = os.environ.get("MLP_PORT")
    try:
        if "MLP_PORT" in base:
            os.environ["MLP_PORT"] = base["MLP_PORT"]
        port = public_port()
    finally:
        if old is None:
            os.environ.pop("MLP_PORT", None)
        else:
            os.environ["MLP_PORT"] = old
    preflight(port)
    password = admin_password(ddir)
    full_env = prepare_env(port, ddir, base)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG_FILE)],
        cwd=ddir,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
        preexec_fn=die_with_parent,  # a killed `mlp up` takes the hub with it
    )
    url = f"http://127.0.0.1:{port}"
    platform = Platform(proc, url, ddir, full_env["MLP_ADMIN_USER"], password, full_env)
    deadline = time.monotonic() + ready_timeout
    while True:
        if proc.poll() is not None:
            platform.stop()
            raise MLPError(f"the hub exited during start-up (code {proc.returncode}); see its log")
        try:
            if requests.get(f"{url}/hub/health", timeout=2).status_code == 200:
                return platform
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            platform.stop()
            raise MLPError(f"the hub did not answer on {url} within {ready_timeout:.0f}s")
        time.sleep(0.3)


def banner(p: Platform) -> str:
    """What ``mlp up`` prints once the hub answers."""
    return (
        f"\nMLP is running at {p.url}\n"
        f"  admin user:     {p.admin_user}\n"
        f"  admin password: {p.admin_password}  (stored in {p.data_dir / 'admin_password'})\n"
        f"  data dir:       {p.data_dir}\n"
        "Press Ctrl-C to stop.\n"
    )


def run_foreground(echo: Callable[[str], None] = print) -> int:
    """Start, print the banner, block until SIGINT/SIGTERM or hub exit, then clean up."""
    stop_requested = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    platform = start()
    old_int = signal.signal(signal.SIGINT, _on_signal)
    old_term = signal.signal(signal.SIGTERM, _on_signal)
    try:
        echo(banner(platform))
        while not stop_requested and platform.proc.poll() is None:
            time.sleep(0.5)
        echo("Stopping MLP ...")
    finally:
        platform.stop()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
    code = platform.proc.returncode
    echo("MLP stopped.")
    return 0 if stop_requested else (code or 1)
