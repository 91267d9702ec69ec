"""``%mlp objectives``: the named objectives and losses of :mod:`mlp.objectives`."""

from __future__ import annotations

import argparse
import html
from typing import Any

import mlp.objectives
from mlp_magics.registry import MagicArgumentParser, subcommand


class ObjectiveList:
    """Registry listing as text and HTML."""

    def __init__(self, rows: list[tuple[str, str, str, str, str]]) -> None:
        self.rows = rows

    def __repr__(self) -> str:
        lines = [
            f"{name}({params})  [{fw}]  {desc}  ({src})"
            for name, params, fw, desc, src in self.rows
        ]
        lines.append('use: objective=mlp.objectives.get("focal", gamma=2)')
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self.rows
        )
        head = "".join(
            f"<th>{h}</th>" for h in ("name", "parameters", "frameworks", "description", "source")
        )
        return f"<table class='mlp-objectives'><tr>{head}</tr>{body}</table>"


def _args(_parser: MagicArgumentParser) -> None:
    pass


@subcommand("objectives", "list custom objectives (LightGBM) and losses (Lightning)", _args)
def objectives_command(_shell: Any, _args: argparse.Namespace, _cell: str | None) -> Any:
    """List every registered objective with its parameters and frameworks."""
    rows = [
        (spec.name, spec.params(), ", ".join(spec.factories), spec.description, spec.source)
        for spec in mlp.objectives.available().values()
    ]
    return ObjectiveList(rows)
