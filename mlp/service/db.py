"""SQL storage of the MLP service (SQLAlchemy 2, migrated by Alembic).

SQLite in the data dir is the embedded default; any SQLAlchemy URL works
(``postgresql+psycopg2://...`` is tested).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Boolean, DateTime, Integer, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every MLP service table."""


class UserRecord(Base):
    """A hub user as seen by the MLP service: created on first contact."""

    __tablename__ = "mlp_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requests: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view of the record."""
        return {
            "name": self.name,
            "admin": self.admin,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "requests": self.requests,
        }


def _iso(value: datetime) -> str:
    # SQLite drops the zone on read; every value we store is UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragma(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema revision."""
    # "heads": domains add migration branches independently (e.g. models, pipelines).
    command.upgrade(alembic_config(url), "heads")


def session_factory(url: str, migrate: bool = True) -> sessionmaker[Session]:
    """Migrate (optionally) and return a session factory for ``url``."""
    if migrate:
        upgrade(url)
    return sessionmaker(make_engine(url), expire_on_commit=False)
