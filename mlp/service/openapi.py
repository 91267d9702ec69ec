"""The OpenAPI document of the MLP service, built from the pydantic request models.

``python -m mlp.service.openapi > docs/openapi.json`` regenerates the committed copy;
a test fails when the two differ.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from mlp import __version__


def _op(summary: str, body: type[BaseModel] | None = None, ok: int = 200) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {"description": "OK"},
            "400": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
        },
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}
            },
        }
    return op


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def build() -> dict[str, Any]:
    """The OpenAPI 3.1 document (paths relative to ``/services/mlp/``)."""
    from pipelines_as_notebooks import service_routes as p

    models: list[type[BaseModel]] = [
        p.RunRequest, p.PipelineRunRequest, p.ValidateRequest, p.ScheduleRequest,
        p.ScheduleUpdate,
    ]  # fmt: skip
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    paths = {
        "/api/health": {"get": _op("Service and database answer")},
        "/api/me": {"get": _op("The caller as the service sees them")},
        "/api/users": {"get": _op("Every user record (admins only)")},
        "/api/users/{name}": {"parameters": [_id("name")], "get": _op("One user's record")},
        "/api/runs": {
            "get": _op("Your latest runs (all users' for admins)"),
            "post": _op("Run a notebook", p.RunRequest, 201),
        },
        "/api/runs/{id}": {"parameters": [_id("id")], "get": _op("One run, with its nodes")},
        "/api/runs/{id}/cancel": {"parameters": [_id("id")], "post": _op("Cancel a run")},
        "/api/runs/{id}/log": {"parameters": [_id("id")], "get": _op("A run's log")},
        "/api/pipelines/runs": {"post": _op("Run a pipeline", p.PipelineRunRequest, 201)},
        "/api/pipelines/validate": {
            "post": _op("Validate a pipeline file (errors name file and line)", p.ValidateRequest)
        },
        "/api/schedules": {
            "get": _op("Your schedules"),
            "post": _op("Create a schedule", p.ScheduleRequest, 201),
        },
        "/api/schedules/{id}": {
            "parameters": [_id("id")],
            "patch": _op("Pause, resume or change a schedule", p.ScheduleUpdate),
            "delete": _op("Delete a schedule", ok=204),
        },
        "/api/schedules/{id}/run": {
            "parameters": [_id("id")],
            "post": _op("Run the schedule's target now", ok=201),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MLP service",
            "version": __version__,
            "description": "Hub-managed service of MLP. Every endpoint needs a JupyterHub "
            "token in the Authorization header (tokens in the URL are refused).",
        },
        "servers": [{"url": "/services/mlp"}],
        "security": [{"hubToken": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "hubToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "responses": {
                "Error": {
                    "description": "A refused request, with the reason",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "status": {"type": "integer"},
                                    "message": {"type": "string"},
                                },
                            }
                        }
                    },
                }
            },
        },
    }


if __name__ == "__main__":
    print(json.dumps(build(), indent=2, sort_keys=True))
