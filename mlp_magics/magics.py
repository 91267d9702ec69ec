"""The ``%mlp`` magic class: split the line, dispatch on its first word."""

from __future__ import annotations

import difflib
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from mlp.errors import MLPError
from mlp_magics.registry import REGISTRY

USAGE = "usage: %mlp SUBCOMMAND [ARGS]  (%mlp help lists the subcommands)"


@magics_class
class MLPMagics(Magics):
    """``%mlp SUB ...`` and ``%%mlp SUB ...``."""

    @line_cell_magic
    def mlp(self, line: str = "", cell: str | None = None) -> Any:
        """Run an MLP subcommand; ``%mlp help`` lists them."""
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"cannot parse arguments: {exc}\n{USAGE}") from None
        if not argv:
            raise UsageError(USAGE)
        name, rest = argv[0], argv[1:]
        sub = REGISTRY.get(name)
        if sub is None:
            close = difflib.get_close_matches(name, REGISTRY, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise UsageError(f"unknown subcommand {name!r}{hint}\n{USAGE}")
        try:
            return sub.run(self.shell, rest, cell)
        except MLPError as exc:
            raise UsageError(str(exc)) from None
