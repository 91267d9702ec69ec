"""Where MLP keeps its state, resolved from the environment once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_PORT = 8000


def data_dir() -> Path:
    """Return the platform data directory (``MLP_DATA_DIR``, default ``./var``), created 0700."""
    path = Path(os.environ.get("MLP_DATA_DIR", "var")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def public_port() -> int:
    """Return the public port of the hub (``MLP_PORT``, default 8000).

    Raises
    ------
    ConfigError
        If ``MLP_PORT`` is not an integer between 1 and 65535.
    """
    from mlp.errors import ConfigError

    raw = os.environ.get("MLP_PORT", str(DEFAULT_PORT))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"MLP_PORT={raw!r} is not a port number; set MLP_PORT=8000") from None
    if not 0 < port < 65536:
        raise ConfigError(f"MLP_PORT={port} is out of range; use a port between 1 and 65535")
    return port


def secret_file(path: Path, nbytes: int = 32) -> str:
    """Return the secret stored in ``path``, generating it (mode 0600) on first use.

    Parameters
    ----------
    path
        File that holds the secret as hex text.
    nbytes
        Entropy of a newly generated secret.
    """
    if path.exists():
        os.chmod(path, 0o600)
        return path.read_text().strip()
    value = secrets.token_hex(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
