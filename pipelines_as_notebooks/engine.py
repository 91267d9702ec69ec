"""The pipelines domain API and the loop that fires schedules and runs notebooks.

One :class:`Engine` lives in the MLP service. Front ends (REST handlers, hence
the CLI, the magics and the lab panel) call its methods; :meth:`Engine.tick`
runs every half second and

1. fires due schedules: one run per (schedule, fire time), enforced by a unique
   constraint, so two service instances never create the same run twice;
2. recovers runs whose executor died (their lease expired): failed, or retried;
3. claims queued runs with a conditional UPDATE (a lease), so one instance
   starts each run, and starts them on the executor;
4. watches running runs: progress, lease heartbeat, timeout, outcome, retries,
   notifications, and the next nodes of pipeline runs.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from croniter import croniter
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mlp.errors import MLPError, NotFoundError
from mlp.service.db import utcnow
from pipelines_as_notebooks import cache
from pipelines_as_notebooks.executors import Executor, LocalExecutor, RunSpec
from pipelines_as_notebooks.paths import confine, relative, user_root
from pipelines_as_notebooks.spec import Pipeline, load_pipeline
from pipelines_as_notebooks.store import FINAL, Run, Schedule, aware, new_id

log = logging.getLogger("mlp.pipelines")

LEASE = timedelta(seconds=30)
RUNS_DIR = ".mlp/runs"
MISSED_POLICIES = ("skip", "catch_up_once")


class ScheduleError(MLPError):
    """A schedule definition is invalid."""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
        ) from None


def next_fire(schedule: Schedule, after: datetime) -> datetime:
    """The first fire time of ``schedule`` strictly after ``after`` (UTC)."""
    if schedule.interval_seconds:
        created = aware(schedule.created) or after
        periods = int((after - created).total_seconds() // schedule.interval_seconds) + 1
        return created + timedelta(seconds=periods * schedule.interval_seconds)
    zone = _zone(schedule.timezone or "UTC")
    it = croniter(schedule.cron, after.astimezone(zone))
    nxt: datetime = it.get_next(datetime)
    return nxt.astimezone(ZoneInfo("UTC"))


def validate_cron(expr: str) -> None:
    """Raise :class:`ScheduleError` for an invalid cron expression."""
    if not croniter.is_valid(expr):
        raise ScheduleError(f"invalid cron expression {expr!r}; e.g. '0 2 * * *' for 02:00 daily")


def check_kernel(kernel: str | None) -> None:
    """Raise if the named kernel spec is not installed."""
    if not kernel:
        return
    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        names = ", ".join(sorted(KernelSpecManager().find_kernel_specs()))
        raise MLPError(f"unknown kernel {kernel!r}; installed kernels: {names}") from None


def _insert_ignoring_duplicates(db: Session, rows: list[dict[str, Any]]) -> Any:
    """INSERT the run rows, skipping any (schedule, fire time) that already has a run."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return (
            pg_insert(Run)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["schedule_id", "fire_time"])
        )
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return (
            sqlite_insert(Run)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["schedule_id", "fire_time"])
        )
    raise MLPError(f"database {dialect!r} is not supported; use SQLite or PostgreSQL")


class Engine:
    """Runs, pipelines and schedules of every user, persisted in SQL.

    Parameters
    ----------
    sessions
        Session factory of the service database.
    executor
        Where notebooks execute (default: :class:`LocalExecutor`).
    max_running
        Notebook runs executing at once on this instance.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        executor: Executor | None = None,
        max_running: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.executor = executor or LocalExecutor()
        self.max_running = max_running or int(os.environ.get("MLP_MAX_RUNS", "2"))
        self.instance = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._last_progress: dict[str, float] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ runs

    def submit_notebook(
        self,
        owner: str,
        path: str,
        parameters: dict[str, Any] | None = None,
        kernel: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        schedule: Schedule | None = None,
        fire_time: datetime | None = None,
    ) -> dict[str, Any]:
        """Queue a run of one notebook of ``owner``; returns the run record."""
        root = user_root(owner)
        nb = confine(root, path)
        if nb.suffix != ".ipynb":
            raise MLPError(f"{path!r} is not a notebook (.ipynb)")
        check_kernel(kernel)
        run = Run(
            owner=owner,
            kind="notebook",
            target=relative(root, nb),
            notebook_hash=cache.file_hash(nb),
            parameters=parameters or {},
            kernel=kernel,
            timeout=timeout,
            max_attempts=1 + retries,
            schedule_id=schedule.id if schedule else None,
            fire_time=fire_time,
        )
        with self.sessions() as db, db.begin():
            db.add(run)
        return run.to_dict()

    def submit_pipeline(
        self,
        owner: str,
        path: str,
        parameters: dict[str, Any] | None = None,
        from_node: str | None = None,
        only_node: str | None = None,
        schedule: Schedule | None = None,
        fire_time: datetime | None = None,
    ) -> dict[str, Any]:
        """Validate a pipeline file and queue a pipeline run; returns the run record."""
        root = user_root(owner)
        file = confine(root, path)
        pipeline = load_pipeline(file, root)
        for node in (from_node, only_node):
            if node and node not in pipeline.nodes:
                raise NotFoundError(
                    f"no node {node!r} in {path}; nodes: {', '.join(pipeline.nodes)}"
                )
        run = Run(
            owner=owner,
            kind="pipeline",
            target=relative(root, file),
            notebook_hash=cache.file_hash(file),
            parameters=parameters or {},
            options={"from_node": from_node, "only_node": only_node},
            schedule_id=schedule.id if schedule else None,
            fire_time=fire_time,
        )
        with self.sessions() as db, db.begin():
            db.add(run)
        return run.to_dict()

    def get_run(self, user: str, admin: bool, run_id: str) -> dict[str, Any]:
        """One run with its nodes (pipeline runs)."""
        with self.sessions() as db:
            run = self._visible_run(db, user, admin, run_id)
            body = run.to_dict()
            if run.kind == "pipeline":
                nodes = db.scalars(select(Run).where(Run.parent_id == run.id).order_by(Run.created))
                body["nodes"] = [n.to_dict() for n in nodes]
                body["edges"] = (run.options or {}).get("edges", [])
            return body

    def list_runs(
        self, user: str, admin: bool, limit: int = 50, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Latest top-level runs (not nodes), newest first; admins see everyone's."""
        query = select(Run).where(Run.parent_id.is_(None))
        if not admin:
            query = query.where(Run.owner == user)
        if status:
            query = query.where(Run.status == status)
        with self.sessions() as db:
            runs = db.scalars(query.order_by(Run.created.desc()).limit(limit)).all()
            return [r.to_dict() for r in runs]

    def cancel(self, user: str, admin: bool, run_id: str) -> dict[str, Any]:
        """Cancel a queued or running run (and its nodes)."""
        with self._lock, self.sessions() as db, db.begin():
            run = self._visible_run(db, user, admin, run_id)
            if run.status in FINAL:
                raise MLPError(f"run {run_id} already {run.status}; nothing to cancel")
            targets = [run, *db.scalars(select(Run).where(Run.parent_id == run.id))]
            for item in targets:
                if item.status in FINAL:
                    continue
                if item.status == "running" and item.lease_owner == self.instance:
                    self.executor.cancel(item.id)
                item.status = "cancelled"
                item.error = item.error or f"cancelled by {user}"
                item.finished = utcnow()
            return run.to_dict()

    def read_log(self, user: str, admin: bool, run_id: str) -> str:
        """The run's log text (empty before it starts)."""
        with self.sessions() as db:
            run = self._visible_run(db, user, admin, run_id)
        if not run.run_dir:
            return ""
        path = Path(run.run_dir) / "log.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def _visible_run(self, db: Session, user: str, admin: bool, run_id: str) -> Run:
        run = db.get(Run, run_id)
        if run is None or (run.owner != user and not admin):
            raise NotFoundError(f"no run {run_id!r} visible to you")
        return run

    # ------------------------------------------------------------------ schedules

    def create_schedule(self, owner: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a schedule after validating its target, cron/interval and time zone."""
        target = body["target"]
        root = user_root(owner)
        file = confine(root, target)
        if file.suffix in (".yaml", ".yml"):
            load_pipeline(file, root)
        elif file.suffix != ".ipynb":
            raise MLPError(f"{target!r} is neither a notebook nor a pipeline.yaml")
        cron, interval = body.get("cron"), body.get("interval_seconds")
        if bool(cron) == bool(interval):
            raise ScheduleError("give exactly one of cron or interval_seconds")
        if cron:
            validate_cron(cron)
        _zone(body.get("timezone") or "UTC")
        if body.get("missed_policy", "skip") not in MISSED_POLICIES:
            raise ScheduleError(f"missed_policy must be one of {', '.join(MISSED_POLICIES)}")
        check_kernel(body.get("kernel"))
        schedule = Schedule(
            owner=owner,
            name=body.get("name") or Path(target).stem,
            target=relative(root, file),
            cron=cron,
            interval_seconds=interval,
            timezone=body.get("timezone") or "UTC",
            parameters=body.get("parameters") or {},
            kernel=body.get("kernel"),
            paused=bool(body.get("paused", False)),
            missed_policy=body.get("missed_policy", "skip"),
            max_concurrent=int(body.get("max_concurrent", 1)),
            retries=int(body.get("retries", 0)),
            retry_backoff=float(body.get("retry_backoff", 30.0)),
            timeout=body.get("timeout"),
            notify_url=body.get("notify_url"),
            notify_on_success=bool(body.get("notify_on_success", False)),
            created=utcnow(),
        )
        schedule.next_fire = next_fire(schedule, utcnow())
        with self.sessions() as db, db.begin():
            db.add(schedule)
        return schedule.to_dict()

    def list_schedules(self, user: str, admin: bool) -> list[dict[str, Any]]:
        """Schedules of ``user`` (all for admins)."""
        query = select(Schedule).order_by(Schedule.created)
        if not admin:
            query = query.where(Schedule.owner == user)
        with self.sessions() as db:
            return [s.to_dict() for s in db.scalars(query)]

    def _visible_schedule(self, db: Session, user: str, admin: bool, sid: str) -> Schedule:
        schedule = db.get(Schedule, sid)
        if schedule is None or (schedule.owner != user and not admin):
            raise NotFoundError(f"no schedule {sid!r} visible to you")
        return schedule

    def update_schedule(
        self, user: str, admin: bool, sid: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Pause/resume or change a schedule's timing and options."""
        with self.sessions() as db, db.begin():
            schedule = self._visible_schedule(db, user, admin, sid)
            for key in ("paused", "parameters", "max_concurrent", "retries", "retry_backoff",
                        "timeout", "notify_url", "notify_on_success", "missed_policy"):  # fmt: skip
                if key in changes:
                    setattr(schedule, key, changes[key])
            if schedule.missed_policy not in MISSED_POLICIES:
                raise ScheduleError(f"missed_policy must be one of {', '.join(MISSED_POLICIES)}")
            if "cron" in changes:
                validate_cron(changes["cron"])
                schedule.cron, schedule.interval_seconds = changes["cron"], None
            if "timezone" in changes:
                _zone(changes["timezone"])
                schedule.timezone = changes["timezone"]
            if changes.get("paused") is False or {"cron", "timezone"} & set(changes):
                schedule.next_fire = next_fire(schedule, utcnow())
            return schedule.to_dict()

    def delete_schedule(self, user: str, admin: bool, sid: str) -> None:
        """Delete a schedule (its past runs stay)."""
        with self.sessions() as db, db.begin():
            db.delete(self._visible_schedule(db, user, admin, sid))

    def run_schedule_now(self, user: str, admin: bool, sid: str) -> dict[str, Any]:
        """Queue a run of the schedule's target now (not counted as a fire time)."""
        with self.sessions() as db:
            schedule = self._visible_schedule(db, user, admin, sid)
        return self._submit_for(schedule, None)

    def _submit_for(self, schedule: Schedule, fire_time: datetime | None) -> dict[str, Any]:
        if schedule.target.endswith((".yaml", ".yml")):
            return self.submit_pipeline(
                schedule.owner, schedule.target, schedule.parameters, schedule=schedule,
                fire_time=fire_time,
            )  # fmt: skip
        return self.submit_notebook(
            schedule.owner, schedule.target, schedule.parameters, schedule.kernel,
            schedule.timeout, schedule.retries, schedule=schedule, fire_time=fire_time,
        )  # fmt: skip

    # ------------------------------------------------------------------ the loop

    def tick(self, now: datetime | None = None) -> None:
        """One pass of the loop (see the module docstring)."""
        now = now or utcnow()
        with self._lock:
            self.fire_schedules(now)
            self.recover(now)
            self.monitor(now)
            self.dispatch(now)

    def fire_schedules(self, now: datetime) -> int:
        """Create the runs of every due schedule; returns how many this call created.

        All due fires are inserted in one statement that ignores a (schedule, fire
        time) that already has a run, so a thousand schedules firing in the same
        second cost one transaction, and concurrent instances cannot duplicate runs.
        """
        with self.sessions() as db:
            due = db.scalars(
                select(Schedule).where(Schedule.paused.is_(False), Schedule.next_fire <= now)
            ).all()
        if not due:
            return 0
        rows: list[dict[str, Any]] = []
        moves: list[tuple[str, datetime | None, datetime]] = []
        hashes: dict[Path, str] = {}
        for schedule in due:
            fire = aware(schedule.next_fire)
            assert fire is not None
            upcoming = next_fire(schedule, fire)
            fires = [fire]
            if upcoming <= now:  # the service was down over several fire times
                latest = fire
                while upcoming <= now:
                    latest, upcoming = upcoming, next_fire(schedule, upcoming)
                fires = [latest] if schedule.missed_policy == "catch_up_once" else []
                if not fires:
                    log.info("schedule %s: skipped missed fire times up to %s", schedule.id, latest)
            rows += [self._fire_row(schedule, when, hashes) for when in fires]
            moves.append((schedule.id, schedule.next_fire, upcoming))
        ids = [row["id"] for row in rows]
        with self.sessions() as db, db.begin():
            for i in range(0, len(rows), 500):  # SQLite caps the variables per statement
                db.execute(_insert_ignoring_duplicates(db, rows[i : i + 500]))
            for sid, old, new in moves:
                db.execute(
                    update(Schedule)
                    .where(Schedule.id == sid, Schedule.next_fire == old)
                    .values(next_fire=new)
                )
        with self.sessions() as db:
            created = db.scalars(select(Run).where(Run.id.in_(ids))).all() if ids else []
        by_schedule = {s.id: s for s in due}
        for run in created:
            if run.status == "failed" and run.schedule_id in by_schedule:
                self._notify(run.to_dict(), by_schedule[run.schedule_id])
        return len(created)

    def _fire_row(
        self, schedule: Schedule, when: datetime, hashes: dict[Path, str]
    ) -> dict[str, Any]:
        """The run row of one fire; a target that vanished gives a failed run, not a crash."""
        row: dict[str, Any] = {
            "id": new_id(), "owner": schedule.owner, "target": schedule.target,
            "parameters": schedule.parameters or {}, "kernel": schedule.kernel,
            "schedule_id": schedule.id, "fire_time": when, "created": utcnow(),
            "status": "queued", "attempt": 1, "max_attempts": 1 + (schedule.retries or 0),
            "retry_backoff": schedule.retry_backoff, "timeout": schedule.timeout,
            "progress_done": 0, "progress_total": 0, "options": {},
        }  # fmt: skip
        is_pipeline = schedule.target.endswith((".yaml", ".yml"))
        row["kind"] = "pipeline" if is_pipeline else "notebook"
        if is_pipeline:
            row["options"] = {"from_node": None, "only_node": None}
        try:
            path = confine(user_root(schedule.owner), schedule.target)
            if path not in hashes:
                hashes[path] = cache.file_hash(path)
            row["notebook_hash"] = hashes[path]
        except MLPError as exc:
            row.update(status="failed", error=str(exc), finished=utcnow())
        return row

    def recover(self, now: datetime) -> None:
        """Runs left running by a dead executor (expired lease): failed, or retried."""
        with self.sessions() as db, db.begin():
            lost = db.scalars(
                select(Run).where(
                    Run.status == "running",
                    Run.kind != "pipeline",
                    or_(Run.lease_expires < now, Run.lease_expires.is_(None)),
                    or_(Run.lease_owner != self.instance, Run.lease_owner.is_(None)),
                )
            ).all()
            for run in lost:
                log.warning("run %s lost its executor (%s); recovering", run.id, run.lease_owner)
                self._finish(db, run, "failed", "the executor running it stopped (service restart)")

    def dispatch(self, now: datetime) -> None:
        """Claim and start queued runs up to the concurrency limits."""
        with self.sessions() as db:
            queued = db.scalars(
                select(Run)
                .where(
                    Run.status == "queued",
                    or_(Run.not_before.is_(None), Run.not_before <= now),
                )
                .order_by(Run.created)
            ).all()
        for run in queued:
            if run.kind == "pipeline":
                self._start_pipeline(run, now)
            elif run.kind == "node":
                self._advance_node(run, now)
            else:
                self._start_notebook(run, now)

    def _slots(self) -> int:
        return self.max_running - len(self.executor.running())

    def _claim(self, run: Run, now: datetime) -> bool:
        """Atomically take a queued run (the lease): True if this instance got it."""
        with self.sessions() as db, db.begin():
            result: Any = db.execute(
                update(Run)
                .where(Run.id == run.id, Run.status == "queued")
                .values(
                    status="running",
                    started=now,
                    lease_owner=self.instance,
                    lease_expires=now + LEASE,
                )
            )
            return bool(result.rowcount == 1)

    def _schedule_busy(self, run: Run) -> bool:
        if not run.schedule_id:
            return False
        with self.sessions() as db:
            schedule = db.get(Schedule, run.schedule_id)
            if schedule is None:
                return False
            active = db.scalar(
                select(func.count()).where(
                    Run.schedule_id == run.schedule_id, Run.status == "running"
                )
            )
        return bool((active or 0) >= schedule.max_concurrent)

    def _run_paths(self, run: Run, notebook: Path) -> tuple[Path, Path]:
        root = user_root(run.owner)
        run_dir = root / RUNS_DIR / run.id
        output = run_dir / f"{notebook.stem}.output.ipynb"
        return run_dir, output

    def _start_notebook(self, run: Run, now: datetime) -> None:
        if self._slots() <= 0 or self._schedule_busy(run) or not self._claim(run, now):
            return
        root = user_root(run.owner)
        try:
            notebook = confine(root, run.target)
        except MLPError as exc:
            with self.sessions() as db, db.begin():
                self._finish(db, db.get(Run, run.id), "failed", str(exc))
            return
        run_dir, output = self._run_paths(run, notebook)
        spec = RunSpec(
            run_id=run.id, owner=run.owner, notebook=notebook, output=output, run_dir=run_dir,
            cwd=notebook.parent, parameters=run.parameters or {}, kernel=run.kernel,
            profile=(run.options or {}).get("profile"), timeout=run.timeout,
        )  # fmt: skip
        try:
            pid = self.executor.start(spec)
        except Exception as exc:  # the executor could not start it: a failed run, not a crash
            log.exception("cannot start run %s", run.id)
            with self.sessions() as db, db.begin():
                self._finish(db, db.get(Run, run.id), "failed", f"cannot start: {exc}")
            return
        with self.sessions() as db, db.begin():
            db.execute(
                update(Run)
                .where(Run.id == run.id)
                .values(run_dir=str(run_dir), output_path=relative(root, output), pid=pid)
            )

    # pipelines -----------------------------------------------------------

    def _start_pipeline(self, run: Run, now: datetime) -> None:
        """Expand a queued pipeline run into node runs (once, under the lease)."""
        if self._schedule_busy(run) or not self._claim(run, now):
            return
        root = user_root(run.owner)
        with self.sessions() as db, db.begin():
            prun = db.get(Run, run.id)
            assert prun is not None
            try:
                file = confine(root, prun.target)
                pipeline = load_pipeline(file, root)
            except MLPError as exc:
                self._finish(db, prun, "failed", str(exc))
                return
            opts = dict(prun.options or {})
            selected = set(pipeline.nodes)
            if opts.get("only_node"):
                selected = {opts["only_node"]}
            elif opts.get("from_node"):
                selected = pipeline.downstream(opts["from_node"])
            opts["edges"] = [[need, n] for n, node in pipeline.nodes.items() for need in node.needs]
            opts["concurrency"] = pipeline.concurrency
            prun.options = opts
            prun.run_dir = str(root / RUNS_DIR / prun.id)
            for name in pipeline.order():
                node = pipeline.nodes[name]
                child = Run(
                    owner=prun.owner, kind="node", parent_id=prun.id, node=name,
                    target=relative(root, (file.parent / node.notebook).resolve()),
                    parameters={**node.parameters, **(prun.parameters or {})},
                    kernel=node.kernel, timeout=node.timeout, max_attempts=1 + node.retries,
                    options={
                        "needs": node.needs, "inputs": node.inputs, "profile": node.profile,
                        "selected": name in selected, "pipeline": prun.target,
                        "forced": bool(opts.get("from_node") or opts.get("only_node")),
                    },
                )  # fmt: skip
                db.add(child)

    def _advance_node(self, node_run: Run, now: datetime) -> None:
        """Start, skip or cancel a queued node once its upstream nodes are final."""
        with self.sessions() as db:
            parent = db.get(Run, node_run.parent_id)
            if parent is None or parent.status != "running":
                return
            siblings = {
                r.node: r for r in db.scalars(select(Run).where(Run.parent_id == parent.id))
            }
        opts = node_run.options or {}
        needs = [siblings[n] for n in opts.get("needs", [])]
        if any(n.status not in FINAL for n in needs):
            return
        bad = [n for n in needs if n.status not in ("succeeded", "skipped")]
        if bad:
            with self.sessions() as db, db.begin():
                self._finish(
                    db, db.get(Run, node_run.id), "cancelled",
                    f"upstream {bad[0].node} {bad[0].status}",
                )  # fmt: skip
            return
        running = sum(1 for r in siblings.values() if r.status == "running")
        if running >= int((parent.options or {}).get("concurrency", 2)):
            return
        root = user_root(node_run.owner)
        try:
            notebook = confine(root, node_run.target)
            inputs = {p: confine(root, str(notebook.parent / p), must_exist=False)
                      for p in opts.get("inputs", [])}  # fmt: skip
        except MLPError as exc:
            with self.sessions() as db, db.begin():
                self._finish(db, db.get(Run, node_run.id), "failed", str(exc))
            return
        upstream = {n.node: n.cache_key or "" for n in needs if n.node}
        parts = cache.key_parts(
            notebook, node_run.parameters or {}, upstream, inputs, node_run.kernel
        )
        key = cache.cache_key(parts)
        reran = {n.node for n in needs if n.status == "succeeded" and n.node}
        with self.sessions() as db:
            previous = db.scalars(
                select(Run)
                .where(
                    Run.owner == node_run.owner, Run.kind == "node", Run.node == node_run.node,
                    Run.status == "succeeded",
                    Run.options["pipeline"].as_string() == opts.get("pipeline"),
                )
                .order_by(Run.finished.desc())
                .limit(1)
            ).first()  # fmt: skip
            hit = db.scalars(
                select(Run)
                .where(
                    Run.owner == node_run.owner, Run.kind == "node", Run.cache_key == key,
                    Run.status == "succeeded",
                )
                .order_by(Run.finished.desc())
                .limit(1)
            ).first()  # fmt: skip
        selected = bool(opts.get("selected", True))
        forced = bool(opts.get("forced", False))
        reuse, why = None, ""
        if not selected:
            reuse, why = previous or hit, "not selected: reuses run {}"
            if reuse is None:
                with self.sessions() as db, db.begin():
                    self._finish(
                        db, db.get(Run, node_run.id), "failed",
                        "not selected and never ran: run the whole pipeline first",
                    )  # fmt: skip
                return
        elif hit is not None and not forced:
            reuse, why = hit, "unchanged: reuses run {}"
        if reuse is not None:
            with self.sessions() as db, db.begin():
                item = db.get(Run, node_run.id)
                assert item is not None
                item.cache_key, item.cache_parts = reuse.cache_key, reuse.cache_parts
                item.outputs, item.run_dir = reuse.outputs, reuse.run_dir
                item.output_path, item.started = reuse.output_path, now
                item.reason = why.format(reuse.id)
                self._finish(db, item, "skipped", None)
            return
        upstream_param = {
            n.node: {"outputs": n.outputs or {}, "run_dir": n.run_dir} for n in needs if n.node
        }
        params = dict(node_run.parameters or {})
        if upstream_param:
            params["upstream"] = upstream_param
        with self.sessions() as db, db.begin():
            item = db.get(Run, node_run.id)
            assert item is not None
            item.cache_key, item.cache_parts = key, parts
            item.reason = cache.reason(parts, previous.cache_parts if previous else None, reran)
            item.parameters = params
            item.notebook_hash = cache.file_hash(notebook)
        node_run.parameters = params
        self._start_notebook(node_run, now)

    def _maybe_finish_pipeline(self, db: Session, parent_id: str | None) -> None:
        if not parent_id:
            return
        parent = db.get(Run, parent_id)
        if parent is None or parent.status in FINAL:
            return
        nodes = db.scalars(select(Run).where(Run.parent_id == parent_id, Run.kind == "node")).all()
        if any(n.status not in FINAL for n in nodes):
            return
        statuses = {n.status for n in nodes}
        if statuses & {"failed", "timed_out"}:
            failed = next(n for n in nodes if n.status in ("failed", "timed_out"))
            self._finish(
                db, parent, "failed", f"node {failed.node} {failed.status}: {failed.error}"
            )
        elif "cancelled" in statuses:
            self._finish(db, parent, "cancelled", "a node was cancelled")
        else:
            ran = sum(1 for n in nodes if n.status == "succeeded")
            parent.reason = f"{ran} node(s) ran, {len(nodes) - ran} skipped"
            self._finish(db, parent, "succeeded", None)

    # watching ------------------------------------------------------------

    def monitor(self, now: datetime) -> None:
        """Heartbeat, progress, timeouts and outcomes of this instance's runs."""
        mine = self.executor.running()
        if not mine:
            return
        with self.sessions() as db, db.begin():
            db.execute(
                update(Run)
                .where(and_(Run.id.in_(mine), Run.lease_owner == self.instance))
                .values(lease_expires=now + LEASE)
            )
        for run_id in mine:
            with self.sessions() as db:
                run = db.get(Run, run_id)
            if run is None or run.status != "running":
                self.executor.cancel(run_id)  # cancelled meanwhile (maybe by another instance)
                continue
            started = aware(run.started) or now
            if run.timeout and (now - started).total_seconds() > run.timeout:
                self.executor.cancel(run_id)
                with self.sessions() as db, db.begin():
                    item = db.get(Run, run_id)
                    assert item is not None
                    self._finish(db, item, "timed_out", f"timed out after {run.timeout:g} s")
                continue
            outcome = self.executor.poll(run_id)
            if outcome is None:
                self._progress(run, now)
                continue
            with self.sessions() as db, db.begin():
                item = db.get(Run, run_id)
                assert item is not None
                self._progress(item, now, force=True)
                item.outputs = self._read_outputs(item)
                self._finish(db, item, outcome.status, outcome.error)

    def _progress(self, run: Run, now: datetime, force: bool = False) -> None:
        """Cell i of n, read from the output notebook papermill saves after each cell."""
        last = self._last_progress.get(run.id, 0.0)
        if not force and now.timestamp() - last < 1.0:
            return
        self._last_progress[run.id] = now.timestamp()
        if not run.run_dir or not run.output_path:
            return
        path = user_root(run.owner) / run.output_path
        try:
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
        done = sum(
            1
            for c in cells
            if c.get("metadata", {}).get("papermill", {}).get("status") == "completed"
        )
        with self.sessions() as db, db.begin():
            db.execute(
                update(Run)
                .where(Run.id == run.id)
                .values(progress_done=done, progress_total=len(cells))
            )
        run.progress_done, run.progress_total = done, len(cells)

    def _read_outputs(self, run: Run) -> dict[str, Any] | None:
        if not run.run_dir:
            return None
        path = Path(run.run_dir) / "outputs.json"
        try:
            return dict(json.loads(path.read_text())) if path.exists() else None
        except ValueError:
            return None

    def _finish(self, db: Session, run: Run | None, status: str, error: str | None) -> None:
        """Set a final status; queue a retry (with backoff) and notify as configured."""
        if run is None:
            return
        run.status = status
        run.error = error
        run.finished = utcnow()
        run.lease_owner = None
        self._last_progress.pop(run.id, None)
        if (
            status in ("failed", "timed_out")
            and run.attempt < run.max_attempts
            and run.kind != "pipeline"
        ):
            delay = run.retry_backoff * (2 ** (run.attempt - 1))
            retry = Run(
                owner=run.owner, kind=run.kind, parent_id=run.parent_id, node=run.node,
                target=run.target, notebook_hash=run.notebook_hash, parameters=run.parameters,
                kernel=run.kernel, timeout=run.timeout, attempt=run.attempt + 1,
                max_attempts=run.max_attempts, retry_backoff=run.retry_backoff,
                options=run.options, not_before=utcnow() + timedelta(seconds=delay),
                reason=f"retry {run.attempt + 1}/{run.max_attempts} of run {run.id}",
            )  # fmt: skip
            if run.kind == "node":
                # The retry takes the node's place; the failed attempt stays on record.
                run.kind = "attempt"
            db.add(retry)
            db.flush()
            return
        db.flush()
        if run.kind == "node":
            self._maybe_finish_pipeline(db, run.parent_id)
        if run.parent_id is None and run.schedule_id:
            schedule = db.get(Schedule, run.schedule_id)
            if schedule is not None:
                self._notify(run.to_dict(), schedule)

    def _notify(self, run: dict[str, Any], schedule: Schedule) -> None:
        """POST the run to the schedule's webhook on failure (and success if asked)."""
        if not schedule.notify_url:
            return
        if run["status"] == "succeeded" and not schedule.notify_on_success:
            return
        body = {"schedule": schedule.to_dict(), "run": run}

        def send() -> None:
            try:
                requests.post(schedule.notify_url or "", json=body, timeout=10)
            except requests.RequestException as exc:
                log.warning("notification to %s failed: %s", schedule.notify_url, exc)

        threading.Thread(target=send, daemon=True).start()

    def shutdown(self) -> None:
        """Stop every run this instance executes (they are recovered on restart)."""
        for run_id in self.executor.running():
            self.executor.cancel(run_id)
        self.executor.close()


def validate_pipeline(owner: str, path: str) -> Pipeline:
    """Validate ``path`` (in ``owner``'s root); raises with file and line."""
    root = user_root(owner)
    return load_pipeline(confine(root, path), root)
