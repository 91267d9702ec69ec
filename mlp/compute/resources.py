"""Resource defaults from the user's profile and parsing of sizes and counts."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil
from dask.utils import format_bytes, parse_bytes

from mlp.errors import MLPError


def parse_memory(text: str) -> int:
    """Parse a memory size such as ``4GiB``, ``500MB`` or ``2e9`` into bytes.

    Raises
    ------
    MLPError
        If the text is not a size or not positive.
    """
    try:
        value = int(parse_bytes(text))
    except (ValueError, TypeError):
        raise MLPError(f"memory limit {text!r} is not a size; use e.g. 4GiB or 500MB") from None
    if value <= 0:
        raise MLPError(f"memory limit {text!r} must be positive; use e.g. 4GiB")
    return value


def positive_int(text: str, what: str = "value") -> int:
    """Parse a count that must be an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise MLPError(f"{what} must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise MLPError(f"{what} must be >= 1, got {value}")
    return value


def _env_float(name: str) -> float | None:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


@dataclass(frozen=True)
class ProfileResources:
    """What the user's server may use (its profile's limits, else the machine's)."""

    cpus: int
    memory_bytes: int
    gpus: int
    image: str

    def describe(self) -> str:
        """Short text, e.g. ``2 CPUs, 8.00 GiB, 0 GPUs``."""
        return f"{self.cpus} CPUs, {format_bytes(self.memory_bytes)}, {self.gpus} GPUs"


def profile_resources() -> ProfileResources:
    """Read ``CPU_LIMIT``, ``MEM_LIMIT``, ``MLP_GPUS`` (from the spawner), else the machine's."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    cpu_limit = _env_float("CPU_LIMIT")
    cpus = max(1, int(cpu_limit)) if cpu_limit else usable
    mem = _env_float("MEM_LIMIT")
    gpus = int(_env_float("MLP_GPUS") or 0)
    image = (
        os.environ.get("JUPYTER_IMAGE_SPEC")
        or os.environ.get("JUPYTER_IMAGE")
        or os.environ.get("MLP_IMAGE")
        or "mlp/singleuser:latest"
    )
    return ProfileResources(
        cpus=cpus,
        memory_bytes=int(mem) if mem else int(psutil.virtual_memory().total),
        gpus=gpus,
        image=image,
    )
