"""REST endpoints of pipelines on the MLP service (``/services/mlp/api/...``).

Request bodies are pydantic models; every handler calls the one domain API,
:class:`pipelines_as_notebooks.engine.Engine`. Users see and change only their own
runs and schedules; admins see all.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from mlp.errors import MLPError
from mlp.service.app import BaseHandler
from pipelines_as_notebooks.engine import Engine, validate_pipeline

_ENGINES: dict[int, Engine] = {}


def engine_for(sessions: sessionmaker[Session]) -> Engine:
    """The engine of a service database (one per process and database)."""
    key = id(sessions)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(sessions)
    return _ENGINES[key]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunRequest(_Body):
    """``POST /api/runs``: run one notebook."""

    notebook: str = Field(description="Notebook path relative to your root")
    parameters: dict[str, Any] = Field(default_factory=dict)
    kernel: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    retries: int = Field(default=0, ge=0, le=10)


class PipelineRunRequest(_Body):
    """``POST /api/pipelines/runs``: run a pipeline (all, from a node, or one node)."""

    path: str = Field(description="pipeline.yaml path relative to your root")
    parameters: dict[str, Any] = Field(default_factory=dict)
    from_node: str | None = None
    only_node: str | None = None


class ValidateRequest(_Body):
    """``POST /api/pipelines/validate``."""

    path: str


class ScheduleRequest(_Body):
    """``POST /api/schedules``: fire a notebook or pipeline on a cron or an interval."""

    target: str
    name: str | None = None
    cron: str | None = None
    interval_seconds: int | None = Field(default=None, ge=1)
    timezone: str = "UTC"
    parameters: dict[str, Any] = Field(default_factory=dict)
    kernel: str | None = None
    paused: bool = False
    missed_policy: Literal["skip", "catch_up_once"] = "skip"
    max_concurrent: int = Field(default=1, ge=1, le=100)
    retries: int = Field(default=0, ge=0, le=10)
    retry_backoff: float = Field(default=30.0, ge=0)
    timeout: float | None = Field(default=None, gt=0)
    notify_url: str | None = Field(default=None, pattern=r"^https?://")
    notify_on_success: bool = False


class ScheduleUpdate(_Body):
    """``PATCH /api/schedules/{id}``: pause/resume or change options."""

    paused: bool | None = None
    cron: str | None = None
    timezone: str | None = None
    parameters: dict[str, Any] | None = None
    missed_policy: Literal["skip", "catch_up_once"] | None = None
    max_concurrent: int | None = Field(default=None, ge=1, le=100)
    retries: int | None = Field(default=None, ge=0, le=10)
    retry_backoff: float | None = Field(default=None, ge=0)
    timeout: float | None = Field(default=None, gt=0)
    notify_url: str | None = Field(default=None, pattern=r"^https?://")
    notify_on_success: bool | None = None


class _Handler(BaseHandler):
    @property
    def engine(self) -> Engine:
        return engine_for(self.sessions)

    def body_as(self, model: type[_Body]) -> Any:
        try:
            raw = json.loads(self.request.body or b"{}")
        except ValueError:
            raise MLPError("the request body is not valid JSON") from None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "body"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            raise MLPError(f"{where}: {msg}") from None


class RunsHandler(_Handler):
    """List runs, or start a notebook run."""

    def get(self) -> None:
        """``GET /api/runs?status=&limit=``."""
        limit = min(int(self.get_query_argument("limit", "50")), 500)
        status = self.get_query_argument("status", None)
        runs = self.engine.list_runs(self.user["name"], self.is_admin, limit, status)
        self.write_json({"runs": runs})

    def post(self) -> None:
        """``POST /api/runs``."""
        req = self.body_as(RunRequest)
        run = self.engine.submit_notebook(
            self.user["name"], req.notebook, req.parameters, req.kernel, req.timeout, req.retries
        )
        self.write_json(run, 201)


class RunHandler(_Handler):
    """One run (with its nodes)."""

    def get(self, run_id: str) -> None:
        """``GET /api/runs/{id}``."""
        self.write_json(self.engine.get_run(self.user["name"], self.is_admin, run_id))


class RunCancelHandler(_Handler):
    """Cancel a run."""

    def post(self, run_id: str) -> None:
        """``POST /api/runs/{id}/cancel``."""
        self.write_json(self.engine.cancel(self.user["name"], self.is_admin, run_id))


class RunLogHandler(_Handler):
    """The run's log."""

    def get(self, run_id: str) -> None:
        """``GET /api/runs/{id}/log``."""
        text = self.engine.read_log(self.user["name"], self.is_admin, run_id)
        self.write_json({"log": text})


class PipelineRunsHandler(_Handler):
    """Start a pipeline run."""

    def post(self) -> None:
        """``POST /api/pipelines/runs``."""
        req = self.body_as(PipelineRunRequest)
        run = self.engine.submit_pipeline(
            self.user["name"], req.path, req.parameters, req.from_node, req.only_node
        )
        self.write_json(run, 201)


class PipelineValidateHandler(_Handler):
    """Validate a pipeline file."""

    def post(self) -> None:
        """``POST /api/pipelines/validate``: 200 with the nodes, or 400 with file:line."""
        req = self.body_as(ValidateRequest)
        pipeline = validate_pipeline(self.user["name"], req.path)
        self.write_json(
            {
                "name": pipeline.name,
                "order": pipeline.order(),
                "nodes": {n: node.model_dump() for n, node in pipeline.nodes.items()},
            }
        )


class SchedulesHandler(_Handler):
    """List or create schedules."""

    def get(self) -> None:
        """``GET /api/schedules``."""
        self.write_json({"schedules": self.engine.list_schedules(self.user["name"], self.is_admin)})

    def post(self) -> None:
        """``POST /api/schedules``."""
        req = self.body_as(ScheduleRequest)
        schedule = self.engine.create_schedule(self.user["name"], req.model_dump())
        self.write_json(schedule, 201)


class ScheduleHandler(_Handler):
    """One schedule."""

    def patch(self, sid: str) -> None:
        """``PATCH /api/schedules/{id}``."""
        req = self.body_as(ScheduleUpdate)
        changes = req.model_dump(exclude_unset=True)
        self.write_json(self.engine.update_schedule(self.user["name"], self.is_admin, sid, changes))

    def delete(self, sid: str) -> None:
        """``DELETE /api/schedules/{id}``."""
        self.engine.delete_schedule(self.user["name"], self.is_admin, sid)
        self.set_status(204)
        self.finish()


class ScheduleRunNowHandler(_Handler):
    """Run a schedule's target now."""

    def post(self, sid: str) -> None:
        """``POST /api/schedules/{id}/run``."""
        self.write_json(self.engine.run_schedule_now(self.user["name"], self.is_admin, sid), 201)


ROUTES = [
    ("api/runs", RunsHandler),
    ("api/runs/([0-9a-f]+)", RunHandler),
    ("api/runs/([0-9a-f]+)/cancel", RunCancelHandler),
    ("api/runs/([0-9a-f]+)/log", RunLogHandler),
    ("api/pipelines/runs", PipelineRunsHandler),
    ("api/pipelines/validate", PipelineValidateHandler),
    ("api/schedules", SchedulesHandler),
    ("api/schedules/([0-9a-f]+)", ScheduleHandler),
    ("api/schedules/([0-9a-f]+)/run", ScheduleRunNowHandler),
]
