"""Server profiles: loaded once from ``profiles.yaml`` and validated with pydantic.

The same validated list feeds the local spawner's options form and KubeSpawner's
``profile_list``, so a profile is declared in exactly one place.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub_config import PROFILES_FILE
from mlp.errors import ConfigError

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]i?)?B?$", re.IGNORECASE)
_FACTORS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(value: int | str) -> int:
    """Parse ``2G``/``512M``/``1073741824`` into bytes.

    Raises
    ------
    ValueError
        If the value is not a positive size.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError("must be a positive size such as 2G")
        return value
    match = _SIZE.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a size such as 2G or 512M")
    unit = (match.group(2) or "").upper().rstrip("I")
    size = int(float(match.group(1)) * _FACTORS[unit])
    if size <= 0:
        raise ValueError("must be a positive size such as 2G")
    return size


class Profile(BaseModel):
    """One server profile, e.g. "CPU small"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    display_name: str
    description: str = ""
    cpu_limit: float = Field(gt=0)
    mem_limit: int
    gpus: int = Field(default=0, ge=0)
    image: str | None = None
    default: bool = False

    @field_validator("mem_limit", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int:
        return parse_size(value)

    @property
    def mem_limit_text(self) -> str:
        """Memory limit in GiB for humans, e.g. ``2 GiB``."""
        return f"{self.mem_limit / 1024**3:g} GiB"


class ProfileFile(BaseModel):
    """Top level of ``profiles.yaml``."""

    model_config = ConfigDict(extra="forbid")

    profiles: list[Profile] = Field(min_length=1)


def _describe(error: ValidationError, data: Any) -> str:
    errors = error.errors()
    # An unknown key usually explains the other errors (a misspelt required key).
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = list(first["loc"])
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            node = node[item]
            slug = node.get("slug") if isinstance(node, dict) else None
            parts.append(f"[{slug or item}]")
        else:
            parts.append(f".{item}" if parts else str(item))
            node = node.get(item) if isinstance(node, dict) else None
    key = "".join(parts)
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{key}: {msg}"


def load_profiles(path: Path | None = None) -> list[Profile]:
    """Load and validate the profiles file (default: ``MLP_PROFILES_FILE`` or the shipped one).

    Raises
    ------
    ConfigError
        With the offending key named, e.g. ``profiles[cpu-small].cpu_limit: ...``.
    """
    path = path or Path(os.environ.get("MLP_PROFILES_FILE") or PROFILES_FILE)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read profiles file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"cannot read profiles file {path}{where}: {problem}") from None
    try:
        parsed = ProfileFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid profiles file {path}: {_describe(exc, data)}") from None
    slugs = [p.slug for p in parsed.profiles]
    dupes = sorted({s for s in slugs if slugs.count(s) > 1})
    if dupes:
        raise ConfigError(f"invalid profiles file {path}: duplicate slug {dupes[0]!r}")
    if sum(p.default for p in parsed.profiles) > 1:
        raise ConfigError(f"invalid profiles file {path}: more than one profile has default: true")
    return parsed.profiles


@lru_cache(maxsize=1)
def local_gpu_count() -> int:
    """Count NVIDIA GPUs on this machine with ``nvidia-smi -L`` (0 when there is none)."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return 0
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def available_profiles(profiles: list[Profile], gpu_count: int | None = None) -> list[Profile]:
    """Profiles this machine can run: GPU profiles only when enough GPUs are present."""
    gpus = local_gpu_count() if gpu_count is None else gpu_count
    return [p for p in profiles if p.gpus <= gpus]


def default_profile(profiles: list[Profile]) -> Profile:
    """The profile marked ``default: true``, else the first."""
    return next((p for p in profiles if p.default), profiles[0])
