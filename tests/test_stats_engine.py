"""Stats engine: bad inputs, drift against hand-computed values, Dask path, files, display."""

from __future__ import annotations

import json
import math
import time

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict

import mlp.stats
from mlp.errors import MLPError, NotFoundError
from mlp.stats import MIME_TYPE

EPS = mlp.stats.EPS


def feature(result, name, dataset=0):
    for f in result.proto.datasets[dataset].features:
        if f.name == name:
            return f
    raise KeyError(name)


def frame_row(result, name, dataset):
    df = result.to_frame()
    return df[(df.feature == name) & (df.dataset == dataset)].iloc[0]


# ---------------------------------------------------------------------------- drift


def test_numeric_psi_and_ks_match_hand_computed_values():
    ref = pd.DataFrame({"x": np.arange(1.0, 11.0)})
    cur = pd.DataFrame({"x": [1.0] * 5 + [10.0] * 5})
    out = mlp.stats.drift(ref, cur)
    # Reference deciles 1.9, 2.8, ..., 9.1 put one reference value in each of 10 bins;
    # the current values fall in the first and last bin (5 each).
    r = [0.1] * 10
    c = [0.5] + [EPS] * 8 + [0.5]
    psi = sum((ci - ri) * math.log(ci / ri) for ri, ci in zip(r, c, strict=True))
    row = out.set_index("feature").loc["x"]
    assert row["psi"] == pytest.approx(psi, rel=1e-12)
    assert row["psi"] == pytest.approx(6.8082, abs=1e-3)
    # ECDFs differ most at x=1 (0.1 vs 0.5) and x=9 (0.9 vs 0.5).
    assert row["ks"] == pytest.approx(0.4)
    assert bool(row["drifted"])


def test_categorical_psi_matches_hand_computed_value_with_new_level():
    ref = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50})
    cur = pd.DataFrame({"c": ["a"] * 80 + ["b"] * 10 + ["c"] * 10})
    row = mlp.stats.drift(ref, cur).set_index("feature").loc["c"]
    expected = 0.3 * math.log(0.8 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
    expected += (0.1 - EPS) * math.log(0.1 / EPS)
    assert row["psi"] == pytest.approx(expected, rel=1e-12)
    assert math.isnan(row["ks"])
    assert row["kind"] == "string"


def test_missing_values_are_a_bin_and_threshold_is_configurable():
    ref = pd.DataFrame({"c": ["a", "a", None, None]})
    cur = pd.DataFrame({"c": ["a", "a", "a", None]})
    expected = 0.25 * math.log(0.75 / 0.5) + (-0.25) * math.log(0.25 / 0.5)
    out = mlp.stats.drift(ref, cur)
    assert out.loc[0, "psi"] == pytest.approx(expected, rel=1e-12)
    assert bool(out.loc[0, "drifted"])  # 0.2747 >= 0.2
    assert not bool(mlp.stats.drift(ref, cur, threshold=0.3).loc[0, "drifted"])
    with pytest.raises(MLPError, match="threshold"):
        mlp.stats.drift(ref, cur, threshold=0)


def test_identical_data_has_no_drift_and_summary_says_so():
    df = pd.DataFrame({"x": np.arange(100.0), "s": ["a", "b"] * 50})
    result = mlp.stats.stats([df, df.copy()], ["train", "test"])
    assert result.drift["test"]["psi"].tolist() == [0.0, 0.0]
    assert result.drift_summary() == "drift test vs train: 0 of 2 features with PSI >= 0.2"


def test_shifted_copy_is_flagged_in_frame_payload_and_summary():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=5000), "y": rng.normal(size=5000)})
    test = train.copy()
    test["x"] += 1.0
    result = mlp.stats.stats([train, test], ["train", "test"])
    assert "1 of 2 features with PSI >= 0.2 (x)" in result.drift_summary()
    assert frame_row(result, "x", "test")["drifted"]
    assert not frame_row(result, "y", "test")["drifted"]
    payload = result.payload()
    x = next(f for f in payload["features"] if f["name"] == "x")
    assert x["drift"][0] is None
    assert x["drift"][1]["drifted"] is True


# ---------------------------------------------------------------------------- bad input


def test_empty_frame():
    result = mlp.stats.stats(
        pd.DataFrame({"a": pd.Series([], dtype=float), "s": pd.Series([], dtype=object)})
    )
    f = feature(result, "a")
    assert result.proto.datasets[0].num_examples == 0
    assert f.num_stats.common_stats.num_missing == 0
    assert "0 rows" in repr(result)
    html = result._repr_mimebundle_()["text/html"]
    assert "Numeric features (1)" in html
    assert "Categorical features (1)" in html
    no_columns = mlp.stats.stats(pd.DataFrame())
    assert "No columns" in no_columns._repr_mimebundle_()["text/html"]


def test_all_nan_column_is_all_missing():
    result = mlp.stats.stats(pd.DataFrame({"a": [np.nan] * 4, "b": [1.0, 2.0, 3.0, 4.0]}))
    f = feature(result, "a")
    assert f.num_stats.common_stats.num_missing == 4
    assert f.num_stats.common_stats.num_non_missing == 0
    assert not f.num_stats.histograms
    assert frame_row(result, "a", "data")["missing_pct"] == 100.0


def test_mixed_type_object_column_is_text():
    df = pd.DataFrame({"m": ["a", 1, 2.5, None, "a", True]})
    f = feature(mlp.stats.stats(df), "m")
    assert f.type == 2  # STRING
    assert f.string_stats.unique == 4  # "a", "1", "2.5", "True"
    assert f.string_stats.common_stats.num_missing == 1
    assert f.string_stats.top_values[0].value == "a"
    assert f.string_stats.top_values[0].frequency == 2


def test_a_million_distinct_strings_keep_top_k_only():
    n = 1_000_000
    df = pd.DataFrame({"id": pd.Series(np.arange(n)).astype(str).to_numpy(dtype=object)})
    start = time.perf_counter()
    result = mlp.stats.stats(df, top_k=50)
    elapsed = time.perf_counter() - start
    f = feature(result, "id")
    assert f.string_stats.unique == n
    assert len(f.string_stats.rank_histogram.buckets) == 50
    assert elapsed < 30
    assert len(json.dumps(result.payload())) < 10_000


def test_infinities_in_stats_payload_and_html():
    df = pd.DataFrame({"x": [1.0, 2.0, np.inf, -np.inf, np.nan, 3.0]})
    result = mlp.stats.stats(df)
    f = feature(result, "x").num_stats
    assert math.isnan(f.mean)  # +inf and -inf, as numpy (and facets) say
    assert f.min == -math.inf
    assert f.max == math.inf
    hist = f.histograms[0]
    assert hist.buckets[0].low_value == -math.inf
    assert hist.buckets[-1].high_value == math.inf
    assert sum(b.sample_count for b in hist.buckets) == 5
    payload = result.payload()
    text = json.dumps(payload, allow_nan=False)  # strict JSON
    assert '"max": "inf"' in text
    assert "<svg" in result._repr_mimebundle_()["text/html"]


def test_datetime_bool_and_categorical_columns():
    df = pd.DataFrame(
        {
            "when": pd.to_datetime(["2026-01-01", "2026-01-02", None, "2026-01-04"]),
            "tz": pd.to_datetime(["2026-01-01", None, None, "2026-01-04"]).tz_localize("UTC"),
            "flag": [True, False, True, True],
            "nflag": pd.array([True, None, False, True], dtype="boolean"),
            "cat": pd.Categorical(["x", "y", "x", None], categories=["x", "y", "z"]),
        }
    )
    result = mlp.stats.stats(df)
    when = feature(result, "when")
    assert when.type == 0  # INT, as facets: nanoseconds since the epoch
    assert when.num_stats.min == pd.Timestamp("2026-01-01").value
    assert when.num_stats.common_stats.num_missing == 1
    assert feature(result, "tz").num_stats.common_stats.num_missing == 2
    flag = feature(result, "flag").num_stats
    assert flag.mean == 0.75
    assert flag.num_zeros == 1
    assert feature(result, "nflag").num_stats.common_stats.num_missing == 1
    cat = feature(result, "cat").string_stats
    assert cat.unique == 2  # the unused level "z" is not counted
    assert cat.top_values[0].value == "x"
    assert cat.top_values[0].frequency == 2
    assert cat.common_stats.num_missing == 1


@pytest.mark.parametrize("bad", [42, [1, 2, 3], np.arange(3), {"a": [1]}, None])
def test_non_dataframe_argument_is_a_one_line_error(bad):
    with pytest.raises(MLPError, match="pass a pandas or Dask DataFrame") as info:
        mlp.stats.stats([bad])
    assert "\n" not in str(info.value)


def test_missing_unreadable_and_unsupported_files(tmp_path):
    with pytest.raises(NotFoundError, match="no such file"):
        mlp.stats.stats(str(tmp_path / "nope.parquet"))
    garbage = tmp_path / "bad.parquet"
    garbage.write_bytes(b"this is not parquet")
    with pytest.raises(MLPError, match="cannot read") as info:
        mlp.stats.stats(str(garbage))
    assert "\n" not in str(info.value)
    other = tmp_path / "data.xlsx"
    other.write_text("x")
    with pytest.raises(MLPError, match=r"use a \.csv, \.tsv or \.parquet file"):
        mlp.stats.stats(str(other))


def test_datasets_with_different_columns_are_unioned_with_missing_marked():
    a = pd.DataFrame({"x": [1.0, 2.0], "only_a": ["u", "v"]})
    b = pd.DataFrame({"x": [3.0], "only_b": [7]})
    result = mlp.stats.stats([a, b], ["a", "b"])
    names = [f.name for f in result.proto.datasets[1].features]
    assert names == ["x", "only_a", "only_b"]
    assert feature(result, "only_a", 1).string_stats.common_stats.num_missing == 1
    assert feature(result, "only_b", 0).num_stats.common_stats.num_missing == 2
    payload = result.payload()
    only_a = next(f for f in payload["features"] if f["name"] == "only_a")
    assert only_a["stats"][1]["present"] is False
    assert "absent" in result._repr_mimebundle_()["text/html"]
    assert result.drift["b"].set_index("feature").loc["only_a", "drifted"]


def test_name_and_argument_errors():
    df = pd.DataFrame({"x": [1.0]})
    with pytest.raises(MLPError, match="2 datasets but 1 names"):
        mlp.stats.stats([df, df], ["a"])
    with pytest.raises(MLPError, match="names must differ"):
        mlp.stats.stats([df, df], ["a", "a"])
    with pytest.raises(MLPError, match="--target 'y' is not a column"):
        mlp.stats.stats(df, target="y")
    with pytest.raises(MLPError, match="positive number of rows"):
        mlp.stats.stats(df, sample=0)
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(MLPError, match="duplicate column names: a"):
        mlp.stats.stats(dup)


# ---------------------------------------------------------------------------- sampling, target


def test_sampling_only_when_asked_and_the_output_says_so():
    df = pd.DataFrame({"x": np.arange(1000.0), "y": np.arange(1000) % 2})
    full = mlp.stats.stats(df)
    assert full.proto.datasets[0].num_examples == 1000
    assert "sampled" not in repr(full)
    sampled = mlp.stats.stats(df, sample=100, target="y")
    assert sampled.proto.datasets[0].num_examples == 100
    assert "sampled from 1,000" in repr(sampled)
    assert "sampled from 1,000" in sampled._repr_mimebundle_()["text/html"]
    assert sampled.payload()["datasets"][0]["sampled_from"] == 1000
    assert [f.name for f in sampled.features] == ["y", "x"]
    assert "y (target)" in sampled._repr_mimebundle_()["text/html"]


# ---------------------------------------------------------------------------- Dask path


@pytest.fixture
def parquet_pair(tmp_path):
    rng = np.random.default_rng(3)
    n = 30_000
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 5, n),
            "s": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
            "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        }
    )
    ref.loc[::11, "x"] = np.nan
    cur = ref.copy()
    cur["x"] = cur["x"] * 2 + 1
    # A multi-file parquet dataset per side.
    dd.from_pandas(ref, npartitions=5).to_parquet(tmp_path / "ref")
    dd.from_pandas(cur, npartitions=4).to_parquet(tmp_path / "cur")
    assert len(list((tmp_path / "ref").glob("*.parquet"))) == 5
    return ref, cur, tmp_path / "ref", tmp_path / "cur"


def test_dask_parquet_path_matches_in_memory_stats(parquet_pair):
    ref, cur, ref_path, cur_path = parquet_pair
    exact = mlp.stats.stats([ref, cur], ["ref", "cur"])
    lazy = mlp.stats.stats([str(ref_path), str(cur_path)], ["ref", "cur"])
    for ds in (0, 1):
        for name in ["x", "k", "when"]:
            a, b = feature(exact, name, ds).num_stats, feature(lazy, name, ds).num_stats
            assert b.common_stats.num_missing == a.common_stats.num_missing
            assert b.num_zeros == a.num_zeros
            for attr in ["mean", "std_dev", "min", "max"]:
                assert getattr(b, attr) == pytest.approx(getattr(a, attr), rel=1e-9)
            # equal-width histograms are exact; the median comes from a merged sketch
            assert [x.sample_count for x in b.histograms[0].buckets] == [
                x.sample_count for x in a.histograms[0].buckets
            ]
            assert abs(b.median - a.median) <= 0.01 * (a.max - a.min)
        sa, sb = feature(exact, "s", ds).string_stats, feature(lazy, "s", ds).string_stats
        assert (sb.unique, sb.avg_length) == (sa.unique, sa.avg_length)
        assert [(t.value, t.frequency) for t in sb.top_values] == [
            (t.value, t.frequency) for t in sa.top_values
        ]
    de, dl = exact.drift["cur"].set_index("feature"), lazy.drift["cur"].set_index("feature")
    assert dl.loc["x", "psi"] == pytest.approx(de.loc["x", "psi"], rel=0.05)
    assert dl.loc["x", "ks"] == pytest.approx(de.loc["x", "ks"], abs=0.01)
    assert dl["drifted"].tolist() == de["drifted"].tolist() == [True, False, False, False]


def test_dask_dataframe_csv_and_sampling(parquet_pair, tmp_path):
    ref, _, _, _ = parquet_pair
    csv = tmp_path / "ref.csv"
    ref[["x", "s"]].to_csv(csv, index=False)
    result = mlp.stats.stats([dd.from_pandas(ref, npartitions=3), str(csv)], ["ddf", "csv"])
    assert feature(result, "x", 1).num_stats.mean == pytest.approx(ref["x"].mean(), rel=1e-9)
    assert feature(result, "k", 1).num_stats.common_stats.num_missing == len(ref)
    sampled = mlp.stats.stats(str(csv), sample=1000)
    assert sampled.sampled_from == [len(ref)]
    assert 700 < sampled.proto.datasets[0].num_examples < 1300


# ---------------------------------------------------------------------------- files, display


def test_save_and_load_json_and_binary(tmp_path):
    df = pd.DataFrame({"x": [1.0, 2.0, np.inf], "s": ["a", "b", "a"]})
    result = mlp.stats.stats([df, df], ["a", "b"])
    js = result.save(tmp_path / "stats.json")
    doc = json.loads(js.read_text())
    assert doc["format"] == "mlp-stats"
    loaded = mlp.stats.load(js)
    # (compared as dicts: the proto holds a NaN standard deviation, and NaN != NaN)
    assert MessageToDict(loaded.proto) == MessageToDict(result.proto)
    assert loaded.payload == json.loads(json.dumps(result.payload()))
    assert MIME_TYPE in loaded._repr_mimebundle_()
    pb = result.save(tmp_path / "sub" / "stats.pb")
    assert MessageToDict(mlp.stats.load(pb).proto) == MessageToDict(result.proto)
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(MLPError, match="not an MLP stats file"):
        mlp.stats.load(tmp_path / "junk.json")
    with pytest.raises(MLPError, match="cannot read"):
        mlp.stats.load(tmp_path / "none.json")


def test_mime_bundle_has_payload_html_and_text():
    df = pd.DataFrame({"x": np.arange(10.0), "s": list("aabbccddee")})
    bundle = mlp.stats.stats([df, df.iloc[:5]], ["train", "test"])._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    html = bundle["text/html"]
    assert "Numeric features (1)" in html
    assert "Categorical features (1)" in html
    assert "<svg" in html
    assert "<th>PSI</th>" in html
    assert "http" not in html  # no external assets
    assert bundle["text/plain"].startswith("MLP stats: train (10 rows), test (5 rows)")
    payload = bundle[MIME_TYPE]
    assert [d["name"] for d in payload["datasets"]] == ["train", "test"]
    assert len(payload["features"][0]["stats"][0]["counts"]) == 10
