"""SQL tables of pipelines: runs (notebook, pipeline and node runs) and schedules.

They live in the MLP service database beside :mod:`mlp.service.db`'s tables and
are created by the Alembic migration ``0002_pipelines``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mlp.service.db import Base, utcnow

#: Every status a run can have; the last five are final.
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "timed_out", "skipped")
FINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out", "skipped"})


def new_id() -> str:
    """A short random id for runs and schedules."""
    return uuid.uuid4().hex[:12]


def aware(value: datetime | None) -> datetime | None:
    """Attach UTC to naive datetimes read back from SQLite."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def iso(value: datetime | None) -> str | None:
    """ISO text of a stored time (UTC)."""
    value = aware(value)
    return value.isoformat() if value else None


class Schedule(Base):
    """A notebook or pipeline that fires on a cron expression or an interval."""

    __tablename__ = "mlp_schedules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(Text)  # notebook or pipeline.yaml, relative to the root
    cron: Mapped[str | None] = mapped_column(String(255), nullable=True)
    interval_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kernel: Mapped[str | None] = mapped_column(String(255), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    missed_policy: Mapped[str] = mapped_column(String(32), default="skip")
    max_concurrent: Mapped[int] = mapped_column(Integer, default=1)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    retry_backoff: Mapped[float] = mapped_column(Float, default=30.0)
    timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    notify_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    notify_on_success: Mapped[bool] = mapped_column(Boolean, default=False)
    next_fire: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "id": self.id,
            "owner": self.owner,
            "name": self.name,
            "target": self.target,
            "cron": self.cron,
            "interval_seconds": self.interval_seconds,
            "timezone": self.timezone,
            "parameters": self.parameters or {},
            "kernel": self.kernel,
            "paused": self.paused,
            "missed_policy": self.missed_policy,
            "max_concurrent": self.max_concurrent,
            "retries": self.retries,
            "retry_backoff": self.retry_backoff,
            "timeout": self.timeout,
            "notify_url": self.notify_url,
            "notify_on_success": self.notify_on_success,
            "next_fire": iso(self.next_fire),
            "created": iso(self.created),
        }


class Run(Base):
    """One execution: of a notebook, of a pipeline, or of one node of a pipeline run."""

    __tablename__ = "mlp_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_time", name="uq_run_schedule_fire"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="notebook")  # notebook|pipeline|node
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("mlp_runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    node: Mapped[str | None] = mapped_column(String(255), nullable=True)
    target: Mapped[str] = mapped_column(Text)  # notebook or pipeline path, relative to the root
    notebook_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kernel: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    run_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    cache_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    cache_parts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    schedule_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("mlp_schedules.id", ondelete="SET NULL"), nullable=True
    )
    fire_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    retry_backoff: Mapped[float] = mapped_column(Float, default=30.0)
    timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        started, finished = aware(self.started), aware(self.finished)
        duration = (finished - started).total_seconds() if started and finished else None
        return {
            "id": self.id,
            "owner": self.owner,
            "kind": self.kind,
            "parent_id": self.parent_id,
            "node": self.node,
            "target": self.target,
            "notebook_hash": self.notebook_hash,
            "parameters": self.parameters or {},
            "kernel": self.kernel,
            "status": self.status,
            "reason": self.reason,
            "error": self.error,
            "created": iso(self.created),
            "started": iso(self.started),
            "finished": iso(self.finished),
            "duration": duration,
            "output_path": self.output_path,
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "cache_key": self.cache_key,
            "outputs": self.outputs,
            "schedule_id": self.schedule_id,
            "fire_time": iso(self.fire_time),
            "attempt": self.attempt,
            "max_attempts": self.max_attempts,
        }
