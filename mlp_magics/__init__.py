"""``%mlp`` / ``%%mlp`` IPython magics.

Load with ``%load_ext mlp_magics``; MLP kernels load it at start.
"""

from __future__ import annotations

from typing import Any

from mlp_magics.magics import MLPMagics
from mlp_magics.registry import REGISTRY, subcommand

__all__ = ["REGISTRY", "MLPMagics", "load_ipython_extension", "subcommand"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%mlp`` magics with ``ipython``."""
    import mlp_magics.commands  # noqa: F401 - registers the subcommands

    ipython.register_magics(MLPMagics)
