"""Runtime shared by MLP's BentoML service templates (copied into every bento).

It loads a model saved by ``bentos.registry`` (LightGBM, scikit-learn or an
exported PyTorch program) with its preprocessing, validates requests against the
saved input schema and serves a batch ``POST /predict`` as a small Starlette app
that the service mounts. Input forms:

* JSON records: ``{"records": [{"col": value, ...}, ...]}`` (or a bare list);
* JSON columns: ``{"columns": {"col": [values...], ...}}``;
* Arrow IPC stream: ``Content-Type: application/vnd.apache.arrow.stream``.

Every bad request gets a 4xx whose message names the problem: 400 malformed body,
413 too many rows, 415 unsupported media type (pickle included), 422 schema
violations, 503 while the model is loading. The ``Server-Timing`` header reports
where the time went (receive the body, parse, validate, predict, serialize).

This module must stay importable without MLP installed: a bento carries only its
own files.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

try:  # orjson parses a 200-row JSON body about 5x faster than the json module
    import orjson
except ImportError:  # pragma: no cover - a bento built without it still works
    orjson = None  # type: ignore[assignment]

ARROW_TYPES = ("application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.file")
JSON_TYPES = ("application/json", "")
PREPROCESS_KEY = "mlp_preprocess"  # keep in sync with bentos.registry
TORCH_FILE = "model.pt2"
#: Largest batch accepted (``MLP_MAX_ROWS``).
MAX_ROWS = int(os.environ.get("MLP_MAX_ROWS", "10000"))
#: Largest request body in bytes (``MLP_MAX_BODY_BYTES``).
MAX_BODY = int(os.environ.get("MLP_MAX_BODY_BYTES", str(64 * 1024 * 1024)))
#: Per-request access log lines cost ~0.3 ms each at hundreds of requests per second;
#: ``MLP_ACCESS_LOG=1`` turns them on (request counts and latencies are in /metrics).
LOGGING: dict[str, Any] = {
    "access": {
        "enabled": os.environ.get("MLP_ACCESS_LOG", "0") == "1",
        "skip_paths": ["/livez", "/readyz", "/metrics"],
    }
}
#: Batches up to this many rows are predicted on the event loop (no thread hop).
INLINE_ROWS = 2000


def _workers() -> int:
    raw = os.environ.get("MLP_SERVE_WORKERS", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"MLP_SERVE_WORKERS must be a whole number >= 1, not {raw!r}")
    return int(raw)


def service_options(timeout: int) -> dict[str, Any]:
    """Keyword arguments of ``@bentoml.service`` shared by MLP's templates.

    * ``workers``: ``MLP_SERVE_WORKERS`` processes (default 1), each with the model.
    * ``tracing``: BentoML opens an OpenTelemetry span for every request even when no
      exporter is configured, where it is thrown away; that was about a tenth of a
      1-row request's CPU here. ``/predict`` is left out of tracing unless
      ``MLP_TRACING=1`` (set it together with BentoML's exporter configuration).
      Request counts and latencies stay in ``/metrics`` either way.
    """
    tracing = {} if os.environ.get("MLP_TRACING") == "1" else {"excluded_urls": ["/predict"]}
    return {
        "workers": _workers(),
        "traffic": {"timeout": timeout},
        "logging": LOGGING,
        "tracing": tracing,
    }


class RequestError(Exception):
    """A client error: HTTP ``status`` and a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def model_tag(service_file: str) -> str:
    """The model tag a service serves: ``mlp_model.json`` beside the service file."""
    return str(json.loads((Path(service_file).parent / "mlp_model.json").read_text())["tag"])


# ---------------------------------------------------------------------- schema and parsing


class Schema:
    """Input schema saved with the model: ordered columns, dtypes, nullability."""

    def __init__(self, spec: dict[str, Any] | None, n_features: int | None = None) -> None:
        cols = (spec or {}).get("columns") or []
        if not cols and n_features:
            cols = [
                {"name": f"f{i}", "dtype": "float", "nullable": True} for i in range(n_features)
            ]
        self.columns: list[dict[str, Any]] = cols
        self.names = [c["name"] for c in cols]
        self.name_set = set(self.names)
        self.has_categories = any(c["dtype"] in ("category", "str") for c in cols)
        #: Indices of the columns that must not hold NaN.
        self.non_null = np.array(
            [j for j, c in enumerate(cols) if not c["nullable"]], dtype=np.intp
        )

    def to_json(self) -> dict[str, Any]:
        """The schema as JSON (``GET /schema``)."""
        return {"columns": self.columns, "max_rows": MAX_ROWS}

    def check_names(self, given: list[str]) -> None:
        """422 naming the missing and unexpected columns."""
        given_set = set(given)
        if given_set == self.name_set:
            return
        missing = [n for n in self.names if n not in given_set]
        extra = sorted(given_set - self.name_set)
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing[:10])}")
        if extra:
            parts.append(f"unknown column(s): {', '.join(extra[:10])}")
        raise RequestError(422, "; ".join(parts) + f" (expected {len(self.names)} columns)")


def _check_rows(n: int) -> None:
    if n == 0:
        raise RequestError(422, "no rows: send at least one record")
    if n > MAX_ROWS:
        raise RequestError(413, f"{n} rows is more than the maximum of {MAX_ROWS} per request")


def parse_json(body: bytes, schema: Schema) -> dict[str, Any]:
    """Decode a JSON body (records or columns) into ``{column: list}``."""
    return parse_obj(_loads(body), schema)


def _loads(body: bytes) -> Any:
    if orjson is not None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # NaN/Infinity tokens (Python's json.dumps writes them): the json module
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"malformed JSON: {exc}") from None


def _dumps(obj: dict[str, Any]) -> bytes:
    if orjson is not None:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(obj, separators=(",", ":"), default=lambda a: a.tolist()).encode()


def parse_obj(data: Any, schema: Schema) -> dict[str, Any]:
    """Decoded JSON (records or columns) to ``{column: list}``, checking names and sizes."""
    if isinstance(data, dict) and "columns" in data and isinstance(data["columns"], dict):
        columns = data["columns"]
        schema.check_names(list(columns))
        lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
        if -1 in lengths:
            bad = next(k for k, v in columns.items() if not isinstance(v, list))
            raise RequestError(422, f"column {bad!r} must be a list of values")
        if len(lengths) > 1:
            raise RequestError(422, f"columns have different lengths: {sorted(lengths)}")
        _check_rows(lengths.pop() if lengths else 0)
        return columns
    records = data.get("records") if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise RequestError(
            400, 'expected {"records": [{...}, ...]} or {"columns": {"name": [...], ...}}'
        )
    _check_rows(len(records))
    first = records[0]
    if not isinstance(first, dict):
        raise RequestError(422, "each record must be an object of column: value")
    schema.check_names(list(first))
    try:
        columns = {name: [r[name] for r in records] for name in schema.names}
    except KeyError as exc:
        bad = next(i for i, r in enumerate(records) if exc.args[0] not in r)
        raise RequestError(422, f"record {bad} is missing column {exc.args[0]!r}") from None
    except TypeError:
        bad = next(i for i, r in enumerate(records) if not isinstance(r, dict))
        raise RequestError(422, f"record {bad} is not an object") from None
    width = len(schema.names)
    for i, r in enumerate(records):
        if len(r) != width:
            extra = sorted(set(r) - schema.name_set)
            raise RequestError(422, f"record {i} has unknown column(s): {', '.join(extra)}")
    return columns


def read_arrow(body: bytes, schema: Schema) -> Any:
    """Decode an Arrow IPC stream (or file) into a ``pyarrow.Table``, checking names and size."""
    import pyarrow as pa

    try:
        try:
            table = pa.ipc.open_stream(pa.py_buffer(body)).read_all()
        except pa.ArrowInvalid:
            table = pa.ipc.open_file(pa.py_buffer(body)).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise RequestError(400, f"body is not an Arrow IPC stream: {exc}") from None
    schema.check_names(table.column_names)
    _check_rows(table.num_rows)
    return table


def arrow_matrix(table: Any, schema: Schema) -> np.ndarray | None:
    """Numeric Arrow columns to the float64 matrix in one C++ call (``to_tensor``).

    None when a column is not integer/float32/float64 or a non-nullable column holds
    a null or NaN: ``arrow_columns`` + ``to_matrix`` then name the problem.
    """
    import pyarrow as pa

    if schema.has_categories:
        return None
    table = table.select(schema.names)
    floats = (pa.float32(), pa.float64())  # not float16: to_tensor does not take it
    if not all(pa.types.is_integer(t) or t in floats for t in table.schema.types):
        return None
    batch = table.combine_chunks().to_batches()[0]
    x = np.asarray(batch.to_tensor(null_to_nan=True, row_major=True), dtype=np.float64)
    if schema.non_null.size and np.isnan(x[:, schema.non_null]).any():
        return None
    return x


def arrow_to_matrix(table: Any, schema: Schema) -> Any:
    """An Arrow table as the model's input: one-call conversion, else the checked path."""
    x = arrow_matrix(table, schema)
    return to_matrix(arrow_columns(table, schema), schema) if x is None else x


def json_to_matrix(columns: dict[str, Any], body: bytes, schema: Schema) -> Any:
    """Parsed JSON columns as the model's input (``body`` is the raw request)."""
    # A byte scan (C speed); a column named "true" only costs the fast path.
    no_bools = b"true" not in body and b"false" not in body
    return to_matrix(columns, schema, no_bools)


def arrow_columns(table: Any, schema: Schema) -> dict[str, Any]:
    """An Arrow table as ``{column: numpy array}`` in schema order."""
    import pyarrow as pa

    out: dict[str, Any] = {}
    for name in schema.names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        out[name] = col.to_numpy(zero_copy_only=False)
    return out


def _to_float(name: str, values: Any, dtype: str, nullable: bool) -> np.ndarray:
    try:
        arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    except ValueError:  # ragged nesting such as [[1, 2], 3]
        arr = None
    if arr is None or arr.ndim != 1:
        raise RequestError(
            422, f"column {name!r}: expected one {dtype} value per row, got lists or objects"
        )
    kind = arr.dtype.kind
    if kind in "fiu" and dtype != "bool" and not isinstance(values, np.ndarray):
        # numpy made [0.5, true] a float array: a JSON boolean among the numbers.
        bad = next((v for v in values if v.__class__ is bool), None)
        if bad is not None:
            raise RequestError(422, f"column {name!r}: expected {dtype}, got bool {bad!r}")
    if kind in "fiu" or (kind == "b" and dtype == "bool"):
        out = arr.astype(np.float64, copy=False)
    elif kind == "b":
        raise RequestError(422, f"column {name!r}: expected {dtype}, got booleans")
    elif kind == "O":  # JSON nulls mixed with numbers, or mixed types
        bad = next(
            (
                v
                for v in arr
                if v is not None and (v.__class__ is bool or not isinstance(v, int | float))
            ),
            None,
        )
        if bad is not None:
            raise RequestError(
                422, f"column {name!r}: expected {dtype}, got {type(bad).__name__} {bad!r}"
            )
        out = np.array([np.nan if v is None else v for v in arr], dtype=np.float64)
    else:
        sample = arr.flat[0].item() if arr.size else None
        raise RequestError(
            422, f"column {name!r}: expected {dtype}, got {type(sample).__name__} {sample!r}"
        )
    if not nullable:
        nan = np.isnan(out)
        if nan.any():
            rows = np.flatnonzero(nan)[:5].tolist()
            raise RequestError(
                422, f"column {name!r} does not allow NaN/null (rows {rows}); fill it first"
            )
    return out


def to_matrix(columns: dict[str, Any], schema: Schema, no_bools: bool = False) -> Any:
    """Validate types and nulls; return a float64 matrix (or a DataFrame for categories).

    ``no_bools``: the caller knows the values hold no booleans (numpy would silently
    turn ``true`` into 1.0 in a float column), so one vectorized conversion may be
    tried before the per-column checks.
    """
    if not schema.has_categories:
        fast = _numeric_matrix(columns, schema) if no_bools else None
        if fast is not None:
            return fast
        n = len(next(iter(columns.values())))
        x = np.empty((n, len(schema.names)), dtype=np.float64)
        for j, col in enumerate(schema.columns):
            x[:, j] = _to_float(col["name"], columns[col["name"]], col["dtype"], col["nullable"])
        return x
    import pandas as pd

    data: dict[str, Any] = {}
    for col in schema.columns:
        name = col["name"]
        if col["dtype"] in ("category", "str"):
            values = list(columns[name])
            bad = next((v for v in values if v is not None and not isinstance(v, str)), None)
            if bad is not None:
                raise RequestError(422, f"column {name!r}: expected strings, got {bad!r}")
            cats = col.get("categories")
            series = pd.Categorical(values, categories=cats) if cats else pd.Series(values)
            if not col["nullable"] and pd.isna(series).any():
                raise RequestError(422, f"column {name!r} does not allow null or unknown values")
            data[name] = series
        else:
            data[name] = _to_float(name, columns[name], col["dtype"], col["nullable"])
    return pd.DataFrame(data, columns=schema.names)


def _numeric_matrix(columns: dict[str, Any], schema: Schema) -> np.ndarray | None:
    """All columns numeric, no forbidden NaN: the matrix in one numpy call, else None.

    None sends the batch down the per-column path, which names the offending column
    (strings, booleans, nulls mixed in).
    """
    try:
        x = np.array([columns[name] for name in schema.names])
    except ValueError:  # ragged nesting: the checked path names the column
        return None
    if x.ndim != 2 or x.dtype.kind not in "fiu":
        return None
    x = x.T.astype(np.float64, order="C")
    if schema.non_null.size and np.isnan(x[:, schema.non_null]).any():
        return None
    return x


# ---------------------------------------------------------------------- models


class Predictor:
    """A loaded model with its preprocessing: ``predict(matrix) -> ndarray``."""

    def __init__(self, bento_model: Any) -> None:
        self.tag = str(bento_model.tag)
        info = bento_model.info
        meta = dict(info.metadata or {})
        self.task = meta.get("mlp_task") or ""
        self.framework = (info.labels or {}).get("mlp-framework", info.module)
        custom = bento_model.custom_objects
        self.preprocess = custom.get(PREPROCESS_KEY)
        self.model = self._load(bento_model)
        n_features = None
        if self.framework == "lightgbm":
            n_features = self.model.num_feature()
        self.schema = Schema(meta.get("mlp_schema"), n_features)

    def _load(self, bento_model: Any) -> Any:
        import bentoml

        if self.framework == "lightgbm":
            return bentoml.lightgbm.load_model(bento_model)
        if self.framework == "sklearn":
            return bentoml.sklearn.load_model(bento_model)
        import torch

        return torch.export.load(bento_model.path_of(TORCH_FILE)).module()

    def _frame(self, x: Any) -> Any:
        if self.preprocess is None:
            return x
        import pandas as pd

        frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(x, columns=self.schema.names)
        if hasattr(self.preprocess, "transform"):
            return self.preprocess.transform(frame)
        return self.preprocess(frame)

    def predict(self, x: Any) -> np.ndarray:
        """Scores for a validated batch: probabilities for classifiers, values otherwise."""
        x = self._frame(x)
        if self.framework == "lightgbm":
            return np.asarray(self.model.predict(x, num_threads=1))
        if self.framework == "sklearn":
            if hasattr(self.model, "predict_proba") and self.task != "regression":
                proba = self.model.predict_proba(x)
                return proba[:, 1] if proba.shape[1] == 2 else proba
            return np.asarray(self.model.predict(x))
        import torch

        with torch.inference_mode():
            out = self.model(torch.as_tensor(np.asarray(x, dtype=np.float32)))
        arr = out.detach().numpy()
        return arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr


# ---------------------------------------------------------------------- HTTP


def _warm_up(predictor: Predictor) -> None:
    """One request's work through each input form, so no client pays for lazy imports."""
    import pyarrow as pa

    schema = predictor.schema
    if not schema.names or schema.has_categories:
        return
    body = _ipc_bytes(pa.table({name: [0.0] for name in schema.names}))
    x = arrow_to_matrix(read_arrow(body, schema), schema)
    _arrow_bytes(predictor.predict(x))
    body = _dumps({"columns": {name: [0.0] for name in schema.names}})
    x = json_to_matrix(parse_json(body, schema), body, schema)
    _dumps({"predictions": predictor.predict(x)})


class Runtime:
    """Loads the predictor in a background thread and serves ``/predict`` and ``/schema``."""

    def __init__(self, load: Any) -> None:
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self._metrics = _metrics()
        # Labelled children looked up once: ``labels()`` costs as much as ``observe()``.
        self._stage_hist = {
            stage: self._metrics["stage"].labels(stage=stage)
            for stage in ("receive", "parse", "validate", "predict", "serialize")
        }
        self._thread = threading.Thread(target=self._load, args=(load,), daemon=True)
        self._thread.start()

    def _load(self, load: Any) -> None:
        try:
            predictor = load()
            _warm_up(predictor)
            # The imports and the model are long-lived: move them out of the collector's
            # reach, or every full collection walks millions of objects (a pause of tens
            # of milliseconds that queues every request behind it).
            gc.collect()
            gc.freeze()
            self.predictor = predictor
            ready_dir = os.environ.get("MLP_READY_DIR")
            if ready_dir:  # tells ``bentos.serving`` that this worker is ready
                Path(ready_dir, str(os.getpid())).touch()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            raise

    @property
    def ready(self) -> bool:
        """Whether the model is loaded and warmed up."""
        return self.predictor is not None

    def routes(self) -> list[Route]:
        """Starlette routes of the mounted app."""
        return [
            Route("/predict", self.predict_endpoint, methods=["POST"]),
            Route("/schema", self.schema_endpoint, methods=["GET"]),
        ]

    def predict_records(self, records: list[dict[str, Any]]) -> list[Any]:
        """Predict for records (the typed BentoML API; errors become 4xx BentoML errors)."""
        from http import HTTPStatus

        from bentoml.exceptions import BentoMLException

        if self.predictor is None:
            raise BentoMLException(
                self.error or "model is loading; retry when /readyz is 200",
                error_code=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        try:
            x = to_matrix(parse_obj(records, self.predictor.schema), self.predictor.schema)
        except RequestError as exc:
            raise BentoMLException(exc.message, error_code=HTTPStatus(exc.status)) from None
        return list(self.predictor.predict(x).tolist())

    async def schema_endpoint(self, _request: Request) -> Response:
        """``GET /schema``: the input schema and the served model's tag."""
        if self.predictor is None:
            return self._error(503, self.error or "model is loading; retry when /readyz is 200")
        body = {"model": self.predictor.tag, "task": self.predictor.task}
        return JSONResponse({**body, **self.predictor.schema.to_json()})

    def _error(self, status: int, message: str) -> Response:
        self._metrics["errors"].labels(status=str(status)).inc()
        return JSONResponse({"error": message, "status": status}, status_code=status)

    async def predict_endpoint(self, request: Request) -> Response:
        """``POST /predict``: validate, predict, answer in the request's format."""
        predictor = self.predictor
        if predictor is None:
            return self._error(503, self.error or "model is loading; retry when /readyz is 200")
        t0 = time.perf_counter()
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in JSON_TYPES and media not in ARROW_TYPES:
            return self._error(
                415,
                f"unsupported Content-Type {media!r}: send application/json or "
                "application/vnd.apache.arrow.stream",
            )
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self._error(413, f"body of {length} bytes exceeds {MAX_BODY}")
        body = await request.body()
        tb = time.perf_counter()
        try:
            schema = predictor.schema
            if media in ARROW_TYPES:
                table = read_arrow(body, schema)
                t1 = time.perf_counter()
                x = arrow_to_matrix(table, schema)
            else:
                columns = parse_json(body, schema)
                t1 = time.perf_counter()
                x = json_to_matrix(columns, body, schema)
            t2 = time.perf_counter()
        except RequestError as exc:
            return self._error(exc.status, exc.message)
        except (ValueError, TypeError) as exc:  # a shape no check above foresaw: still 4xx
            return self._error(422, f"could not read the input as a table: {exc}")
        try:
            if len(x) <= INLINE_ROWS:
                scores = predictor.predict(x)
            else:
                import anyio

                scores = await anyio.to_thread.run_sync(predictor.predict, x)
        except ValueError as exc:  # e.g. the preprocessing rejected a value
            return self._error(422, f"the model rejected the input: {exc}")
        t3 = time.perf_counter()
        accept = request.headers.get("accept", "")
        if media in ARROW_TYPES or ARROW_TYPES[0] in accept:
            resp: Response = Response(_arrow_bytes(scores), media_type=ARROW_TYPES[0])
        else:
            resp = Response(_dumps({"predictions": scores}), media_type="application/json")
        t4 = time.perf_counter()
        stages = {
            "receive": tb - t0,
            "parse": t1 - tb,
            "validate": t2 - t1,
            "predict": t3 - t2,
            "serialize": t4 - t3,
        }
        for stage, seconds in stages.items():
            self._stage_hist[stage].observe(seconds)
        self._metrics["rows"].inc(len(scores))
        resp.headers["Server-Timing"] = ", ".join(
            f"{k};dur={v * 1000:.3f}" for k, v in stages.items()
        )
        return resp


#: An Arrow IPC stream is a schema message, record batch messages and an end marker.
_ARROW_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"
_PREDICTION_SCHEMA: dict[str, Any] = {}


def _arrow_bytes(scores: np.ndarray) -> bytes:
    import pyarrow as pa

    if scores.ndim == 1 and scores.dtype == np.float64:
        # The common case, assembled from a schema message serialised once.
        if not _PREDICTION_SCHEMA:
            schema = pa.schema([("prediction", pa.float64())])
            _PREDICTION_SCHEMA.update(schema=schema, head=schema.serialize().to_pybytes())
        batch = pa.RecordBatch.from_arrays([pa.array(scores)], schema=_PREDICTION_SCHEMA["schema"])
        return bytes(_PREDICTION_SCHEMA["head"] + batch.serialize().to_pybytes() + _ARROW_EOS)
    if scores.ndim == 1:
        return _ipc_bytes(pa.table({"prediction": scores}))
    return _ipc_bytes(pa.table({f"class_{k}": scores[:, k] for k in range(scores.shape[1])}))


def _ipc_bytes(table: Any) -> bytes:
    """A table as an Arrow IPC stream."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


_METRICS: dict[str, Any] = {}


def _metrics() -> dict[str, Any]:
    # bentoml.metrics exposes these at /metrics with BentoML's own (multiprocess-safe) registry.
    if not _METRICS:
        import bentoml

        _METRICS["stage"] = bentoml.metrics.Histogram(
            name="mlp_predict_stage_seconds",
            documentation="Time per /predict stage",
            labelnames=["stage"],
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0),
        )
        _METRICS["rows"] = bentoml.metrics.Counter(
            name="mlp_predict_rows_total", documentation="Rows predicted"
        )
        _METRICS["errors"] = bentoml.metrics.Counter(
            name="mlp_predict_errors_total",
            documentation="Refused /predict requests by status",
            labelnames=["status"],
        )
    return _METRICS
