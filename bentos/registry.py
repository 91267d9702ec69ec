"""Model registry on BentoML's model store, with metrics, schema, stats and lineage.

Each user has a namespace: a BentoML home at ``<store root>/<user>`` (see
:func:`store_root`). Models are saved through the framework's native BentoML API
(``bentoml.lightgbm`` for LightGBM, ``bentoml.sklearn`` for scikit-learn,
``bentoml.models.create`` + ``torch.export`` for PyTorch / Lightning), with MLP's
metadata under ``mlp_*`` keys of the model's metadata:

``mlp_metrics``, ``mlp_hyperparameters``, ``mlp_schema`` (columns, dtypes,
nullability, from a signature sample), ``mlp_lineage`` (user, time, notebook path
and content hash, pipeline run id, host), ``mlp_task`` and ``mlp_stats`` (the
attached training-data statistics file, copied into the model directory).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import getpass
import hashlib
import json
import math
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlp.errors import MLPError, NotFoundError

#: Custom object holding the preprocessing callable (or scikit-learn transformer).
PREPROCESS_KEY = "mlp_preprocess"
#: Directory, inside a model's directory, holding the attached stats file.
STATS_DIR = "mlp_stats"
TORCH_FILE = "model.pt2"
_NAME_RE = re.compile(r"^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$")
_USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


# ------------------------------------------------------------------------ namespaces


def store_root() -> Path:
    """Root of all users' BentoML homes.

    ``MLP_MODEL_STORE`` if set, else ``$MLP_DATA_DIR/bentoml``, else ``~/.mlp/bentoml``.
    """
    if os.environ.get("MLP_MODEL_STORE"):
        return Path(os.environ["MLP_MODEL_STORE"]).expanduser().resolve()
    base = os.environ.get("MLP_DATA_DIR")
    root = Path(base).expanduser().resolve() if base else Path.home() / ".mlp"
    return root / "bentoml"


def current_user() -> str:
    """The hub user running this kernel (``JUPYTERHUB_USER``), else the OS user."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def user_home(user: str | None = None) -> Path:
    """BentoML home of ``user`` (default: :func:`current_user`); not created here.

    Raises
    ------
    MLPError
        If the user name cannot be a directory name.
    """
    user = user or current_user()
    if not _USER_RE.match(user) or user in {".", ".."}:
        raise MLPError(f"user name {user!r} cannot name a model namespace")
    return store_root() / user


def namespaces() -> list[str]:
    """Users that have a model namespace, sorted."""
    root = store_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "models").is_dir())


def _bentoml() -> Any:
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    import bentoml

    return bentoml


def _model_store(user: str) -> Any:
    _bentoml()
    from bentoml._internal.models.model import ModelStore

    path = user_home(user) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return ModelStore(str(path))


@contextlib.contextmanager
def activate(user: str | None = None) -> Iterator[Path]:
    """Point this process's BentoML at ``user``'s home for the duration of the block.

    BentoML's framework ``save_model`` functions take no store argument, so the
    container's model and bento stores are swapped for the block and restored after.
    """
    home = user_home(user)
    for sub in ("models", "bentos", "tmp", "envs"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    _bentoml()
    from bentoml._internal.bento import BentoStore
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml._internal.models.model import ModelStore

    old_env = os.environ.get("BENTOML_HOME")
    os.environ["BENTOML_HOME"] = str(home)
    BentoMLContainer.bentoml_home.set(str(home))
    BentoMLContainer.model_store.set(ModelStore(str(home / "models")))
    BentoMLContainer.bento_store.set(BentoStore(str(home / "bentos")))
    try:
        yield home
    finally:
        BentoMLContainer.bentoml_home.reset()
        BentoMLContainer.model_store.reset()
        BentoMLContainer.bento_store.reset()
        if old_env is None:
            os.environ.pop("BENTOML_HOME", None)
        else:
            os.environ["BENTOML_HOME"] = old_env


# ------------------------------------------------------------------------ metadata helpers


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value``: non-finite floats become None, others their str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalar
        return _jsonable(value.item())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def _no_none(value: Any) -> Any:
    """Drop None entries: BentoML's metadata validator refuses None."""
    if isinstance(value, dict):
        return {k: _no_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_none(v) for v in value if v is not None]
    return value


def framework_of(obj: Any) -> str:
    """``"lightgbm"``, ``"sklearn"`` or ``"torch"``.

    Raises
    ------
    MLPError
        If ``obj`` is not a model of a supported framework.
    """
    mod = type(obj).__module__.split(".")[0]
    if mod == "lightgbm":
        import lightgbm as lgb

        if isinstance(obj, lgb.Booster):
            return "lightgbm"
        if isinstance(obj, lgb.LGBMModel):
            if not hasattr(obj, "booster_") and not getattr(obj, "fitted_", False):
                raise MLPError(f"the {type(obj).__name__} is not fitted; call .fit() first")
            return "lightgbm"
    if hasattr(obj, "fit") and hasattr(obj, "predict") and hasattr(obj, "get_params"):
        return "sklearn"
    if mod in {"torch", "pytorch_lightning", "lightning"} or _is_torch_module(obj):
        return "torch"
    raise MLPError(
        f"cannot save a {type(obj).__name__} as a model: pass a LightGBM booster or "
        "estimator, a scikit-learn estimator or pipeline, or a PyTorch/Lightning module"
    )


def _is_torch_module(obj: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return bool(torch is not None and isinstance(obj, torch.nn.Module))


def hyperparameters(obj: Any) -> dict[str, Any]:
    """Hyperparameters of a model, JSON-safe."""
    params: dict[str, Any] = {}
    if hasattr(obj, "get_params"):
        params = dict(obj.get_params(deep=False))
    elif hasattr(obj, "params") and isinstance(obj.params, dict):  # lightgbm Booster
        params = dict(obj.params)
    elif hasattr(obj, "hparams"):  # LightningModule
        params = dict(obj.hparams)
    if hasattr(obj, "current_iteration") and callable(obj.current_iteration):
        params.setdefault("num_iterations_trained", obj.current_iteration())
    return {k: _jsonable(v) for k, v in params.items() if not callable(v) or isinstance(v, str)}


def schema_from_sample(sample: Any, nullable: list[str] | None = None) -> dict[str, Any]:
    """Input schema from a signature sample (DataFrame, 2-D array or dict of columns).

    Parameters
    ----------
    sample
        A few rows of model input.
    nullable
        Columns that may hold NaN even if the sample has none. Columns with NaN
        in the sample are nullable anyway.

    Returns
    -------
    dict
        ``{"columns": [{"name", "dtype", "nullable"}], "kind": "dataframe"|"ndarray"}``
    """
    import numpy as np
    import pandas as pd

    kind = "dataframe"
    if isinstance(sample, dict):
        sample = pd.DataFrame(sample)
    elif not isinstance(sample, pd.DataFrame):
        arr = np.asarray(sample)
        if arr.ndim != 2:
            raise MLPError(f"the signature sample must be 2-D (rows x columns), got {arr.shape}")
        sample = pd.DataFrame(arr, columns=[f"f{i}" for i in range(arr.shape[1])])
        kind = "ndarray"
    if len(sample) == 0:
        raise MLPError("the signature sample has no rows; pass a few rows of model input")
    allow = set(nullable or [])
    unknown = allow - {str(c) for c in sample.columns}
    if unknown:
        raise MLPError(f"nullable column {sorted(unknown)[0]!r} is not in the signature sample")
    cols = []
    for name in sample.columns:
        series = sample[name]
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            kind_name = "category"
        elif pd.api.types.is_bool_dtype(dtype):
            kind_name = "bool"
        elif pd.api.types.is_integer_dtype(dtype):
            kind_name = "int"
        elif pd.api.types.is_float_dtype(dtype):
            kind_name = "float"
        else:
            kind_name = "str"
        col: dict[str, Any] = {
            "name": str(name),
            "dtype": kind_name,
            "nullable": bool(series.isna().any()) or str(name) in allow,
        }
        if kind_name == "category":
            col["categories"] = [_jsonable(c) for c in dtype.categories]
        cols.append(col)
    return {"kind": kind, "columns": cols}


def _notebook_lineage(notebook: str | None) -> dict[str, Any]:
    # Jupyter Server sets JPY_SESSION_NAME to the notebook path in the kernel's env;
    # the pipeline runner may set MLP_NOTEBOOK_PATH.
    path = notebook or os.environ.get("MLP_NOTEBOOK_PATH") or os.environ.get("JPY_SESSION_NAME")
    out: dict[str, Any] = {"notebook": path, "notebook_sha256": None}
    if path and Path(path).is_file():
        out["notebook"] = str(Path(path).resolve())
        out["notebook_sha256"] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return out


def lineage(user: str, notebook: str | None = None) -> dict[str, Any]:
    """Who saved the model, when, from which notebook and pipeline run."""
    return {
        "user": user,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **_notebook_lineage(notebook),
        "run_id": os.environ.get("MLP_RUN_ID"),
        "host": socket.gethostname(),
    }


def _describe_callable(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{getattr(obj, '__module__', None) or type(obj).__module__}.{name}"


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name) or len(name) > 63:
        raise MLPError(
            f"model name {name!r} is invalid: use lowercase letters, digits, '-', '_' or '.' "
            "(at most 63 characters), e.g. churn-lgbm"
        )
    return name


def _attach_stats(model_dir: Path, stats: Any) -> dict[str, Any]:
    """Copy the training-data stats into the model directory; return its description."""
    dest = model_dir / STATS_DIR
    dest.mkdir(exist_ok=True)
    if isinstance(stats, str | os.PathLike):
        src = Path(stats).expanduser()
        if not src.is_file():
            raise MLPError(f"stats file {str(src)!r} does not exist")
        target = dest / src.name
        shutil.copyfile(src, target)
    elif isinstance(stats, dict):
        target = dest / "stats.json"
        target.write_text(json.dumps(_jsonable(stats)))
    elif hasattr(stats, "save"):  # a stats object that can write itself
        target = dest / "stats"
        stats.save(str(target))
        if target.is_dir():
            raise MLPError("the stats object saved a directory; pass the path of a stats file")
    else:
        raise MLPError(
            f"cannot attach stats of type {type(stats).__name__}: pass a file path or a dict"
        )
    data = target.read_bytes()
    return {
        "file": f"{STATS_DIR}/{target.name}",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


# ------------------------------------------------------------------------ save


def save(
    model: Any,
    name: str,
    *,
    metrics: dict[str, Any] | None = None,
    stats: Any = None,
    signature: Any = None,
    preprocess: Any = None,
    task: str | None = None,
    nullable: list[str] | None = None,
    labels: dict[str, str] | None = None,
    notebook: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Save ``model`` into the user's BentoML model store with MLP metadata.

    Parameters
    ----------
    model
        LightGBM booster or estimator, scikit-learn estimator or pipeline, or a
        PyTorch / Lightning module.
    name
        Model name (lowercase, digits, ``-_.``); BentoML adds a version.
    metrics
        Evaluation results, e.g. from :func:`mlp.evaluate`.
    stats
        Training-data statistics: a file path (copied into the model) or a dict.
    signature
        A few rows of input: sets the input schema the service validates against.
        Required for PyTorch models (used to export the graph).
    preprocess
        Callable (or scikit-learn transformer) applied to the input DataFrame
        before the model, online exactly as offline.
    task
        ``binary``, ``multiclass`` or ``regression`` (recorded; guides the output).
    nullable
        Columns allowed to hold NaN online although the sample has none.
    labels
        Extra BentoML labels.
    notebook
        Notebook path for lineage (default: detected from the kernel's environment).
    user
        Namespace (default: the current hub user).

    Returns
    -------
    dict
        The saved model as :func:`show` describes it.

    Raises
    ------
    MLPError
        If ``model`` is not a supported model, a name is invalid or stats are missing.
    """
    _check_name(name)
    framework = framework_of(model)
    user = user or current_user()
    if preprocess is not None and not (callable(preprocess) or hasattr(preprocess, "transform")):
        raise MLPError("preprocess must be a function or a fitted transformer with .transform()")
    schema = schema_from_sample(signature, nullable) if signature is not None else None
    if framework == "torch" and signature is None:
        raise MLPError("a PyTorch model needs --signature (a sample input) to be exported")
    metadata = {
        "mlp_task": task or "",
        "mlp_metrics": _jsonable(dict(metrics or {})),
        "mlp_hyperparameters": hyperparameters(model),
        "mlp_schema": schema or {},
        "mlp_lineage": lineage(user, notebook),
        "mlp_preprocess": _describe_callable(preprocess) if preprocess is not None else "",
    }
    metadata = _no_none(_jsonable(metadata))
    custom = {PREPROCESS_KEY: preprocess} if preprocess is not None else None
    all_labels = {"mlp-user": user, "mlp-framework": framework, **(labels or {})}
    bentoml = _bentoml()
    with activate(user):
        if framework == "lightgbm":
            saved = bentoml.lightgbm.save_model(
                name, model, metadata=metadata, custom_objects=custom, labels=all_labels
            )
        elif framework == "sklearn":
            saved = bentoml.sklearn.save_model(
                name, model, metadata=metadata, custom_objects=custom, labels=all_labels
            )
        else:
            saved = _save_torch(name, model, signature, preprocess, metadata, custom, all_labels)
        if stats is not None:
            # The framework saved into a temporary directory and moved it: use the store's copy.
            stored = Path(_model_store(user).get(saved.tag).path)
            try:
                info = _attach_stats(stored, stats)
            except BaseException:
                _model_store(user).delete(saved.tag)
                raise
            meta_file = stored / "mlp_stats.json"
            meta_file.write_text(json.dumps(info))
    return show(str(saved.tag), user=user)


def _torch_input(sample: Any, preprocess: Any) -> Any:
    import numpy as np
    import torch

    frame = sample
    if preprocess is not None:
        frame = (
            preprocess.transform(frame) if hasattr(preprocess, "transform") else preprocess(frame)
        )
    arr = np.asarray(frame, dtype=np.float32)
    return torch.from_numpy(arr)


def _save_torch(
    name: str,
    module: Any,
    sample: Any,
    preprocess: Any,
    metadata: dict[str, Any],
    custom: dict[str, Any] | None,
    labels: dict[str, str],
) -> Any:
    """Export a module with ``torch.export`` (dynamic batch) into a new BentoML model."""
    import torch

    bentoml = _bentoml()
    x = _torch_input(sample, preprocess)
    batch = torch.export.Dim("batch", min=1, max=1_000_000)
    # Export a sample of 2+ rows so the batch dimension is not specialised to 1.
    if x.shape[0] < 2:
        x = torch.cat([x, x])
    try:
        exported = torch.export.export(module.eval(), (x,), dynamic_shapes=({0: batch},))
    except Exception as exc:
        raise MLPError(f"torch.export could not export the model: {exc}") from None
    context = bentoml.models.ModelContext(
        framework_name="torch", framework_versions={"torch": str(torch.__version__)}
    )
    with bentoml.models.create(
        name,
        module="mlp.torch_export",
        metadata=metadata,
        labels=labels,
        custom_objects=custom,
        context=context,
    ) as ref:
        torch.export.save(exported, ref.path_of(TORCH_FILE))
    return ref


# ------------------------------------------------------------------------ read


def _all_tags(user: str) -> list[str]:
    return [str(m.tag) for m in _model_store(user).list()]


def resolve(spec: str, user: str | None = None) -> Any:
    """The BentoML model ``spec`` (``name``, ``name:version`` or ``name:latest``).

    Raises
    ------
    NotFoundError
        If no such model exists in the namespace; the message lists close names.
    """
    user = user or current_user()
    store = _model_store(user)
    _bentoml()
    from bentoml.exceptions import BentoMLException, NotFound

    try:
        return store.get(spec)
    except (NotFound, BentoMLException, ValueError):
        tags = _all_tags(user)
        names = sorted({t.split(":")[0] for t in tags})
        close = difflib.get_close_matches(spec, tags + names, n=5, cutoff=0.5)
        name = spec.split(":")[0]
        close += [t for t in tags if t.startswith(name + ":") and t not in close][:5]
        hint = f"; close: {', '.join(close)}" if close else ""
        if not tags:
            hint = f"; {user} has no saved models yet (save one with %mlp model save)"
        raise NotFoundError(f"no model {spec!r} in {user}'s registry{hint}") from None


def _describe(model: Any, user: str, full: bool = True) -> dict[str, Any]:
    meta = dict(model.info.metadata or {})
    path = Path(model.path)
    stats_meta = path / "mlp_stats.json"
    out: dict[str, Any] = {
        "tag": str(model.tag),
        "name": model.tag.name,
        "version": model.tag.version,
        "user": user,
        "framework": (model.info.labels or {}).get("mlp-framework", model.info.module),
        "created": model.info.creation_time.isoformat(timespec="milliseconds"),
        "task": meta.get("mlp_task") or None,
        "metrics": meta.get("mlp_metrics") or {},
    }
    if not full:
        return out
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    out.update(
        {
            "hyperparameters": meta.get("mlp_hyperparameters") or {},
            "schema": meta.get("mlp_schema") or None,
            "lineage": meta.get("mlp_lineage") or {},
            "stats": json.loads(stats_meta.read_text()) if stats_meta.exists() else None,
            # From metadata: unpickling custom objects here would run user code.
            "preprocess": meta.get("mlp_preprocess") or None,
            "labels": dict(model.info.labels or {}),
            "module": model.info.module,
            "size_bytes": size,
            "path": str(path),
        }
    )
    return out


def show(spec: str, user: str | None = None) -> dict[str, Any]:
    """Everything MLP knows about one model version (see :func:`save`)."""
    user = user or current_user()
    return _describe(resolve(spec, user), user)


def list_models(
    name: str | None = None, user: str | None = None, all_users: bool = False
) -> list[dict[str, Any]]:
    """Model versions, newest first.

    Parameters
    ----------
    name
        Only versions of this model.
    user
        Namespace (default: the current user).
    all_users
        Every namespace (what an admin sees).
    """
    users = namespaces() if all_users else [user or current_user()]
    out = []
    for u in users:
        home = user_home(u)
        if not (home / "models").is_dir():
            continue
        models = _model_store(u).list()
        out += [_describe(m, u, full=False) for m in models if name in (None, m.tag.name)]
    out.sort(key=lambda m: m["created"], reverse=True)
    return out


def compare(a: str, b: str, user: str | None = None) -> dict[str, Any]:
    """Two model versions side by side: metrics (with b - a) and differing hyperparameters."""
    ma, mb = show(a, user), show(b, user)
    names = list(dict.fromkeys([*ma["metrics"], *mb["metrics"]]))
    rows = []
    for n in names:
        va, vb = ma["metrics"].get(n), mb["metrics"].get(n)
        diff = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        rows.append({"metric": n, "a": va, "b": vb, "diff": diff})
    ha, hb = ma["hyperparameters"], mb["hyperparameters"]
    params = [
        {"name": k, "a": ha.get(k), "b": hb.get(k)}
        for k in sorted(set(ha) | set(hb))
        if ha.get(k) != hb.get(k)
    ]
    return {"a": ma["tag"], "b": mb["tag"], "metrics": rows, "hyperparameters": params}


def delete(spec: str, user: str | None = None) -> str:
    """Delete one model version and the bentos built for it; returns its tag.

    Raises
    ------
    NotFoundError
        If the model does not exist (close names listed).
    """
    user = user or current_user()
    model = resolve(spec, user)
    tag = str(model.tag)
    _model_store(user).delete(tag)
    # A bento refers to its model in the store, so bentos built for it go with it.
    from bentoml._internal.bento import BentoStore

    bentos_dir = user_home(user) / "bentos"
    if bentos_dir.is_dir():
        bentos = BentoStore(str(bentos_dir))
        for bento in bentos.list():
            if (bento.info.labels or {}).get("mlp-model") == tag:
                bentos.delete(bento.tag)
    shutil.rmtree(user_home(user) / "serving" / f"{model.tag.name}-{model.tag.version}", True)
    return tag


def load_stats_file(spec: str, user: str | None = None) -> Path | None:
    """Path of the training-data stats file attached to a model, or None."""
    info = show(spec, user)
    if not info["stats"]:
        return None
    return Path(info["path"]) / info["stats"]["file"]
