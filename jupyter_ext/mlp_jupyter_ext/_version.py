"""Version of the ``mlp-jupyter-ext`` distribution (kept equal to package.json's)."""

__version__ = "0.1.0"
