"""BentoML service template for tabular models (LightGBM, scikit-learn) saved by MLP.

``bentos.serving`` copies this file, ``mlp_bento_runtime.py`` and an
``mlp_model.json`` naming the model into a build directory, then runs
``bentoml serve`` or ``bentoml build`` there. The model and its preprocessing are
loaded once, in the background, when the worker starts: ``/readyz`` answers 503
until then, and ``/predict`` 503 with a message.
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


@bentoml.service(name="mlp_tabular", **rt.service_options(timeout=30))
@bentoml.asgi_app(app, path="/")
class TabularModel:
    """Batch predictions of one saved tabular model."""

    # Declared here so that ``bentoml build`` packs the model into the bento.
    model_ref = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
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
