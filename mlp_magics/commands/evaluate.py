"""``%mlp evaluate y_true y_score``: a metrics table with ROC/PR or residual plots."""

from __future__ import annotations

import argparse
import html
import random
from typing import Any

from mlp.errors import MLPError
from mlp_magics.registry import MagicArgumentParser, subcommand

W, H, PAD = 260, 220, 36


def _svg_chart(
    title: str,
    xlabel: str,
    ylabel: str,
    series: list[tuple[list[float], list[float], str]],
    scatter: bool = False,
    diagonal: bool = False,
) -> str:
    """A small self-contained SVG line or scatter chart (no plotting library needed)."""
    xs = [v for s in series for v in s[0]] or [0.0, 1.0]
    ys = [v for s in series for v in s[1]] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if not scatter:
        x0, x1, y0, y1 = 0.0, 1.0, 0.0, 1.0
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def px(x: float) -> float:
        return PAD + (x - x0) / (x1 - x0) * (W - PAD - 8)

    def py(y: float) -> float:
        return H - PAD - (y - y0) / (y1 - y0) * (H - PAD - 20)

    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' "
        f"style='font:10px sans-serif;background:#fff'>",
        f"<text x='{W / 2}' y='12' text-anchor='middle' font-weight='bold'>"
        f"{html.escape(title)}</text>",
        f"<rect x='{PAD}' y='20' width='{W - PAD - 8}' height='{H - PAD - 20}' "
        "fill='none' stroke='#999'/>",
        f"<text x='{W / 2}' y='{H - 4}' text-anchor='middle'>{html.escape(xlabel)}</text>",
        f"<text x='10' y='{H / 2}' transform='rotate(-90 10 {H / 2})' text-anchor='middle'>"
        f"{html.escape(ylabel)}</text>",
        f"<text x='{PAD}' y='{H - PAD + 12}' text-anchor='middle'>{x0:.3g}</text>",
        f"<text x='{W - 8}' y='{H - PAD + 12}' text-anchor='end'>{x1:.3g}</text>",
        f"<text x='{PAD - 3}' y='{H - PAD}' text-anchor='end'>{y0:.3g}</text>",
        f"<text x='{PAD - 3}' y='26' text-anchor='end'>{y1:.3g}</text>",
    ]
    if diagonal:
        parts.append(
            f"<line x1='{px(0)}' y1='{py(0)}' x2='{px(1)}' y2='{py(1)}' "
            "stroke='#ccc' stroke-dasharray='4'/>"
        )
    if scatter and y0 < 0 < y1:
        parts.append(f"<line x1='{PAD}' y1='{py(0)}' x2='{W - 8}' y2='{py(0)}' stroke='#ccc'/>")
    for i, (sx, sy, label) in enumerate(series):
        color = colors[i % len(colors)]
        if scatter:
            parts += [
                f"<circle cx='{px(a):.1f}' cy='{py(b):.1f}' r='1.6' fill='{color}' "
                "fill-opacity='0.5'/>"
                for a, b in zip(sx, sy, strict=True)
            ]
        else:
            points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(sx, sy, strict=True))
            parts.append(f"<polyline points='{points}' fill='none' stroke='{color}'/>")
        if label:
            parts.append(
                f"<text x='{W - 12}' y='{H - PAD - 6 - 12 * i}' text-anchor='end' "
                f"fill='{color}'>{html.escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _thin(xs: list[float], ys: list[float], limit: int = 400) -> tuple[list[float], list[float]]:
    """Keep at most ``limit`` points (curves are drawn, not computed, from these)."""
    if len(xs) <= limit:
        return xs, ys
    step = len(xs) / limit
    idx = sorted({int(i * step) for i in range(limit)} | {len(xs) - 1})
    return [xs[i] for i in idx], [ys[i] for i in idx]


class EvaluationReport:
    """Result of ``%mlp evaluate``: metrics table plus plots (text and HTML)."""

    def __init__(self, metrics: dict[str, float], curves: dict[str, Any], threshold: float):
        self.metrics = metrics
        self.curves = curves
        self.threshold = threshold

    def __repr__(self) -> str:
        width = max(len(k) for k in self.metrics)
        lines = [f"task: {self.curves['task']}"]
        lines += [f"{k.ljust(width)}  {v:.6g}" for k, v in self.metrics.items()]
        return "\n".join(lines)

    def plots(self) -> list[str]:
        """The SVG charts for the task."""
        c = self.curves
        if c["task"] == "regression":
            preds, resid = c["residuals"]
            if len(preds) > 2000:  # a readable scatter; seeded so re-runs look the same
                keep = sorted(random.Random(0).sample(range(len(preds)), 2000))  # noqa: S311
                preds, resid = [preds[i] for i in keep], [resid[i] for i in keep]
            return [
                _svg_chart("Residuals", "prediction", "y - prediction", [(preds, resid, "")], True)
            ]
        per = {"": c} if c["task"] == "binary" else c.get("per_class", {})
        roc = [(*_thin(*v["roc"]), f"class {k}" if k else "") for k, v in per.items() if v]
        pr = [(*_thin(*v["pr"]), f"class {k}" if k else "") for k, v in per.items() if v]
        return [
            _svg_chart("ROC", "false positive rate", "true positive rate", roc, diagonal=True),
            _svg_chart("Precision-recall", "recall", "precision", pr),
        ]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:right'>{v:.6g}</td></tr>"
            for k, v in self.metrics.items()
        )
        note = f" (threshold {self.threshold})" if self.curves["task"] == "binary" else ""
        table = (
            f"<table class='mlp-evaluate'><caption>{html.escape(self.curves['task'])}{note}"
            f"</caption>{rows}</table>"
        )
        plots = "".join(f"<div style='display:inline-block'>{svg}</div>" for svg in self.plots())
        style = "display:flex;gap:16px;align-items:flex-start"
        return f"<div style='{style}'>{table}<div>{plots}</div></div>"


def _args(parser: MagicArgumentParser) -> None:
    parser.add_argument("y_true", help="variable or expression: true labels / targets")
    parser.add_argument("y_score", help="variable or expression: scores or predictions")
    parser.add_argument(
        "--task", choices=("binary", "multiclass", "regression"), help="default: inferred"
    )
    parser.add_argument("--threshold", type=float, default=0.5, help="binary decision threshold")
    parser.add_argument("--name", help="also store the metrics dict in this variable")


def _value(shell: Any, expr: str) -> Any:
    try:
        return shell.ev(expr)
    except Exception as exc:
        raise MLPError(f"cannot evaluate {expr!r}: {type(exc).__name__}: {exc}") from None


@subcommand("evaluate", "metrics table and ROC/PR (or residual) plots for predictions", _args)
def evaluate_command(shell: Any, args: argparse.Namespace, _cell: str | None) -> EvaluationReport:
    """Evaluate ``y_score`` against ``y_true`` with :func:`mlp.evaluate`."""
    from mlp.evaluation import curves, evaluate

    if args.name and not args.name.isidentifier():
        raise MLPError(f"--name {args.name!r} is not a Python variable name")
    y_true, y_score = _value(shell, args.y_true), _value(shell, args.y_score)
    metrics = evaluate(y_true, y_score, task=args.task, threshold=args.threshold)
    report = EvaluationReport(metrics, curves(y_true, y_score, task=args.task), args.threshold)
    if args.name:
        shell.user_ns[args.name] = metrics
    return report
