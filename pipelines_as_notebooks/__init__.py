"""Pipelines as notebooks: papermill runs, DAGs and schedules (see the pipelines issue)."""
