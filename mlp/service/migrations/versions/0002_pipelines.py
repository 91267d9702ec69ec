"""Pipelines: runs and schedules.

Revision ID: 0002_pipelines
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_pipelines"
down_revision = "0001"
branch_labels = ("pipelines",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mlp_schedules",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("cron", sa.String(255)),
        sa.Column("interval_seconds", sa.Integer()),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON()),
        sa.Column("kernel", sa.String(255)),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("missed_policy", sa.String(32), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_backoff", sa.Float(), nullable=False),
        sa.Column("timeout", sa.Float()),
        sa.Column("notify_url", sa.Text()),
        sa.Column("notify_on_success", sa.Boolean(), nullable=False),
        sa.Column("next_fire", TS, index=True),
        sa.Column("created", TS),
    )
    op.create_table(
        "mlp_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "parent_id",
            sa.String(32),
            sa.ForeignKey("mlp_runs.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("node", sa.String(255)),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("notebook_hash", sa.String(64)),
        sa.Column("parameters", sa.JSON()),
        sa.Column("kernel", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("created", TS),
        sa.Column("not_before", TS),
        sa.Column("started", TS),
        sa.Column("finished", TS),
        sa.Column("run_dir", sa.Text()),
        sa.Column("output_path", sa.Text()),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("cache_key", sa.String(64), index=True),
        sa.Column("cache_parts", sa.JSON()),
        sa.Column("outputs", sa.JSON()),
        sa.Column(
            "schedule_id", sa.String(32), sa.ForeignKey("mlp_schedules.id", ondelete="SET NULL")
        ),
        sa.Column("fire_time", TS),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_backoff", sa.Float(), nullable=False),
        sa.Column("timeout", sa.Float()),
        sa.Column("options", sa.JSON()),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires", TS),
        sa.Column("pid", sa.Integer()),
        sa.UniqueConstraint("schedule_id", "fire_time", name="uq_run_schedule_fire"),
    )


def downgrade() -> None:
    op.drop_table("mlp_runs")
    op.drop_table("mlp_schedules")
