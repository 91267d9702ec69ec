"""MLP JupyterLab extension: the ``/mlp/api/info`` server endpoint and the MLP sidebar panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__
from .handlers import setup_handlers

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Tell JupyterLab where the prebuilt lab extension lives.

    Returns
    -------
    list of dict
        One entry: ``src`` (folder inside this package) and ``dest`` (the npm name).
    """
    return [{"src": "labextension", "dest": "mlp-jupyter-ext"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Declare this package as a jupyter_server extension.

    Returns
    -------
    list of dict
        One entry naming this module.
    """
    return [{"module": "mlp_jupyter_ext"}]


def _load_jupyter_server_extension(server_app: ServerApp) -> None:
    """Register the MLP API handlers with the running server.

    Parameters
    ----------
    server_app
        The jupyter_server application that loads the extension.
    """
    setup_handlers(server_app.web_app)
    server_app.log.info("mlp_jupyter_ext: registered %sapi/info", "mlp/")
