"""Our proto against facets-overview's own generator, field by field (numbers within 1e-9)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from facets_overview.generic_feature_statistics_generator import (
    GenericFeatureStatisticsGenerator,
)
from google.protobuf import json_format
from sklearn import datasets as skd

import mlp.stats

TOP_K = 50


def _plain(series: pd.Series) -> np.ndarray:
    """A numpy column facets can digest: booleans as 0/1 (its percentile fails on bool)."""
    values = np.asarray(series.to_numpy())
    return values.astype(np.int8) if values.dtype == bool else values


def facets_proto(frames: list[pd.DataFrame], names: list[str]):
    """facets' generator fed plain numpy columns (its pandas path fails on pandas 2/3)."""
    gen = GenericFeatureStatisticsGenerator()
    entries = []
    for frame, name in zip(frames, names, strict=True):
        cols = {str(c): gen.NdarrayToEntry(_plain(frame[c])) for c in frame}
        entries.append({"entries": cols, "size": len(frame), "name": name})
    with np.errstate(all="ignore"):  # its np.std of infinities warns
        return gen.GetDatasetsProto(entries, histogram_categorical_levels_count=TOP_K)


def assert_same(ours, theirs, path="proto"):
    """Recursive comparison of MessageToDict trees; floats within 1e-9 relative."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        assert set(ours) == set(theirs), f"{path}: keys {sorted(ours)} != {sorted(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), path
        assert len(ours) == len(theirs), f"{path}: {len(ours)} items != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, float | int) and not isinstance(theirs, bool):
        a, b = float(ours), float(theirs)
        if math.isnan(b):
            assert math.isnan(a), path
        else:
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12), f"{path}: {a} != {b}"
    elif isinstance(theirs, str) and theirs in {"NaN", "Infinity", "-Infinity"}:
        assert ours == theirs, f"{path}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def compare(frames: list[pd.DataFrame], names: list[str]) -> None:
    ours = mlp.stats.stats(frames, names, top_k=TOP_K).proto
    theirs = facets_proto(frames, names)
    assert_same(
        json_format.MessageToDict(ours, always_print_fields_with_no_presence=False),
        json_format.MessageToDict(theirs, always_print_fields_with_no_presence=False),
    )


def sk_frame(loader) -> pd.DataFrame:
    return loader(as_frame=True).frame


@pytest.mark.parametrize(
    "loader",
    [skd.load_iris, skd.load_wine, skd.load_breast_cancer, skd.load_diabetes, skd.load_digits],
    ids=["iris", "wine", "breast_cancer", "diabetes", "digits"],
)
def test_sklearn_datasets_agree_with_facets(loader):
    df = sk_frame(loader)
    half = df.sample(frac=0.5, random_state=0)
    compare([df, half], ["all", "half"])


def test_strings_counts_and_tie_order_agree_with_facets():
    rng = np.random.default_rng(1)
    df = sk_frame(skd.load_iris)
    df["species"] = df["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"}).astype(object)
    # 80 levels with ties: rank order is count desc, then value desc (facets' sort)
    df["code"] = rng.choice([f"c{i:02d}" for i in range(80)], size=len(df)).astype(object)
    df["text"] = rng.choice(["", "a", "béta", "日本語"], size=len(df)).astype(object)
    compare([df, df.iloc[:40]], ["train", "test"])


def test_ints_bools_datetimes_and_infinities_agree_with_facets():
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    x[[3, 7]] = np.inf
    x[11] = -np.inf
    x[[5, 6]] = np.nan
    df = pd.DataFrame(
        {
            "i": rng.integers(-5, 5, size=n),
            "b": rng.random(n) < 0.3,
            "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "x": x,
            "zeros": np.zeros(n),
        }
    )
    compare([df], ["data"])


def test_all_nan_and_missing_column_agree_with_facets():
    df1 = pd.DataFrame({"a": [1.0, 2.0, np.nan], "nan": [np.nan] * 3})
    df2 = pd.DataFrame({"a": [np.nan, 4.0]})
    ours = mlp.stats.stats([df1, df2], ["one", "two"]).proto
    theirs = facets_proto([df1, df2], ["one", "two"])
    assert_same(json_format.MessageToDict(ours), json_format.MessageToDict(theirs))
