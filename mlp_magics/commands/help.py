"""``%mlp help [SUB]``."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from mlp_magics.registry import REGISTRY, MagicArgumentParser, subcommand


class HelpText(str):
    """Plain text shown as-is by IPython (no quotes)."""

    def __repr__(self) -> str:
        return str(self)


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument("sub", nargs="?", help="subcommand to describe")


@subcommand("help", "list the subcommands, or describe one: %mlp help SUB", _args)
def help_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> HelpText:
    """Return the subcommand list or one subcommand's full help."""
    if args.sub:
        sub = REGISTRY.get(args.sub)
        if sub is None:
            raise UsageError(f"unknown subcommand {args.sub!r}; %mlp help lists them")
        return HelpText(sub.parser.format_help().rstrip())
    width = max(len(n) for n in REGISTRY)
    lines = ["%mlp subcommands (%mlp help SUB for details):"]
    lines += [f"  {n.ljust(width)}  {REGISTRY[n].help}" for n in sorted(REGISTRY)]
    return HelpText("\n".join(lines))
