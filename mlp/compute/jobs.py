"""Job records and the local launcher behind ``%mlp jobs``, ``%%mlp lightning`` and ``%mlp dask``.

Records persist per user in SQLite (``$MLP_USER_DIR/jobs.sqlite``, default
``~/.mlp/jobs.sqlite``), so every kernel of the user lists the same jobs. They are
not in the MLP service database: a job lives and dies with a kernel, not with the
platform.

Local jobs run in their own process group (``start_new_session``) so a cancel
reaches every rank, and get ``SIGTERM`` when the kernel that launched them dies.
"""

from __future__ import annotations

import builtins
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Float, Integer, String, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from mlp.errors import MLPError, NotFoundError
from mlp.process import die_with_parent

ACTIVE = ("starting", "running")
FINISHED = ("succeeded", "failed", "cancelled", "stopped")
#: File a job writes into its directory when it ends: {"status": ..., ...}.
OUTCOME_FILE = "outcome.json"


def user_dir() -> Path:
    """Per-user MLP state (``MLP_USER_DIR``, default ``~/.mlp``), created 0700."""
    path = Path(os.environ.get("MLP_USER_DIR") or Path.home() / ".mlp").expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


class _Base(DeclarativeBase):
    pass


class JobRecord(_Base):
    """One cluster or job of this user."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # dask | lightning | tune
    name: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(32), default="local")
    status: Mapped[str] = mapped_column(String(32), default="starting")
    started: Mapped[float] = mapped_column(Float)
    ended: Mapped[float | None] = mapped_column(Float, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pid_created: Mapped[float | None] = mapped_column(Float, nullable=True)
    pgid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kernel_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kernel_created: Mapped[float | None] = mapped_column(Float, nullable=True)
    workers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    dashboard: Mapped[str | None] = mapped_column(String(500), nullable=True)
    job_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    log_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (what the lab panel and ``%mlp jobs`` show)."""
        end = self.ended or time.time()
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "backend": self.backend,
            "status": self.status,
            "started": self.started,
            "ended": self.ended,
            "duration_s": round(end - self.started, 1),
            "workers": self.workers,
            "dashboard": self.dashboard,
            "log_path": self.log_path,
            "detail": json.loads(self.detail or "{}"),
        }


def _alive(pid: int | None, created: float | None) -> bool:
    """Whether ``pid`` is still the process we recorded (not a zombie, not a reused pid)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if created is not None and abs(proc.create_time() - created) > 0.01:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _created(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def kill_group(pgid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group ``pgid``, SIGKILL what is left after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return


@dataclass
class LocalProcess:
    """A launched job process held by this kernel (so it can be reaped)."""

    popen: subprocess.Popen[bytes]
    job_id: str


class JobStore:
    """The user's job records in SQLite.

    Parameters
    ----------
    path
        Database file; default ``user_dir() / "jobs.sqlite"``.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_dir() / "jobs.sqlite"
        self.engine: Engine = create_engine(
            f"sqlite:///{self.path}", connect_args={"timeout": 30}, future=True
        )
        _Base.metadata.create_all(self.engine)
        os.chmod(self.path, 0o600)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def add(self, kind: str, name: str, backend: str = "local", **fields: Any) -> JobRecord:
        """Create a record (status ``starting`` unless given) and return it."""
        me = os.getpid()
        fields.setdefault("kernel_pid", me)
        fields.setdefault("kernel_created", _created(me))
        if "detail" in fields and not isinstance(fields["detail"], str):
            fields["detail"] = json.dumps(fields["detail"])
        rec = JobRecord(
            id=secrets.token_hex(4),
            kind=kind,
            name=name,
            backend=backend,
            status=fields.pop("status", "starting"),
            started=time.time(),
            **fields,
        )
        with self.session() as s:
            s.add(rec)
        return rec

    def update(self, job_id: str, **fields: Any) -> JobRecord:
        """Set fields of one record; ``detail`` dicts are merged into the stored one."""
        with self.session() as s:
            rec = s.get(JobRecord, job_id)
            if rec is None:
                raise NotFoundError(f"no job {job_id!r}; %mlp jobs lists yours")
            if "detail" in fields:
                merged = {**json.loads(rec.detail or "{}"), **fields.pop("detail")}
                rec.detail = json.dumps(merged, default=str)
            if fields.get("status") in FINISHED and rec.ended is None:
                rec.ended = time.time()
            for key, value in fields.items():
                setattr(rec, key, value)
        return rec

    def get(self, job_id: str) -> JobRecord:
        """One record, refreshed.

        Raises
        ------
        NotFoundError
            If the id is unknown.
        """
        self.refresh()
        with self.session() as s:
            rec = s.get(JobRecord, job_id)
        if rec is None:
            raise NotFoundError(f"no job {job_id!r}; %mlp jobs lists yours")
        return rec

    def list(self, kinds: Sequence[str] | None = None, limit: int = 50) -> builtins.list[JobRecord]:
        """Newest records first, after :meth:`refresh`."""
        self.refresh()
        query = select(JobRecord).order_by(JobRecord.started.desc()).limit(limit)
        if kinds:
            query = query.where(JobRecord.kind.in_(list(kinds)))
        with self.session() as s:
            return list(s.scalars(query))

    def refresh(self) -> None:
        """Settle records whose process is gone: read the job's outcome file, or mark it ended.

        A cluster ends with the kernel that owns it; a job with its own process.
        """
        with self.session() as s:
            for rec in s.scalars(select(JobRecord).where(JobRecord.status.in_(ACTIVE))):
                if rec.pid is not None:
                    if _alive(rec.pid, rec.pid_created):
                        continue
                    outcome = read_outcome(rec)
                    rec.status = outcome.get("status", "failed")
                    if "status" not in outcome:
                        outcome = {"error": "the job ended without reporting an outcome"}
                    rec.detail = json.dumps({**json.loads(rec.detail or "{}"), **outcome})
                elif _alive(rec.kernel_pid, rec.kernel_created):
                    continue
                else:
                    rec.status = "stopped"
                rec.ended = rec.ended or time.time()

    def launch(
        self,
        kind: str,
        name: str,
        argv: builtins.list[str],
        job_dir: Path,
        env: dict[str, str] | None = None,
        detail: dict[str, Any] | None = None,
        record: JobRecord | None = None,
    ) -> LocalProcess:
        """Start ``argv`` in ``job_dir`` as a local job: own process group, dies with us.

        Output goes to ``job_dir/job.log``. Launch from the kernel's main thread:
        the death signal is tied to the launching thread.
        """
        rec = record or self.add(kind, name, job_dir=str(job_dir), detail=detail or {})
        log_path = job_dir / "job.log"
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                argv,
                cwd=job_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.update(
            rec.id,
            status="running",
            pid=popen.pid,
            pid_created=_created(popen.pid),
            pgid=popen.pid,
            job_dir=str(job_dir),
            log_path=str(log_path),
        )
        return LocalProcess(popen, rec.id)

    def cancel(self, job_id: str) -> JobRecord:
        """Stop a running job: kill its whole process group (every rank).

        Raises
        ------
        NotFoundError
            Unknown id.
        MLPError
            The job already finished, or is a cluster (use ``%mlp dask down``).
        """
        rec = self.get(job_id)
        if rec.status not in ACTIVE:
            raise MLPError(f"job {job_id} already finished ({rec.status}); nothing to cancel")
        if rec.kind == "dask":
            from mlp.compute.dask_cluster import stop_remote

            stop_remote(rec)
            return self.update(job_id, status="stopped")
        if rec.pgid is None:
            raise MLPError(f"job {job_id} has no local process to cancel")
        self.update(job_id, status="cancelled", detail={"error": "cancelled by the user"})
        kill_group(rec.pgid)
        return self.get(job_id)

    def logs(self, job_id: str, tail: int | None = None) -> str:
        """The job's log text (the last ``tail`` lines when given)."""
        rec = self.get(job_id)
        if not rec.log_path or not Path(rec.log_path).exists():
            return ""
        text = Path(rec.log_path).read_text(errors="replace")
        if tail is not None:
            text = "\n".join(text.splitlines()[-tail:])
        return text


def read_outcome(rec: JobRecord) -> dict[str, Any]:
    """The outcome file a job wrote into its directory, or ``{}``."""
    if not rec.job_dir:
        return {}
    path = Path(rec.job_dir) / OUTCOME_FILE
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}
