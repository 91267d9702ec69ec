"""BentoML service template for PyTorch / Lightning models saved by MLP.

The model was exported with ``torch.export`` (a dynamic batch dimension), so the
serving process needs neither the training code nor the LightningModule class;
the preprocessing saved with it runs first. Same endpoints as the tabular
template: ``POST /predict`` (JSON records, JSON columns, Arrow IPC), ``GET /schema``,
``/livez``, ``/readyz`` (503 until loaded), ``/metrics``.
"""

from __future__ import annotations

from typing import Any

import bentoml
import mlp_bento_runtime as rt
from starlette.routing import Router

MODEL_TAG = rt.model_tag(__file__)
# A bare router, not a Starlette app: BentoML's app around it already has the error
# and exception middlewares, and each layer costs on every request.
app = Router()


@bentoml.service(name="mlp_torch", **rt.service_options(timeout=60))
@bentoml.asgi_app(app, path="/")
class TorchModel:
    """Batch predictions of one exported PyTorch / Lightning model."""

    model_ref = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        import torch

        # One intra-op thread per worker: predictable latency on shared machines.
        torch.set_num_threads(1)
        self.runtime = rt.Runtime(lambda: rt.Predictor(self.model_ref))
        app.routes.extend(self.runtime.routes())

    def __is_ready__(self) -> bool:
        return self.runtime.ready

    @bentoml.api
    def predict_records(self, records: list[dict[str, Any]]) -> list[Any]:
        """Predictions for a list of records, for ``bentoml.SyncHTTPClient`` callers.

        ``POST /predict`` (mounted app) is the fast path and also takes columnar
        JSON and Arrow IPC.
        """
        return self.runtime.predict_records(records)
