"""Registry of ``%mlp`` subcommands.

A subcommand is one module in :mod:`mlp_magics.commands` holding a function
decorated with :func:`subcommand`; list the module in
``mlp_magics/commands/__init__.py`` and it exists everywhere (dispatch, help).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from IPython.core.error import UsageError

#: handler(shell, args, cell) -> value shown by IPython (None for nothing)
Handler = Callable[[Any, argparse.Namespace, "str | None"], Any]


class MagicArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` with the usage line instead of exiting."""

    def error(self, message: str) -> NoReturn:
        """Turn a parse error into a UsageError naming the usage line."""
        raise UsageError(f"{message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """``--help`` prints help; never exit the kernel."""
        if message:
            raise UsageError(message.strip())
        raise _HelpShown()


class _HelpShown(Exception):
    """Raised after ``-h``/``--help`` printed its text."""


@dataclass
class Subcommand:
    """One ``%mlp`` subcommand."""

    name: str
    help: str
    handler: Handler
    parser: MagicArgumentParser
    cell: str  # "line", "cell" or "both"

    def run(self, shell: Any, argv: list[str], cell: str | None) -> Any:
        """Parse ``argv`` and call the handler; returns its value."""
        if cell is not None and self.cell == "line":
            raise UsageError(
                f"%%mlp {self.name} takes no cell; use the line magic %mlp {self.name}"
            )
        if cell is None and self.cell == "cell":
            raise UsageError(f"%mlp {self.name} needs a cell: write %%mlp {self.name} on a cell")
        try:
            args = self.parser.parse_args(argv)
        except _HelpShown:
            return None
        return self.handler(shell, args, cell)


REGISTRY: dict[str, Subcommand] = {}


def subcommand(
    name: str,
    help: str,
    arguments: Callable[[MagicArgumentParser], None] | None = None,
    cell: str = "line",
) -> Callable[[Handler], Handler]:
    """Register a ``%mlp NAME`` subcommand.

    Parameters
    ----------
    name
        First word after ``%mlp``.
    help
        One-line description shown by ``%mlp help``.
    arguments
        Adds the subcommand's arguments to its parser.
    cell
        ``"line"``, ``"cell"`` or ``"both"``: which magic forms it accepts.
    """

    def register(handler: Handler) -> Handler:
        if name in REGISTRY:
            raise ValueError(f"%mlp {name} is registered twice")
        parser = MagicArgumentParser(
            prog=f"%mlp {name}", description=help, add_help=True, allow_abbrev=False
        )
        if arguments:
            arguments(parser)
        REGISTRY[name] = Subcommand(name, help, handler, parser, cell)
        return handler

    return register
