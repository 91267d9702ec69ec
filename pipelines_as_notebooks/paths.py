"""Keep every user-supplied path inside that user's root."""

from __future__ import annotations

import os
from pathlib import Path

from mlp.errors import ForbiddenError, NotFoundError


def user_root(user: str) -> Path:
    """The root directory of ``user``'s files (what their server serves).

    ``MLP_USERS_DIR`` overrides the embedded default ``<data dir>/users``.
    """
    from mlp.config import data_dir

    base = Path(os.environ.get("MLP_USERS_DIR") or data_dir() / "users")
    return base / user


def confine(root: Path, path: str, must_exist: bool = True) -> Path:
    """Resolve ``path`` (relative to ``root``) and refuse anything that leaves ``root``.

    Parameters
    ----------
    root
        The user's root directory.
    path
        A user-supplied path: relative to the root, or absolute inside it.
    must_exist
        Whether a missing file is an error.

    Raises
    ------
    ForbiddenError
        For ``..`` escapes, absolute paths outside the root and symlinks pointing out.
    NotFoundError
        When ``must_exist`` and the file is missing.
    """
    if not path or "\x00" in path:
        raise ForbiddenError("empty or invalid path")
    root = root.resolve()
    candidate = Path(path)
    full = candidate if candidate.is_absolute() else root / candidate
    resolved = full.resolve()  # follows symlinks, so a link out of the root is caught here
    if resolved != root and root not in resolved.parents:
        raise ForbiddenError(f"path {path!r} is outside your files; use a path inside your root")
    if must_exist and not resolved.exists():
        raise NotFoundError(f"no file {path!r} in your files")
    return resolved


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` as text (for records and messages)."""
    return str(path.resolve().relative_to(root.resolve()))
