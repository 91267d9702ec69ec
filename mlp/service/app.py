"""Tornado application of the MLP service, mounted by the hub at ``/services/mlp/``.

Every endpoint needs a JupyterHub token in the ``Authorization`` header. Tokens
in the URL query are refused. Errors derived from :class:`mlp.errors.MLPError`
map to their 4xx status in one place, :meth:`BaseHandler.write_error`.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tornado import web

from mlp import __version__
from mlp.errors import ForbiddenError, MLPError, NotFoundError
from mlp.service.db import UserRecord, utcnow

#: Resolves a token to a hub user model (``name``, ``admin``, ``scopes``), or None.
TokenResolver = Callable[[str], Awaitable[dict[str, Any] | None]]

AUTH_HEADER_PREFIXES = ("token ", "bearer ")


class BaseHandler(web.RequestHandler):
    """Authenticates by hub token and renders every error as JSON."""

    resolve_token: TokenResolver
    sessions: sessionmaker[Session]

    def initialize(self, resolve_token: TokenResolver, sessions: sessionmaker[Session]) -> None:
        """Receive the token resolver and the session factory from the application."""
        self.resolve_token = resolve_token
        self.sessions = sessions

    def set_default_headers(self) -> None:
        """JSON responses, never cached."""
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        """Authenticate the caller or stop with 403."""
        if "token" in self.request.query_arguments:
            raise web.HTTPError(403, "pass the token in the Authorization header, not the URL")
        header = self.request.headers.get("Authorization", "")
        token = ""
        for prefix in AUTH_HEADER_PREFIXES:
            if header.lower().startswith(prefix):
                token = header[len(prefix) :].strip()
        if not token:
            raise web.HTTPError(403, "a JupyterHub token is required (Authorization: token ...)")
        model = await self.resolve_token(token)
        if not model:
            raise web.HTTPError(403, "invalid or expired JupyterHub token")
        self.current_user = model
        self._touch(model)

    @property
    def user(self) -> dict[str, Any]:
        """The authenticated hub user model."""
        return self.current_user

    @property
    def is_admin(self) -> bool:
        """Whether the caller is a hub admin."""
        return bool(self.user.get("admin"))

    def _touch(self, model: dict[str, Any]) -> None:
        with self.sessions() as db, db.begin():
            rec = db.scalar(select(UserRecord).where(UserRecord.name == model["name"]))
            if rec is None:
                rec = UserRecord(name=model["name"], first_seen=utcnow())
                db.add(rec)
            rec.admin = bool(model.get("admin"))
            rec.last_seen = utcnow()
            rec.requests = (rec.requests or 0) + 1

    def require_owner_or_admin(self, name: str) -> None:
        """Refuse access to another user's data unless the caller is an admin.

        Raises
        ------
        NotFoundError
            Non-admins get 404 for other users, so names do not leak.
        """
        if name != self.user["name"] and not self.is_admin:
            raise NotFoundError(f"no user {name!r} visible to you")

    def write_json(self, data: Any, status: int = 200) -> None:
        """Write ``data`` as JSON with ``status``."""
        self.set_status(status)
        self.finish(json.dumps(data))

    def log_exception(self, typ, value, tb):
        """Log user errors briefly; keep tracebacks for real server errors."""
        if isinstance(value, MLPError | web.HTTPError):
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Render errors as ``{"message": ...}``; MLPError maps to its own 4xx."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MLPError):
            self.set_status(exc.status_code)
            message = str(exc)
        elif isinstance(exc, web.HTTPError):
            message = exc.log_message or self._reason
        else:
            message = "internal error; see the MLP service log"
        self.finish(json.dumps({"status": self.get_status(), "message": message}))


class HealthHandler(BaseHandler):
    """``GET /api/health``: the service and its database answer."""

    def get(self) -> None:
        """Report version and database reachability."""
        with self.sessions() as db:
            db.execute(select(1))
        self.write_json({"status": "ok", "version": __version__})


class MeHandler(BaseHandler):
    """``GET /api/me``: who the caller is, as the service sees them."""

    def get(self) -> None:
        """Return the caller's hub identity and MLP record."""
        with self.sessions() as db:
            rec = db.scalar(select(UserRecord).where(UserRecord.name == self.user["name"]))
        assert rec is not None  # created by prepare()
        body = rec.to_dict()
        body["kind"] = self.user.get("kind", "user")
        body["scopes"] = sorted(self.user.get("scopes", []))
        self.write_json(body)


class UsersHandler(BaseHandler):
    """``GET /api/users``: every user known to the service (admins only)."""

    def get(self) -> None:
        """List user records; non-admins are refused."""
        if not self.is_admin:
            raise ForbiddenError("listing users needs a hub admin")
        with self.sessions() as db:
            recs = db.scalars(select(UserRecord).order_by(UserRecord.name)).all()
        self.write_json({"users": [r.to_dict() for r in recs]})


class UserHandler(BaseHandler):
    """``GET /api/users/{name}``: one user's record (that user or an admin)."""

    def get(self, name: str) -> None:
        """Return the record of ``name``."""
        self.require_owner_or_admin(name)
        with self.sessions() as db:
            rec = db.scalar(select(UserRecord).where(UserRecord.name == name))
        if rec is None:
            raise NotFoundError(f"no user {name!r} has used the MLP service yet")
        self.write_json(rec.to_dict())


class NotFoundHandler(BaseHandler):
    """Any other path under the service: 404 (after authentication)."""

    def get(self, *_args: str) -> None:
        """Refuse with 404."""
        raise NotFoundError(f"no endpoint {self.request.path}")


#: Modules that add endpoints: each has ``ROUTES``, a list of ``(path regex, handler)``
#: with paths relative to the service prefix and handlers derived from BaseHandler.
#: A domain adds its endpoints by adding one line here.
ROUTE_MODULES: list[str] = [
    "pipelines_as_notebooks.service_routes",
    "bentos.service_routes",
]


def make_app(
    resolve_token: TokenResolver, sessions: sessionmaker[Session], prefix: str = "/"
) -> web.Application:
    """Build the service application.

    Parameters
    ----------
    resolve_token
        Coroutine resolving a token to a hub user model (None if invalid).
    sessions
        SQLAlchemy session factory of the service database.
    prefix
        URL prefix the hub routes to the service (``JUPYTERHUB_SERVICE_PREFIX``).
    """
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    kw = {"resolve_token": resolve_token, "sessions": sessions}
    handlers: list[tuple[str, type[BaseHandler]]] = [
        ("api/health", HealthHandler),
        ("api/me", MeHandler),
        ("api/users", UsersHandler),
        ("api/users/([^/]+)", UserHandler),
    ]
    for module in ROUTE_MODULES:
        handlers += importlib.import_module(module).ROUTES
    routes: list[Any] = [(rf"{prefix}{path}", handler, kw) for path, handler in handlers]
    routes.append((rf"{prefix}(.*)", NotFoundHandler, kw))
    return web.Application(routes)


def hub_token_resolver() -> TokenResolver:
    """Resolve tokens through the hub API with :class:`jupyterhub.services.auth.HubAuth`.

    The hub checks that the token carries ``access:services!service=<this service>``.
    """
    from jupyterhub.services.auth import HubAuth

    auth = HubAuth(allow_token_in_url=False, cache_max_age=60)

    async def resolve(token: str) -> dict[str, Any] | None:
        model = await auth.user_for_token(token, sync=False)
        if model is None:
            return None
        if not auth.check_scopes(auth.access_scopes, model):
            return None
        return model

    return resolve


def database_url() -> str:
    """``MLP_DB_URL`` or SQLite ``mlp.sqlite`` in the data dir."""
    from mlp.config import data_dir

    return os.environ.get("MLP_DB_URL") or f"sqlite:///{data_dir() / 'mlp.sqlite'}"
