"""`mlp up` refuses bad set-ups with one line and starts nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil

from mlp.up import Platform, free_port


def run_up(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update({"MLP_DATA_DIR": str(tmp_path / "var"), **env})
    return subprocess.run(
        [sys.executable, "-m", "mlp.cli", "up"],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def no_hub_under(ddir: Path) -> bool:
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            if (proc.info.get("environ") or {}).get("MLP_DATA_DIR") == str(ddir):
                return False
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return True


def test_port_in_use_is_one_line_naming_port_and_variable(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_up(tmp_path, MLP_PORT=str(port))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} is in use" in lines[0]
    assert "MLP_PORT" in lines[0]
    assert not (tmp_path / "var" / "jupyterhub.sqlite").exists()
    assert no_hub_under(tmp_path / "var")


def test_bad_port_value(tmp_path):
    result = run_up(tmp_path, MLP_PORT="eighty")
    assert result.returncode == 2
    assert "MLP_PORT='eighty' is not a port number" in result.stderr


def test_broken_profiles_refused_with_key_named(tmp_path):
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles:\n  - {slug: big, display_name: Big, cpu_limit: -4, mem_limit: 1G}\n")
    result = run_up(tmp_path, MLP_PORT=str(free_port()), MLP_PROFILES_FILE=str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "profiles[big].cpu_limit" in result.stderr
    assert not (tmp_path / "var" / "jupyterhub.sqlite").exists()
    assert no_hub_under(tmp_path / "var")


def test_unknown_profile_key_refused(tmp_path):
    bad = tmp_path / "profiles.yaml"
    bad.write_text(
        "profiles:\n  - {slug: s, display_name: S, cpu_limit: 1, mem_limit: 1G, gpu: 1}\n"
    )
    result = run_up(tmp_path, MLP_PORT=str(free_port()), MLP_PROFILES_FILE=str(bad))
    assert result.returncode == 2
    assert "profiles[s].gpu: unknown key" in result.stderr


def test_secrets_are_private_and_generated_once(tmp_path):
    from mlp.config import secret_file
    from mlp.up import admin_password

    first = admin_password(tmp_path)
    assert admin_password(tmp_path) == first
    assert (tmp_path / "admin_password").stat().st_mode & 0o777 == 0o600
    token = secret_file(tmp_path / "proxy_auth_token")
    assert secret_file(tmp_path / "proxy_auth_token") == token
    assert (tmp_path / "proxy_auth_token").stat().st_mode & 0o777 == 0o600


def test_cli_user_add_and_reset(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    env = {**os.environ, "MLP_HUB_DB_URL": url, "MLP_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "mlp.cli", "user", "add"]
    out = subprocess.run([*cli, "dave"], env=env, capture_output=True, text=True, check=True)
    assert "user dave can log in with password:" in out.stdout
    bad = subprocess.run([*cli, "Bad/Name"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "invalid user name" in bad.stderr
    missing = subprocess.run(
        [*cli, "erin", "--reset"], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2
    assert "no account 'erin'" in missing.stderr


def platform_processes(ddir: Path) -> list[psutil.Process]:
    """Processes of the platform in ``ddir``: by environment, command line or working dir.

    User servers do not inherit MLP_DATA_DIR (the spawner filters the environment),
    but they run in ``ddir/users/<name>`` and their kernels' command lines name it.
    """
    found = []
    for proc in psutil.process_iter(["cmdline", "environ", "cwd"]):
        try:
            env = proc.info.get("environ") or {}
            cmd = " ".join(proc.info.get("cmdline") or [])
            cwd = proc.info.get("cwd") or ""
            ours = env.get("MLP_DATA_DIR") == str(ddir) or str(ddir) in cmd
            ours = ours or cwd.startswith(str(ddir))
            if ours and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def start_up_process(tmp_path: Path) -> tuple[subprocess.Popen[str], str, Path]:
    import requests

    from tests.conftest import wait_for

    ddir = tmp_path / "var"
    port = free_port()
    env = {**os.environ, "MLP_DATA_DIR": str(ddir), "MLP_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlp.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            return requests.get(f"{url}/hub/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(ready, 120, "mlp up to serve the hub")
    return proc, url, ddir


def test_ctrl_c_stops_everything(tmp_path):
    import signal

    from tests.conftest import Hub, wait_for
    from tests.kernels import start_kernel

    proc, url, ddir = start_up_process(tmp_path)
    try:
        password = (ddir / "admin_password").read_text().strip()
        platform = Platform(proc, url, ddir, "admin", password)  # type: ignore[arg-type]
        hub = Hub(platform, tmp_path / "log", f"sqlite:///{ddir / 'jupyterhub.sqlite'}")
        admin = hub.admin_token()
        hub.add_user(admin, "erin")
        hub.spawn(admin, "erin", "cpu-small")
        start_kernel(url, "erin", admin, "mlp-lightning")
        # mlp up, hub, proxy, MLP service, culler, user server, kernel
        assert len(platform_processes(ddir)) >= 7
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out
    assert "MLP is running at" in out
    assert "MLP stopped." in out
    wait_for(lambda: not platform_processes(ddir), 30, "every platform process to exit")


def test_killed_mlp_up_leaves_no_orphans(tmp_path):
    from tests.conftest import wait_for

    proc, _url, ddir = start_up_process(tmp_path)
    assert platform_processes(ddir)
    proc.kill()
    proc.communicate(timeout=30)
    wait_for(lambda: not platform_processes(ddir), 60, "the orphaned hub to stop itself")
