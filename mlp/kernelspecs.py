"""Install the MLP kernel specs from ``kernels/`` into this environment."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

KERNELS_DIR = Path(__file__).resolve().parent.parent / "kernels"


def install_kernels(source: Path = KERNELS_DIR, prefix: str = sys.prefix) -> list[str]:
    """Install every ``kernels/<name>/kernel.json``, pointing it at this Python.

    Returns
    -------
    list of str
        Names of the installed kernel specs.
    """
    installed = []
    ksm = KernelSpecManager()
    for spec_file in sorted(source.glob("*/kernel.json")):
        spec = json.loads(spec_file.read_text())
        spec["argv"] = [sys.executable if a == "{python}" else a for a in spec["argv"]]
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / spec_file.parent.name
            target.mkdir()
            (target / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
            for extra in spec_file.parent.iterdir():
                if extra.name != "kernel.json":
                    (target / extra.name).write_bytes(extra.read_bytes())
            ksm.install_kernel_spec(str(target), spec_file.parent.name, prefix=prefix, replace=True)
        installed.append(spec_file.parent.name)
    return installed
