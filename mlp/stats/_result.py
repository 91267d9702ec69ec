"""The result of a statistics run: proto, DataFrame view, payload, display, files."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from facets_overview.feature_statistics_pb2 import DatasetFeatureStatisticsList
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from mlp.errors import MLPError
from mlp.stats._columns import FLOAT, INT
from mlp.stats._engine import Feature
from mlp.stats._render import render_html, render_text

#: Mime type of the compact JSON payload that the JupyterLab renderer draws.
MIME_TYPE = "application/vnd.mlp.stats+json"
PAYLOAD_VERSION = 1
#: ``format`` field of a saved JSON stats file.
FILE_FORMAT = "mlp-stats"
#: Levels of a categorical feature carried in the payload (the proto keeps more).
PAYLOAD_TOP = 20

TYPE_NAMES = {INT: "INT", FLOAT: "FLOAT", 2: "STRING"}


def _num(value: float | int | None) -> float | int | str | None:
    """A JSON-safe number: 7 significant digits; infinities as strings; NaN as null."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(f"{value:.7g}")


def _drift_cell(frame: pd.DataFrame | None, feature: str) -> dict[str, Any] | None:
    if frame is None:
        return None
    row = frame.loc[frame["feature"] == feature]
    if row.empty:
        return None
    r = row.iloc[0]
    return {"psi": _num(float(r["psi"])), "ks": _num(float(r["ks"])), "drifted": bool(r["drifted"])}


def drift_summary(drift: dict[str, pd.DataFrame], reference: str, threshold: float) -> str:
    """One line per compared dataset: how many features drifted and which."""
    lines = []
    for name, frame in drift.items():
        flagged = frame.loc[frame["drifted"], "feature"].tolist()
        names = ", ".join(flagged[:8]) + (", ..." if len(flagged) > 8 else "")
        lines.append(
            f"drift {name} vs {reference}: {len(flagged)} of {len(frame)} features "
            f"with PSI >= {threshold:g}" + (f" ({names})" if flagged else "")
        )
    return "\n".join(lines)


@dataclass
class StatsResult:
    """Statistics of one or more named datasets.

    Attributes
    ----------
    proto
        facets-overview's ``DatasetFeatureStatisticsList``.
    features
        Per-feature statistics of every dataset.
    drift
        Per compared dataset (all but the first), the DataFrame of
        :func:`mlp.stats.drift` against the first dataset.
    """

    proto: DatasetFeatureStatisticsList
    features: list[Feature]
    names: list[str]
    num_examples: list[int]
    sampled_from: list[int | None]
    drift: dict[str, pd.DataFrame] = field(default_factory=dict)
    target: str | None = None
    threshold: float = 0.2

    # -------------------------------------------------------------- views
    def to_frame(self) -> pd.DataFrame:
        """One row per (feature, dataset): counts, missing %, moments, levels, drift.

        Returns
        -------
        pandas.DataFrame
            Columns ``feature, dataset, kind, count, missing, missing_pct, zeros_pct,
            mean, std, min, median, max, unique, avg_length, top, non_uniformity,
            psi, ks, drifted``.
        """
        rows = []
        for f in self.features:
            for name, cs in zip(self.names, f.stats, strict=True):
                d = self.drift.get(name)
                drow = d.loc[d["feature"] == f.name] if d is not None else None
                n = cs.num_examples
                rows.append(
                    {
                        "feature": f.name,
                        "dataset": name,
                        "kind": f.kind,
                        "count": cs.non_missing,
                        "missing": cs.missing,
                        "missing_pct": 100.0 * cs.missing / n if n else math.nan,
                        "zeros_pct": 100.0 * cs.zeros / n
                        if n and f.kind == "numeric"
                        else math.nan,
                        "mean": cs.mean,
                        "std": cs.std,
                        "min": cs.min,
                        "median": cs.median,
                        "max": cs.max,
                        "unique": cs.unique if f.kind == "string" else None,
                        "avg_length": cs.avg_length if f.kind == "string" else math.nan,
                        "top": cs.top[0][0] if cs.top else None,
                        "non_uniformity": cs.non_uniformity,
                        "psi": float(drow["psi"].iloc[0])
                        if drow is not None and len(drow)
                        else math.nan,
                        "ks": float(drow["ks"].iloc[0])
                        if drow is not None and len(drow)
                        else math.nan,
                        "drifted": bool(drow["drifted"].iloc[0])
                        if drow is not None and len(drow)
                        else None,
                    }
                )
        return pd.DataFrame(rows)

    def drift_summary(self) -> str:
        """One line per compared dataset naming the features with PSI at or above the threshold."""
        return drift_summary(self.drift, self.names[0], self.threshold)

    def payload(self) -> dict[str, Any]:
        """The compact JSON payload of :data:`MIME_TYPE` (what the lab renderer draws)."""
        feats = []
        for f in self.features:
            stats = []
            for cs in f.stats:
                entry: dict[str, Any] = {
                    "present": cs.present,
                    "count": cs.non_missing,
                    "missing": cs.missing,
                    "nu": _num(cs.non_uniformity),
                }
                if f.kind == "numeric":
                    entry.update(
                        zeros=cs.zeros,
                        mean=_num(cs.mean),
                        std=_num(cs.std),
                        min=_num(cs.min),
                        median=_num(cs.median),
                        max=_num(cs.max),
                        edges=[_num(e) for e in cs.hist_edges],
                        counts=list(cs.hist_counts),
                        neginf=cs.neginf,
                        posinf=cs.posinf,
                    )
                else:
                    entry.update(
                        unique=cs.unique,
                        avg_length=_num(cs.avg_length),
                        top=[[label, count] for label, count in cs.top[:PAYLOAD_TOP]],
                    )
                stats.append(entry)
            feats.append(
                {
                    "name": f.name,
                    "kind": f.kind,
                    "type": TYPE_NAMES[f.ftype],
                    "stats": stats,
                    "drift": [_drift_cell(self.drift.get(n), f.name) for n in self.names],
                }
            )
        return {
            "version": PAYLOAD_VERSION,
            "datasets": [
                {"name": n, "num_examples": c, "sampled_from": s}
                for n, c, s in zip(self.names, self.num_examples, self.sampled_from, strict=True)
            ],
            "target": self.target,
            "threshold": self.threshold,
            "summary": self.drift_summary(),
            "features": feats,
        }

    # -------------------------------------------------------------- display
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        payload = self.payload()
        return {
            MIME_TYPE: payload,
            "text/html": render_html(payload),
            "text/plain": render_text(payload),
        }

    def __repr__(self) -> str:
        return render_text(self.payload())

    # -------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the statistics to ``path``.

        ``.pb`` writes the binary ``DatasetFeatureStatisticsList`` (Facets' own
        format, no drift); any other suffix (``.json`` advised) writes JSON with
        the proto (protobuf's JSON mapping) and the payload (drift included).

        Returns
        -------
        pathlib.Path
            The written file.
        """
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.suffix.lower() == ".pb":
                p.write_bytes(self.proto.SerializeToString())
            else:
                doc = {
                    "format": FILE_FORMAT,
                    "version": PAYLOAD_VERSION,
                    "proto": json_format.MessageToDict(self.proto),
                    "payload": self.payload(),
                }
                p.write_text(json.dumps(doc, allow_nan=False))
        except OSError as exc:
            raise MLPError(f"cannot write {p}: {exc.strerror or exc}") from None
        return p


@dataclass
class StatsFile:
    """A saved statistics file: the proto and (for JSON files) the display payload."""

    proto: DatasetFeatureStatisticsList
    payload: dict[str, Any] | None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self.payload is None:
            return {"text/plain": str(self.proto)[:2000]}
        return {
            MIME_TYPE: self.payload,
            "text/html": render_html(self.payload),
            "text/plain": render_text(self.payload),
        }


def load(path: str | os.PathLike[str]) -> StatsFile:
    """Read a file written by :meth:`StatsResult.save`.

    Parameters
    ----------
    path
        A ``.pb`` (binary proto) or JSON stats file.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise MLPError(f"cannot read {p}: {exc.strerror or exc}") from None
    proto = DatasetFeatureStatisticsList()
    try:
        if p.suffix.lower() == ".pb":
            proto.ParseFromString(data)
            return StatsFile(proto, None)
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
            raise ValueError("not an MLP stats file")
        json_format.ParseDict(doc["proto"], proto)
        return StatsFile(proto, doc.get("payload"))
    except (ValueError, KeyError, TypeError, json_format.ParseError, DecodeError) as exc:
        raise MLPError(f"{p} is not an MLP stats file: {exc}".splitlines()[0]) from None
