"""Authenticator of MLP: NativeAuthenticator plus an admin account ready on first run."""

from __future__ import annotations

from pathlib import Path

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.orm import UserInfo
from tornado.escape import url_escape
from tornado.httputil import url_concat
from traitlets import Unicode


class MLPAuthenticator(NativeAuthenticator):
    """Per-user passwords hashed (bcrypt) in the hub database.

    On start the admin user gets the password stored in ``admin_password_file``
    if it has no account yet, so the first login works without a sign-up.
    """

    admin_password_file = Unicode(
        "",
        help="File (mode 0600) holding the generated initial admin password.",
    ).tag(config=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ensure_admin_account()

    def get_handlers(self, app):
        """NativeAuthenticator's pages, with the login page fixed for JupyterHub 6."""
        return [
            (url, MLPLoginHandler if handler is NativeLoginHandler else handler)
            for url, handler in super().get_handlers(app)
        ]

    def ensure_admin_account(self) -> None:
        """Create approved accounts for admin users from the password file, once."""
        if not self.admin_password_file or not Path(self.admin_password_file).exists():
            return
        password = Path(self.admin_password_file).read_text().strip()
        for name in sorted(self.admin_users):
            if self.get_user(name) is not None:
                continue
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
            self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
            self.db.commit()
            self.log.info("Created the MLP admin account %r", name)


class MLPLoginHandler(NativeLoginHandler):
    """NativeAuthenticator's login page, fixed for JupyterHub 6.

    NativeAuthenticator 1.3 times logins with ``self.statsd`` (removed from
    JupyterHub) and its ``_render`` rejects the ``sync`` flag JupyterHub passes when
    it renders a failed login as the login page; both give a 500 on every login.
    """

    def _render(self, login_error=None, username=None, **kwargs):
        return self.render_template(
            "native-login.html",
            next=url_escape(self.get_argument("next", default="")),
            username=username,
            login_error=login_error,
            custom_html=self.authenticator.custom_html,
            login_url=self.settings["login_url"],
            enable_signup=self.authenticator.enable_signup,
            two_factor_auth=self.authenticator.allow_2fa,
            authenticator_login_url=url_concat(
                self.authenticator.login_url(self.hub.base_url),
                {"next": self.get_argument("next", "")},
            ),
            sync=kwargs.get("sync", False),
        )

    async def post(self) -> None:
        """Log in with username and password; re-render the form with an error otherwise."""
        data = {arg: self.get_argument(arg, strip=False) for arg in self.request.arguments}
        user = await self.login_user(data)
        if user:
            self._jupyterhub_user = user
            self.redirect(self.get_next_url(user))
            return
        error = "Invalid username or password."
        username = data.get("username", "")
        info = self.authenticator.get_user(username)
        if (
            info is not None
            and not info.is_authorized
            and info.is_valid_password(data.get("password", ""))
        ):
            error = f"User {username} has not been approved by an administrator yet."
        self.set_status(403)
        self.finish(await self._render(login_error=error, username=username))
