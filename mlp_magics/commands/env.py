"""``%mlp env``: user, profile, resources, framework versions, MLP service."""

from __future__ import annotations

import argparse
import html
from typing import Any

from mlp.info import collect_info, format_info
from mlp_magics.registry import MagicArgumentParser, subcommand


class EnvReport:
    """Rich display of :func:`mlp.info.collect_info` (text and HTML)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info

    def __repr__(self) -> str:
        return format_info(self.info)

    def _repr_html_(self) -> str:
        rows = []
        for line in format_info(self.info).splitlines():
            key, _, value = line.partition("  ")
            rows.append(
                f"<tr><th style='text-align:left'>{html.escape(key.strip())}</th>"
                f"<td style='text-align:left'>{html.escape(value.strip())}</td></tr>"
            )
        return f"<table class='mlp-env'>{''.join(rows)}</table>"


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument(
        "--no-service", action="store_true", help="do not check the MLP service (offline)"
    )


@subcommand("env", "show user, profile, CPUs, memory, GPUs, versions, MLP service", _args)
def env_command(_shell: Any, args: argparse.Namespace, _cell: str | None) -> EnvReport:
    """Collect and return the environment report."""
    return EnvReport(collect_info(check_service=not args.no_service))
