"""MLP shared core: configuration, storage, the MLP service and its client."""

__version__ = "0.1.0"
