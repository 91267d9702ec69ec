"""Build bentos and run ``bentoml serve`` as managed background processes.

A model is served from a *service directory* generated under the user's BentoML
home: the template matching its framework (``templates/mlp_tabular_service.py``
or ``templates/mlp_torch_service.py``), the shared runtime and
``mlp_model.json`` naming the model. ``build`` packs that same directory into a
bento offline (``lock_packages: false``, dependencies pinned from this
environment), so a served model and its bento run the same code.

Servers are started in their own process group, die with the process that
started them (``PR_SET_PDEATHSIG``), log to a file and are recorded in
``<home>/serving/servers.json`` so ``list``/``stop``/``logs`` work from another
process (the CLI) too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil
import requests

from bentos import registry
from mlp.errors import MLPError, NotFoundError
from mlp.process import die_with_parent

TEMPLATES = Path(__file__).parent / "templates"
RUNTIME = "mlp_bento_runtime.py"
TEMPLATE_FOR = {
    "lightgbm": ("mlp_tabular_service.py", "TabularModel"),
    "sklearn": ("mlp_tabular_service.py", "TabularModel"),
    "torch": ("mlp_torch_service.py", "TorchModel"),
}
#: The fast HTTP path: uvicorn uses uvloop and httptools when installed; orjson bodies.
_FAST = ["orjson", "uvloop", "httptools"]
#: Packages a bento needs at run time, pinned to this environment's versions.
BENTO_PACKAGES = {
    "lightgbm": ["bentoml", "lightgbm", "numpy", "pandas", "pyarrow", "scikit-learn", *_FAST],
    "sklearn": ["bentoml", "numpy", "pandas", "pyarrow", "scikit-learn", *_FAST],
    "torch": ["bentoml", "torch", "numpy", "pandas", "pyarrow", *_FAST],
}


def _framework(model: Any) -> str:
    return str((model.info.labels or {}).get("mlp-framework", "sklearn"))


def service_dir(spec: str, user: str | None = None) -> tuple[Path, str, Any]:
    """Write the service directory of a model; return ``(dir, "module:Class", model)``.

    Raises
    ------
    NotFoundError
        If the model does not exist (deleted, or a typo: close names listed).
    """
    user = user or registry.current_user()
    model = registry.resolve(spec, user)
    framework = _framework(model)
    template, cls = TEMPLATE_FOR.get(framework, TEMPLATE_FOR["sklearn"])
    target = registry.user_home(user) / "serving" / f"{model.tag.name}-{model.tag.version}"
    target.mkdir(parents=True, exist_ok=True)
    for name in (template, RUNTIME):
        shutil.copyfile(TEMPLATES / name, target / name)
    (target / "mlp_model.json").write_text(json.dumps({"tag": str(model.tag)}))
    return target, f"{Path(template).stem}:{cls}", model


def _pins(names: list[str]) -> list[str]:
    pins = []
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            version = metadata.version(name)
            # A local build tag (torch 2.13.0+cpu) is not resolvable by pip from an index.
            pins.append(f"{name}=={version.split('+')[0]}")
    return pins


def build(spec: str, user: str | None = None) -> dict[str, Any]:
    """Build a bento for a saved model, offline.

    Returns
    -------
    dict
        ``tag`` of the bento, ``model`` tag, ``path`` in the user's bento store.

    Raises
    ------
    NotFoundError
        If the model was deleted or never existed.
    MLPError
        If BentoML refuses to build.
    """
    user = user or registry.current_user()
    ctx, target, model = service_dir(spec, user)
    bentoml = registry._bentoml()
    from bentoml.exceptions import BentoMLException

    framework = _framework(model)
    # bentoml imports the service by module name: drop a copy imported for another model.
    for module in ("mlp_tabular_service", "mlp_torch_service", "mlp_bento_runtime"):
        sys.modules.pop(module, None)
    # bentoml's build path uses deprecated importlib.resources / pydantic APIs; users
    # cannot act on those warnings, so they are silenced for this call only.
    with registry.activate(user), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            bento = bentoml.bentos.build(
                service=target,
                name=f"{model.tag.name}-service",
                version=model.tag.version,
                labels={"mlp-model": str(model.tag), "mlp-user": user},
                include=["*.py", "mlp_model.json"],
                python={
                    "packages": _pins(BENTO_PACKAGES.get(framework, BENTO_PACKAGES["sklearn"])),
                    "lock_packages": False,
                },
                build_ctx=str(ctx),
            )
        except BentoMLException as exc:
            raise MLPError(f"bentoml build failed: {exc}") from None
    return {"tag": str(bento.tag), "model": str(model.tag), "path": str(bento.path)}


def list_bentos(user: str | None = None) -> list[dict[str, Any]]:
    """Bentos built in the user's namespace."""
    user = user or registry.current_user()
    registry._bentoml()
    from bentoml._internal.bento import BentoStore

    home = registry.user_home(user) / "bentos"
    if not home.is_dir():
        return []
    return [
        {
            "tag": str(b.tag),
            "model": (b.info.labels or {}).get("mlp-model"),
            "created": b.info.creation_time.isoformat(timespec="seconds"),
        }
        for b in BentoStore(str(home)).list()
    ]


# ---------------------------------------------------------------------- servers


def _state_file(user: str) -> Path:
    path = registry.user_home(user) / "serving" / "servers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _read_state(user: str) -> list[dict[str, Any]]:
    path = _state_file(user)
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text()))
    except ValueError:
        return []


def _write_state(user: str, servers: list[dict[str, Any]]) -> None:
    path = _state_file(user)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(servers, indent=1))
    tmp.replace(path)


def _alive(entry: dict[str, Any]) -> bool:
    try:
        proc = psutil.Process(entry["pid"])
        return bool(proc.create_time() == entry["create_time"] and proc.is_running())
    except psutil.Error:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def list_servers(user: str | None = None) -> list[dict[str, Any]]:
    """Running model servers of the user (dead entries are pruned)."""
    user = user or registry.current_user()
    servers = _read_state(user)
    alive = [s for s in servers if _alive(s)]
    if len(alive) != len(servers):
        _write_state(user, alive)
    return alive


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def serve(
    spec: str,
    port: int | None = None,
    user: str | None = None,
    wait: float = 90.0,
    env: dict[str, str] | None = None,
    workers: int | None = None,
    max_rows: int | None = None,
) -> dict[str, Any]:
    """Start ``bentoml serve`` for a saved model on 127.0.0.1 in the background.

    Parameters
    ----------
    spec
        ``name``, ``name:version``.
    port
        Port on 127.0.0.1 (default: a free one).
    user
        Namespace (default: the current user).
    wait
        Seconds to wait for ``/readyz``; 0 returns as soon as the process started.
    env
        Extra environment for the server.
    workers
        Worker processes, each with its own copy of the model (default 1). More
        workers serve more requests per second on more cores.
    max_rows
        Largest batch accepted per request (default 10,000).

    Returns
    -------
    dict
        ``url``, ``port``, ``pid``, ``model``, ``log``.

    Raises
    ------
    MLPError
        If the port is taken, ``workers`` or ``max_rows`` is out of range, or the
        server exits or is not ready in time (the end of its log is in the message).
    """
    extra = dict(env or {})
    if workers is not None:
        cores = os.cpu_count() or 1
        if not 1 <= workers <= 4 * cores:
            raise MLPError(f"--workers must be between 1 and {4 * cores} on this machine")
        extra["MLP_SERVE_WORKERS"] = str(workers)
    if max_rows is not None:
        if max_rows < 1:
            raise MLPError("--max-rows must be at least 1")
        extra["MLP_MAX_ROWS"] = str(max_rows)
    user = user or registry.current_user()
    ctx, target, model = service_dir(spec, user)
    port = port or _free_port()
    if not _port_free(port):
        raise MLPError(f"port {port} on 127.0.0.1 is in use; pick another with --port")
    logs = registry.user_home(user) / "serving" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{model.tag.name}-{model.tag.version}-{port}.log"
    # Each worker drops a file here once its model is loaded: /readyz only tells about
    # the worker that happened to accept the probe's connection.
    ready_dir = ctx / f"ready-{port}"
    shutil.rmtree(ready_dir, ignore_errors=True)
    ready_dir.mkdir()
    extra["MLP_READY_DIR"] = str(ready_dir)
    child_env = {
        **os.environ,
        "BENTOML_HOME": str(registry.user_home(user)),
        "BENTOML_DO_NOT_TRACK": "true",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    cmd = [
        sys.executable, "-m", "bentoml", "serve", target,
        "--host", "127.0.0.1", "--port", str(port), "--working-dir", str(ctx),
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ctx,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() kills the workers too
            preexec_fn=die_with_parent,  # only sets PR_SET_PDEATHSIG
        )
    entry = {
        "model": str(model.tag),
        "pid": proc.pid,
        "create_time": psutil.Process(proc.pid).create_time(),
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "log": str(log_path),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "workers": workers or 1,
        "ready_dir": str(ready_dir),
    }
    _write_state(user, [*list_servers(user), entry])
    _PROCS[proc.pid] = proc
    if wait:
        _wait_ready(entry, proc, wait, user)
    return entry


#: Popen objects of servers started by this process, so they get reaped.
_PROCS: dict[int, subprocess.Popen[bytes]] = {}


def _wait_ready(
    entry: dict[str, Any], proc: subprocess.Popen[bytes], wait: float, user: str
) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop(entry["port"], user)
            raise MLPError(
                f"model server exited with code {proc.returncode}; log {entry['log']}:\n"
                + _tail(Path(entry["log"]), 15)
            )
        try:
            status = requests.get(entry["url"] + "/readyz", timeout=2).status_code
        except requests.RequestException:
            status = 0
        if status == 200 and _workers_ready(entry):
            return
        failure = _load_failure(entry["url"]) if status == 503 else None
        if failure:
            stop(entry["port"], user)
            raise MLPError(f"model server could not load the model: {failure}")
        time.sleep(0.2)
    stop(entry["port"], user)
    raise MLPError(f"model server not ready after {wait:.0f}s; log {entry['log']}")


def _workers_ready(entry: dict[str, Any]) -> bool:
    """Whether every worker of a server has loaded its model (see ``MLP_READY_DIR``)."""
    ready_dir = Path(entry["ready_dir"])
    return len(list(ready_dir.iterdir())) >= entry["workers"]


def _load_failure(url: str) -> str | None:
    """The load error reported by ``/schema`` once loading failed (None while loading)."""
    try:
        resp = requests.get(url + "/schema", timeout=2)
        message = str(resp.json().get("error", "")) if resp.status_code == 503 else ""
    except (requests.RequestException, ValueError):
        return None
    return None if not message or message.startswith("model is loading") else message


def _find(target: str | int, user: str) -> dict[str, Any]:
    servers = list_servers(user)
    for s in servers:
        if str(target) in (str(s["port"]), str(s["pid"]), s["model"], s["model"].split(":")[0]):
            return s
    running = ", ".join(f"{s['model']} on port {s['port']}" for s in servers) or "none"
    raise NotFoundError(f"no running model server {target!r}; running: {running}")


def stop(target: str | int, user: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
    """Stop a server (by port, pid or model tag): SIGTERM its group, SIGKILL after ``timeout``."""
    user = user or registry.current_user()
    entry = _find(target, user)
    pid = entry["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    proc = _PROCS.pop(pid, None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        if proc is None and not _alive(entry):
            break
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # whatever of the group is left
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
    _write_state(user, [s for s in _read_state(user) if s["pid"] != pid])
    if entry.get("ready_dir"):
        shutil.rmtree(entry["ready_dir"], ignore_errors=True)
    return entry


def logs(target: str | int, user: str | None = None, lines: int = 50) -> str:
    """The last ``lines`` of a server's log (running or the latest for a model)."""
    user = user or registry.current_user()
    try:
        path = Path(_find(target, user)["log"])
    except NotFoundError:
        logdir = registry.user_home(user) / "serving" / "logs"
        name = str(target).replace(":", "-")
        found = sorted(logdir.glob(f"{name}*.log"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise
        path = found[-1]
    return _tail(path, lines)
