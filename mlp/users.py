"""Hub accounts with per-user passwords (NativeAuthenticator's table in the hub DB)."""

from __future__ import annotations

import secrets

import bcrypt
from nativeauthenticator.orm import UserInfo
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from mlp.errors import MLPError

MIN_PASSWORD = 10


def set_password(
    hub_db_url: str, name: str, password: str | None = None, create: bool = True
) -> str:
    """Create (approved) or reset the password of hub account ``name``.

    Parameters
    ----------
    hub_db_url
        SQLAlchemy URL of the JupyterHub database.
    name
        Account name (lower-case, no slash).
    password
        New password; generated when None.
    create
        Whether a missing account may be created; otherwise it must exist.

    Returns
    -------
    str
        The password that now opens the account.

    Raises
    ------
    MLPError
        On an invalid name, a short password or a missing account with ``create=False``.
    """
    if not name or name != name.lower() or "/" in name or name.strip() != name:
        raise MLPError(f"invalid user name {name!r}: use lower-case letters, digits, - and _")
    password = password or secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD:
        raise MLPError(f"password too short: use at least {MIN_PASSWORD} characters")
    engine = create_engine(hub_db_url)
    UserInfo.__table__.create(engine, checkfirst=True)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
    with Session(engine) as db, db.begin():
        info = db.scalar(select(UserInfo).where(UserInfo.username == name))
        if info is None:
            if not create:
                raise MLPError(f"no account {name!r}; add it with `mlp user add {name}`")
            db.add(UserInfo(username=name, password=hashed, is_authorized=True))
        else:
            info.password = hashed
            info.is_authorized = True
    engine.dispose()
    return password
