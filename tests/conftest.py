"""Shared fixtures: a real MLP platform on loopback, a throwaway PostgreSQL, hub helpers."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests

from mlp.polling import wait_for
from mlp.up import Platform, free_port, start
from mlp.users import set_password

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


#: Hub users by token, for service tests that check the service's rules without a hub.
TOKENS = {
    "tok-alice": {"name": "alice", "admin": False, "kind": "user", "scopes": ["self"]},
    "tok-bob": {"name": "bob", "admin": False, "kind": "user", "scopes": ["self"]},
    "tok-admin": {"name": "root", "admin": True, "kind": "user", "scopes": ["admin:users"]},
}


async def resolve_token(token: str) -> dict | None:
    """Token resolver of the MLP service app backed by :data:`TOKENS`."""
    return TOKENS.get(token)


# ---------------------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    """A throwaway PostgreSQL 15 server on 127.0.0.1."""

    port: int
    password: str
    root: Path

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg2://mlp:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="mlp", password=self.password, dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise FileNotFoundError(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """Start PostgreSQL with initdb/pg_ctl as the postgres OS user (initdb refuses root)."""
    # Not under pytest's tmp dir: that is 0700 root, unreadable for the postgres user.
    root = Path(tempfile.mkdtemp(prefix="mlp-pg-"))
    root.chmod(0o755)
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    password = secrets.token_hex(12)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    (root / "sock").mkdir()
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(pwfile, "postgres")
        shutil.chown(root / "sock", "postgres")
    subprocess.run(
        [*run_as, _pg_bin("initdb"), "-D", str(root / "data"), "-U", "mlp",
         "--auth=scram-sha-256", f"--pwfile={pwfile}"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    opts = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root / 'sock'}"
    )
    subprocess.run(
        [*run_as, _pg_bin("pg_ctl"), "-D", str(root / "data"), "-o", opts,
         "-l", str(root / "log"), "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield Postgres(port, password, root)
    finally:
        subprocess.run(
            [*run_as, _pg_bin("pg_ctl"), "-D", str(root / "data"), "-m", "fast", "-w", "stop"],
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------- the platform


@dataclass
class Hub:
    """A running MLP platform plus helpers that speak its REST API."""

    platform: Platform
    log_path: Path
    hub_db_url: str
    log: object = None
    seen_pids: set[int] = field(default_factory=set)

    def stop(self) -> None:
        """Stop the platform (as Ctrl-C on `mlp up` does) and close its log."""
        self.remember()
        try:
            self.platform.stop()
        finally:
            if self.log is not None:
                self.log.close()

    @property
    def url(self) -> str:
        return self.platform.url

    def admin_token(self) -> str:
        r = requests.post(
            f"{self.url}/hub/api/users/{self.platform.admin_user}/tokens",
            json={
                "auth": {
                    "username": self.platform.admin_user,
                    "password": self.platform.admin_password,
                },
                "expires_in": 3600,
                "note": "tests",
            },
            timeout=30,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def add_user(self, admin_token: str, name: str) -> str:
        """Create a hub user with a password (as `mlp user add` does); return the password."""
        password = set_password(self.hub_db_url, name)
        r = requests.post(f"{self.url}/hub/api/users/{name}", headers=auth(admin_token), timeout=30)
        assert r.status_code in (201, 409), r.text
        return password

    def user_token(self, name: str, password: str) -> requests.Response:
        return requests.post(
            f"{self.url}/hub/api/users/{name}/tokens",
            json={"auth": {"username": name, "password": password}, "expires_in": 3600},
            timeout=30,
        )

    def spawn(self, token: str, name: str, profile: str | None, timeout: float = 120) -> dict:
        body = {"profile": profile} if profile else {}
        r = requests.post(
            f"{self.url}/hub/api/users/{name}/server", headers=auth(token), json=body, timeout=60
        )
        assert r.status_code in (201, 202), r.text

        def ready():
            model = requests.get(
                f"{self.url}/hub/api/users/{name}", headers=auth(token), timeout=30
            ).json()
            server = model.get("servers", {}).get("")
            return server if server and server.get("ready") else None

        server = wait_for(ready, timeout, f"{name}'s server to be ready")
        self.remember()
        return server

    def remember(self) -> None:
        self.seen_pids.update(p.pid for p in self.platform.descendants())

    def leftovers(self) -> list[str]:
        """Processes of this platform still alive (by pid seen, or by data dir in argv/env)."""
        ddir = str(self.platform.data_dir)
        left = []
        for proc in psutil.process_iter(["pid", "cmdline", "environ", "cwd"]):
            try:
                env = proc.info.get("environ") or {}
                cmd = " ".join(proc.info.get("cmdline") or [])
                cwd = proc.info.get("cwd") or ""
                ours = proc.pid in self.seen_pids or ddir in cmd or cwd.startswith(ddir)
                ours = ours or env.get("MLP_DATA_DIR") == ddir
                if ours and proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{proc.pid} {cmd[:120]}")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return left


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


def start_hub(
    tmp_path: Path,
    hub_db_url: str | None = None,
    mlp_db_url: str | None = None,
    **extra_env: str,
) -> Hub:
    ddir = tmp_path / "var"
    env = dict(os.environ)
    env.update(
        {"MLP_DATA_DIR": str(ddir), "MLP_PORT": str(free_port()), "MLP_CULL_TIMEOUT": "3600"}
    )
    env.update(extra_env)
    if hub_db_url:
        env["MLP_HUB_DB_URL"] = hub_db_url
    if mlp_db_url:
        env["MLP_DB_URL"] = mlp_db_url
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"hub-{tmp_path.name}-{uuid.uuid4().hex[:6]}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by the fixture
    try:
        platform = start(log=log, env=env)
    except BaseException:
        log.close()
        raise
    hub = Hub(platform, log_path, hub_db_url or f"sqlite:///{ddir / 'jupyterhub.sqlite'}", log)
    hub.remember()
    return hub


@pytest.fixture
def hub(tmp_path) -> Iterator[Hub]:
    """A platform on SQLite, stopped (and checked for leftovers) after the test."""
    h = start_hub(tmp_path)
    try:
        yield h
    finally:
        h.stop()
        assert not h.leftovers(), f"processes left behind: {h.leftovers()}"


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


# ---------------------------------------------------------------------------- browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Debian's chromium, headless; no background network (this machine has none).
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page():
    """A Playwright page in Debian's chromium (Playwright never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        yield pg
        context.close()
        browser.close()


@contextlib.contextmanager
def single_user_lab(tmp_path: Path, root: Path, env: dict[str, str] | None = None):
    """A plain `jupyter lab` (no hub) on a free loopback port; yields (url, token, proc)."""
    port, token = free_port(), secrets.token_hex(16)
    full_env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), **(env or {})}
    cmd = [
        str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--allow-root",
    ]  # fmt: skip
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            r = requests.get(f"{url}/api/status", headers=auth(token), timeout=2)
        except (requests.ConnectionError, requests.Timeout):
            return False
        return r.status_code == 200

    try:
        wait_for(ready, 90, "jupyter lab to answer")
        yield url, token, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
