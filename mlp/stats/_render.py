"""Static renderings of a stats payload: HTML with inline SVG (no external assets) and text.

The HTML is the fallback for exported notebooks, papermill outputs and front
ends without the MLP renderer; the lab draws the same payload interactively.
"""

from __future__ import annotations

import html
from typing import Any

#: One color per dataset, in order (the lab renderer uses the same palette).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]

_CSS = """
.mlp-stats{font-family:var(--jp-ui-font-family,sans-serif);font-size:12px}
.mlp-stats table{border-collapse:collapse;margin:4px 0 12px 0}
.mlp-stats th,.mlp-stats td{padding:2px 6px;text-align:right;border-bottom:1px solid #ddd}
.mlp-stats th.mlp-name,.mlp-stats td.mlp-name{text-align:left;font-weight:bold}
.mlp-stats .mlp-drifted{color:#d62728;font-weight:bold}
.mlp-stats .mlp-key{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}
"""


def color(i: int) -> str:
    """Color of dataset ``i``."""
    return PALETTE[i % len(PALETTE)]


def fmt(value: Any) -> str:
    """Short text of a payload number (null → empty; strings pass through)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.4g}"


def pct(part: int, whole: int) -> str:
    """Percentage text."""
    return f"{100.0 * part / whole:.1f}%" if whole else ""


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def histogram_svg(stats: list[dict[str, Any]], width: int = 140, height: int = 40) -> str:
    """Overlaid equal-width histograms of each dataset (proportions), as inline SVG."""
    lows = [_finite(s["edges"][0]) for s in stats if s.get("edges")]
    highs = [_finite(s["edges"][-1]) for s in stats if s.get("edges")]
    lo = min((v for v in lows if v is not None), default=None)
    hi = max((v for v in highs if v is not None), default=None)
    parts = [f'<svg class="mlp-hist" width="{width}" height="{height}" role="img">']
    if lo is not None and hi is not None:
        span = (hi - lo) or 1.0
        for i, s in enumerate(stats):
            counts, edges = s.get("counts") or [], s.get("edges") or []
            total = sum(counts) or 1
            peak = max(counts, default=0) / total or 1
            for c, a, b in zip(counts, edges, edges[1:], strict=False):
                fa, fb = _finite(a), _finite(b)
                if fa is None or fb is None or c == 0:
                    continue
                x = (fa - lo) / span * width
                w = max(1.0, (fb - fa) / span * width)
                h = (c / total) / peak * (height - 2)
                parts.append(
                    f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                    f'fill="{color(i)}" fill-opacity="0.45"/>'
                )
    parts.append("</svg>")
    return "".join(parts)


def top_values_svg(stats: list[dict[str, Any]], width: int = 140, levels: int = 5) -> str:
    """Bars of the first dataset's top levels, one bar per dataset (share of rows)."""
    labels: list[str] = []
    for s in stats:
        for label, _ in s.get("top") or []:
            if label not in labels and len(labels) < levels:
                labels.append(label)
    bar = 5
    row = bar * max(1, len(stats)) + 3
    height = max(row * len(labels), 10)
    parts = [f'<svg class="mlp-top" width="{width}" height="{height}" role="img">']
    for li, label in enumerate(labels):
        parts.append(f"<title>{html.escape(str(label))}</title>")
        for i, s in enumerate(stats):
            counts = dict((str(k), v) for k, v in s.get("top") or [])
            total = s.get("count") or 0
            share = counts.get(str(label), 0) / total if total else 0
            y = li * row + i * bar
            parts.append(
                f'<rect x="0" y="{y}" width="{share * width:.1f}" height="{bar - 1}" '
                f'fill="{color(i)}"><title>{html.escape(str(label))}: '
                f"{share * 100:.1f}%</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _drift_td(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("psi") is None:
        return "<td></td>"
    cls = ' class="mlp-drifted"' if cell.get("drifted") else ""
    return f"<td{cls}>{fmt(cell['psi'])}</td>"


def render_html(payload: dict[str, Any]) -> str:
    """Two Overview tables (numeric, categorical) with inline SVG charts and the drift column.

    Parameters
    ----------
    payload
        The dict of :meth:`mlp.stats.StatsResult.payload`.
    """
    datasets = payload["datasets"]
    names = [d["name"] for d in datasets]
    keys = "".join(
        f'<span class="mlp-key" style="background:{color(i)}"></span>{html.escape(n)} '
        f"({fmt(d['num_examples'])} rows"
        + (f", sampled from {fmt(d['sampled_from'])}" if d.get("sampled_from") else "")
        + ")"
        for i, (n, d) in enumerate(zip(names, datasets, strict=True))
    )
    out = [f'<div class="mlp-stats"><style>{_CSS}</style><div class="mlp-datasets">{keys}</div>']
    if payload.get("summary"):
        out.append(
            f'<div class="mlp-drift-summary">{html.escape(payload["summary"])}</div>'.replace(
                "\n", "<br/>"
            )
        )
    with_drift = len(datasets) > 1
    groups = [
        (
            "numeric",
            "Numeric features",
            ["count", "missing", "zeros", "mean", "std dev", "min", "median", "max"],
        ),
        (
            "string",
            "Categorical features",
            ["count", "missing", "unique", "top", "freq top", "avg length"],
        ),
    ]
    for kind, title, cols in groups:
        feats = [f for f in payload["features"] if f["kind"] == kind]
        if not feats:
            continue
        head = "".join(f"<th>{c}</th>" for c in cols)
        drift_head = "<th>PSI</th>" if with_drift else ""
        chart = "histogram" if kind == "numeric" else "top values"
        out.append(
            f'<h4>{title} ({len(feats)})</h4><table class="mlp-table-{kind}"><thead><tr>'
            f'<th class="mlp-name">feature</th><th>dataset</th>{head}{drift_head}'
            f"<th>{chart}</th></tr></thead><tbody>"
        )
        for f in feats:
            svg = histogram_svg(f["stats"]) if kind == "numeric" else top_values_svg(f["stats"])
            mark = " (target)" if f["name"] == payload.get("target") else ""
            for i, s in enumerate(f["stats"]):
                total = datasets[i]["num_examples"]
                cells = [fmt(s["count"]), pct(s["missing"], total)]
                if kind == "numeric":
                    cells += [pct(s.get("zeros", 0), total)] + [
                        fmt(s.get(k)) for k in ("mean", "std", "min", "median", "max")
                    ]
                else:
                    top = s.get("top") or []
                    cells += [
                        fmt(s.get("unique")),
                        html.escape(str(top[0][0])) if top else "",
                        fmt(top[0][1]) if top else "",
                        fmt(s.get("avg_length")),
                    ]
                if not s.get("present", True):
                    cells = ["absent"] + [""] * (len(cells) - 1)
                name_td = (
                    f'<td class="mlp-name" rowspan="{len(f["stats"])}">'
                    f"{html.escape(f['name'])}{mark}</td>"
                    if i == 0
                    else ""
                )
                chart_td = f'<td rowspan="{len(f["stats"])}">{svg}</td>' if i == 0 else ""
                drift_td = _drift_td(f["drift"][i]) if with_drift else ""
                out.append(
                    f"<tr>{name_td}<td style='color:{color(i)}'>{html.escape(names[i])}</td>"
                    + "".join(f"<td>{c}</td>" for c in cells)
                    + f"{drift_td}{chart_td}</tr>"
                )
        out.append("</tbody></table>")
    if not payload["features"]:
        out.append("<div>No columns.</div>")
    out.append("</div>")
    return "".join(out)


def render_text(payload: dict[str, Any]) -> str:
    """Plain-text summary: datasets, feature counts, drift lines."""
    datasets = payload["datasets"]
    described = ", ".join(
        f"{d['name']} ({d['num_examples']:,} rows"
        + (f", sampled from {d['sampled_from']:,}" if d.get("sampled_from") else "")
        + ")"
        for d in datasets
    )
    kinds = [f["kind"] for f in payload["features"]]
    lines = [
        f"MLP stats: {described}; {kinds.count('numeric')} numeric and "
        f"{kinds.count('string')} categorical features"
    ]
    if payload.get("summary"):
        lines.append(payload["summary"])
    return "\n".join(lines)
