"""Turn what the user passes (DataFrames, Dask DataFrames, file paths) into datasets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlp.errors import MLPError, NotFoundError

#: File suffixes read as datasets.
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv")


class StatsInputError(MLPError):
    """A dataset cannot be read or is not a table."""


@dataclass
class Dataset:
    """One named input: a pandas DataFrame (exact path) or a Dask DataFrame (out of core)."""

    name: str
    frame: Any  # pd.DataFrame | dask.dataframe.DataFrame
    is_dask: bool
    #: rows before sampling, when sampled
    sampled_from: int | None = None


def is_dask_frame(obj: Any) -> bool:
    """True for a Dask DataFrame or Series (without importing dask when it is not loaded)."""
    module = type(obj).__module__
    if not module.startswith("dask"):
        return False
    import dask.dataframe as dd

    return isinstance(obj, dd.DataFrame | dd.Series)


def read_path(path: str | os.PathLike[str], blocksize: str = "64MiB") -> Any:
    """Open a parquet file/folder or a CSV file lazily with Dask (bounded memory).

    Raises
    ------
    NotFoundError
        The path does not exist.
    StatsInputError
        The file type is not supported or the file cannot be read.
    """
    import dask.dataframe as dd

    p = Path(path)
    if not p.exists():
        raise NotFoundError(f"no such file: {os.fspath(path)}")
    suffix = p.suffix.lower()
    try:
        if p.is_dir() or suffix in PARQUET_SUFFIXES:
            return dd.read_parquet(str(p))
        if suffix in CSV_SUFFIXES:
            sep = "\t" if suffix == ".tsv" else ","
            # assume_missing: integer columns with gaps in later blocks read as floats.
            return dd.read_csv(str(p), sep=sep, blocksize=blocksize, assume_missing=True)
    except (OSError, ValueError) as exc:
        raise StatsInputError(f"cannot read {os.fspath(path)}: {exc}".splitlines()[0]) from None
    raise StatsInputError(
        f"cannot compute statistics of {os.fspath(path)}: use a .csv, .tsv or .parquet file"
    )


def to_dataset(obj: Any, name: str) -> Dataset:
    """Wrap one input as a :class:`Dataset`.

    Parameters
    ----------
    obj
        A pandas DataFrame or Series, a Dask DataFrame or Series, or a path.
    name
        The dataset's name.
    """
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return Dataset(name, obj, is_dask=False)
    if isinstance(obj, str | os.PathLike):
        return Dataset(name, read_path(obj), is_dask=True)
    if is_dask_frame(obj):
        import dask.dataframe as dd

        return Dataset(name, obj.to_frame() if isinstance(obj, dd.Series) else obj, is_dask=True)
    raise StatsInputError(
        f"dataset {name!r} has type {type(obj).__name__}: pass a pandas or Dask DataFrame "
        "or the path of a .csv or .parquet file"
    )
