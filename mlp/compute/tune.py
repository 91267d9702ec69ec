"""``%mlp tune``: an Optuna study whose trials run on the kernel's Dask cluster.

Trials are independent Dask tasks that share the study through Optuna's
journal-file storage in the job directory (one file, safe for several processes on
one machine), so Optuna's define-by-run search spaces and samplers work unchanged:
each task loads the study, runs one trial and writes it back. Without a cluster the
trials run one after another in the kernel. On a Kubernetes Dask cluster the workers
do not share the kernel's disk: pass an RDB storage URL reachable from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mlp.compute.jobs import JobStore, user_dir
from mlp.errors import MLPError

DIRECTIONS = ("minimize", "maximize")


def _storage(url_or_path: str) -> Any:
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if "://" in url_or_path:
        return url_or_path
    return optuna.storages.JournalStorage(JournalFileBackend(url_or_path))


def _one_trial(objective: Callable[[Any], float], study_name: str, storage: str, seed: int) -> int:
    """Dask task: run one trial of the shared study; returns its number."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=study_name,
        storage=_storage(storage),
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    trial = study.ask()
    try:
        value = objective(trial)
    except Exception:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    study.tell(trial, value)
    return int(trial.number)


def trials_table(study: Any) -> list[dict[str, Any]]:
    """Rows (number, state, value, params) of a study's trials."""
    return [
        {"number": t.number, "state": t.state.name, "value": t.value, "params": dict(t.params)}
        for t in study.get_trials(deepcopy=False)
    ]


def run_study(
    objective: Callable[[Any], float],
    trials: int,
    direction: str = "minimize",
    timeout: float | None = None,
    client: Any = None,
    on_update: Callable[[Any], None] | None = None,
    seed: int = 0,
    storage: str | None = None,
) -> Any:
    """Run an Optuna study of ``trials`` trials, in parallel on ``client`` when given.

    Parameters
    ----------
    objective
        ``objective(trial) -> float`` (define-by-run, as in Optuna).
    trials
        Number of trials (>= 1).
    direction
        ``"minimize"`` or ``"maximize"``.
    timeout
        Seconds after which unstarted trials are cancelled.
    client
        A ``distributed.Client``; ``None`` runs the trials in this process.
    on_update
        Called with the study after every finished trial (live tables).
    seed
        Base seed of the TPE sampler (trial ``i`` on Dask uses ``seed + i``).
    storage
        Optuna storage URL for remote workers; default: a journal file in the job dir.

    Returns
    -------
    optuna.Study
    """
    import optuna

    if trials < 1:
        raise MLPError(f"--trials must be >= 1, got {trials}")
    if direction not in DIRECTIONS:
        raise MLPError(f"--direction must be minimize or maximize, got {direction!r}")
    if timeout is not None and timeout <= 0:
        raise MLPError(f"--timeout must be > 0 seconds, got {timeout}")
    if not callable(objective):
        raise MLPError("the objective must be a function objective(trial) -> float")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = JobStore()
    name = getattr(objective, "__name__", "objective")
    rec = store.add(
        "tune", name, status="running", workers=None, detail={"trials": trials, "parallel": False}
    )
    job_dir = user_dir() / "jobs" / rec.id
    job_dir.mkdir(parents=True, mode=0o700)
    location = storage or str(job_dir / "study.journal")
    study = optuna.create_study(
        study_name=f"mlp-{rec.id}",
        storage=_storage(location),
        direction=optuna.study.StudyDirection[direction.upper()],
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    try:
        if client is None:
            study.optimize(
                objective,
                n_trials=trials,
                timeout=timeout,
                callbacks=[lambda s, _t: on_update(s)] if on_update else None,
            )
        else:
            store.update(rec.id, detail={"parallel": True})
            _run_on_dask(client, objective, study, location, trials, timeout, seed, on_update)
    except KeyboardInterrupt:
        store.update(rec.id, status="cancelled")
        raise
    except Exception as exc:
        store.update(rec.id, status="failed", detail={"error": f"{type(exc).__name__}: {exc}"})
        raise
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    best = {"value": study.best_value, "params": study.best_params} if done else None
    store.update(
        rec.id,
        status="succeeded" if done else "failed",
        detail={"best": best, "completed": len(done)},
    )
    return study


def _run_on_dask(
    client: Any,
    objective: Callable[[Any], float],
    study: Any,
    location: str,
    trials: int,
    timeout: float | None,
    seed: int,
    on_update: Callable[[Any], None] | None,
) -> None:
    from distributed import as_completed

    futures = [
        client.submit(_one_trial, objective, study.study_name, location, seed + i, pure=False)
        for i in range(trials)
    ]
    deadline = None if timeout is None else time.monotonic() + timeout
    pending = as_completed(futures)
    errors = []
    try:
        while not pending.is_empty():
            batch = pending.next_batch(block=False)
            if not batch:
                if deadline is not None and time.monotonic() > deadline:
                    break
                time.sleep(0.1)
                continue
            errors += [f.exception() for f in batch if f.status == "error"]
            if on_update:
                on_update(study)
    finally:
        for f in futures:
            if not f.done():
                f.cancel()
    if errors and len(errors) == trials:
        raise MLPError(f"every trial failed; the first: {type(errors[0]).__name__}: {errors[0]}")
