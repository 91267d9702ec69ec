"""What ``%mlp env`` and the lab panel show: one function behind both."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from importlib import metadata
from typing import Any

import psutil

#: Distributions whose versions ``%mlp env`` reports, by display name.
PACKAGES = {
    "lightgbm": "lightgbm",
    "torch": "torch",
    "lightning": "pytorch-lightning",
    "dask": "dask",
    "bentoml": "bentoml",
    "papermill": "papermill",
}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def gpus() -> list[dict[str, Any]]:
    """List NVIDIA GPUs visible to this process (name and memory in MiB), empty if none."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.stdout.splitlines():
        name, _, mem = line.rpartition(",")
        if name.strip():
            found.append({"name": name.strip(), "memory_mib": int(float(mem.strip() or 0))})
    return found


def _float_env(name: str) -> float | None:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def collect_info(check_service: bool = True) -> dict[str, Any]:
    """Describe the current user's environment.

    Parameters
    ----------
    check_service
        Whether to call the MLP service's health endpoint (a short network call).

    Returns
    -------
    dict
        Keys: ``user``, ``profile`` (slug, display_name), ``cpu`` (count, limit),
        ``memory`` (total_bytes, limit_bytes), ``gpus`` (list, empty for none),
        ``versions`` (package -> version or None), ``service`` (reachable, url, error).
    """
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
    mem_limit = _float_env("MEM_LIMIT")
    info: dict[str, Any] = {
        "user": os.environ.get("JUPYTERHUB_USER") or getpass.getuser(),
        "profile": {
            "slug": os.environ.get("MLP_PROFILE", "none"),
            "display_name": os.environ.get("MLP_PROFILE_NAME", "none (not spawned by MLP)"),
        },
        "cpu": {
            "count": os.cpu_count() or 1,
            "usable": affinity,
            "limit": _float_env("CPU_LIMIT"),
        },
        "memory": {
            "total_bytes": psutil.virtual_memory().total,
            "limit_bytes": int(mem_limit) if mem_limit else None,
        },
        "gpus": gpus(),
        "versions": {name: _version(dist) for name, dist in PACKAGES.items()},
    }
    if check_service:
        from mlp.client import MLPClient

        info["service"] = MLPClient.from_env().reachability()
    return info


def _gib(value: float | None) -> str:
    return "no limit" if value is None else f"{value / 1024**3:.1f} GiB"


def format_info(info: dict[str, Any]) -> str:
    """Render :func:`collect_info`'s result as aligned plain text."""
    cpu = info["cpu"]
    limit = "no limit" if cpu["limit"] is None else f"{cpu['limit']:g}"
    gpu_text = (
        ", ".join(f"{g['name']} ({g['memory_mib']} MiB)" for g in info["gpus"])
        if info["gpus"]
        else "none"
    )
    rows = [
        ("user", info["user"]),
        ("profile", f"{info['profile']['display_name']} [{info['profile']['slug']}]"),
        ("cpus", f"{cpu['count']} on the machine, {cpu['usable']} usable, limit {limit}"),
        (
            "memory",
            f"{_gib(info['memory']['total_bytes'])} on the machine, "
            f"limit {_gib(info['memory']['limit_bytes'])}",
        ),
        ("gpus", gpu_text),
    ]
    rows += [(name, ver or "not installed") for name, ver in info["versions"].items()]
    service = info.get("service")
    if service is not None:
        state = "reachable" if service["reachable"] else f"unreachable ({service['error']})"
        rows.append(("mlp service", f"{state} at {service['url'] or 'not configured'}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
