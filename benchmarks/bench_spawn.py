"""Spawn-to-ready time: MLP (``mlp.up.start``) against a stock JupyterHub + JupyterLab.

For each platform, started on its own on 127.0.0.1 (stock first, then ours):

* one warm-up spawn (not counted);
* ``--spawns`` sequential spawns, each by a fresh user, whose server is stopped
  (DELETE, then waited on until gone; not timed) before the next one starts;
* a burst of ``--spawns`` simultaneous spawns (one thread per fresh user).

A spawn's time runs from just before ``POST /hub/api/users/<name>/server`` to the
first ``GET /hub/api/users/<name>`` that reports the server ready; after that,
``GET /user/<name>/api/status`` through the proxy must answer 200 (else the spawn
counts as a failure). The stock baseline is ``SimpleLocalProcessSpawner`` running
``jupyterhub-singleuser`` from the same venv, with the ``mlp_jupyter_ext`` server
extension disabled, driven by a service token.

Usage::

    .venv/bin/python benchmarks/bench_spawn.py            # 10 + burst of 10
    .venv/bin/python benchmarks/bench_spawn.py --quick    # 3 + burst of 3
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform as pyplatform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlp.polling import wait_for  # noqa: E402
from mlp.up import Platform, free_port, start  # noqa: E402
from mlp.users import set_password  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_spawn.json"
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
PROFILE = "cpu-small"
POLL = 0.1  # seconds between readiness polls (same for both platforms)
SPAWN_TIMEOUT = 240.0  # per spawn, POST to ready
STOP_TIMEOUT = 120.0
HUB_START_TIMEOUT = 120.0
GOAL_RATIO = 1.2


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


# ---------------------------------------------------------------------------- platforms


@dataclass
class Target:
    """A running platform the benchmark can drive through the hub REST API."""

    name: str
    platform: Platform
    token: str
    log_path: Path
    tmp: Path
    add_user: Callable[[str], None]
    extra: dict[str, Any] = field(default_factory=dict)
    seen_pids: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.platform.url

    def remember(self) -> None:
        self.seen_pids.update(p.pid for p in self.platform.descendants())
        self.seen_pids.add(self.platform.proc.pid)

    def leftovers(self) -> list[str]:
        """Live processes seen under this platform or naming its temp dir."""
        tmp = str(self.tmp)
        left = []
        for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
            try:
                cmd = " ".join(proc.info.get("cmdline") or [])
                env = proc.info.get("environ") or {}
                mine = proc.pid in self.seen_pids or tmp in cmd
                mine = mine or any(tmp in str(v) for v in env.values())
                if mine and proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{proc.pid} {cmd[:120]}")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return left


def hub_token(url: str, user: str, password: str) -> str:
    r = requests.post(
        f"{url}/hub/api/users/{user}/tokens",
        json={
            "auth": {"username": user, "password": password},
            "expires_in": 7200,
            "note": "bench",
        },
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["token"])


def create_user(url: str, token: str, name: str) -> None:
    r = requests.post(f"{url}/hub/api/users/{name}", headers=auth(token), timeout=30)
    if r.status_code not in (201, 409):
        raise RuntimeError(f"creating user {name}: {r.status_code} {r.text[:200]}")


def start_ours(tmp: Path) -> Target:
    ddir = tmp / "var"
    env = dict(os.environ)
    env.update(
        {"MLP_DATA_DIR": str(ddir), "MLP_PORT": str(free_port()), "MLP_CULL_TIMEOUT": "3600"}
    )
    log_path = tmp / "hub.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in stop_target
    try:
        plat = start(log=log, env=env, ready_timeout=HUB_START_TIMEOUT)
    except BaseException:
        log.close()
        raise
    hub_db = f"sqlite:///{plat.data_dir / 'jupyterhub.sqlite'}"
    try:
        token = hub_token(plat.url, plat.admin_user, plat.admin_password)
    except BaseException:
        plat.stop()
        log.close()
        raise

    def add(name: str) -> None:
        set_password(hub_db, name)
        create_user(plat.url, token, name)

    target = Target("ours", plat, token, log_path, tmp, add, {"log": log})
    target.remember()
    return target


STOCK_HUB_CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.bind_url = {bind_url!r}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = {proxy_api!r}
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = {db_url!r}
c.JupyterHub.cookie_secret_file = {cookie!r}
c.JupyterHub.pid_file = {pid_file!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.authenticator_class = "null"
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = {home!r}
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
# Same tolerances as MLP's hub (they bound waits, they do not speed anything up).
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
c.JupyterHub.services = [{{"name": "bench", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "bench",
        "services": ["bench"],
        "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"],
    }}
]
"""

STOCK_SERVER_CONFIG = """\
c = get_config()  # noqa
# Stock JupyterLab: MLP's server extension is installed in this venv but disabled here.
c.ServerApp.jpserver_extensions = {"mlp_jupyter_ext": False}
"""


def start_stock(tmp: Path) -> Target:
    token = secrets.token_hex(32)
    port = free_port()
    server_cfg = tmp / "stock_server_config.py"
    server_cfg.write_text(STOCK_SERVER_CONFIG)
    args = [f"--config={server_cfg}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    hub_cfg = tmp / "jupyterhub_config.py"
    hub_cfg.write_text(
        STOCK_HUB_CONFIG.format(
            bind_url=f"http://127.0.0.1:{port}",
            hub_port=free_port(),
            proxy_api=f"http://127.0.0.1:{free_port()}",
            chp=str(CHP),
            db_url=f"sqlite:///{tmp / 'jupyterhub.sqlite'}",
            cookie=str(tmp / "jupyterhub_cookie_secret"),
            pid_file=str(tmp / "jupyterhub.pid"),
            home=str(tmp / "home" / "{username}"),
            singleuser=str(Path(sys.executable).with_name("jupyterhub-singleuser")),
            args=args,
            token=token,
        )
    )
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
    env["PYTHONUNBUFFERED"] = "1"
    env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(32)
    log_path = tmp / "hub.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in stop_target
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(hub_cfg)],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    plat = Platform(proc, url, tmp, "", "", env)

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"stock hub exited during start-up (code {proc.returncode})")
        try:
            return requests.get(f"{url}/hub/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(healthy, HUB_START_TIMEOUT, "the stock hub", interval=0.3)
    except BaseException:
        plat.stop()
        log.close()
        raise
    target = Target(
        "stock", plat, token, log_path, tmp, lambda n: create_user(url, token, n), {"log": log}
    )
    target.remember()
    return target


def stop_target(t: Target) -> list[str]:
    """Stop every server, then the platform; return leftover processes (should be none)."""
    try:
        users = requests.get(f"{t.url}/hub/api/users", headers=auth(t.token), timeout=30).json()
        for u in users:
            if u.get("servers"):
                stop_server(t, u["name"])
    except (requests.RequestException, TimeoutError, ValueError) as exc:
        print(f"  [{t.name}] stopping servers via API failed: {exc}; killing the tree")
    t.remember()
    t.platform.stop()
    log = t.extra.get("log")
    if log is not None:
        log.close()
    left = []
    deadline = time.monotonic() + 20
    while True:
        left = t.leftovers()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for line in left:  # last resort, by pid, only processes this run started
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    return left


# ---------------------------------------------------------------------------- spawning


def user_model(t: Target, name: str) -> dict[str, Any]:
    r = requests.get(f"{t.url}/hub/api/users/{name}", headers=auth(t.token), timeout=30)
    r.raise_for_status()
    return dict(r.json())


def spawn_once(t: Target, name: str) -> dict[str, Any]:
    """Spawn ``name``'s default server; time POST -> ready; check /api/status through the proxy."""
    result: dict[str, Any] = {"user": name, "ok": False}
    body = {"profile": PROFILE} if t.name == "ours" else {}
    t0 = time.monotonic()
    try:
        r = requests.post(
            f"{t.url}/hub/api/users/{name}/server", headers=auth(t.token), json=body, timeout=120
        )
        result["post_status"] = r.status_code
        result["post_s"] = round(time.monotonic() - t0, 3)
        if r.status_code not in (201, 202):
            result["error"] = f"POST server -> {r.status_code} {r.text[:200]}"
            return result

        def ready() -> dict[str, Any] | None:
            model = user_model(t, name)
            server = model.get("servers", {}).get("")
            if server is None and not model.get("pending") and time.monotonic() - t0 > 2:
                raise RuntimeError(f"server gone before ready: {model}")
            return server if server and server.get("ready") else None

        wait_for(ready, SPAWN_TIMEOUT, f"{name}'s server to be ready", interval=POLL)
        result["ready_s"] = round(time.monotonic() - t0, 3)
        result["cpu_affinity"] = server_affinity(t, name)
        status = requests.get(f"{t.url}/user/{name}/api/status", headers=auth(t.token), timeout=30)
        result["status_code"] = status.status_code
        result["status_s"] = round(time.monotonic() - t0, 3)
        if status.status_code != 200:
            result["error"] = f"GET /user/{name}/api/status -> {status.status_code}"
            return result
        result["ok"] = True
    except (requests.RequestException, TimeoutError, RuntimeError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        t.remember()
    return result


def server_affinity(t: Target, name: str) -> list[int] | None:
    """CPUs the user's single-user server may run on (diagnostic; not timed)."""
    for proc in t.platform.descendants():
        try:
            if proc.environ().get("JUPYTERHUB_USER") == name:
                return sorted(proc.cpu_affinity() or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def stop_server(t: Target, name: str) -> None:
    r = requests.delete(f"{t.url}/hub/api/users/{name}/server", headers=auth(t.token), timeout=60)
    if r.status_code not in (202, 204, 400, 404):
        raise RuntimeError(f"DELETE {name}'s server -> {r.status_code} {r.text[:200]}")

    def stopped() -> bool:
        model = user_model(t, name)
        return not model.get("servers") and not model.get("pending")

    wait_for(stopped, STOP_TIMEOUT, f"{name}'s server to stop", interval=0.2)


def mlp_info_status(t: Target, name: str) -> int:
    r = requests.get(f"{t.url}/user/{name}/mlp/api/info", headers=auth(t.token), timeout=30)
    return r.status_code


def run_sequential(t: Target, n: int, tag: str) -> list[dict[str, Any]]:
    results = []
    for i in range(n):
        name = f"{tag}-seq-{i}"
        t.add_user(name)
        res = spawn_once(t, name)
        results.append(res)
        print(f"  [{t.name}] seq {i + 1}/{n}: {fmt_result(res)}", flush=True)
        stop_server(t, name)
    return results


def run_burst(t: Target, n: int, tag: str) -> list[dict[str, Any]]:
    names = [f"{tag}-burst-{i}" for i in range(n)]
    for name in names:
        t.add_user(name)
    results: list[dict[str, Any]] = [{} for _ in names]
    barrier = threading.Barrier(n)

    def worker(i: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=60)
        results[i] = spawn_once(t, names[i])

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(SPAWN_TIMEOUT + 180)
    for i, res in enumerate(results):
        if not res:
            results[i] = {"user": names[i], "ok": False, "error": "worker thread did not finish"}
        print(f"  [{t.name}] burst {i + 1}/{n}: {fmt_result(results[i])}", flush=True)
    for name in names:
        stop_server(t, name)
    return results


def fmt_result(res: dict[str, Any]) -> str:
    if res.get("ok"):
        return (
            f"ready {res['ready_s']:.2f}s, /api/status {res['status_code']}, "
            f"cpus {res.get('cpu_affinity')}"
        )
    return f"FAILED ({res.get('error')})"


# ---------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method)."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    times = [r["ready_s"] for r in results if r.get("ok")]
    out: dict[str, Any] = {
        "n": len(results),
        "ok": len(times),
        "failures": len(results) - len(times),
        "errors": [f"{r['user']}: {r.get('error')}" for r in results if not r.get("ok")],
    }
    if times:
        out.update(
            {
                "p50_s": round(percentile(times, 50), 3),
                "p95_s": round(percentile(times, 95), 3),
                "mean_s": round(statistics.fmean(times), 3),
                "max_s": round(max(times), 3),
                "min_s": round(min(times), 3),
            }
        )
    return out


def bench(t: Target, n: int) -> dict[str, Any]:
    print(f"[{t.name}] hub at {t.url}", flush=True)
    t.add_user("warmup")
    warm = spawn_once(t, "warmup")
    print(f"  [{t.name}] warm-up (not counted): {fmt_result(warm)}", flush=True)
    info = mlp_info_status(t, "warmup") if warm.get("ok") else None
    print(f"  [{t.name}] GET /user/warmup/mlp/api/info -> {info}", flush=True)
    stop_server(t, "warmup")
    seq = run_sequential(t, n, t.name)
    burst = run_burst(t, n, t.name)
    return {
        "url": t.url,
        "warmup": warm,
        "mlp_api_info_status": info,
        "sequential": {**summarize(seq), "samples": seq},
        "burst": {**summarize(burst), "samples": burst},
    }


def run_platform(name: str, starter: Callable[[Path], Target], n: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"mlp-bench-{name}-"))
    t0 = time.monotonic()
    target = starter(tmp)
    startup = round(time.monotonic() - t0, 2)
    leftovers: list[str] = []
    try:
        result = bench(target, n)
    finally:
        leftovers = stop_target(target)
        hub_log = target.log_path.read_text(errors="replace")
        kept = RESULTS.parent / f"bench_spawn_{name}_hub.log"
        errors = [ln for ln in hub_log.splitlines() if " E " in ln[:40] or "[E " in ln]
        if errors:
            kept.write_text(hub_log)
            print(f"  [{name}] hub log had {len(errors)} error line(s); copied to {kept}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"  [{name}] stopped; leftover processes: {leftovers or 'none'}", flush=True)
    result.update({"hub_start_s": startup, "leftovers": leftovers, "hub_log_errors": errors[:20]})
    return result


# ---------------------------------------------------------------------------- report


def ratio(ours: dict[str, Any], stock: dict[str, Any]) -> float | None:
    if ours.get("p50_s") and stock.get("p50_s"):
        return round(ours["p50_s"] / stock["p50_s"], 3)
    return None


def table(report: dict[str, Any]) -> str:
    rows = [
        "| platform | mode | n | failures | p50 (s) | p95 (s) | mean (s) | max (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for plat in ("stock", "ours"):
        for mode in ("sequential", "burst"):
            s = report["platforms"][plat][mode]

            def f(key: str, s: dict[str, Any] = s) -> str:
                return f"{s[key]:.2f}" if key in s else "-"

            rows.append(
                f"| {plat} | {mode} | {s['n']} | {s['failures']} | {f('p50_s')} | "
                f"{f('p95_s')} | {f('mean_s')} | {f('max_s')} |"
            )
    lines = ["\n".join(rows), ""]
    for mode in ("sequential", "burst"):
        r = report["ratios"][f"{mode}_p50"]
        verdict = "n/a" if r is None else ("MET" if r <= GOAL_RATIO else "NOT MET")
        shown = "n/a" if r is None else f"{r:.2f}x"
        lines.append(f"ours/stock p50 {mode}: {shown}  (goal <= {GOAL_RATIO}x: {verdict})")
    fails = report["platforms"]["ours"]["burst"]["failures"]
    lines.append(f"ours burst failures: {fails}  (goal 0: {'MET' if fails == 0 else 'NOT MET'})")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("jupyterhub", "jupyterlab", "jupyter_server", "mlp-jupyter-ext"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    try:
        out["configurable-http-proxy"] = subprocess.run(
            [str(CHP), "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out["configurable-http-proxy"] = "unknown"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spawns", type=int, default=10, help="spawns per mode (default 10)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 spawns per mode")
    ap.add_argument("--output", type=Path, default=RESULTS, help="JSON results path")
    args = ap.parse_args(argv)
    n = 3 if args.quick else args.spawns
    if n < 1:
        ap.error("--spawns must be >= 1")
    if not CHP.exists():
        print(f"configurable-http-proxy not found at {CHP}; run `npm ci`", file=sys.stderr)
        return 2
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    report: dict[str, Any] = {
        "benchmark": "bench_spawn",
        "date": started.isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_affinity": len(os.sched_getaffinity(0)),
            "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
            "python": pyplatform.python_version(),
            "platform": pyplatform.platform(),
            "running_as_root": hasattr(os, "geteuid") and os.geteuid() == 0,
        },
        "versions": versions(),
        "method": {
            "spawns_per_mode": n,
            "users": "a fresh user per spawn; sequential servers stopped (untimed) before the next",
            "timed": "POST /hub/api/users/<name>/server -> first GET /hub/api/users/<name> ready",
            "check": "GET /user/<name>/api/status through the proxy must answer 200",
            "poll_interval_s": POLL,
            "warmup": "one spawn per platform before timing, not counted",
            "order": "stock first, then ours; each its own platform",
            "ours_profile": PROFILE,
        },
        "platforms": {},
    }
    report["platforms"]["stock"] = run_platform("stock", start_stock, n)
    report["platforms"]["ours"] = run_platform("ours", start_ours, n)
    plats = report["platforms"]
    report["ratios"] = {
        f"{mode}_p50": ratio(plats["ours"][mode], plats["stock"][mode])
        for mode in ("sequential", "burst")
    }
    ok_ratio = all(r is not None and r <= GOAL_RATIO for r in report["ratios"].values())
    report["goal"] = {
        "ratio_max": GOAL_RATIO,
        "ratios_met": ok_ratio,
        "burst_zero_failures": plats["ours"]["burst"]["failures"] == 0,
    }
    report["elapsed_s"] = round(time.monotonic() - t0, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(f"Spawn-to-ready, {n} sequential + burst of {n}, date {report['date']}, "
          f"{os.cpu_count()} CPUs, Python {pyplatform.python_version()}")  # fmt: skip
    print(f"stock mlp/api/info on its server: {plats['stock']['mlp_api_info_status']} "
          f"(404 = extension disabled); ours: {plats['ours']['mlp_api_info_status']}")  # fmt: skip
    print(table(report))
    print(f"\nJSON: {args.output}  (elapsed {report['elapsed_s']:.0f}s)")
    leftovers = plats["stock"]["leftovers"] + plats["ours"]["leftovers"]
    if leftovers:
        print(f"LEFTOVER PROCESSES (killed): {leftovers}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
