"""Cache keys of pipeline nodes, and the human reason a node ran or was skipped.

A node's key hashes its code cells, its parameters, its upstream nodes' keys, the
fingerprints of its declared inputs and its kernel/environment. A succeeded run
with the same key is reused instead of running the node again.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

#: Files up to this size are hashed; larger ones are fingerprinted by size and mtime.
HASH_LIMIT = 64 * 1024**2


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_hash(notebook: Path) -> str:
    """Hash of the notebook's code cells (markdown and outputs do not count)."""
    nb = nbformat.read(str(notebook), as_version=4)
    code = "\n\x1e".join(c.source for c in nb.cells if c.cell_type == "code")
    return _sha(code.encode())


def file_hash(path: Path) -> str:
    """Hash of a whole file (the notebook hash recorded on runs)."""
    return _sha(path.read_bytes())


def fingerprint(path: Path) -> str:
    """Size + mtime, plus content hash for files up to :data:`HASH_LIMIT`."""
    if not path.exists():
        return "missing"
    if path.is_dir():
        parts = [f"{p.relative_to(path)}:{fingerprint(p)}" for p in sorted(path.rglob("*"))]
        return _sha("\n".join(parts).encode())
    st = path.stat()
    if st.st_size <= HASH_LIMIT:
        return f"{st.st_size}:{_sha(path.read_bytes())}"
    return f"{st.st_size}:{st.st_mtime_ns}"


@lru_cache(maxsize=1)
def environment_hash() -> str:
    """Hash of the installed distributions and versions (the environment lock)."""
    dists = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata
    )
    return _sha("\n".join(dists).encode())[:16]


def key_parts(
    notebook: Path,
    parameters: dict[str, Any],
    upstream_keys: dict[str, str],
    inputs: dict[str, Path],
    kernel: str | None,
) -> dict[str, Any]:
    """Everything a node's result depends on, as a JSON-ready dict."""
    return {
        "code": code_hash(notebook),
        "parameters": parameters,
        "upstream": dict(sorted(upstream_keys.items())),
        "inputs": {name: fingerprint(p) for name, p in sorted(inputs.items())},
        "env": f"{kernel or 'default'}:{environment_hash()}",
    }


def cache_key(parts: dict[str, Any]) -> str:
    """Stable hash of :func:`key_parts`."""
    return _sha(json.dumps(parts, sort_keys=True, default=str).encode())


def reason(parts: dict[str, Any], previous: dict[str, Any] | None, reran: set[str]) -> str:
    """Why a node runs: what differs from its previous run.

    Parameters
    ----------
    parts
        This run's key parts.
    previous
        The key parts of the node's previous run (None if it never ran).
    reran
        Upstream nodes that ran (not skipped) in this pipeline run.
    """
    if previous is None:
        return "first run"
    why: list[str] = []
    if parts["code"] != previous.get("code"):
        why.append("notebook changed")
    old_params = previous.get("parameters", {})
    for name in sorted(set(parts["parameters"]) | set(old_params)):
        if parts["parameters"].get(name) != old_params.get(name):
            why.append(f"parameter {name} changed")
    old_inputs = previous.get("inputs", {})
    for name in sorted(set(parts["inputs"]) | set(old_inputs)):
        if parts["inputs"].get(name) != old_inputs.get(name):
            why.append(f"input {name} changed")
    for name in sorted(parts["upstream"]):
        if name in reran or parts["upstream"][name] != previous.get("upstream", {}).get(name):
            why.append(f"upstream {name} re-ran")
    if parts["env"] != previous.get("env"):
        why.append("environment changed")
    return ", ".join(why) or "forced"
